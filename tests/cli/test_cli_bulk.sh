#!/usr/bin/env bash
# Bulk loads (issue 15) against real servers: `annals import --bulk` writes
# the same store as a Batch import of the same file (export and answers
# compared), in many parts and change sets; and the BulkLoad protocol keeps
# its promises: nothing before the commit, all or nothing (a dangling
# reference or an id twice refuses it whole), ALREADY_EXISTS unless
# --replace, a second import unchanged, parts resent or out of order, one
# load at a time, a resent commit answered from the request log, the admin
# role, and an acknowledged commit on disk after kill -9.
source "$(dirname "$0")/lib.sh"

json_get() { # FILE PYTHON-EXPR(d)
	python3 -c "import json, sys; d = json.load(open('$1')); print($2)"
}

# 1,500 entities, 2,600 events, 40 documents, 300 relations. Events cite
# documents, some dates are relative to a document of the load, and some to
# an event that comes later in the file (the commit writes those after it).
gen() { # N_ENTITIES N_EVENTS OUT [SUMMARY-SUFFIX]
	python3 - "$@" <<'EOF'
import json, sys
ne, nv, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
suffix = sys.argv[4] if len(sys.argv) > 4 else ""
docs = [{"id": "doc:bk-%03d" % i, "title": "bulk test document %d" % i, "length": 100 + i,
         "sha256": "%064x" % (i + 1),
         "published": {"precision": "PRECISION_DAY", "year": 2001 + i % 20, "month": 1 + i % 12, "day": 1 + i % 28},
         "sentences": [{"number": 1, "start": 0, "end": 50}, {"number": 2, "start": 51, "end": 100}]}
        for i in range(40)]
ents = [{"id": "person:bk-%05d" % i, "type": "ENTITY_TYPE_PERSON",
         "names": [{"text": "Bulk Person %d" % i}, {"text": "BP%d" % (i % 97), "kind": "NAME_KIND_ALIAS"}],
         "summary": "a generated person" + suffix}
        for i in range(ne)]
ents += [{"id": "org:bk-club-%d" % i, "type": "ENTITY_TYPE_ORGANIZATION", "names": [{"text": "Bulk Club %d" % i}]}
         for i in range(3)]
rels = [{"id": "rel:bk-%05d.member_of.club-%d" % (i, i % 3), "subject": "person:bk-%05d" % i,
         "predicate": "member_of", "object": "org:bk-club-%d" % (i % 3), "status": "active",
         "valid": {"start": {"kind": "BOUND_KIND_EXACT", "date": {"precision": "PRECISION_YEAR", "year": 1990 + i % 30}}}}
        for i in range(0, min(ne, 300))]
evs = []
for i in range(nv):
    e = {"id": "ev:bk-%06d" % i, "type": "meeting", "summary": "generated meeting %d" % i,
         "participants": [{"entity": "person:bk-%05d" % (i % ne), "role": "participant"},
                          {"entity": "person:bk-%05d" % ((i * 7 + 1) % ne), "role": "participant"}],
         "evidence": [{"document": "doc:bk-%03d" % (i % 40), "sentences": [1 + i % 2]}]}
    if i % 5 == 0:
        e["when"] = {"precision": "PRECISION_DAY", "anchor": "doc:bk-%03d" % (i % 40), "offset_days": -(i % 9)}
    elif i % 11 == 0 and i + 1 < nv:
        e["when"] = {"precision": "PRECISION_DAY", "anchor": "event:ev:bk-%06d" % (i + 1), "offset_days": 1}
    else:
        e["when"] = {"precision": "PRECISION_DAY", "year": 1995 + i % 25, "month": 1 + i % 12, "day": 1 + i % 28}
    evs.append(e)
json.dump({"documents": docs, "entities": ents, "relations": rels, "events": evs}, open(out, "w"))
EOF
}
gen 1500 2600 "$CLI_TMP/big.json"

