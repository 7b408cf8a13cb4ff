#!/usr/bin/env bash
# `annals backup DIR` makes a copy that a second annalsd serves with the
# same records at the same revision.
. "$(dirname "$0")/lib.sh"
start_server
echo '{"id":"person:backup-cli","type":"ENTITY_TYPE_PERSON","names":[{"text":"Backup Person"}]}' >"$CLI_TMP/p.json"
annals entity put "$CLI_TMP/p.json" >/dev/null
REV=$(revision)
expect_contains "backup of revision $REV" annals backup "$CLI_TMP/copy"
expect_exit 6 annals backup "$CLI_TMP/copy"
check "a second backup into the same directory says why" err_has "already holds a data.mdb"
expect_exit 64 annals backup relative/dir
annals --json entity get person:backup-cli >"$CLI_TMP/a.json"
annals --json entity get org:csto >"$CLI_TMP/c1.json"
# a later --data wins over the one lib.sh gives
start_server --data "$CLI_TMP/copy"
check "the copy has the same revision" test "$(revision)" = "$REV"
annals --json entity get person:backup-cli >"$CLI_TMP/b.json"
annals --json entity get org:csto >"$CLI_TMP/c2.json"
check "the copy has the written record" cmp -s "$CLI_TMP/a.json" "$CLI_TMP/b.json"
check "the copy has the built-in data" cmp -s "$CLI_TMP/c1.json" "$CLI_TMP/c2.json"
finish
