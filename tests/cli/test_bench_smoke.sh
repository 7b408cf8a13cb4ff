#!/usr/bin/env bash
# annals-bench against a real annalsd and its own echo server, about a
# second per run: every mode answers --help, the report has its fields and
# adds up, --ack-log lists exactly the acknowledged writes and each of them
# reads back, gen loads what the driver then finds. No timing is asserted:
# speed belongs to `make bench`.
. "$(dirname "$0")/lib.sh"

BENCH="$ANNALS_BIN/annals-bench"
J="$CLI_TMP/report.json"

# json_check NAME PYTHON-EXPR — PASS when the expression over the report r
# (the last --json output, in $OUT) is true.
json_check() {
	local name=$1 expr=$2
	if python3 - "$OUT" "$expr" <<'EOF' >"$CLI_TMP/why" 2>&1; then
import json, sys
r = json.load(open(sys.argv[1]))
ok = eval(sys.argv[2], {"r": r})
print(r if not ok else "")
sys.exit(0 if ok else 1)
EOF
		pass "$name"
	else
		fail "$name" "$(head -c 600 "$CLI_TMP/why")"
	fi
}

start_server
SERVER=$URL

# the echo server: stopped with the annalsd by lib.sh (SIGTERM, exit 0 expected)
ECHO_URL="tcp://127.0.0.1:$(free_port)"
"$BENCH" echo-server --listen "$ECHO_URL" --contexts 16 >"$CLI_TMP/echo.log" 2>&1 &
CLI_PIDS+=("$!:$CLI_TMP/echo.log")
for _ in $(seq 1 100); do
	"$BENCH" --echo -u "$ECHO_URL" -n 1 -c 1 -q >/dev/null 2>&1 && break
	sleep 0.05
done

# ---- help and usage ----------------------------------------------------------
expect_contains "--rps" "$BENCH" --help
expect_contains "--entities" "$BENCH" gen --help
expect_contains "--listen" "$BENCH" echo-server --help
expect_contains "ACK_LOG" "$BENCH" verify-acks --help
expect_exit 2 "$BENCH" --method no-such-method
check "an unknown method names the list" err_has "the list is in --help"
expect_exit 2 "$BENCH" --mix get=x
expect_exit 2 "$BENCH" nosuchmode
run "$BENCH" -u tcp://127.0.0.1:1 -n 1 -q
check "no server: exit 1" test "$RC" -eq 1
check "no server: says what to check" err_has "is annalsd (or annals-bench echo-server) listening there?"

# ---- closed loop, one method ---------------------------------------------------
run "$BENCH" -u "$SERVER" -m get -c 4 -z 1s -q --json
check "closed loop GetEntity: exit 0" test "$RC" -eq 0
json_check "report: calls counted" 'r["count"] > 0 and r["ok"] == r["count"]'
json_check "report: rates stated both ways" 'r["calls_per_s"] > 0 and r["ok_per_s"] == r["calls_per_s"]'
json_check "report: latency summary ordered" \
	'0 < r["latency_us"]["min"] <= r["latency_us"]["p50"] <= r["latency_us"]["p90"] <= r["latency_us"]["p99"] <= r["latency_us"]["p999"] <= r["latency_us"]["max"]'
json_check "report: mean and stddev present" 'r["latency_us"]["mean"] > 0 and r["latency_us"]["stddev"] >= 0'
json_check "report: histogram holds every call" 'sum(c for _, c in r["histogram_us"]) == r["count"]'
json_check "report: status breakdown" 'r["status"] == {"OK": r["count"]} and r["errors"] == []'
json_check "report: closed loop, 4 in flight" 'r["loop"] == "closed" and r["in_flight"] == 4'

run "$BENCH" -u "$SERVER" -m get -c 2 -n 300 -q
check "text report: -n 300 calls" out_has "calls      300 in"
for field in "calls/s in total" "calls/s successful" "min " "mean " "stddev " "max " "p50 " "p90 " "p99 " "p99.9 " \
	"histogram" "status     OK 300"; do
	check "text report: '$field'" out_has "$field"
done

# ---- a weighted mix with writes, and the acknowledgement log ----------------------
ACKS="$CLI_TMP/acks.log"
run "$BENCH" -u "$SERVER" --mix get=40,find=10,timeline=10,members=10,put=30 -c 4 -z 1s -q --json --ack-log "$ACKS"
check "mix: exit 0" test "$RC" -eq 0
json_check "mix: writes acknowledged" 'r["writes_acked"] > 0 and r["status"].get("OK") == r["count"]'
ACKED=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["writes_acked"])' "$OUT")
LINES=$(wc -l <"$ACKS")
check "ack log: one line per acknowledged write ($LINES = $ACKED)" test "$LINES" -eq "$ACKED"
check "ack log: request_id id revision" awk 'NF != 3 || $1 !~ /^r-bench-/ || $2 !~ /^ev:bench-/ || $3 !~ /^[0-9]+$/ { exit 1 }' "$ACKS"
check "ack log: request ids unique" test "$(cut -d' ' -f1 "$ACKS" | sort -u | wc -l)" -eq "$LINES"
expect_contains "0 missing" "$BENCH" verify-acks -u "$SERVER" "$ACKS"
FIRST_ID=$(head -n 1 "$ACKS" | cut -d' ' -f2)
expect_contains "$FIRST_ID" annals --server "$SERVER" event get "$FIRST_ID"
# a forged line: verify-acks must notice a write that is not there
echo "r-bench-forged ev:bench-never-written 1" >>"$ACKS"
expect_exit 1 "$BENCH" verify-acks -u "$SERVER" "$ACKS"
check "verify-acks names the missing write" out_has "missing: ev:bench-never-written"