# ---- the same store as Batch ---------------------------------------------------
start_server --empty
BATCH=$URL
BATCH_DIR=${CLI_PIDS[-1]#*:}
BATCH_DIR=${BATCH_DIR%.log}/db
expect_contains "4443 written, 0 unchanged" annals --server "$BATCH" import "$CLI_TMP/big.json"
# small messages: the file goes in many parts
start_server --empty --max-message 65536
BULK=$URL
BULK_DIR=${CLI_PIDS[-1]#*:}
BULK_DIR=${BULK_DIR%.log}/db
rev0=$(ANNALS_SERVER=$BULK revision)
expect_contains "4443 written, 0 unchanged" annals --server "$BULK" import --bulk "$CLI_TMP/big.json"
check "many parts: the message limit holds" grep -qE '\(([2-9]|[1-9][0-9]+) parts' "$OUT"
check "one change set per 1000 records: revisions 1..5" out_has "revisions $((rev0 + 1))..$((rev0 + 5))"
annals --server "$BATCH" export --out "$CLI_TMP/batch.json" >/dev/null
annals --server "$BULK" export --out "$CLI_TMP/bulk.json" >/dev/null
check "export of the bulk store equals that of the Batch store" cmp "$CLI_TMP/batch.json" "$CLI_TMP/bulk.json"
for q in "members org:bk-club-1 --at 2010" "timeline person:bk-00007" "entity find BP12" \
	"event get ev:bk-000010" "event get ev:bk-000011" "event get ev:bk-000015" "relations person:bk-00003"; do
	# shellcheck disable=SC2086 # q is words
	annals --server "$BATCH" -o json $q 2>&1 | grep -v '"revision"' >"$CLI_TMP/q1"
	# shellcheck disable=SC2086
	annals --server "$BULK" -o json $q 2>&1 | grep -v '"revision"' >"$CLI_TMP/q2"
	check "same answer from both stores: $q" cmp "$CLI_TMP/q1" "$CLI_TMP/q2"
done
# every index holds the same entries, byte for byte (they carry no revisions)
# (the header's mapsize differs: the bulk commit grows the map before it starts)
for db in ix_names ix_types ix_subjects ix_objects ix_time ix_entity_time ix_cites ix_anchors ix_refs ix_pubfloor; do
	mdb_dump -s "$db" "$BATCH_DIR" | grep '^ ' >"$CLI_TMP/ix1"
	mdb_dump -s "$db" "$BULK_DIR" | grep '^ ' >"$CLI_TMP/ix2"
	check "index $db: the same entries as the Batch store's" cmp "$CLI_TMP/ix1" "$CLI_TMP/ix2"
	case $db in ix_refs | ix_pubfloor) ;; # this data set has neither
	*) check "index $db is not empty" test -s "$CLI_TMP/ix1" ;;
	esac
done
run annals --server "$BULK" -o json event get ev:bk-000011
check "a date relative to a later event of the load is resolved" test "$(json_get "$OUT" 'd["when"].get("resolved", False)')" = True
run annals --server "$BULK" --json changes --since "$rev0" --limit 10
feed() { python3 -c "import json, sys; d = [json.loads(l) for l in open('$OUT') if l.strip()]; print($1)"; }
check "the change feed shows the load as bulk change sets" test "$(feed 'sum(1 for c in d if c.get("bulk"))')" = 5
check "naming every record" test "$(feed 'sum(len(c["changes"]) for c in d)')" = 4443
check "without their bodies" test "$(feed 'sum(1 for c in d for x in c["changes"] if len(x) > 2)')" = 0
# the same file again: unchanged, no revision
rev1=$(ANNALS_SERVER=$BULK revision)
expect_contains "0 written, 4443 unchanged" annals --server "$BULK" import --bulk "$CLI_TMP/big.json"
check "an unchanged bulk load takes no revision" test "$(ANNALS_SERVER=$BULK revision)" -eq "$rev1"

# a file larger than one Batch: plain import says to use --bulk, which takes it
gen 5000 6000 "$CLI_TMP/over.json"
start_server --empty
expect_exit 3 annals import "$CLI_TMP/over.json"
check "a file over one Batch points to --bulk" err_has "Import it with --bulk"
expect_contains "11343 written" annals import --bulk "$CLI_TMP/over.json"

