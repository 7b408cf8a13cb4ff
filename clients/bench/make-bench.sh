#!/usr/bin/env bash
# make bench — the load-test table of annals, every figure next to the echo
# ceiling measured by the same invocation on the same transport.
#
#   make bench                  every row, BENCH_REPEAT=3 runs of BENCH_SECONDS=3 s, medians (~11 min)
#   BENCH_QUICK=1 make bench    a smoke run: 1 run of 1 s per row (~1 min)
#   BENCH_BIG=1 make bench      then also GetEntity/PutEvent with 10 million events loaded
#                               (BENCH_BIG_ENTITIES=1M, BENCH_BIG_EVENTS=10M; loaded through
#                               BulkLoad, BENCH_BIG_LOAD=batch through Batch as before)
#
# Other knobs: BENCH_WARMUP (1s), BENCH_CONNECTIONS (1), BENCH_ROWS (e.g. "get put"),
# BENCH_MIX=0 (no mixed-load rows),
# BENCH_PIN=0 (do not pin), BENCH_KEEP=1 (keep the work directory), ANNALS_BIN (default
# ./bin, the release build).
#
# Pinning: on a small machine the scheduler's placement of the client's and the
# server's threads on the cores swings the figures by 40% from run to run. So
# the servers (annalsd, echo) run on the first half of the CPUs and the client
# on the second half (on 2 cores: one each), which makes runs repeatable; the
# load of the big data set runs unpinned.
#
# It starts its own annalsd (temp data directory, free loopback port, tcp and
# ipc) and echo server, and stops everything it started on exit. Raw results
# (one JSON object per run) stay in the work directory when BENCH_KEEP=1.
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${ANNALS_BIN:-$ROOT/bin}
BENCH="$BIN/annals-bench"
ANNALSD="$BIN/annalsd"
TABLE="$ROOT/clients/bench/bench-table.py"

QUICK=${BENCH_QUICK:-0}
if [ "$QUICK" = 1 ]; then
	SECS=${BENCH_SECONDS:-1}; REPEAT=${BENCH_REPEAT:-1}; WARMUP=${BENCH_WARMUP:-250ms}
else
	SECS=${BENCH_SECONDS:-3}; REPEAT=${BENCH_REPEAT:-3}; WARMUP=${BENCH_WARMUP:-1s}
fi
CONNS=${BENCH_CONNECTIONS:-1}
BIG=${BENCH_BIG:-0}
BIG_ENTITIES=${BENCH_BIG_ENTITIES:-1M}
BIG_EVENTS=${BENCH_BIG_EVENTS:-10M}
BIG_LOAD=${BENCH_BIG_LOAD:-bulk}
# the table's rows (annals-bench --method words), in order; PutEvent last (it grows the store)
ROWS=${BENCH_ROWS:-"health get find events timeline members holder put"}
INFLIGHT="1 64"
TRANSPORTS="tcp ipc"
NCPU=$(nproc)
PIN=${BENCH_PIN:-1}
if [ "$PIN" = 1 ] && [ "$NCPU" -ge 2 ] && command -v taskset >/dev/null; then
	SERVER_CPUS="0-$((NCPU / 2 - 1))"
	CLIENT_CPUS="$((NCPU / 2))-$((NCPU - 1))"
	ON_SERVER=(taskset -c "$SERVER_CPUS")
	ON_CLIENT=(taskset -c "$CLIENT_CPUS")
else
	PIN=0
	ON_SERVER=()
	ON_CLIENT=()
fi
TTY=0
[ -t 2 ] && TTY=1

for exe in "$BENCH" "$ANNALSD"; do
	if [ ! -x "$exe" ]; then
		echo "make-bench: $exe is missing; run 'make' first (or set ANNALS_BIN)" >&2
		exit 1
	fi
