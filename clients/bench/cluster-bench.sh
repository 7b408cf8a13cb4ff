#!/usr/bin/env bash
# The cluster section of `make bench` (issue 14): three etcd members and
# three annalsd nodes on loopback, every figure as a ratio to a single
# durable node measured in the same run, on the same machine.
#
#   bash clients/bench/cluster-bench.sh        (make bench runs it when etcd is installed)
#   BENCH_SECONDS=5 BENCH_KEEP=1 ...           longer runs; keep the work directory
#
# Rows: durable PutEntity at 1 and 64 in flight (cluster: over all three
# nodes), write p99; apply lag (a write acknowledged by n1, then a read on
# n2 with min_revision = its revision: answered once n2 has applied it);
# GetEntity at 64 in flight on n1 while n2 and n3 take writes; the longest
# write stall when the etcd leader is SIGKILLed under load. Everything it
# starts is stopped on exit.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${ANNALS_BIN:-$ROOT/bin}
BENCH=$BIN/annals-bench
ETCD=${ANNALS_ETCD:-/usr/bin/etcd}
SECS=${BENCH_SECONDS:-3}
if [ ! -x "$ETCD" ]; then
	echo "cluster-bench: skipped: no etcd at $ETCD (apt-get install etcd-server)" >&2
	exit 0
fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/annals-cluster-bench.XXXXXX")
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	[ "${BENCH_KEEP:-0}" = 1 ] && echo "cluster-bench: work directory $WORK" >&2 || rm -rf "$WORK"
}
trap cleanup EXIT
TTY=0
[ -t 2 ] && TTY=1
say() { [ "$TTY" = 1 ] && printf '\r  %-60s' "$*" >&2; }

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# three etcd members
declare -a CP PP EPID
IC=""
for i in 0 1 2; do
	CP[$i]=$(port)
	PP[$i]=$(port)
	IC="$IC${IC:+,}e$i=http://127.0.0.1:${PP[$i]}"
done
start_etcd() { # i state
	local i=$1
	"$ETCD" --name "e$i" --data-dir "$WORK/e$i" --listen-client-urls "http://127.0.0.1:${CP[$i]}" \
		--advertise-client-urls "http://127.0.0.1:${CP[$i]}" --listen-peer-urls "http://127.0.0.1:${PP[$i]}" \
		--initial-advertise-peer-urls "http://127.0.0.1:${PP[$i]}" --initial-cluster "$IC" \
		--initial-cluster-state "$2" --initial-cluster-token annals-bench >"$WORK/e$i.log" 2>&1 &
	EPID[$i]=$!
	PIDS+=("$!")
}
say "starting 3 etcd members"
for i in 0 1 2; do start_etcd "$i" new; done
ENDPOINTS="etcd://127.0.0.1:${CP[0]},127.0.0.1:${CP[1]},127.0.0.1:${CP[2]}"

healthy() { # url
	for _ in $(seq 1 200); do
		"$BIN/annals" --server "$1" --timeout 1000 health >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "cluster-bench: $1 did not become healthy" >&2
	exit 1
}
declare -a URL
for i in 0 1 2; do
	URL[$i]="tcp://127.0.0.1:$(port)"
	"$BIN/annalsd" --listen "${URL[$i]}" --data "$WORK/n$i" --cluster "$ENDPOINTS" --node-name "n$((i + 1))" \
		>"$WORK/n$i.log" 2>&1 &
	PIDS+=("$!")
done
SINGLE="tcp://127.0.0.1:$(port)"
"$BIN/annalsd" --listen "$SINGLE" --data "$WORK/single" >"$WORK/single.log" 2>&1 &
PIDS+=("$!")
for u in "${URL[@]}" "$SINGLE"; do healthy "$u"; done
ALL="-u ${URL[0]} -u ${URL[1]} -u ${URL[2]} --connections 3"

run() { # name args...
	local name=$1
	shift
	say "$name"
	# shellcheck disable=SC2086
	"$BENCH" "$@" -z "${SECS}s" --json >"$WORK/$name.json" 2>"$WORK/$name.err" || true
}
run single-put-1 -u "$SINGLE" -m put -c 1
run single-put-64 -u "$SINGLE" -m put -c 64
# shellcheck disable=SC2086
run cluster-put-1 -u "${URL[0]}" -m put -c 1
# shellcheck disable=SC2086
run cluster-put-64 $ALL -m put -c 64
run single-get-64 -u "$SINGLE" -m get -c 64
# reads on n1 while n2 and n3 take writes
"$BENCH" -u "${URL[1]}" -u "${URL[2]}" --connections 2 -m put -c 32 -z "$((SECS + 2))s" --json \
	>"$WORK/background-put.json" 2>/dev/null &
BG=$!
sleep 1
run cluster-get-64-under-writes -u "${URL[0]}" -m get -c 64
wait "$BG"

