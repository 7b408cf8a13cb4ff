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
# The whole page through a strict reader of the text format (prom_check.py):
# HELP and TYPE for every family, well-formed samples, sound histograms.
PROM_CHECK="$(dirname "$0")/prom_check.py"
prom_ok() { # FILE: the page without its status line
	tail -n +2 "$1" >"$1.page" && python3 "$PROM_CHECK" "$1.page"
}
# the reader itself refuses what it must
printf '# TYPE x gauge\nx 1\n' >"$CLI_TMP/bad1"
printf '# HELP h h\n# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n' >"$CLI_TMP/bad2"
printf '# HELP h h\n# TYPE h histogram\nh_bucket{le="+Inf"} 1\nh_sum 1\n' >"$CLI_TMP/bad3"
printf '# HELP g g\n# TYPE g gauge\ng{a="1"} 1\n# HELP k k\n# TYPE k gauge\nk 1\ng{a="2"} 1\n' >"$CLI_TMP/bad4"
cat >"$CLI_TMP/good" <<'PAGE'
# HELP h h
# TYPE h histogram
h_bucket{le="1"} 1
h_bucket{le="+Inf"} 1
h_sum 0.5
h_count 1
# HELP c_total c
# TYPE c_total counter
c_total{a="x\"y",b="z"} 3
PAGE
for bad in bad1 bad2 bad3 bad4; do
	check "prom_check refuses $bad" bash -c "! python3 '$PROM_CHECK' '$CLI_TMP/$bad'"
done
check "prom_check takes a sound page" python3 "$PROM_CHECK" "$CLI_TMP/good"
check "metrics: the page passes the strict reader ($(prom_ok "$CLI_TMP/m2.txt" 2>&1))" prom_ok "$CLI_TMP/m2.txt"

# The process_* set (read from /proc/self) and the build.
pycheck() { # NAME ARGS... <<'PY': a python3 script's assertions as one check
	local name=$1 why
	shift
	if why=$(python3 - "$@" 2>&1); then pass "$name"; else fail "$name" "$(echo "$why" | tail -n 3)"; fi
}
pycheck "metrics: process_* and annals_build_info" "$CLI_TMP/m2.txt.page" "$PROM_CHECK" "$("$ANNALSD_EXE" --version)" <<'PY'
import importlib.util, sys, time
spec = importlib.util.spec_from_file_location("prom_check", sys.argv[2])
pc = importlib.util.module_from_spec(spec); spec.loader.exec_module(pc)
fams = pc.parse(open(sys.argv[1]).read())
one = lambda n: fams[n]["samples"][0][2]
now = time.time()
assert fams["process_start_time_seconds"]["type"] == "gauge"
assert now - 600 < one("process_start_time_seconds") <= now + 1, (one("process_start_time_seconds"), now)
assert fams["process_cpu_seconds_total"]["type"] == "counter" and 0 <= one("process_cpu_seconds_total") < 600
assert 1 << 20 < one("process_resident_memory_bytes") < one("process_virtual_memory_bytes")
assert 3 <= one("process_open_fds") < one("process_max_fds")
version = dict(l.split(":", 1) for l in sys.argv[3].split("\n")[1:] if ":" in l)
labels = fams["annals_build_info"]["samples"][0][1]
assert one("annals_build_info") == 1
assert labels["version"] == sys.argv[3].split("\n")[0].split()[1], labels
for k, key in (("git", "git"), ("compiler", "compiler"), ("nng", "nng"), ("lmdb", "lmdb"), ("protobuf_c", "protobuf-c")):
    assert labels[k] == version[key].strip(), (k, labels, version)
PY

# Commits: how long the writer's LMDB commit took, fsyncs included.
pycheck "metrics: commit duration histogram counts the one commit" "$CLI_TMP/m2.txt.page" "$PROM_CHECK" <<'PY'
import importlib.util, sys
spec = importlib.util.spec_from_file_location("prom_check", sys.argv[2])
pc = importlib.util.module_from_spec(spec); spec.loader.exec_module(pc)
f = pc.parse(open(sys.argv[1]).read())["annals_commit_duration_seconds"]
assert f["type"] == "histogram", f
s = {n: v for n, l, v in f["samples"] if not n.endswith("_bucket")}
assert s["annals_commit_duration_seconds_count"] == 1, s
assert 0 < s["annals_commit_duration_seconds_sum"] < 5, s
PY

# Long polls: two Changes calls that wait 1 s each for a commit that never
# comes are counted as calls, timed in a histogram of their own, and kept
# out of the call latency histogram.
changes_wait() { # MS: one Changes call with nothing newer, waiting MS
	python3 - "$1" "$(revision)" >"$CLI_TMP/call.bin" <<'PY'
import sys
def varint(n):
    out = b""
    while True:
        b, n = n & 0x7F, n >> 7
        out += bytes([b | (0x80 if n else 0)])
        if not n:
            return out
def field(num, wire, payload):
    return varint(num << 3 | wire) + (varint(len(payload)) + payload if wire == 2 else payload)
body = field(1, 0, varint(int(sys.argv[2]))) + field(3, 0, varint(int(sys.argv[1])))
call = field(1, 2, b"annals.v1.Annals/Changes") + field(2, 2, body) + field(3, 0, varint(10000))
sys.stdout.buffer.write(call)
PY
	timeout 20 nngcat --req --dial "$URL" --raw --file "$CLI_TMP/call.bin" --recv-timeout 10 >/dev/null
}
if command -v nngcat >/dev/null; then
	changes_wait 1000 &
	w1=$!
	changes_wait 1000 &
	w2=$!
	wait $w1 $w2
	http /metrics >"$CLI_TMP/m3.txt"
	check "metrics: the page with long polls passes the strict reader ($(prom_ok "$CLI_TMP/m3.txt" 2>&1))" prom_ok "$CLI_TMP/m3.txt"
	pycheck "metrics: long polls counted, timed apart, not in the call latency" "$CLI_TMP/m3.txt.page" "$PROM_CHECK" <<'PY'
import importlib.util, sys
spec = importlib.util.spec_from_file_location("prom_check", sys.argv[2])
pc = importlib.util.module_from_spec(spec); spec.loader.exec_module(pc)
fams = pc.parse(open(sys.argv[1]).read())
calls = {(l["method"], l["code"]): v for n, l, v in fams["annals_calls_total"]["samples"]}
assert calls[("Changes", "OK")] == 2, calls
lat = {(n, l.get("method")): v for n, l, v in fams["annals_call_duration_seconds"]["samples"]}
assert lat.get(("annals_call_duration_seconds_sum", "Changes"), 0) < 0.5, lat
poll = {n: v for n, l, v in fams["annals_long_poll_duration_seconds"]["samples"]
        if l.get("method") == "Changes" and not n.endswith("_bucket")}
assert poll["annals_long_poll_duration_seconds_count"] == 2, poll
assert 1.9 <= poll["annals_long_poll_duration_seconds_sum"] < 10, poll
PY
else
	skip "metrics: long polls" "nngcat (nng-utils) is not installed"
fi

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