done
command -v python3 >/dev/null || { echo "make-bench: python3 is needed for the table (make deps installs it)" >&2; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/annals-bench.XXXXXX")
RESULTS="$WORK/results.jsonl"
: >"$RESULTS"
PIDS=()

cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${PIDS[@]}"; do
		wait "$pid" 2>/dev/null
	done
	PIDS=()
	if [ "${BENCH_KEEP:-0}" = 1 ]; then
		echo "make-bench: results and logs kept in $WORK" >&2
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT
trap 'echo "make-bench: interrupted" >&2; exit 130' INT TERM

# stop PID SIGNAL — stops one process this script started and forgets it, so
# the cleanup never signals a pid the system may have handed to another.
stop() {
	local pid keep=()
	kill "-$2" "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	for pid in "${PIDS[@]}"; do
		[ "$pid" = "$1" ] || keep+=("$pid")
	done
	PIDS=("${keep[@]}")
}

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# wait_ready URL PID — until Health answers there, or the process died.
wait_ready() {
	local i
	for i in $(seq 1 400); do
		if "$BENCH" -u "$1" -m health -n 1 -c 1 -q --timeout 1000 --json >/dev/null 2>&1; then
			return 0
		fi
		kill -0 "$2" 2>/dev/null || break
		sleep 0.05
	done
	echo "make-bench: nothing healthy at $1; see the log in $WORK" >&2
	BENCH_KEEP=1
	exit 1
}

# start_annalsd NAME DATADIR [FLAGS...] — sets ANNALSD_PID, ANNALSD_TCP, ANNALSD_IPC
start_annalsd() {
	local name=$1 dir=$2
	shift 2
	ANNALSD_TCP="tcp://127.0.0.1:$(free_port)"
	ANNALSD_IPC="ipc://$WORK/$name.sock"
	"${ON_SERVER[@]}" "$ANNALSD" --data "$dir" --listen "$ANNALSD_TCP" --listen "$ANNALSD_IPC" "$@" >>"$WORK/$name.log" 2>&1 &
	ANNALSD_PID=$!
	PIDS+=("$ANNALSD_PID")
	wait_ready "$ANNALSD_TCP" "$ANNALSD_PID"
}

# The durable-write baseline: Redis (Debian's redis-server 7) with every SET
# fsync'ed before its reply (appendonly yes, appendfsync always), on the
# servers' CPUs, driven by redis-benchmark with 256-byte values at the same
# concurrency right after annalsd's PutEvent row. Skipped without Redis.
start_redis() {
	REDIS_PORT=
	if ! command -v redis-server >/dev/null || ! command -v redis-benchmark >/dev/null ||
		! command -v redis-cli >/dev/null; then
		echo "make-bench: no Redis row (apt-get install redis-server redis-tools; make bench does as root)" >&2
		return 0
	fi
	REDIS_PORT=$(free_port)
	mkdir -p "$WORK/redis"
	(cd "$WORK/redis" && exec "${ON_SERVER[@]}" redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' \
		--appendonly yes --appendfsync always --dir "$WORK/redis" >>"$WORK/redis.log" 2>&1) &
	PIDS+=("$!")
	local i
	for i in $(seq 1 100); do
		redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	echo "make-bench: redis-server did not come up; see $WORK/redis.log (no Redis row)" >&2
	REDIS_PORT=
}

# redis_run REP C — one redis-benchmark SET run as a result line
# (label main/tcp/C/redis/REP), about as long as the other runs.
redis_run() {
	local rep=$1 c=$2 n csv
	[ -n "$REDIS_PORT" ] || return 0
	if [ "$c" = 1 ]; then n=$((3000 * SECS)); else n=$((40000 * SECS)); fi
	csv=$("${ON_CLIENT[@]}" redis-benchmark -p "$REDIS_PORT" -t set -d 256 -c "$c" -n "$n" -r 1000000 --csv \
		2>>"$WORK/bench-errors.log" | grep '^"SET"' | tail -n 1 | tr -d '"')
	[ -n "$csv" ] || return 0
	echo "$csv" | awk -F, -v label="main/tcp/$c/redis/$rep" -v n="$n" \
		'{printf "{\"label\":\"%s\",\"count\":%d,\"ok\":%d,\"ok_per_s\":%s,\"calls_per_s\":%s,\"latency_us\":{\"p50\":%.1f,\"p99\":%.1f}}\n", label, n, n, $2, $2, $5 * 1000, $7 * 1000}' \
		>>"$RESULTS"
}

start_echo() {
	ECHO_TCP="tcp://127.0.0.1:$(free_port)"
	ECHO_IPC="ipc://$WORK/echo.sock"
	"${ON_SERVER[@]}" "$BENCH" echo-server --listen "$ECHO_TCP" --listen "$ECHO_IPC" >>"$WORK/echo.log" 2>&1 &
	ECHO_PID=$!
	PIDS+=("$ECHO_PID")
	wait_ready_echo
}

wait_ready_echo() {
	local i
	for i in $(seq 1 200); do
		"$BENCH" --echo -u "$ECHO_TCP" -n 1 -c 1 -q --json >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	echo "make-bench: the echo server did not come up; see $WORK/echo.log" >&2
	BENCH_KEEP=1
	exit 1
}

# memory NAME PID DATADIR — one JSON line: resident memory split into heap
# (anonymous: what the server allocated) and file (LMDB pages mapped in),
# and the data file's size.
memory() {
	local anon file size used
	anon=$(awk '/^RssAnon:/ {print $2}' "/proc/$2/status" 2>/dev/null || echo 0)
	file=$(awk '/^RssFile:/ {print $2}' "/proc/$2/status" 2>/dev/null || echo 0)
	size=$(stat -c %s "$3/data.mdb" 2>/dev/null || echo 0)
	used=$(du -k "$3/data.mdb" 2>/dev/null | cut -f1)
	echo "{\"info\":\"memory\",\"when\":\"$1\",\"rss_anon_kb\":${anon:-0},\"rss_file_kb\":${file:-0},\"data_bytes\":${size:-0},\"data_kb_on_disk\":${used:-0}}" >>"$RESULTS"
}

# run LABEL URL ARGS... — one measured run, appended to $RESULTS.
run() {
	local label=$1 url=$2
	shift 2
	[ "$TTY" = 1 ] && printf '\r  %-44s' "$label" >&2
	if ! "${ON_CLIENT[@]}" "$BENCH" -u "$url" -z "${SECS}s" --warmup "$WARMUP" --connections "$CONNS" -q --json \
		--label "$label" "$@" >>"$RESULTS" 2>>"$WORK/bench-errors.log"; then
		# exit 1: some calls failed (the JSON says which); anything else: no result
		tail -n 1 "$RESULTS" | grep -q "\"label\":\"$label\"" ||
			echo "{\"info\":\"failed\",\"label\":\"$label\"}" >>"$RESULTS"
	fi
}

# matrix PART REP KEYS — every row at 1 and 64 in flight over tcp and ipc,
# each group led by its echo ceiling.
matrix() {
	local part=$1 rep=$2 keys=$3 t c row url echo_url
	for t in $TRANSPORTS; do
		if [ "$t" = tcp ]; then url=$ANNALSD_TCP; echo_url=$ECHO_TCP; else url=$ANNALSD_IPC; echo_url=$ECHO_IPC; fi
		for c in $INFLIGHT; do
			run "$part/$t/$c/echo/$rep" "$echo_url" --echo -m get -c "$c"
			for row in $ROWS; do
				if [ "$part" = big ] && [ "$row" != get ] && [ "$row" != put ]; then continue; fi
				if [ "$row" = put ]; then
					run "$part/$t/$c/$row/$rep" "$url" -m put -c "$c" --keys "$keys" --ack-log "$WORK/acks-$part.log"
					[ "$part" = main ] && [ "$t" = tcp ] && redis_run "$rep" "$c"
				else
					run "$part/$t/$c/$row/$rep" "$url" -m "$row" -c "$c" --keys "$keys"
				fi
			done
		done
	done
}

# matrix_uncached REP — the query rows again over tcp on a server whose reply
# cache is off (--reply-cache-mb 0), so that every answer is computed: what a
# query costs when its answer is not in the cache (a new question, or the
# first one after a write).
UNCACHED_ROWS="get find events timeline members holder"
matrix_uncached() {
	local rep=$1 c row
	for c in $INFLIGHT; do
		run "uncached/tcp/$c/echo/$rep" "$ECHO_TCP" --echo -m get -c "$c"
		for row in $UNCACHED_ROWS; do
			case " $ROWS " in *" $row "*) ;; *) continue ;; esac
			run "uncached/tcp/$c/$row/$rep" "$UNCACHED_TCP" -m "$row" -c "$c" --keys builtin
		done
	done
}

