#!/usr/bin/env bash
# annalsd's own command line, as an operator meets it: --version says what
# was built (version, git describe, compiler, the nng, LMDB and protobuf-c
# it runs on); --help lists the production options only, while the test
# flags (fault injection) stay accepted and are listed by --help-test.
. "$(dirname "$0")/lib.sh"

run "$ANNALSD_EXE" --version
check "annalsd --version: exit 0" test "$RC" = 0
check "annalsd --version: first line is the version" grep -qxE 'annalsd [0-9]+\.[0-9]+\.[0-9]+' <(head -n1 "$OUT")
check "annalsd --version: git describe of the build" grep -qE '^git: +[0-9a-zA-Z._-]+$' "$OUT"
check "annalsd --version: the compiler" grep -qE '^compiler: +(gcc|clang) [0-9]+\.[0-9]+' "$OUT"
for lib in nng lmdb protobuf-c; do
	check "annalsd --version: $lib's version" grep -qE "^$lib: +[0-9]+\.[0-9]+\.[0-9]+$" "$OUT"
done
# the libraries it runs on, as Debian installed them
if command -v dpkg-query >/dev/null; then
	for pair in nng:libnng1 lmdb:liblmdb0 protobuf-c:libprotobuf-c1; do
		v=$(dpkg-query -W -f='${Version}' "${pair#*:}" 2>/dev/null | sed -E 's/^[0-9]+://; s/[-+~].*//')
		[ -n "$v" ] && check "annalsd --version: $v of ${pair#*:}" grep -qE "^${pair%%:*}: +$v$" "$OUT"
	done
fi
# in a git checkout the build's describe names a commit of this repository
if git -C "$ANNALS_ROOT" rev-parse --git-dir >/dev/null 2>&1; then
	desc=$(sed -nE 's/^git: +//p' "$OUT")
	hash=$(echo "$desc" | sed -E 's/-dirty$//; s/.*-g([0-9a-f]+)$/\1/')
	check "annalsd --version: git $desc is a commit here" git -C "$ANNALS_ROOT" cat-file -e "$hash^{commit}"
fi
run "$ANNALSD_EXE" --version --data /nonexistent/never-created
check "--version does not start a server" test "$RC" = 0 -a ! -e /nonexistent/never-created

run "$ANNALSD_EXE" --help
check "annalsd --help: exit 0" test "$RC" = 0
check "annalsd --help: lists --version" grep -q -- '--version' "$OUT"
check "annalsd --help: no test-only flags" bash -c "! grep -q -- '--test-' '$OUT'"
check "annalsd --help: no fault injection" bash -c "! grep -qi 'fault injection' '$OUT'"
run "$ANNALSD_EXE" --help-test
check "annalsd --help-test: exit 0" test "$RC" = 0
check "annalsd --help-test: --test-delay-ms" grep -q -- '--test-delay-ms' "$OUT"
check "annalsd --help-test: --test-drop-publish" grep -q -- '--test-drop-publish' "$OUT"
# still accepted, and still working: each call waits
start_server --test-delay-ms 300 --test-drop-publish 2
t0=$(date +%s%N)
annals health >/dev/null
t1=$(date +%s%N)
check "--test-delay-ms still delays calls" test $(((t1 - t0) / 1000000)) -ge 300

finish
