#!/usr/bin/env bash
# The test suite's fuzz run: `make fuzz-smoke` (each target ~20 s, after its
# regression inputs). tests/run.sh runs this as $BIN/tests/test_fuzz_smoke
# (tests/fuzz/fuzz.mk copies it there). Needs clang with libFuzzer.
set -u
ROOT=${ANNALS_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
if ! command -v "${FUZZ_CC:-clang}" >/dev/null 2>&1; then
	echo "FAIL fuzz_smoke: clang is not installed (apt-get install clang)"
	exit 1
fi
# run.sh's sanitizer options are for the server; libFuzzer wants its own
unset ASAN_OPTIONS UBSAN_OPTIONS
exec make --no-print-directory -C "$ROOT" fuzz-smoke
