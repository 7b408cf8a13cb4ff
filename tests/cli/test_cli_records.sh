#!/usr/bin/env bash
# Records: health, info, get/list/find of the built-in data, the put/get/
# delete round trip with guards and request ids, and --json output.
source "$(dirname "$0")/lib.sh"
start_server

expect_contains "SERVING" annals health
expect_contains "30 entities, 19 events, 36 relations, 1 documents" annals info
check "info lists the methods" out_has "annals.v1.Annals/Members"

# entity find / list
expect_contains "org:csto" annals entity find CSTO
check "find CSTO gives one entity" test "$(grep -c '^org:csto ' "$OUT")" -eq 1
expect_contains "org:csto" annals entity find csto
expect_contains "person:stanislav-zas" annals entity find zas --type person
expect_contains "country:tajikistan" annals entity find Taj --prefix
expect_contains "country:belarus" annals entity list --type country --all
check "--type country lists only countries" bash -c "! grep -qE '^(person|org):' '$OUT'"
check "eleven countries" test "$(grep -c '^country:' "$OUT")" -eq 11
expect_contains "position:csto-secretary-general" annals entity list --type ENTITY_TYPE_POSITION
expect_contains "country:armenia" annals entity list --prefix Arm
run annals entity list --limit 3
check "--limit 3 shows three rows and a header" test "$(wc -l <"$OUT")" -eq 4
check "--limit says there is more" err_has "--all"
run annals entity list --all
check "--all shows all 30 entities" test "$(grep -c ':' "$OUT")" -eq 30
cp "$OUT" "$CLI_TMP/all-entities"
# paging: page tokens carry the listing on, nothing lost or repeated
run annals entity list --all --page-size 7
check "--page-size 7: the same 30 entities over 5 pages" cmp -s "$OUT" "$CLI_TMP/all-entities"
run annals entity list --limit 25 --page-size 7
check "--limit 25 over pages of 7: 25 rows" test "$(grep -c ':' "$OUT")" -eq 25
run annals relation list --all --page-size 5 --json
check "relations over pages of 5, as one JSON page" python3 -c "
import json, sys
ids = [r['id'] for r in json.load(open('$OUT'))['relations']]
sys.exit(len(ids) != 36 or len(set(ids)) != 36)"
expect_exit 64 annals entity list --page-size 0
expect_exit 64 annals entity list --page-size 1001

# entity get
expect_contains "Collective Security Treaty Organization" annals entity get org:csto
check "names with their validity" out_has "2002-10 .. open"
check "former name until the renaming" out_has "1992 .. 2002-10"
expect_exit 5 annals entity get org:nope
check "NOT_FOUND on stderr" err_has "annals: NOT_FOUND:"
check "a hint for NOT_FOUND" err_has "annals entity find"

# events: precision and relative dates are shown as such
expect_contains "2019-05" annals event get ev:zas-nominated-csto-secretary-general
expect_contains "1993 (ev:csto-founded +1y)" annals event get ev:csto-accession-azerbaijan-georgia-belarus
expect_contains "unresolved (doc:ad6eff3e562ac92b -1d)" annals event get ev:rahmon-zas-meeting
expect_contains "ev:csto-summit-dushanbe" annals event list --status planned
check "only the planned summit" test "$(grep -c '^ev:' "$OUT")" -eq 1
expect_contains "ev:zas-appointed-csto-secretary-general" annals event list --participant person:stanislav-zas --from 2019
check "--from 2019 leaves out the 2018 candidacy" bash -c "! grep -q 'ev:zas-candidacy' '$OUT'"
expect_contains "ev:csto-renamed" annals event list --type renaming

# relations and documents
expect_contains "rel:russia.member_of.csto" annals relation list --subject country:russia
expect_contains "1992 .. open" annals relation get rel:russia.member_of.csto
expect_contains "before 2020-01-01" annals relation get rel:yuri-khachaturov.holds_position.csto-secretary-general
expect_contains "98f18c9cf6a9c5682056c20cbcb012eb63e974073339557cbc88c1f57a4031db" annals document get $SEED_DOC
check "document shows its 15 sentences" out_has "sentences (15)"
expect_contains "$SEED_DOC" annals document list