# ---- all or nothing ----------------------------------------------------------------
# other contents: ALREADY_EXISTS, nothing written; --replace writes them
gen 1500 2600 "$CLI_TMP/changed.json" " (changed)"
expect_exit 6 annals --server "$BULK" import --bulk "$CLI_TMP/changed.json"
check "ALREADY_EXISTS names the record and says --replace" err_has "person:bk-00000"
check "... and the way out" err_has "--replace"
check "refused whole: no revision" test "$(ANNALS_SERVER=$BULK revision)" -eq "$rev1"
expect_contains "1500 written, 2943 unchanged" annals --server "$BULK" import --bulk --replace "$CLI_TMP/changed.json"
expect_contains "(changed)" annals --server "$BULK" entity get person:bk-00042
expect_exit 64 annals --server "$BULK" import --replace "$CLI_TMP/changed.json"

# a dangling reference refuses the whole load and names the record
python3 - "$CLI_TMP/big.json" "$CLI_TMP/dangling.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
for e in d["entities"]: e["id"] = e["id"].replace("bk-", "dg-")
for r in d["relations"]: r["id"] = r["id"].replace("bk-", "dg-"); r["subject"] = r["subject"].replace("bk-", "dg-")
for e in d["events"]:
    e["id"] = e["id"].replace("bk-", "dg-")
    for p in e["participants"]: p["entity"] = p["entity"].replace("bk-", "dg-")
    if e["when"].get("anchor", "").startswith("event:"): e["when"]["anchor"] = e["when"]["anchor"].replace("bk-", "dg-")
d["events"][2000]["participants"][0]["entity"] = "person:nobody-here"
d["documents"] = []
json.dump(d, open(sys.argv[2], "w"))
EOF
rev2=$(ANNALS_SERVER=$BULK revision)
expect_exit 3 annals --server "$BULK" import --bulk "$CLI_TMP/dangling.json"
check "the dangling reference is named with its record" err_has 'ev:dg-002000'
check "... and the missing id" err_has 'person:nobody-here'
check "nothing of it was written" test "$(ANNALS_SERVER=$BULK revision)" -eq "$rev2"
expect_exit 5 annals --server "$BULK" entity get person:dg-00001

# ---- the protocol --------------------------------------------------------------------
part() { # LOAD PART ID [more JSON fields]
	printf '{"loadId": "%s", "part": %s, "entities": [{"id": "%s", "type": "ENTITY_TYPE_PERSON", "names": [{"text": "Part Person"}]}]%s}' \
		"$1" "$2" "$3" "${4:-}"
}
expect_exit 9 annals --server "$BULK" call BulkLoad "$(part a 2 person:pa-2)" --request-id p-a2
check "a load starts with part 1" err_has "start with part 1"
expect_exit 0 annals --server "$BULK" call BulkLoad "$(part a 1 person:pa-1)" --request-id p-a1
check "part 1 staged" test "$(json_get "$OUT" 'd["records"]')" = 1
expect_exit 0 annals --server "$BULK" call BulkLoad "$(part a 1 person:pa-1)" --request-id p-a1
check "a resent part is answered, not staged twice" test "$(json_get "$OUT" 'd["records"]')" = 1
expect_exit 0 annals --server "$BULK" call BulkLoad "$(part a 3 person:pa-3)" --request-id p-a3
check "parts after the first come in any order" test "$(json_get "$OUT" 'd["parts"]')" = 2
expect_exit 3 annals --server "$BULK" call BulkLoad "$(part a 4 person:pa-1)" --request-id p-a4
check "an id twice in a load is refused, naming the part that has it" err_has 'already in this load (part 1)'
expect_exit 3 annals --server "$BULK" call BulkLoad "$(part a 5 person:pa-5 ', "commit": true')" --request-id p-a5
check "a commit carries no records" err_has "carries no records"
expect_exit 9 annals --server "$BULK" call BulkLoad '{"loadId": "a", "commit": true, "part": 3}' --request-id p-ac
check "a commit with a part missing names it" err_has "part 2 was not staged"
expect_exit 9 annals --server "$BULK" call BulkLoad "$(part b 1 person:pb-1)" --request-id p-b1
check "one load at a time" err_has 'load "a" is being staged'

