#!/usr/bin/env bash
# The reply cache (--reply-cache-mb): a repeated query is answered from the
# cache (the metrics count hits), the answer is the same as a server without
# the cache computes, and a write is seen by the next query at once (a
# commit retires every cached answer that read what it wrote: store/deps.c;
# tests/integration/test_it_keep.c checks that over random writes).
. "$(dirname "$0")/lib.sh"

metrics() { # PORT -> the /metrics page on stdout
	python3 - "$1" <<'PY'
import sys, urllib.request
sys.stdout.write(urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1], timeout=5).read().decode())
PY
}
cache_count() { # PORT EVENT -> the counter's value
	metrics "$1" | sed -n "s/^annals_reply_cache_total{event=\"$2\"} //p"
}

# every query below, on one server with the cache and one without
queries() {
	annals --json members org:csto --at 2012-12-31
	annals --json members org:csto --at 2020
	annals --json holder "position:president-of-tajikistan" --at 2015-06-01
	annals --json timeline country:uzbekistan
	annals --json entity find CSTO
	annals --json relations country:armenia
	annals --json history org:csto
	annals --json succession "position:president-of-tajikistan"
}

MPORT_OFF=$(free_port)
start_server --reply-cache-mb 0 --metrics-listen "http://127.0.0.1:$MPORT_OFF"
queries >"$CLI_TMP/uncached.json" 2>"$CLI_TMP/uncached.err"
check "no cache: the queries answer" test -s "$CLI_TMP/uncached.json"
check "no cache: no hits counted" test "$(cache_count "$MPORT_OFF" hit)" = 0
check "no cache: nothing stored" test "$(cache_count "$MPORT_OFF" stored)" = 0

MPORT=$(free_port)
start_server --reply-cache-mb 2 --metrics-listen "http://127.0.0.1:$MPORT"
queries >"$CLI_TMP/first.json" 2>"$CLI_TMP/first.err"
queries >"$CLI_TMP/second.json" 2>"$CLI_TMP/second.err"
queries >"$CLI_TMP/third.json" 2>"$CLI_TMP/third.err"
check "cache: first answers equal the uncached server's" cmp -s "$CLI_TMP/uncached.json" "$CLI_TMP/first.json"
check "cache: repeated answers equal the first" cmp -s "$CLI_TMP/first.json" "$CLI_TMP/second.json"
check "cache: and again" cmp -s "$CLI_TMP/first.json" "$CLI_TMP/third.json"
HITS=$(cache_count "$MPORT" hit)
check "cache: repeated queries were answered from the cache (hits: $HITS)" test "${HITS:-0}" -ge 1
metrics "$MPORT" >"$CLI_TMP/m.txt"
check "cache: budget on /metrics" grep -qx 'annals_reply_cache_budget_bytes 2097152' "$CLI_TMP/m.txt"

# A write changes the answer of a cached query: the next query sees it.
annals members org:csto --at 2012-12-31 >"$CLI_TMP/before.txt"
annals members org:csto --at 2012-12-31 >"$CLI_TMP/before2.txt"
check "cache: members before the write do not list the new state" bash -c "! grep -q country:cache-test '$CLI_TMP/before2.txt'"
cat >"$CLI_TMP/e.json" <<'JSON'
{"id":"country:cache-test","type":"ENTITY_TYPE_COUNTRY","names":[{"text":"Cachestan","kind":"NAME_KIND_OFFICIAL"}]}
JSON
cat >"$CLI_TMP/r.json" <<'JSON'
{"id":"rel:cache-test.member_of.csto","subject":"country:cache-test","predicate":"member_of","object":"org:csto",
 "status":"active","valid":{"start":{"kind":"BOUND_KIND_EXACT","date":{"precision":"PRECISION_YEAR","year":2005}}},
 "evidence":[{"document":"doc:ad6eff3e562ac92b","sentences":[9],"span_start":1343,"span_end":1520,"modality":"MODALITY_ASSERTED"}]}
JSON
run annals entity put "$CLI_TMP/e.json"
check "cache: entity written" test "$RC" = 0
run annals relation put "$CLI_TMP/r.json"
check "cache: relation written" test "$RC" = 0
annals members org:csto --at 2012-12-31 >"$CLI_TMP/after.txt"
check "cache: the write is seen by the next query" grep -q "country:cache-test" "$CLI_TMP/after.txt"
check "cache: with its name" grep -q "Cachestan" "$CLI_TMP/after.txt"
annals entity find Cachestan >"$CLI_TMP/find.txt"
check "cache: FindEntities sees the new name" grep -q "country:cache-test" "$CLI_TMP/find.txt"
run annals relation delete rel:cache-test.member_of.csto
check "cache: relation deleted" test "$RC" = 0
annals members org:csto --at 2012-12-31 >"$CLI_TMP/after-delete.txt"
check "cache: the delete is seen too: the answer is the first one again" cmp -s "$CLI_TMP/before.txt" "$CLI_TMP/after-delete.txt"

run "$ANNALSD_EXE" --reply-cache-mb lots
check "bad --reply-cache-mb: refused" test "$RC" != 0
check "bad --reply-cache-mb: says which flag" grep -q -- "--reply-cache-mb" "$ERR"
finish
