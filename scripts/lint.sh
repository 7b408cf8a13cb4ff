#!/usr/bin/env bash
# Static checks: cppcheck and clang-tidy over the project's own C files
# (not the generated protobuf code). Exits non-zero on any finding.
set -euo pipefail
cd "$(dirname "$0")/.."
make -s build/gen/annals/v1/service.pb-c.h build/gen/build_info.h >/dev/null 2>&1 || make -s all >/dev/null
files=$(git ls-files 'src/*.c' 'clients/*.c' 'tests/*.c' | grep -v '^tests/fuzz/')
status=0
echo "cppcheck..."
cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability --std=c11 \
	--inline-suppr --suppress=missingIncludeSystem -D__GNUC__ -DANNALS_VERSION='"lint"' \
	-DPROTOBUF_C_VERSION_NUMBER=1004001 -DPROTOBUF_C_MIN_COMPILER_VERSION=1000000 \
	-Iinclude -Isrc -Ibuild/gen $files || status=1
echo "clang-tidy..."
for f in $files; do
	clang-tidy --quiet "$f" -- -std=c11 -D_GNU_SOURCE -DANNALS_VERSION='"lint"' -Iinclude -Isrc \
		-Ibuild/gen 2>/dev/null | grep -E 'warning:|error:' && status=1
done
[ $status -eq 0 ] && echo "lint: clean"
exit $status