# apply lag: ack on n1 -> a read on n2 asking for that revision is answered
say "apply lag (ack on n1 -> applied on n2)"
python3 - "$BIN" "${URL[0]}" "${URL[1]}" >"$WORK/lag.json" <<'EOF'
import json, subprocess, sys, time
# through the CLI: each sample is two processes, so the figure includes ~2 ms
# of process start; it is an upper bound of the lag, reported as such
bin_, n1, n2 = sys.argv[1:4]
lags = []
for i in range(60):
    t0 = time.monotonic()
    out = subprocess.run([bin_ + "/annals", "--server", n1, "--json", "entity", "put", "-"], input=json.dumps(
        {"id": "person:lag-%d" % i, "type": "ENTITY_TYPE_PERSON"}), capture_output=True, text=True)
    if out.returncode != 0:
        continue
    rev = json.loads(out.stdout)["revision"]
    t1 = time.monotonic()
    r = subprocess.run([bin_ + "/annals", "--server", n2, "--min-revision", str(rev), "--timeout", "5000",
                        "entity", "get", "person:lag-%d" % i], capture_output=True, text=True)
    t2 = time.monotonic()
    if r.returncode == 0:
        lags.append((t2 - t1) * 1000.0)
lags.sort()
print(json.dumps({"n": len(lags), "p50": lags[len(lags) // 2] if lags else 0,
                  "p99": lags[min(len(lags) - 1, len(lags) * 99 // 100)] if lags else 0}))
EOF

# the etcd leader killed under writes
leader() { # the index of the member that is leader now, -1 when none answers
	python3 - "${CP[@]}" <<'PY'
import json, sys, urllib.request
for i, port in enumerate(sys.argv[1:]):
    try:
        req = urllib.request.Request("http://127.0.0.1:%s/v3/maintenance/status" % port, data=b"{}")
        d = json.load(urllib.request.urlopen(req, timeout=1))
        if d["header"]["member_id"] == d["leader"]:
            print(i)
            sys.exit(0)
    except Exception:
        pass
print(-1)
PY
}
say "etcd leader SIGKILLed under 16 writes in flight"
# shellcheck disable=SC2086
"$BENCH" $ALL -m put -c 16 -z 8s --timeout 15000 --json >"$WORK/leader-kill.json" 2>/dev/null &
BG=$!
sleep 3
L=$(leader)
if [ "$L" -ge 0 ]; then
	kill -9 "${EPID[$L]}"
	wait "${EPID[$L]}" 2>/dev/null
fi
wait "$BG"
[ "$TTY" = 1 ] && printf '\r%-64s\r' "" >&2

python3 - "$WORK" "$L" <<'EOF'
import json, os, sys
work, leader = sys.argv[1], sys.argv[2]
def load(name):
    try:
        return json.load(open(os.path.join(work, name + ".json")))
    except Exception:
        return None
def rate(r):
    return r["ok_per_s"] if r else 0.0
def p(r, q):
    return r["latency_us"][q] / 1000.0 if r else 0.0
rows = []
s1, s64 = load("single-put-1"), load("single-put-64")
c1, c64 = load("cluster-put-1"), load("cluster-put-64")
g1, g3 = load("single-get-64"), load("cluster-get-64-under-writes")
lag, lk = load("lag"), load("leader-kill")
def ratio(a, b):
    return "%.2fx" % (a / b) if b else "-"
print("cluster (3 etcd members + 3 annalsd + the client on %d CPUs; ratios against one durable node in this run)" % os.cpu_count())
fmt = "  %-46s %12s %12s %8s"
print(fmt % ("", "cluster", "one node", "ratio"))
print(fmt % ("PutEntity, 1 in flight (writes/s)", "%.0f" % rate(c1), "%.0f" % rate(s1), ratio(rate(c1), rate(s1))))
print(fmt % ("PutEntity, 64 in flight (writes/s)", "%.0f" % rate(c64), "%.0f" % rate(s64), ratio(rate(c64), rate(s64))))
print(fmt % ("  write p99 at 64 in flight (ms)", "%.1f" % p(c64, "p99"), "%.1f" % p(s64, "p99"), ""))
print(fmt % ("GetEntity, 64 in flight (reads/s; cluster: n1", "%.0f" % rate(g3), "%.0f" % rate(g1), ratio(rate(g3), rate(g1))))
print("  %-46s" % "  while n2 and n3 take writes)")
if lag:
    print("  apply lag, ack on n1 -> answered on n2 at that revision: p50 %.1f ms, p99 %.1f ms (%d samples; includes"
          " one CLI process start)" % (lag["p50"], lag["p99"], lag["n"]))
if lk:
    print("  etcd leader (e%s) SIGKILLed under 16 writes in flight: %d acknowledged, %d failed, longest write %.2f s"
          % (leader, lk["ok"], lk["count"] - lk["ok"], lk["latency_us"]["max"] / 1e6))
EOF