# matrix_mix REP — mixed load on the main server (reply cache on), tcp, 64 in
# flight: GetEntity alone, then the issue's two mixes, whose writes retire the
# cached answers that read what they wrote as they commit (store/deps.c). Each
# mix is judged against the GetEntity run just before it.
MIXES="mixmembers:get=80,members=10,put=10 mixdefault:get=70,find=10,timeline=10,put=10"
matrix_mix() {
	local rep=$1 m
	case " $ROWS " in *" get "*) ;; *) return 0 ;; esac
	[ "${BENCH_MIX:-1}" = 1 ] || return 0
	run "mix/tcp/64/echo/$rep" "$ECHO_TCP" --echo -m get -c 64
	run "mix/tcp/64/get/$rep" "$ANNALSD_TCP" -m get -c 64 --keys builtin
	for m in $MIXES; do
		run "mix/tcp/64/${m%%:*}/$rep" "$ANNALSD_TCP" --mix "${m#*:}" -c 64 --keys builtin
	done
}

# durability PART DATADIR — kill -9 annalsd, restart it on the same data,
# and read back every write it acknowledged.
durability() {
	local out
	stop "$ANNALSD_PID" KILL
	start_annalsd "$1-restarted" "$2"
	if [ -s "$WORK/acks-$1.log" ]; then
		out=$("$BENCH" verify-acks -u "$ANNALSD_TCP" "$WORK/acks-$1.log" 2>&1 | tail -n 1)
		echo "{\"info\":\"durability\",\"part\":\"$1\",\"text\":\"$out\"}" >>"$RESULTS"
	fi
	# the heap of a server that has only read: no Batch high-water in it
	memory "$1-restarted-and-read-back" "$ANNALSD_PID" "$2"
}

