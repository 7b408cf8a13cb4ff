#!/usr/bin/env bash
# Runs every test and prints one summary line: "N passed, N failed".
#
# usage: tests/run.sh BIN_DIR [FILTER]
#   BIN_DIR holds annalsd, annals and tests/test_* (make test passes the
#   ASan+UBSan build). Each test program prints "PASS name" / "FAIL name"
#   lines; a program that exits non-zero without printing FAIL counts as
#   one failure (a crash or a sanitizer report).
set -u
BIN=$(cd "${1:?usage: tests/run.sh BIN_DIR [FILTER]}" && pwd)
FILTER=${2:-}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export ANNALS_BIN="$BIN" ANNALS_ROOT="$ROOT"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# ANNALS_TEST_LOGDIR keeps the logs where a caller wants to read them after.
if [ -n "${ANNALS_TEST_LOGDIR:-}" ]; then
	LOGDIR=$ANNALS_TEST_LOGDIR
	mkdir -p "$LOGDIR"
else
	LOGDIR=$(mktemp -d "${TMPDIR:-/tmp}/annals-tests.XXXXXX")
fi
passed=0 failed=0
failures=()

run_one() { # name command...
	local name=$1; shift
	local log="$LOGDIR/$name.log" start end rc p f
	start=$(date +%s)
	timeout --kill-after=10 "${ANNALS_TEST_TIMEOUT:-600}" "$@" >"$log" 2>&1
	rc=$?
	end=$(date +%s)
	p=$(grep -c '^PASS ' "$log")
	f=$(grep -c '^FAIL ' "$log")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		echo "FAIL $name (exit $rc, no FAIL line: crash, sanitizer report or timeout)" >>"$log"
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	printf '%-32s %4d passed %4d failed  %3ds\n' "$name" "$p" "$f" $((end - start))
	if [ "$f" -gt 0 ]; then
		failures+=("$name")
		sed -e 's/^/    | /' "$log" | grep -v '^    | PASS ' | tail -n 60
	fi
}

for t in "$BIN"/tests/test_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	[ -n "$FILTER" ] && [[ "$name" != *"$FILTER"* ]] && continue
	# shellcheck disable=SC2086 # the wrapper is a command line
	run_one "$name" ${ANNALS_TEST_WRAPPER:-} "$t"
done
for t in "$ROOT"/tests/cli/test_*.sh; do
	[ -f "$t" ] || continue
	name=$(basename "$t" .sh)
	[ -n "$FILTER" ] && [[ "$name" != *"$FILTER"* ]] && continue
	run_one "$name" bash "$t"
done

echo
[ ${#failures[@]} -gt 0 ] && echo "failed: ${failures[*]} (logs in $LOGDIR)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