expect_exit 5 annals --server "$BULK" entity get person:pa-1
expect_exit 0 annals --server "$BULK" call BulkLoad "$(part a 2 person:pa-2)" --request-id p-a2
rev3=$(ANNALS_SERVER=$BULK revision)
expect_exit 0 annals --server "$BULK" call BulkLoad '{"loadId": "a", "commit": true, "part": 3}' --request-id p-ac2
check "the commit writes every part" test "$(json_get "$OUT" 'd["written"]')" = 3
check "... at the next revision" test "$(json_get "$OUT" 'd["last_revision"]')" = $((rev3 + 1))
expect_exit 0 annals --server "$BULK" call BulkLoad '{"loadId": "a", "commit": true, "part": 3}' --request-id p-ac2
check "a resent commit is answered from the request log" test "$(json_get "$OUT" 'd["written"]')" = 3
check "... and writes nothing again" test "$(ANNALS_SERVER=$BULK revision)" -eq $((rev3 + 1))
expect_exit 9 annals --server "$BULK" call BulkLoad '{"loadId": "a", "commit": true}' --request-id p-ac3
check "a commit of a load that is gone says so" err_has "is not known"
expect_exit 0 annals --server "$BULK" call BulkLoad "$(part b 1 person:pb-1)" --request-id p-b1
expect_exit 0 annals --server "$BULK" call BulkLoad '{"loadId": "b", "abort": true}' --request-id p-bx
expect_exit 5 annals --server "$BULK" call BulkLoad '{"loadId": "b"}' --request-id p-bs
check "an aborted load is gone" err_has 'no load "b" is staged'
expect_exit 3 annals --server "$BULK" call BulkLoad "$(part 'Not An Id' 1 person:pc-1)" --request-id p-c1
expect_exit 3 annals --server "$BULK" call BulkLoad \
	'{"loadId": "d", "part": 1, "events": [{"id": "ev:d", "type": "meeting", "when": {"precision": "PRECISION_MONTH", "year": 2001, "month": 13}}]}' --request-id p-d1 --request-id p-d1
check "a bad record is named by its part and path" err_has "part 1: events[0].when"

# ---- an acknowledged commit is on disk ---------------------------------------------------
gen 300 500 "$CLI_TMP/small.json"
start_server --empty
KILLED=$URL
last=${CLI_PIDS[-1]}
KILLED_PID=${last%%:*}
dir=${last#*:}
dir=${dir%.log}
expect_contains "1143 written" annals --server "$KILLED" import --bulk "$CLI_TMP/small.json"
{ kill -9 "$KILLED_PID" && wait "$KILLED_PID"; } 2>/dev/null # (bash's "Killed" line too)
unset 'CLI_PIDS[-1]'
"$ANNALSD_EXE" --listen "$KILLED" --data "$dir/db" --empty >"$dir.log2" 2>&1 &
CLI_PIDS+=("$!:$dir.log2")
for _ in $(seq 1 200); do annals --server "$KILLED" --timeout 500 health >/dev/null 2>&1 && break; sleep 0.05; done
expect_contains "0 written, 1143 unchanged" annals --server "$KILLED" import --bulk "$CLI_TMP/small.json"

# ---- roles ------------------------------------------------------------------------------
printf 'writer writer-token-0123456789\nadmin admin-token-0123456789\n' >"$CLI_TMP/tokens"
chmod 600 "$CLI_TMP/tokens"
start_server --empty --tokens "$CLI_TMP/tokens"
expect_exit 7 annals --token writer-token-0123456789 import --bulk "$CLI_TMP/small.json"
check "a writer may not bulk load" err_has "PERMISSION_DENIED"
expect_contains "1143 written" annals --token admin-token-0123456789 import --bulk "$CLI_TMP/small.json"
start_server --empty --bulk-max-mb 0
expect_exit 9 annals import --bulk "$CLI_TMP/small.json"
check "--bulk-max-mb 0 turns bulk loads off" err_has "bulk loads are off"

finish
