#!/usr/bin/env bash
# `annals digest` (the Digest RPC, the method traced through the method
# table): equal records at an equal revision give equal digests, on two
# servers and on a backup; any write changes it; reader tokens may call it.
. "$(dirname "$0")/lib.sh"
digest() { annals digest | sed -n 's/.*sha256 \([0-9a-f]*\).*/\1/p'; }

start_server
D1=$(digest)
check "a digest is 64 hex digits" test "${#D1}" -eq 64
check "the same store gives the same digest twice" test "$(digest)" = "$D1"
expect_contains "30 entities" annals digest
annals backup "$CLI_TMP/copy" >/dev/null
echo '{"id":"person:digest-cli","type":"ENTITY_TYPE_PERSON","names":[{"text":"Digest Person"}]}' >"$CLI_TMP/p.json"
annals entity put "$CLI_TMP/p.json" >/dev/null
D2=$(digest)
check "a write changes the digest" test "$D2" != "$D1"
annals --json digest >"$CLI_TMP/d.json"
check "--json carries the revision and counts" grep -q '"revision"' "$CLI_TMP/d.json"
start_server --data "$CLI_TMP/copy"
check "the backup of the first store has its digest" test "$(digest)" = "$D1"
expect_contains "Digest" annals info
expect_contains "read,cacheable" annals info
expect_contains "write" annals info
finish
