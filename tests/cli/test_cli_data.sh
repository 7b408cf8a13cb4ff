#!/usr/bin/env bash
# Whole data sets: import (checked locally, sent as one atomic batch,
# idempotent), export (imports back to the same export), batch.
source "$(dirname "$0")/lib.sh"
start_server
SEEDED=$URL

# A bad month is found locally, named by its path, and nothing is sent.
cat >"$CLI_TMP/bad.json" <<'EOF'
{"events": [{"id": "ev:bad", "type": "meeting",
             "when": {"precision": "PRECISION_MONTH", "year": 2019, "month": 13}}],
 "entities": [{"id": "person:fine", "type": "ENTITY_TYPE_PERSON", "names": [{"text": "Fine"}]},
              {"id": "person:nameless", "type": "ENTITY_TYPE_PERSON", "names": [{"text": ""}]}]}
EOF
rev=$(revision)
expect_exit 3 annals import "$CLI_TMP/bad.json"
check "the bad month is named by its path" err_has "events[0].when.month"
check "every bad record is listed" err_has "entities[1].names[0].text"
check "INVALID_ARGUMENT on stderr" err_has "annals: INVALID_ARGUMENT:"
check "nothing was sent" test "$(revision)" -eq "$rev"
expect_exit 5 annals entity get person:fine

# Import twice: the second changes nothing.
cat >"$CLI_TMP/small.json" <<'EOF'
{"documents": [{"id": "doc:test-small", "title": "a test document", "length": 10,
                "sha256": "0000000000000000000000000000000000000000000000000000000000000000"}],
 "entities": [{"id": "person:import-one", "type": "ENTITY_TYPE_PERSON", "names": [{"text": "Import One"}]},
              {"id": "org:import-club", "type": "ENTITY_TYPE_ORGANIZATION", "names": [{"text": "Import Club"}]}],
 "relations": [{"id": "rel:import-one.member_of.import-club", "subject": "person:import-one",
                "predicate": "member_of", "object": "org:import-club",
                "valid": {"start": {"kind": "BOUND_KIND_EXACT", "date": {"precision": "PRECISION_YEAR", "year": 2010}}}}],
 "events": [{"id": "ev:import-club-founded", "type": "founding",
             "when": {"precision": "PRECISION_YEAR", "year": 2010}}]}
EOF
expect_contains "5 written, 0 unchanged" annals import "$CLI_TMP/small.json"
rev1=$(revision)
check "the import is one change set" test "$rev1" -eq $((rev + 1))
expect_contains "0 written, 5 unchanged, revision $rev1" annals import "$CLI_TMP/small.json"
check "a second import leaves the revision" test "$(revision)" -eq "$rev1"
expect_contains "person:import-one" annals members org:import-club --at 2011
expect_contains "0 written, 5 unchanged" annals import - <"$CLI_TMP/small.json"
run annals --json import "$CLI_TMP/small.json"
check "import --json is a BatchReply" python3 -c "import json,sys; d=json.load(open('$OUT')); sys.exit(len(d['results']) != 5)"
# --request-id: a retried import is answered from the first one
expect_exit 9 annals entity delete person:import-one
check "a delete leaving a referrer names it" err_has 'relation "rel:import-one.member_of.import-club" names it in subject'
expect_contains "deleted" annals event delete ev:import-club-founded
expect_contains "1 written, 4 unchanged" annals import "$CLI_TMP/small.json" --request-id import-retry-1
rev2=$(revision)
expect_contains "1 written, 4 unchanged, revision $rev2" annals import "$CLI_TMP/small.json" --request-id import-retry-1

# The seed imports into itself unchanged.
expect_contains "0 written, 86 unchanged" annals import "$ANNALS_ROOT/data/seed/dataset.json"

# Export from a fresh seeded server, import into an empty one, export again: identical.
start_server
FRESH=$URL
expect_contains "exported 1 documents, 30 entities, 36 relations, 19 events" annals --server "$FRESH" export --out "$CLI_TMP/export1.json"
check "export is valid JSON" python3 -m json.tool "$CLI_TMP/export1.json"
check "export has no server-set fields" bash -c "! grep -qE '\"(revision|resolved|earliest|latest)\"' '$CLI_TMP/export1.json'"
start_server --empty
EMPTY=$URL
expect_contains "SERVING" annals --server "$EMPTY" health
expect_contains "86 written, 0 unchanged" annals --server "$EMPTY" import "$CLI_TMP/export1.json"
run annals --server "$EMPTY" export
cp "$OUT" "$CLI_TMP/export2.json"
check "export -> import -> export is identical" cmp -s "$CLI_TMP/export1.json" "$CLI_TMP/export2.json"
expect_contains "country:uzbekistan" annals --server "$EMPTY" members org:csto --at 2005
run annals --server "$FRESH" export
check "export to stdout equals --out" cmp -s "$OUT" "$CLI_TMP/export1.json"
run annals --server "$FRESH" export --page-size 4
check "export over pages of 4 is the same" cmp -s "$OUT" "$CLI_TMP/export1.json"
check "export is quiet when stderr is no terminal" test ! -s "$ERR"

# batch: a BatchRequest, atomic
cat >"$CLI_TMP/batch.json" <<'EOF'
{"ops": [{"put_entity": {"id": "place:test-town", "type": "ENTITY_TYPE_PLACE", "names": [{"text": "Test Town"}]}},
         {"delete": {"kind": "RECORD_KIND_ENTITY", "id": "org:import-club"}},
         {"delete": {"kind": "RECORD_KIND_RELATION", "id": "rel:import-one.member_of.import-club"}}]}
EOF
export ANNALS_SERVER=$SEEDED
expect_contains "3 written" annals batch "$CLI_TMP/batch.json"
expect_contains "Test Town" annals entity get place:test-town
expect_exit 5 annals entity get org:import-club
cat >"$CLI_TMP/batch-bad.json" <<'EOF'
{"ops": [{"put_entity": {"id": "place:other-town", "type": "ENTITY_TYPE_PLACE", "names": [{"text": "Other"}]}},
         {"put_entity": {"id": "place:test-town", "type": "ENTITY_TYPE_PLACE", "names": [{"text": "T"}]}, "guard": {"revision": "1"}}]}
EOF
rev=$(revision)
run annals batch "$CLI_TMP/batch-bad.json"
check "a failing batch fails" test "$RC" -ne 0
check "a failing batch writes nothing" test "$(revision)" -eq "$rev"
expect_exit 5 annals entity get place:other-town

finish
