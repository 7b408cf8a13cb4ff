#!/usr/bin/env bash
# Output formats: -o table|wide|json|yaml (--json the same as -o json),
# --no-headers, on the commands that print records and answers.
source "$(dirname "$0")/lib.sh"
start_server

# yaml_is_json A.yaml B.json — the YAML document reads back as the same value as the JSON
yaml_is_json() {
	python3 -c "
import json, sys, yaml
sys.exit(yaml.safe_load(open('$1')) != json.load(open('$2')))"
}

# Every command that prints an answer: YAML must be the JSON value exactly
# (quoting keeps "123" a string and "TRUE"-like words as written).
i=0
while IFS= read -r cmd; do
	i=$((i + 1))
	# shellcheck disable=SC2086 # the words of the command are meant to split
	run annals -o json $cmd
	cp "$OUT" "$CLI_TMP/$i.json"
	# shellcheck disable=SC2086
	run annals $cmd -o yaml
	check "-o yaml = -o json: $cmd" yaml_is_json "$OUT" "$CLI_TMP/$i.json"
	# shellcheck disable=SC2086
	run annals --json $cmd
	check "--json = -o json: $cmd" cmp -s "$OUT" "$CLI_TMP/$i.json"
done <<'CMDS'
health
members org:csto --at 2005
holder position:csto-secretary-general --at 2020-01-01
succession position:csto-secretary-general
entity get org:csto
event get ev:csto-founded
entity list --limit 5
relation list --all
resolve CST
name org:csto --at 2001
relations country:uzbekistan --at 2007
timeline org:csto
evidence rel:russia.member_of.csto
facts doc:ad6eff3e562ac92b --sentence 12
digest
document get doc:ad6eff3e562ac92b
CMDS

# YAML's own traps: strings that look like numbers, booleans or keys
run annals -o yaml entity get org:csto
check "yaml: the 64-bit revision stays a string" grep -qE '^revision: "[0-9]+"$' "$OUT"
run annals -o yaml health
check "yaml: a mapping at the top" grep -qE '^status: SERVING$' "$OUT"
echo '{"id": "person:yaml-test", "type": "ENTITY_TYPE_PERSON"}' >"$CLI_TMP/p.json"
run annals entity put "$CLI_TMP/p.json"
run annals -o yaml changes --since 0
check "changes -o yaml: one document per change set" test "$(grep -c '^---$' "$OUT")" -ge 2
check "changes -o yaml parses as a stream" python3 -c "
import yaml, sys
docs = list(yaml.safe_load_all(open('$OUT')))
sys.exit(not (len(docs) >= 2 and all('revision' in d for d in docs)))"

# wide adds columns, kubectl-style; the table's own columns come first, unchanged
run annals relation list --limit 3
cp "$OUT" "$CLI_TMP/narrow"
run annals -o wide relation list --limit 3
check "wide: EVIDENCE and REVISION columns" bash -c "head -n1 '$OUT' | grep -q 'EVIDENCE  *REVISION\$'"
check "wide: narrow header is its prefix" bash -c "head -n1 '$OUT' | grep -q \"^\$(head -n1 '$CLI_TMP/narrow' | sed 's/ *\$//')\""
check "wide: the evidence of each row" grep -q "doc:ad6eff3e562ac92b s" "$OUT"
run annals -o wide entity list --limit 3
check "entity list -o wide: OTHER NAMES, REVISION" bash -c "head -n1 '$OUT' | grep -q 'OTHER NAMES  REVISION'"
run annals -o wide members org:csto --at 2005
section members "$OUT" >"$CLI_TMP/m"
check "members -o wide: evidence per member" grep -q 'doc:ad6eff3e562ac92b s9' "$CLI_TMP/m"
run annals members org:csto --at 2005
check "members table: no evidence column" bash -c "! grep -q 'doc:ad6eff3e562ac92b s9' '$OUT'"
run annals -o wide succession position:csto-secretary-general
check "succession -o wide: RELATION and EVIDENCE" grep -q 'RELATION  *EVIDENCE' "$OUT"
run annals -o wide holder position:csto-secretary-general --at 2020-01-01
check "holder -o wide: EVIDENCE" bash -c "grep -q 'EVIDENCE' '$OUT'"

# --no-headers: the same rows without the header line
run annals entity list --limit 4
check "a header line by default" bash -c "head -n1 '$OUT' | grep -q '^ID  *TYPE'"
run annals entity list --limit 4 --no-headers
check "--no-headers: no header, four rows" bash -c "! grep -q '^ID ' '$OUT' && test \$(wc -l <'$OUT') -eq 4"
run annals -o wide --no-headers relation list --limit 2
check "--no-headers with wide" bash -c "! grep -q 'SUBJECT' '$OUT' && test \$(wc -l <'$OUT') -eq 2"
run annals --no-headers succession position:csto-secretary-general
check "--no-headers on succession" bash -c "! grep -q 'HOLDER' '$OUT' && grep -q 'person:stanislav-zas' '$OUT'"

# bad formats: a usage error that says what fits
expect_exit 64 annals -o xml health
check "-o xml: the choices" err_has "table, wide, json, yaml"
expect_exit 64 annals health -o jsn
check "-o jsn: did you mean json" err_has "did you mean json"
expect_exit 0 annals -ojson health
check "-ojson (attached) works" out_has '"status": "SERVING"'
expect_exit 0 annals --output=yaml health
check "--output=yaml" out_has "status: SERVING"

finish