# ---- open loop ------------------------------------------------------------------------
run "$BENCH" -u "$SERVER" -m health --rps 300 -c 8 -z 1s -q --json
check "open loop: exit 0" test "$RC" -eq 0
json_check "open loop: reported as such" 'r["loop"] == "open" and r["rps"] == 300 and r["ok"] == r["count"] > 0'

# ---- the echo baseline ----------------------------------------------------------------
run "$BENCH" --echo -u "$ECHO_URL" -m get -c 2 -n 200 -q --json
check "echo: exit 0" test "$RC" -eq 0
json_check "echo: every message came back" 'r["echo"] and r["count"] == 200 and r["ok"] == 200'
json_check "echo: same sizes both ways" 'r["request_bytes_mean"] == r["reply_bytes_mean"] > 0'
run "$BENCH" --echo -u "$ECHO_URL" --echo-size 4096 -c 1 -n 20 -q --json
json_check "echo: --echo-size pads" 'r["request_bytes_mean"] == 4096 and r["ok"] == 20'

# ---- gen, then the driver on the generated keys -----------------------------------------
run "$BENCH" gen --entities 200 --events 2000 --batch 500 -u "$SERVER" -q --json
check "gen: exit 0" test "$RC" -eq 0
json_check "gen: loaded every record" 'r["ok"] and r["entities"] == 200 and r["events"] == 2000 and r["records_per_s"] > 0'
run "$BENCH" -u "$SERVER" -m get --keys gen:200:2000 --dist zipf -c 2 -n 300 -q --json
json_check "generated entities readable" 'r["status"] == {"OK": 300}'
run "$BENCH" -u "$SERVER" -m getevent --keys gen:200:2000 -c 2 -n 300 -q --json
json_check "generated events readable" 'r["status"] == {"OK": 300}'
run "$BENCH" -u "$SERVER" -m find --keys gen:200:2000 -c 2 -n 100 -q --json
json_check "generated names findable" 'r["status"] == {"OK": 100}'
run "$BENCH" gen --entities 200 --events 2000 --batch 500 -u "$SERVER" -q --json
json_check "gen: a rerun with the same seed succeeds" 'r["ok"] and r["events"] == 2000'
# keys beyond the loaded ones: the report must show the failures, not hide them
run "$BENCH" -u "$SERVER" -m get --keys gen:5000:2000 -c 2 -n 200 -q --json
check "missing keys: exit 1" test "$RC" -eq 1
json_check "missing keys: NOT_FOUND counted with its message" \
	'r["status"].get("NOT_FOUND", 0) > 0 and any(e["message"].startswith("NOT_FOUND: ") for e in r["errors"]) and r["ok_per_s"] < r["calls_per_s"]'


# the change feed: every acknowledged write reaches a follower (the time is
# the bench's business; here only that all of them arrive)
run "$BENCH" feed-latency -u "$URL" -n 50 --rps 100
check "feed-latency: exit 0" test "$RC" -eq 0
check "feed-latency: all 50 writes delivered to the follower" grep -q "50 of 50 acknowledged writes delivered" "$OUT"

# ---- gen --bulk: the same records through BulkLoad ---------------------------------------
# over the Batch-loaded ones above: the same bytes, so every record is unchanged
run "$BENCH" gen --bulk --entities 200 --events 2000 --batch 500 -u "$SERVER" -q --json
json_check "gen --bulk over the same records: all unchanged" \
	'r["ok"] and r["bulk"] and r["written"] == 0 and r["unchanged"] > 2200'
start_server --empty
run "$BENCH" gen --bulk --entities 200 --events 2000 --batch 500 -u "$URL" -q --json
json_check "gen --bulk into an empty server: every record written, in parts" \
	'r["ok"] and r["written"] > 2200 and r["unchanged"] == 0 and r["parts"] >= 5 and r["commit_s"] >= 0'
run "$BENCH" -u "$URL" -m getevent --keys gen:200:2000 -c 2 -n 300 -q --json
json_check "bulk-loaded events readable" 'r["status"] == {"OK": 300}'
run "$BENCH" gen --bulk --entities 200 --events 2000 --batch 500 --seed 2 -u "$URL" -q --json
check "gen --bulk over other contents: exit 1" test "$RC" -eq 1
json_check "... reported not ok" 'not r["ok"] and r["written"] == 0'

finish