echo "make-bench: $NCPU CPUs, $SECS s per run after $WARMUP of warm-up, $REPEAT run(s) per row," \
	"$CONNS connection(s); $([ "$PIN" = 1 ] && echo "servers on CPUs $SERVER_CPUS, client on $CLIENT_CPUS" || echo "not pinned")" >&2
[ "$BIG" = 1 ] || echo "make-bench: the 10-million-event part is skipped (BENCH_BIG=1 runs it; the load takes long)" >&2
start_echo
start_redis
start_annalsd uncached "$WORK/uncached-db" --reply-cache-mb 0
UNCACHED_PID=$ANNALSD_PID
UNCACHED_TCP=$ANNALSD_TCP
start_annalsd main "$WORK/main-db"
for rep in $(seq 1 "$REPEAT"); do
	matrix main "$rep" builtin
	matrix_mix "$rep"
	matrix_uncached "$rep"
done
stop "$UNCACHED_PID" TERM
memory main "$ANNALSD_PID" "$WORK/main-db"
[ "$TTY" = 1 ] && printf '\r  %-44s' "change feed: ack -> follower delivery" >&2
FEED_LINE=$("$BENCH" feed-latency -u "$ANNALSD_TCP" -n 1000 --rps 200 2>&1 | tail -n 1)
[ "$TTY" = 1 ] && printf '\r  %-44s' "durability check (kill -9, restart, read back)" >&2
durability main "$WORK/main-db"

if [ "$BIG" = 1 ]; then
	stop "$ANNALSD_PID" TERM
	start_annalsd big "$WORK/big-db"
	memory big-empty "$ANNALSD_PID" "$WORK/big-db"
	echo "make-bench: loading $BIG_ENTITIES entities and $BIG_EVENTS events through $BIG_LOAD (unpinned)..." >&2
	[ "$PIN" = 1 ] && taskset -a -p -c "0-$((NCPU - 1))" "$ANNALSD_PID" >/dev/null
	BULK_FLAG=()
	[ "$BIG_LOAD" = bulk ] && BULK_FLAG=(--bulk)
	"$BENCH" gen "${BULK_FLAG[@]}" --entities "$BIG_ENTITIES" --events "$BIG_EVENTS" -u "$ANNALSD_TCP" --json \
		| sed -e 's/^{/{"info":"load",/' >>"$RESULTS"
	[ "$PIN" = 1 ] && taskset -a -p -c "$SERVER_CPUS" "$ANNALSD_PID" >/dev/null
	memory big-loaded "$ANNALSD_PID" "$WORK/big-db"
	KEYS="gen:$BIG_ENTITIES:$BIG_EVENTS"
	for rep in $(seq 1 "$REPEAT"); do
		matrix big "$rep" "$KEYS"
	done
	memory big-after "$ANNALSD_PID" "$WORK/big-db"
	durability big "$WORK/big-db"
fi
[ "$TTY" = 1 ] && printf '\r%-60s\r' "" >&2

echo "$FEED_LINE"
python3 "$TABLE" "$RESULTS" --seconds "$SECS" --repeat "$REPEAT" --connections "$CONNS" \
	--pinning "$([ "$PIN" = 1 ] && echo "servers on CPUs $SERVER_CPUS, client on CPUs $CLIENT_CPUS" || echo "not pinned")"
