#!/usr/bin/env bash
# Runs fuzz targets: first every regression input (each must pass), then,
# when SECONDS > 0, libFuzzer for SECONDS from the seed corpus.
#
# usage: tests/fuzz/run.sh SECONDS TARGET...     (make fuzz / fuzz-smoke)
#
# Per target:  build/fuzz/fuzz_<t>            the binary (make fuzz-build)
#              tests/fuzz/regressions/<t>/    inputs that once crashed: replayed first
#              tests/fuzz/corpus/<t>/         committed seeds (read only)
#              build/fuzz/corpus/<t>/         what the fuzzer found (grows, not committed)
#              build/fuzz/artifacts/<t>/      crash-*, leak-*, timeout-* inputs
# Prints "PASS fuzz_<t> ..." or "FAIL fuzz_<t> ..." per target (tests/run.sh
# counts those) with executions and executions per second.
# A crash found here: copy the artifact into tests/fuzz/regressions/<t>/,
# fix the code, and it is replayed on every run from then on.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
secs=${1:?usage: tests/fuzz/run.sh SECONDS TARGET...}
shift
failed=0
for t in "$@"; do
	bin=build/fuzz/fuzz_$t
	seeds=tests/fuzz/corpus/$t
	regress=tests/fuzz/regressions/$t
	work=build/fuzz/corpus/$t
	art=build/fuzz/artifacts/$t
	log=build/fuzz/$t.log
	mkdir -p "$work" "$art" "$seeds"
	dict=()
	[ -f "tests/fuzz/$t.dict" ] && dict=("-dict=tests/fuzz/$t.dict")
	: >"$log"
	# 1. regressions, one run each
	mapfile -t inputs < <(find "$regress" -type f ! -name '*.md' 2>/dev/null | sort)
	if [ ${#inputs[@]} -gt 0 ]; then
		if ! "$bin" -timeout=30 "${inputs[@]}" >>"$log" 2>&1; then
			echo "FAIL fuzz_$t: a regression input fails again (log: $log)"
			grep -aE 'Running:|ERROR|property failed|runtime error|SUMMARY' "$log" | tail -n 20 | sed 's/^/    /'
			failed=1
			continue
		fi
	fi
	# 2. the seed corpus (and whatever earlier runs found), one run each, then fuzz
	if [ "$secs" -le 0 ]; then
		args=(-runs=0)
	else
		args=(-max_total_time="$secs")
	fi
	if "$bin" "${dict[@]}" "${args[@]}" -timeout=25 -rss_limit_mb=2560 -max_len=65536 \
		-print_final_stats=1 -artifact_prefix="$art/" "$work" "$seeds" >>"$log" 2>&1; then
		runs=$(grep -ao 'stat::number_of_executed_units: *[0-9]*' "$log" | tail -n1 | awk '{print $2}')
		eps=$(grep -ao 'stat::average_exec_per_sec: *[0-9]*' "$log" | tail -n1 | awk '{print $2}')
		cov=$(grep -aoE 'cov: [0-9]+' "$log" | tail -n1 | awk '{print $2}')
		echo "PASS fuzz_$t: ${#inputs[@]} regressions; ${runs:-0} executions in ${secs}s (${eps:-0}/s), coverage ${cov:-?} edges"
	else
		echo "FAIL fuzz_$t: see $log; the input is in $art/"
		grep -aE 'ERROR|property failed|runtime error|SUMMARY|Test unit written' "$log" | tail -n 20 | sed 's/^/    /'
		grep -a -A3 'property failed' "$log" | head -n 8 | sed 's/^/    /'
		failed=1
	fi
done
exit $failed