# --json: valid JSON with the .proto field names
run annals --json entity get person:stanislav-zas
check "--json parses" python3 -m json.tool "$OUT"
check "--json uses .proto names (span_start)" out_has '"span_start"'
check "--json has no camelCase names" bash -c "! grep -q 'spanStart' '$OUT'"
check "--json enums by name" out_has '"ENTITY_TYPE_PERSON"'
run annals entity list --all --json
check "list --json is one page of all entities" python3 -c "import json,sys; d=json.load(open('$OUT')); sys.exit(len(d['entities']) != 30)"
run annals info --json
check "info --json parses" python3 -m json.tool "$OUT"

# put / get / delete round trip
cat >"$CLI_TMP/person.json" <<'EOF'
{"id": "person:test-person", "type": "ENTITY_TYPE_PERSON",
 "names": [{"text": "Test Person", "kind": "NAME_KIND_OFFICIAL"}],
 "summary": "made by the CLI tests"}
EOF
rev0=$(revision)
expect_contains "written" annals entity put "$CLI_TMP/person.json"
rev1=$(revision)
check "put moved the revision" test "$rev1" -gt "$rev0"
expect_contains "Test Person" annals entity get person:test-person
check "get shows the new revision" out_has "(revision $rev1)"
expect_contains "unchanged" annals entity put "$CLI_TMP/person.json"
check "an unchanged put leaves the revision" test "$(revision)" -eq "$rev1"
expect_contains "person:test-person" annals entity find "test person"
# what get --json printed can be put back unchanged (server fields are dropped)
annals --json entity get person:test-person >"$CLI_TMP/back.json"
expect_contains "unchanged" annals entity put - <"$CLI_TMP/back.json"
expect_exit 9 annals entity put "$CLI_TMP/person.json" --expect-revision 0
check "guard failure is FAILED_PRECONDITION" err_has "FAILED_PRECONDITION"
expect_exit 9 annals entity delete person:test-person --expect-revision 999999
expect_contains "deleted" annals entity delete person:test-person --expect-revision "$rev1"
expect_exit 5 annals entity get person:test-person
expect_exit 5 annals entity delete person:test-person

# --request-id: a retried write is applied once
expect_contains "written" annals entity put "$CLI_TMP/person.json" --request-id cli-test-1
r1=$(revision)
annals entity delete person:test-person >/dev/null
expect_contains "written, revision $r1" annals entity put "$CLI_TMP/person.json" --request-id cli-test-1
expect_exit 5 annals entity get person:test-person

# bad input is refused with the field named
echo '{"id": "person:x", "type": "ENTITY_TYPE_PERSON", "names": [{"text": "X"}], "revisoin": 3}' >"$CLI_TMP/typo.json"
expect_exit 3 annals entity put "$CLI_TMP/typo.json"
check "the unknown key is named" err_has "revisoin"
echo '{"id": "bad id", "type": "ENTITY_TYPE_PERSON"}' >"$CLI_TMP/badid.json"
expect_exit 3 annals entity put "$CLI_TMP/badid.json"

# events and relations round trip too
cat >"$CLI_TMP/event.json" <<'EOF'
{"id": "ev:test-event", "type": "meeting", "when": {"precision": "PRECISION_MONTH", "year": 2021, "month": 3},
 "status": "EVENT_STATUS_OCCURRED", "participants": [{"entity": "person:stanislav-zas", "role": "visitor"}]}
EOF
expect_contains "written" annals event put "$CLI_TMP/event.json"
expect_contains "2021-03" annals event get ev:test-event
expect_contains "deleted" annals event delete ev:test-event
cat >"$CLI_TMP/rel.json" <<'EOF'
{"id": "rel:test", "subject": "country:russia", "predicate": "observer_at", "object": "org:un-general-assembly",
 "valid": {"start": {"kind": "BOUND_KIND_EXACT", "date": {"precision": "PRECISION_YEAR", "year": 2001}}}}
EOF
expect_contains "written" annals relation put "$CLI_TMP/rel.json"
expect_contains "2001 .. open" annals relation get rel:test
expect_contains "deleted" annals relation delete rel:test

finish
