#!/usr/bin/env bash
# The change feed: the seed's change set, JSON lines, filters, --follow
# with a clean exit on SIGTERM/SIGINT, and OUT_OF_RANGE naming the oldest.
source "$(dirname "$0")/lib.sh"
start_server

# The built-in data arrives as one change set.
run annals changes --since 0 --json
check "changes --since 0 exits 0" test "$RC" -eq 0
check "one line per change set: the seed's" test "$(wc -l <"$OUT")" -eq 1
check "the seed's change set: revision 1, 86 changes, compact JSON" python3 -c "
import json, sys
lines = open('$OUT').read().splitlines()
cs = json.loads(lines[0])
ok = cs['revision'] == '1' and len(cs['changes']) == 86 and cs['request_id'] == 'annals-seed-v1'
ok = ok and any(c.get('kind') == 'RECORD_KIND_ENTITY' for c in cs['changes'])
sys.exit(not ok)"
expect_contains "revision 1" annals changes --since 0
check "text lists the records" out_has "put  entity"
expect_contains "no changes after revision 1" annals changes --since 1

# Writes show up with their request ids, and the filters work.
cat >"$CLI_TMP/p.json" <<'EOF'
{"id": "person:feed-test", "type": "ENTITY_TYPE_PERSON", "names": [{"text": "Feed Test"}]}
EOF
annals entity put "$CLI_TMP/p.json" --request-id feed-put-1 >/dev/null
annals entity delete person:feed-test --request-id feed-del-1 >/dev/null
run annals changes --since 1 --json
check "two change sets after the seed" test "$(wc -l <"$OUT")" -eq 2
check "the put with its request id" bash -c "head -n1 '$OUT' | grep -q '\"request_id\":\"feed-put-1\"'"
check "the delete is marked deleted" bash -c "tail -n1 '$OUT' | grep -q '\"deleted\":true'"
check "every line is JSON" python3 -c "
import json
for line in open('$OUT'):
    json.loads(line)"
run annals changes --since 0 --json --limit 1
check "--limit 1: one change set" test "$(wc -l <"$OUT")" -eq 1
run annals changes --since 0 --json --id person:feed-test
check "--id: only that record's change sets" test "$(wc -l <"$OUT")" -eq 2
run annals changes --since 0 --json --kind event
check "--kind event: the seed only" test "$(wc -l <"$OUT")" -eq 1
expect_contains "delete  entity  person:feed-test" annals changes --since 2

# --follow: new change sets appear as they commit; SIGTERM and SIGINT end it with 0.
follow_check() { # SIGNAL
	local sig=$1 pid rev
	rev=$(revision)
	# the program itself, not the `annals` function: the signal must reach it
	"$ANNALS_EXE" changes --since "$rev" --follow --json >"$CLI_TMP/follow.out" 2>"$CLI_TMP/follow.err" &
	pid=$!
	sleep 0.5
	annals entity put "$CLI_TMP/p.json" --request-id "follow-$sig" >/dev/null
	for _ in $(seq 1 100); do
		grep -q "follow-$sig" "$CLI_TMP/follow.out" 2>/dev/null && break
		sleep 0.05
	done
	check "--follow printed the new change set ($sig)" grep -q "\"request_id\":\"follow-$sig\"" "$CLI_TMP/follow.out"
	kill -"$sig" "$pid"
	# a client that ignored the signal must not hang the test run
	(sleep 10 && kill -KILL "$pid") >/dev/null 2>&1 &
	local watchdog=$! rc
	wait "$pid"
	rc=$?
	kill "$watchdog" 2>/dev/null
	check "--follow exits 0 on SIG$sig" test "$rc" -eq 0
	check "--follow leaves no error behind ($sig)" test ! -s "$CLI_TMP/follow.err"
	annals entity delete person:feed-test >/dev/null
}
follow_check TERM
follow_check INT

# OUT_OF_RANGE: a feed that keeps one change set no longer has revision 1.
start_server --changes-keep 1
annals entity put "$CLI_TMP/p.json" >/dev/null
annals entity delete person:feed-test >/dev/null
expect_exit 11 annals changes --since 0
check "OUT_OF_RANGE is named" err_has "annals: OUT_OF_RANGE:"
check "the oldest revision available is named" err_has "the oldest revision available is 3"
expect_exit 0 annals changes --since 2
check "resuming from the oldest works" out_has "revision 3"

finish
