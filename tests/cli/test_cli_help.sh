#!/usr/bin/env bash
# The command line itself: help for every command, usage errors (exit 64),
# and what happens when no server answers (exit 14 with a hint).
source "$(dirname "$0")/lib.sh"

COMMANDS=(
	"health" "info"
	"entity get" "entity put" "entity delete" "entity list" "entity find"
	"event get" "event put" "event delete" "event list"
	"relation get" "relation put" "relation delete" "relation list"
	"document get" "document put" "document delete" "document list"
	"timeline" "resolve" "name" "relations" "history" "members" "holder" "succession"
	"evidence" "facts" "batch" "import" "export" "changes"
)

# --help for every command exits 0 and prints its usage line, without a server.
export ANNALS_SERVER=tcp://127.0.0.1:1
for c in "${COMMANDS[@]}"; do
	# shellcheck disable=SC2086 # the words of the command are meant to split
	if expect_exit 0 annals $c --help; then
		check "usage line of '$c --help'" out_has "usage: annals $c"
	fi
done
expect_exit 0 annals --help
check "main help lists every command" bash -c "for c in members holder succession evidence changes import export 'entity find'; do grep -qF \"  \$c \" '$OUT' || exit 1; done"
expect_exit 0 annals entity --help
check "group help lists the entity commands" bash -c "grep -q 'entity find NAME' '$OUT' && grep -q 'entity delete ID' '$OUT'"
expect_exit 0 annals members -h
expect_exit 0 annals --help members
expect_contains "annals 0.1.0" annals --version
expect_exit 0 annals members org:csto --version

# Usage errors: exit 64 and a usage line.
expect_exit 64 annals bogus
expect_exit 64 annals entity
expect_exit 64 annals entity frobnicate
expect_exit 64 annals entity get
check "missing argument is named" err_has "missing ID"
expect_exit 64 annals entity get a b
expect_exit 64 annals entity get x --bogus
check "unknown option is named" err_has "unknown option --bogus"
expect_exit 64 annals members org:csto
check "--at is required for members" err_has "--at"
expect_exit 64 annals members org:csto --at 2005-13
check "bad month names the flag" err_has "--at: month 13 is not a month"
check "usage line after a usage error" err_has "usage: annals members ORG"
expect_exit 64 annals name org:csto --at yesterday
expect_exit 64 annals event list --from 2019-02-30
check "bad day names --from" err_has "--from:"
expect_exit 64 annals entity list --type planet
check "bad --type lists the choices" err_has "media_source"
expect_exit 64 annals event list --status maybe
expect_exit 64 annals entity list --limit ten
expect_exit 64 annals --timeout 0 health
expect_exit 64 annals health -x
expect_exit 64 annals members org:csto --at pub:
expect_exit 64 annals changes --since -1
expect_exit 64 annals health --json=yes

# Local input problems are found before any server is needed.
expect_exit 66 annals import "$CLI_TMP/no-such-file.json"
echo '{"events": [' >"$CLI_TMP/broken.json"
expect_exit 3 annals import "$CLI_TMP/broken.json"

# No server: UNAVAILABLE (14) with a hint naming the URL and `make run`.
port=$(free_port)
expect_exit 14 annals --server "tcp://127.0.0.1:$port" health
check "UNAVAILABLE is named" err_has "annals: UNAVAILABLE:"
check "the hint names the URL" err_has "is annalsd running at tcp://127.0.0.1:$port?"
check "the hint says how to start it" err_has "make run"
ANNALS_SERVER="tcp://127.0.0.1:$port" expect_exit 14 annals entity get org:csto
check "ANNALS_SERVER is used" err_has "tcp://127.0.0.1:$port"
expect_exit 14 annals members org:csto --at 2005 --server "tcp://127.0.0.1:$port"
expect_exit 3 annals --server "bogus://x" health

finish
