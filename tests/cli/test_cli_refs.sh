#!/usr/bin/env bash
# References stay whole, through the CLI: import lists every reference of
# a file that names no record (by its path in the file) and sends nothing;
# a file's own records and the server's count; `annals check` on a whole
# store exits 0 (a store with dangling references: test_it_refs).
source "$(dirname "$0")/lib.sh"
start_server

cat >"$CLI_TMP/dangling.json" <<'EOF'
{"entities": [{"id": "country:newland", "type": "ENTITY_TYPE_COUNTRY",
               "names": [{"text": "Newland", "evidence": [{"document": "doc:missing"}]}]}],
 "relations": [{"id": "rel:newland.member_of.csto", "subject": "country:newland", "predicate": "member_of", "object": "org:csto"},
               {"id": "rel:nowhere.member_of.csto", "subject": "country:nowhere", "predicate": "member_of", "object": "org:csto"}],
 "events": [{"id": "ev:newland-joins", "type": "membership_joined", "place": "place:atlantis",
             "participants": [{"entity": "country:newland"}, {"entity": "person:nobody"}],
             "when": {"precision": "PRECISION_DAY", "anchor": "event:ev:none", "offset_days": 1}}]}
EOF
rev=$(revision)
expect_exit 3 annals import "$CLI_TMP/dangling.json"
check "the relation's subject, by its path" err_has 'relations[1].subject: no entity "country:nowhere"'
check "a nested evidence document" err_has 'entities[0].names[0].evidence[0].document: no document "doc:missing"'
check "an anchor" err_has 'events[0].when.anchor: no event "ev:none"'
check "a place" err_has 'events[0].place: no entity "place:atlantis"'
check "a participant" err_has 'events[0].participants[1].entity: no entity "person:nobody"'
check "every one is counted" err_has "5 references to records that exist neither on the server nor in the file"
check "what the file creates is not reported" bash -c "! grep -q 'country:newland\"' '$ERR'"
check "nothing was written" test "$(revision)" -eq "$rev"
expect_exit 5 annals entity get country:newland
expect_exit 0 annals check

# the same file made whole: its own records (relation before entity in the
# file's order is fine) and the server's
python3 - "$CLI_TMP/dangling.json" "$CLI_TMP/whole.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
d["entities"][0]["names"][0]["evidence"][0]["document"] = "doc:ad6eff3e562ac92b"
d["relations"][1]["subject"] = "country:newland"
d["relations"][1]["id"] = "rel:newland.member_of.csto.2"
ev = d["events"][0]
ev["place"] = "place:dushanbe"
ev["participants"][1]["entity"] = "org:csto"
ev["when"]["anchor"] = "event:ev:csto-founded"
json.dump(d, open(sys.argv[2], "w"))
EOF
expect_contains "4 written, 0 unchanged" annals import "$CLI_TMP/whole.json"
expect_contains "Newland" annals members org:csto --at 2005
expect_contains "every reference names a record" annals check

# deleting what the file's records name is refused, naming one
expect_exit 9 annals entity delete country:newland
check "the referrer is named" err_has 'is still referred to: '
run annals --json check
check "check --json is a CheckReferencesReply" python3 -c "import json,sys; d=json.load(open('$OUT')); sys.exit(int(d.get('dangling', '0')) != 0 or int(d['records']) < 86)"
finish
