#!/usr/bin/env bash
# The bash completion script and the man page, both written by the CLI from
# its command table: completion is sourced into a real bash and asked for
# words the way bash asks (COMP_WORDS/COMP_CWORD, then COMPREPLY); the man
# page must render without a single groff warning.
source "$(dirname "$0")/lib.sh"
export ANNALS_SERVER=tcp://127.0.0.1:1 # nothing here needs a server

expect_exit 0 annals completion bash
cp "$OUT" "$CLI_TMP/completion.bash"
check "the script is valid bash" bash -n "$CLI_TMP/completion.bash"
expect_exit 64 annals completion zsh
check "other shells: a usage error" err_has "only bash"

# complete WORDS... — what the completion offers for the last word, sorted
complete_words() {
	bash -c '
		source "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMPREPLY=()
		_annals
		printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "' _ "$CLI_TMP/completion.bash" "$@"
}
# expect_completion "WORDS" "EXPECTED (sorted, space-separated)"
expect_completion() {
	local got
	# shellcheck disable=SC2086 # the words are meant to split
	got=$(complete_words $1 | sed 's/ $//')
	if [ "$got" = "$2" ]; then pass "complete '$1' -> '$2'"; else fail "complete '$1'" "got '$got', want '$2'"; fi
}
check "complete -F _annals annals is registered" bash -c "source '$CLI_TMP/completion.bash' && complete -p annals | grep -q _annals"
expect_completion "annals mem" "members"
expect_completion "annals su" "succession"
expect_completion "annals d" "describe digest document"
got=$(complete_words annals entity "" | sed 's/ $//')
check "complete 'annals entity ' -> its subcommands" test "$got" = "delete find get list put"
expect_completion "annals --server tcp://x:1 entity f" "find"
expect_completion "annals -o json event l" "list"
expect_completion "annals call GetE" "GetEntity GetEvent"
expect_completion "annals call --request-id r1 Memb" "Members"
expect_completion "annals describe EntityT" "EntityType"
expect_completion "annals describe Hol" "Holder HolderReply HolderRequest"
expect_completion "annals members org:csto --a" "--at"
expect_completion "annals entity list --ty" "--type"
expect_completion "annals entity list --type or" "organization"
expect_completion "annals -o y" "yaml"
expect_completion "annals health --no-h" "--no-headers"
expect_completion "annals changes --kind ev" "event"
# every command of `annals --help` is offered at the first word
run annals --help
words=$(complete_words annals "")
for c in health info members holder succession call describe completion manpage entity event relation document changes import export; do
	case " $words " in *" $c "*) pass "first word offers $c" ;; *) fail "first word offers $c" "got: $words" ;; esac
done

# the man page
expect_exit 0 annals manpage
cp "$OUT" "$CLI_TMP/annals.1"
check "man page: .TH header" grep -q '^\.TH ANNALS 1 ' "$CLI_TMP/annals.1"
groff -man -Tutf8 -ww -z "$CLI_TMP/annals.1" 2>"$CLI_TMP/groff.err"
check "groff -ww: no warnings" test ! -s "$CLI_TMP/groff.err"
if command -v mandoc >/dev/null; then
	mandoc -Tlint -W warning "$CLI_TMP/annals.1" >"$CLI_TMP/mandoc.err" 2>&1
	check "mandoc -Tlint: no warnings" bash -c "! grep -v 'missing date' '$CLI_TMP/mandoc.err' | grep -q ."
fi
MANWIDTH=100 man -l "$CLI_TMP/annals.1" >"$CLI_TMP/man.txt" 2>"$CLI_TMP/man.err"
check "man -l renders it" grep -q "annals members ORG" "$CLI_TMP/man.txt"
check "man -l: nothing on stderr" test ! -s "$CLI_TMP/man.err"
check "man page: every command" bash -c "for c in 'entity get' 'annals call METHOD' 'annals describe' 'annals completion bash' 'annals changes'; do grep -qF \"\$c\" '$CLI_TMP/man.txt' || exit 1; done"
check "man page: the environment" bash -c "for v in ANNALS_SERVER ANNALS_TIMEOUT ANNALS_TOKEN ANNALS_TLS_CA ANNALS_TLS_CERT ANNALS_TLS_KEY ANNALS_TLS_SERVER_NAME; do grep -q \"\$v\" '$CLI_TMP/man.txt' || exit 1; done"
check "man page: exit status" grep -q "64 a usage error" "$CLI_TMP/man.txt"
check "man page: -o formats" grep -q -- "-o, --output FORMAT" "$CLI_TMP/man.txt"

# make install ships both (the build wrote them next to the binaries)
share=$(cd "$ANNALS_BIN/.." && pwd)
for f in "$share/share/man/man1/annals.1" "$ANNALS_ROOT/build/release/share/man/man1/annals.1"; do
	if [ -f "$f" ]; then
		check "the built man page is the CLI's: $f" cmp -s "$f" "$CLI_TMP/annals.1"
		break
	fi
done

finish
