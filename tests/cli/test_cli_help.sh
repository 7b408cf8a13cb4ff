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
	"call" "describe" "completion" "manpage"
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

# "Did you mean": a mistyped command, subcommand, option or format.
expect_exit 64 annals membrs org:csto --at 2005
check "did you mean 'members'" err_has "unknown command 'membrs'; did you mean 'members'?"
expect_exit 64 annals sucession x
check "did you mean 'succession'" err_has "did you mean 'succession'?"
expect_exit 64 annals entty get org:csto
check "a mistyped group: did you mean 'entity'" err_has "did you mean 'entity'?"
expect_exit 64 annals entity gte org:csto
check "a swapped subcommand: did you mean 'entity get'" err_has "did you mean 'entity get'?"
expect_exit 64 annals members org:csto --att 2005
check "did you mean --at" err_has "unknown option --att; did you mean --at?"
expect_exit 64 annals entity list --limt 3
check "did you mean --limit" err_has "did you mean --limit?"
expect_exit 64 annals health --tiemout 5
check "a global flag: did you mean --timeout" err_has "did you mean --timeout?"
expect_exit 64 annals xyzzy
check "nothing close: no guess" bash -c "! grep -q 'did you mean' '$ERR'"

# The environment: every global flag with a variable is listed in --help,
# and a flag wins over its variable.
run annals --help
for v in ANNALS_SERVER ANNALS_TIMEOUT ANNALS_TOKEN ANNALS_TLS_CA ANNALS_TLS_CERT ANNALS_TLS_KEY ANNALS_TLS_SERVER_NAME; do
	check "--help names $v" out_has "$v"
done
check "--help lists -o" out_has "-o, --output FORMAT"
check "--help lists --no-headers" out_has "--no-headers"
ANNALS_TIMEOUT=soon expect_exit 64 annals health
check "a bad ANNALS_TIMEOUT is named" err_has "ANNALS_TIMEOUT: 'soon'"
ANNALS_TIMEOUT=0 expect_exit 64 annals health
ANNALS_TIMEOUT=soon expect_exit 14 annals --timeout 300 health
check "--timeout wins over ANNALS_TIMEOUT" err_has "UNAVAILABLE"
ANNALS_TLS_CA=$CLI_TMP/no-ca.pem expect_exit 66 annals --server tls+tcp://127.0.0.1:1 health
check "ANNALS_TLS_CA is used (and named)" err_has "no-ca.pem (given by ANNALS_TLS_CA)"
ANNALS_TLS_CA=$CLI_TMP/no-ca.pem expect_exit 66 annals --tls-ca "$CLI_TMP/other-ca.pem" health
check "--tls-ca wins over ANNALS_TLS_CA" err_has "other-ca.pem (given by --tls-ca)"
ANNALS_TLS_CERT=$CLI_TMP/no-cert.pem expect_exit 66 annals health
check "ANNALS_TLS_CERT is used" err_has "(given by ANNALS_TLS_CERT)"
ANNALS_TLS_KEY=$CLI_TMP/no-key.pem expect_exit 66 annals health
check "ANNALS_TLS_KEY is used" err_has "(given by ANNALS_TLS_KEY)"

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
