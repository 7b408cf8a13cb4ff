#!/usr/bin/env bash
# Observability: the Prometheus page, /healthz and /readyz (--metrics-listen),
# and the Stats RPC give the same figures.
. "$(dirname "$0")/lib.sh"
MPORT=$(free_port)
start_server --metrics-listen "http://127.0.0.1:$MPORT"
http() { # PATH -> prints "STATUS" then the body
	python3 - "$MPORT" "$1" <<'PY'
import sys, urllib.request, urllib.error
try:
    r = urllib.request.urlopen("http://127.0.0.1:%s%s" % (sys.argv[1], sys.argv[2]), timeout=5)
    print(r.status); sys.stdout.write(r.read().decode())
except urllib.error.HTTPError as e:
    print(e.code); sys.stdout.write(e.read().decode())
PY
}
annals entity get org:csto >/dev/null
annals entity get org:csto >/dev/null
annals entity get person:nobody >/dev/null 2>&1
http /metrics >"$CLI_TMP/m.txt"
check "metrics: HTTP 200" test "$(head -n1 "$CLI_TMP/m.txt")" = 200
check "metrics: GetEntity OK counted" grep -qx 'annals_calls_total{method="GetEntity",code="OK"} 2' "$CLI_TMP/m.txt"
check "metrics: GetEntity NOT_FOUND counted" grep -qx 'annals_calls_total{method="GetEntity",code="NOT_FOUND"} 1' "$CLI_TMP/m.txt"
check "metrics: latency histogram has +Inf = count" grep -qx 'annals_call_duration_seconds_bucket{method="GetEntity",le="+Inf"} 3' "$CLI_TMP/m.txt"
check "metrics: record counts" grep -qx 'annals_records{kind="entity"} 30' "$CLI_TMP/m.txt"
check "metrics: store revision" grep -qx 'annals_store_revision 1' "$CLI_TMP/m.txt"
check "metrics: data file size" grep -qE '^annals_data_file_bytes [1-9][0-9]*$' "$CLI_TMP/m.txt"
echo '{"id":"person:metrics-test","type":"ENTITY_TYPE_PERSON"}' >"$CLI_TMP/e.json"
annals entity put "$CLI_TMP/e.json" >/dev/null
http /metrics >"$CLI_TMP/m2.txt"
check "metrics: a commit counted" grep -qx 'annals_commit_group_size_count 1' "$CLI_TMP/m2.txt"
check "metrics: revision moved" grep -qx 'annals_store_revision 2' "$CLI_TMP/m2.txt"
http /healthz >"$CLI_TMP/h.txt"
check "healthz: 200" test "$(head -n1 "$CLI_TMP/h.txt")" = 200
http /readyz >"$CLI_TMP/r.txt"
check "readyz: 200 while serving" test "$(head -n1 "$CLI_TMP/r.txt")" = 200
http /nothing-here >"$CLI_TMP/n.txt"
check "unknown path: 404" test "$(head -n1 "$CLI_TMP/n.txt")" = 404
run annals --json stats
check "stats RPC: answers" test "$RC" = 0
check "stats RPC: GetEntity calls" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
m = {x["method"]: x for x in d["methods"]}
assert int(m["GetEntity"]["calls"]) >= 3, m
assert d["counts"]["entities"] == "31", d["counts"]
assert int(d["commits"]) == 1' "$OUT"
finish
