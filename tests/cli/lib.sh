# shellcheck shell=bash
# shellcheck disable=SC2034 # the variables are for the scripts that source this
# Shared helpers for the CLI tests (sourced by tests/cli/test_*.sh).
#
# start_server runs a real annalsd from $ANNALS_BIN (tests/run.sh points it
# at the ASan build) on a free loopback port with its own data directory,
# waits until `annals health` answers, and stops it with SIGTERM at exit.
# Every check prints one "PASS name" or "FAIL name: why" line; the script
# exits non-zero when any check failed.
set -u

CLI_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ANNALS_ROOT=${ANNALS_ROOT:-$(cd "$CLI_LIB_DIR/../.." && pwd)}
ANNALS_BIN=${ANNALS_BIN:-$ANNALS_ROOT/bin}
ANNALS_EXE="$ANNALS_BIN/annals"
ANNALSD_EXE="$ANNALS_BIN/annalsd"
# The founding article: outside the repository, next to it (see ARCHITECTURE.md).
SEED_TEXT=${ANNALS_SEED_TEXT:-$ANNALS_ROOT/../shared/seeds/000_ad6eff3e562ac92b.txt}
SEED_DOC=doc:ad6eff3e562ac92b

CLI_TMP=$(mktemp -d "${TMPDIR:-/tmp}/annals-cli.XXXXXX")
CLI_FAILS=0
CLI_PIDS=()
OUT="$CLI_TMP/out"  # stdout of the last command run through run/expect_*
ERR="$CLI_TMP/err"  # its stderr
RC=0               # its exit status
URL=""             # the server started last

pass() { echo "PASS $1"; }
fail() {
	echo "FAIL $1: $2"
	CLI_FAILS=$((CLI_FAILS + 1))
	if [ -s "$OUT" ]; then cut -c1-200 "$OUT" | head -n 20 | sed -e 's/^/    stdout| /'; fi
	if [ -s "$ERR" ]; then cut -c1-200 "$ERR" | head -n 20 | sed -e 's/^/    stderr| /'; fi
}
skip() { echo "SKIP $1: $2"; }

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# annals ARGS... — the client under test, talking to $ANNALS_SERVER.
annals() { "$ANNALS_EXE" "$@"; }

# start_server [annalsd flags...] — sets URL (and ANNALS_SERVER) to the new server.
# shellcheck disable=SC2120 # flags are optional
start_server() {
	local port dir
	port=$(free_port)
	dir=$(mktemp -d "$CLI_TMP/server.XXXXXX")
	URL="tcp://127.0.0.1:$port"
	"$ANNALSD_EXE" --listen "$URL" --data "$dir/db" "$@" >"$dir.log" 2>&1 &
	CLI_PIDS+=("$!:$dir.log")
	for _ in $(seq 1 200); do
		if "$ANNALS_EXE" --server "$URL" --timeout 500 health >/dev/null 2>&1; then
			export ANNALS_SERVER="$URL"
			return 0
		fi
		if ! kill -0 "$!" 2>/dev/null; then break; fi
		sleep 0.05
	done
	fail "start annalsd $*" "not healthy at $URL; log: $(tail -n 5 "$dir.log")"
	exit 1
}

# SIGTERM to every server; a server that does not exit 0 (a crash, a
# sanitizer report at exit) is a failure too.
stop_servers() {
	local entry pid log rc
	for entry in "${CLI_PIDS[@]}"; do
		pid=${entry%%:*}
		log=${entry#*:}
		kill -TERM "$pid" 2>/dev/null
		wait "$pid"
		rc=$?
		if [ "$rc" -ne 0 ]; then
			echo "FAIL annalsd (pid $pid) exited $rc after SIGTERM: $(grep -m3 -E 'ERROR|Sanitizer|runtime error' "$log")"
			CLI_FAILS=$((CLI_FAILS + 1))
		fi
	done
	CLI_PIDS=()
}

cli_cleanup() {
	# a subshell that exits early (one killed while starting) may still run
	# this trap: only the test script itself owns the servers
	[ "$BASHPID" = "$$" ] || return 0
	stop_servers
	rm -rf "$CLI_TMP"
}
trap cli_cleanup EXIT

# finish — the last line of every test script.
finish() {
	stop_servers
	[ "$CLI_FAILS" -eq 0 ]
	exit $?
}

# run CMD... — runs it, keeping stdout in $OUT, stderr in $ERR, status in
# $RC. A sanitizer report on stderr is a failure of its own.
run() {
	"$@" >"$OUT" 2>"$ERR"
	RC=$?
	if grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' "$ERR"; then
		fail "sanitizer-clean: $*" "sanitizer report"
		return 1
	fi
	return 0
}

# expect_exit CODE CMD... — PASS when CMD exits with CODE.
expect_exit() {
	local code=$1
	shift
	run "$@" || return 1
	if [ "$RC" -eq "$code" ]; then
		pass "exit $code: $*"
	else
		fail "exit $code: $*" "exited $RC"
		return 1
	fi
}

# expect_contains TEXT CMD... — PASS when CMD exits 0 and its output
# (stdout and stderr) holds TEXT.
expect_contains() {
	local text=$1
	shift
	run "$@" || return 1
	if [ "$RC" -eq 0 ] && cat "$OUT" "$ERR" | grep -qF -- "$text"; then
		pass "'$text' in: $*"
	else
		fail "'$text' in: $*" "exit $RC, text not found"
		return 1
	fi
}

# check NAME CONDITION... — PASS when the condition (a command) succeeds;
# for assertions about $OUT/$ERR after run.
check() {
	local name=$1
	shift
	if "$@" >/dev/null 2>&1; then pass "$name"; else fail "$name" "condition failed: $(echo "$*" | head -c 200)"; fi
}

# section TITLE FILE — the lines of one group of `annals members` output:
# from "TITLE (n):" up to the next unindented line.
section() {
	awk -v t="$1 (" 'index($0, t) == 1 { on = 1; next } /^[^ ]/ { on = 0 } on' "$2"
}

# in_order FILE A B — A occurs on an earlier line than B.
in_order() {
	local a b
	a=$(grep -nF -- "$2" "$1" | head -n1 | cut -d: -f1)
	b=$(grep -nF -- "$3" "$1" | head -n1 | cut -d: -f1)
	[ -n "$a" ] && [ -n "$b" ] && [ "$a" -lt "$b" ]
}

# out_has TEXT / err_has TEXT — about the last run.
out_has() { grep -qF -- "$1" "$OUT"; }
err_has() { grep -qF -- "$1" "$ERR"; }

# revision — the server's store revision, from `annals health --json`.
revision() {
	"$ANNALS_EXE" --json health | python3 -c 'import json, sys; print(json.load(sys.stdin).get("revision", "0"))'
}
