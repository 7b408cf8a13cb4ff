#!/usr/bin/env bash
# deploy/test-deploy.sh — proves deploy/ on this machine with podman (`make test-deploy`).
#
# No Docker engine and no image registry are needed: the base image
# debian:bookworm-slim is made with debootstrap from the Debian mirror and
# `podman import`ed (the tarball is cached), then the unchanged Dockerfile is
# built with --pull=never. podman runs as root with this repo's
# deploy/containers.conf (runc, ulimits this host allows) and
# deploy/storage.conf (images in a scratch cache, not /var/lib/containers).
#
# Steps, each printed as PASS/FAIL/SKIP NAME, then "N passed, N failed":
#   static:  compose file (docker-compose config -q), k8s manifests, systemd unit
#   image:   builds; runs as non-root; every library resolves; its size
#   run:     published port + volume: health, a knowledge query and /readyz from
#            the host; the HEALTHCHECK; data survives a restart; `podman stop -t 5`
#            ends it by SIGTERM (exit 0) well inside the timeout
#   compose: podman-compose up; the one-shot client service answers
#   kube:    the k8s manifests under `podman kube play`; tokens enforced; the
#            pod's security context holds
#   cluster: deploy/cluster/compose.yaml (3 etcd + 3 annalsd) comes up and agrees;
#            an etcd member and an annalsd are killed during writes, restarted,
#            and every node ends with the same digest, every write readable
# Where podman cannot run (not root and no podman, or no container starts) every
# step is reported SKIP with the reason; set ANNALS_DEPLOY_REQUIRE=1 to make
# that a failure.
#
# Environment:
#   ANNALS_DEPLOY_CACHE    cache dir, outside the clone (default /var/cache/annals-deploy)
#   ANNALS_DEPLOY_REFRESH  1: debootstrap the base image again
#   ANNALS_DEPLOY_KEEP     1: keep containers, pods and volumes for inspection
#   ANNALS_DEPLOY_REQUIRE  1: a skip is a failure
set -u -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DEPLOY=$ROOT/deploy
CACHE=${ANNALS_DEPLOY_CACHE:-/var/cache/annals-deploy}
IMAGE=localhost/annals:test-deploy
BASE_IMAGE=docker.io/library/debian:bookworm-slim
BASE_TAR=$CACHE/debian-bookworm-minbase.tar.gz
N=annals-td          # prefix of every container, pod, volume this script makes
PROJ=annalstd        # podman-compose project name
PY=/usr/bin/python3  # Debian's python3, which has python3-yaml
STARTED=$SECONDS

STEPS=(deploy-compose-valid deploy-k8s-valid deploy-systemd-valid
	deploy-image-builds deploy-image-nonroot deploy-image-libs deploy-image-small
	deploy-run-health deploy-run-metrics deploy-run-query deploy-run-healthcheck deploy-data-survives-restart
	deploy-sigterm-graceful deploy-compose-up deploy-compose-client
	deploy-kube-play deploy-kube-query deploy-kube-security
	deploy-cluster-valid deploy-cluster-up deploy-cluster-faults)

passed=0 failed=0 skipped=0
declare -A SEEN=()
pass() { echo "PASS $1${2:+ ($2)}"; passed=$((passed + 1)); SEEN[$1]=1; }
fail() { echo "FAIL $1${2:+: $2}"; failed=$((failed + 1)); SEEN[$1]=1; }
skip() { echo "SKIP $1: $2"; skipped=$((skipped + 1)); SEEN[$1]=1; }
note() { echo "  .. $*"; }

WORK=$(mktemp -d /tmp/annals-td.XXXXXX)
chmod 755 "$WORK"
IMAGE_MB=""
trap on_exit EXIT
trap 'echo "test-deploy: interrupted"; exit 130' INT TERM

summary() {
	local s
	for s in "${STEPS[@]}"; do
		[ -n "${SEEN[$s]:-}" ] || skip "$s" "${1:-not reached}"
	done
	echo "test-deploy: ${IMAGE_MB:+image $IMAGE_MB MB, }took $((SECONDS - STARTED)) s"
	if [ "$skipped" -gt 0 ]; then
		echo "$passed passed, $failed failed, $skipped skipped"
	else
		echo "$passed passed, $failed failed"
	fi
}

# Every skip of the whole run ends here.
skip_all() {
	echo "test-deploy: SKIPPED: $1"
	summary "podman cannot run here (see above)"
	[ "${ANNALS_DEPLOY_REQUIRE:-0}" = 1 ] && exit 1
	exit 0
}

# ---- helpers ------------------------------------------------------------------
# wait_until SECS CMD...: runs CMD every half second until it succeeds.
wait_until() {
	local end=$((SECONDS + $1))
	shift
	while :; do
		"$@" >/dev/null 2>&1 && return 0
		[ "$SECONDS" -ge "$end" ] && return 1
		sleep 0.5
	done
}

free_port() {
	"$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The CLI as run from the host: bin/annals, bounded in time.
cli() { timeout -k 5 20 "$ROOT/bin/annals" "$@"; }

# podman, bounded: SIGTERM at the limit, SIGKILL 10 s later. A container a
# killed `podman run` leaves behind has a $N- name, so cleanup finds it.
# (9>&-: conmon outlives podman; it must not inherit the lock on fd 9.)
pm() { timeout -k 10 "${PM_TIMEOUT:-120}" podman "$@" 9>&-; }

show_log() { # show_log FILE: the last lines of a log, indented
	[ -s "$1" ] && tail -n "${2:-25}" "$1" | sed 's/^/     | /'
	return 0
}

container_logs() { pm logs "$1" >"$WORK/$1.log" 2>&1; show_log "$WORK/$1.log" 15; }

PODMAN_READY=0 # set once podman points at this project's configuration
cleanup() {
	[ "$PODMAN_READY" = 1 ] || return 0
	[ "${ANNALS_DEPLOY_KEEP:-0}" = 1 ] && { echo "test-deploy: kept containers, pods and volumes ($N*, ${PROJ}_*)"; return; }
	local c
	# -v: the image declares VOLUME /data, so a container without a named
	# volume there (the compose client, one-shot checks) has an anonymous one.
	for c in $(podman ps -a --format '{{.Names}}' 2>/dev/null | grep -E "^(${N}|${PROJ}_|${PROJ}c_)"); do
		timeout -k 5 30 podman rm -f -v -t 2 "$c" >/dev/null 2>&1
	done
	timeout -k 5 30 podman pod rm -f -t 2 "$N-0" >/dev/null 2>&1
	if command -v podman-compose >/dev/null 2>&1; then
		ANNALS_IMAGE=$IMAGE timeout -k 10 60 podman-compose -p "$PROJ" -f "$DEPLOY/compose.yaml" down -v -t 3 >/dev/null 2>&1 9>&-
	fi
	for c in $(podman volume ls --format '{{.Name}}' 2>/dev/null | grep -E "(^${N}|^${PROJ}_|^${PROJ}c_|-${N}-0$)"); do
		timeout -k 5 30 podman volume rm -f "$c" >/dev/null 2>&1
	done
	timeout -k 5 30 podman network rm -f "${PROJ}_default" >/dev/null 2>&1
	timeout -k 5 30 podman network rm -f "${PROJ}c_default" >/dev/null 2>&1
	return 0
}

on_exit() {
	cleanup
	if [ "$failed" -gt 0 ]; then
		echo "test-deploy: logs kept in $WORK"
	else
		rm -rf "$WORK"
	fi
}

# ---- prerequisites ------------------------------------------------------------
PKGS="podman runc debootstrap podman-compose docker-compose uidmap slirp4netns fuse-overlayfs
	python3-yaml systemd curl"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
		skip_all "not root and these Debian packages are missing:$missing (sudo apt-get install -y$missing)"
	fi
	echo "test-deploy: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	# shellcheck disable=SC2086
	if ! { timeout 300 apt-get update -qq && timeout 900 apt-get install -y -qq $missing; } >"$WORK/apt.log" 2>&1; then
		show_log "$WORK/apt.log"
		skip_all "could not install:$missing (see above)"
	fi
fi
[ "$(id -u)" -eq 0 ] || skip_all "not root: this test runs podman as root (rootless podman needs a subuid setup and its own storage); run it as root"

mkdir -p "$CACHE" || skip_all "cannot create the cache directory $CACHE"
exec 9>"$CACHE/lock"
flock -w 900 9 || skip_all "another test-deploy holds $CACHE/lock"

export CONTAINERS_CONF=$DEPLOY/containers.conf
if [ "$CACHE" = /var/cache/annals-deploy ]; then
	export CONTAINERS_STORAGE_CONF=$DEPLOY/storage.conf
else
	# Another cache, another store: its run root must not be shared either.
	sed -e "s|/var/cache/annals-deploy|$CACHE|" \
		-e "s|/run/annals-deploy/storage|/run/annals-deploy/$(printf %s "$CACHE" | md5sum | cut -c1-12)|" \
		"$DEPLOY/storage.conf" >"$CACHE/storage.conf"
	export CONTAINERS_STORAGE_CONF=$CACHE/storage.conf
fi
unset CONTAINER_HOST DOCKER_HOST

if ! pm info >"$WORK/podman-info.log" 2>&1; then
	show_log "$WORK/podman-info.log"
	skip_all "podman cannot start here (podman info failed)"
fi
PODMAN_READY=1
cleanup # what an interrupted earlier run left behind

# ---- static checks (no containers) --------------------------------------------
if (cd "$WORK" && timeout 60 docker-compose -f "$DEPLOY/compose.yaml" config -q) >"$WORK/compose-config.log" 2>&1; then
	pass deploy-compose-valid "docker-compose $(docker-compose version --short 2>/dev/null) config -q"
else
	show_log "$WORK/compose-config.log"; fail deploy-compose-valid "docker-compose config -q"
fi

if "$PY" "$DEPLOY/kube-podman.py" check "$DEPLOY/k8s" >"$WORK/k8s-check.log" 2>&1; then
	pass deploy-k8s-valid "$(find "$DEPLOY/k8s" -name "*.yaml" | wc -l) manifests fit together"
else
	show_log "$WORK/k8s-check.log"; fail deploy-k8s-valid "see above"
fi

# systemd-analyze verify warns (exit 0) on unknown keys: any output is a failure.
mkdir -p "$WORK/unit"
sed "s|^ExecStart=/usr/local/bin/annalsd|ExecStart=/bin/true|" "$DEPLOY/annalsd.service" >"$WORK/unit/annalsd.service"
if timeout 60 systemd-analyze verify "$WORK/unit/annalsd.service" >"$WORK/unit.log" 2>&1 && [ ! -s "$WORK/unit.log" ]; then
	pass deploy-systemd-valid "systemd-analyze verify"
else
	show_log "$WORK/unit.log"; fail deploy-systemd-valid "systemd-analyze verify"
fi

# ---- the base image: debootstrap once, import when missing ---------------------
debian_mirror() {
	local m
	m=$(grep -rhoE 'https?://[^ ]+/debian/?( |$)' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null | head -n 1 | tr -d ' ')
	echo "${m:-http://deb.debian.org/debian}"
}

make_base_tar() {
	local mirror root
	mirror=$(debian_mirror)
	root=$(mktemp -d "$CACHE/rootfs.XXXXXX")
	note "debootstrap --variant=minbase bookworm from $mirror (cached in $BASE_TAR)"
	if ! timeout 900 debootstrap --variant=minbase bookworm "$root/fs" "$mirror" >"$WORK/debootstrap.log" 2>&1; then
		show_log "$WORK/debootstrap.log"; rm -rf "$root"; return 1
	fi
	# Trim it the way the official -slim image is trimmed, and give it the
	# same apt sources (main, updates, security).
	(
		cd "$root/fs" || exit 1
		rm -rf var/cache/apt/archives/*.deb var/cache/apt/*.bin var/lib/apt/lists/* \
			usr/share/doc/* usr/share/man/* usr/share/info/* var/log/*.log var/log/apt/*
		find usr/share/locale -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
		printf '%s\n' 'path-exclude /usr/share/doc/*' 'path-include /usr/share/doc/*/copyright' \
			'path-exclude /usr/share/man/*' 'path-exclude /usr/share/info/*' \
			'path-exclude /usr/share/locale/*' 'path-include /usr/share/locale/locale.alias' \
			>etc/dpkg/dpkg.cfg.d/docker
		rm -f etc/apt/sources.list
		cat >etc/apt/sources.list.d/debian.sources <<-EOF
			Types: deb
			URIs: ${mirror%/}
			Suites: bookworm bookworm-updates
			Components: main
			Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

			Types: deb
			URIs: ${mirror%/}-security
			Suites: bookworm-security
			Components: main
			Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
		EOF
	) || { rm -rf "$root"; return 1; }
	tar --numeric-owner -C "$root/fs" -czf "$root/base.tar.gz" . && mv "$root/base.tar.gz" "$BASE_TAR"
	local rc=$?
	rm -rf "$root"
	return $rc
}

base_image() {
	if [ "${ANNALS_DEPLOY_REFRESH:-0}" = 1 ]; then
		rm -f "$BASE_TAR"
		pm rmi -f "$BASE_IMAGE" >/dev/null 2>&1
	fi
	pm image exists "$BASE_IMAGE" && return 0
	[ -s "$BASE_TAR" ] || make_base_tar || return 1
	pm import --change 'CMD ["bash"]' "$BASE_TAR" "$BASE_IMAGE" >"$WORK/import.log" 2>&1 ||
		{ show_log "$WORK/import.log"; return 1; }
}

t=$SECONDS
base_image || skip_all "could not make the base image $BASE_IMAGE (debootstrap or podman import failed, see above)"
note "base image ready in $((SECONDS - t)) s"
# Can a container start at all? (runtime, cgroups, ulimits, network)
if ! pm run --rm --pull=never --name "$N-smoke" "$BASE_IMAGE" true >"$WORK/smoke.log" 2>&1; then
	show_log "$WORK/smoke.log"
	skip_all "podman cannot start a container on this host (see above)"
fi

# ---- image --------------------------------------------------------------------
# the image takes the web page from bin/web (make web: npm on the host)
if ! (cd "$ROOT" && timeout 600 make -s web) >"$WORK/web.log" 2>&1; then
	show_log "$WORK/web.log"
	fail deploy-image-builds "make web (the page the image serves) failed"
	summary "the web page did not build"
	exit 1
fi
t=$SECONDS
old_id=$(pm image inspect --format '{{.Id}}' "$IMAGE" 2>/dev/null)
if PM_TIMEOUT=1500 pm build --pull=never --format docker --layers -f "$DEPLOY/Dockerfile" -t "$IMAGE" \
	--build-arg ANNALS_GIT="$(git -C "$ROOT" describe --always --dirty --tags 2>/dev/null || echo unknown)" "$ROOT" \
	>"$WORK/build.log" 2>&1; then
	pass deploy-image-builds "$((SECONDS - t)) s"
else
	show_log "$WORK/build.log" 40
	fail deploy-image-builds "podman build (log: $WORK/build.log)"
	summary "the image did not build"
	exit 1
fi
new_id=$(pm image inspect --format '{{.Id}}' "$IMAGE" 2>/dev/null)
# The previous run's image, now untagged (its layers stay as build cache).
[ -n "$old_id" ] && [ "$old_id" != "$new_id" ] && pm rmi "$old_id" >/dev/null 2>&1

size=$(pm image inspect --format '{{.Size}}' "$IMAGE")
IMAGE_MB=$(awk -v b="$size" 'BEGIN { printf "%.1f", b / 1000000 }')
user=$(pm image inspect --format '{{.Config.User}}' "$IMAGE")
uid=$(pm run --rm --pull=never --name "$N-uid" --entrypoint id "$IMAGE" -u 2>/dev/null)
if [ -n "$uid" ] && [ "$uid" != 0 ] && [ -n "$user" ] && [ "${user%%:*}" != 0 ] && [ "${user%%:*}" != root ]; then
	pass deploy-image-nonroot "USER $user, uid $uid"
else
	fail deploy-image-nonroot "USER '$user', uid '$uid'"
fi

if PM_TIMEOUT=60 pm run --rm --pull=never --name "$N-ldd" --entrypoint /bin/sh "$IMAGE" -c \
	'ldd /usr/local/bin/annalsd /usr/local/bin/annals && annalsd --help >/dev/null' >"$WORK/ldd.log" 2>&1 &&
	! grep -q 'not found' "$WORK/ldd.log"; then
	pass deploy-image-libs "$(grep -c '=>' "$WORK/ldd.log") links resolve; annalsd --help runs"
else
	show_log "$WORK/ldd.log"; fail deploy-image-libs "unresolved libraries or annalsd does not start"
fi

if [ "$size" -lt 150000000 ]; then
	pass deploy-image-small "$IMAGE_MB MB, base $(pm image inspect --format '{{.Size}}' "$BASE_IMAGE" | awk '{ printf "%.1f", $1 / 1000000 }') MB"
else
	fail deploy-image-small "$IMAGE_MB MB is over 150 MB"
fi

# The host's CLI talks to the containers through their published ports.
if [ ! -x "$ROOT/bin/annals" ]; then
	note "bin/annals is missing: building it on the host"
	(cd "$ROOT" && timeout 900 make -s deps && timeout 900 make -s bin/annals) >"$WORK/make.log" 2>&1 ||
		show_log "$WORK/make.log"
fi
if [ ! -x "$ROOT/bin/annals" ]; then
	# Still none: the image's CLI in the host's network namespace, which
	# reaches the published ports on 127.0.0.1 just the same.
	note "using the image's annals with --network host instead of bin/annals"
	cli() { timeout -k 5 30 podman run --rm --pull=never --network host --no-healthcheck -e ANNALS_TOKEN \
		--entrypoint annals "$IMAGE" "$@" 9>&-; }
fi

# ---- run: published port, volume, restart, SIGTERM ------------------------------
PORT=$(free_port)
MPORT=$(free_port)
HPORT=$(free_port)
RUN=$N-run
SERVER=tcp://127.0.0.1:$PORT
pm volume create "$N-data" >/dev/null
if ! pm run -d --pull=never --name "$RUN" -p "127.0.0.1:$PORT:7700" -p "127.0.0.1:$MPORT:7709" \
	-p "127.0.0.1:$HPORT:7780" -v "$N-data:/data" -e ANNALS_INSECURE=1 "$IMAGE" >"$WORK/run.log" 2>&1; then
	show_log "$WORK/run.log"
fi
if wait_until 30 cli --server "$SERVER" health; then
	pass deploy-run-health "annals health through 127.0.0.1:$PORT"
else
	container_logs "$RUN"; fail deploy-run-health "no answer on $SERVER within 30 s"
fi

# The HTTP side (ANNALS_METRICS_LISTEN), which the Kubernetes probes use.
metrics_ok() { # metrics_ok PORT
	local path
	for path in /healthz /readyz /metrics; do
		timeout 10 curl -fsS -o "$WORK/http$(tr / - <<<"$path").out" "http://127.0.0.1:$1$path" || return 1
	done
}
if metrics_ok "$MPORT" 2>"$WORK/metrics.err"; then
	pass deploy-run-metrics "/healthz, /readyz, /metrics through 127.0.0.1:$MPORT"
else
	show_log "$WORK/metrics.err"; fail deploy-run-metrics "ANNALS_METRICS_LISTEN=http://0.0.0.0:7709: no answer on 127.0.0.1:$MPORT"
fi

# The JSON gateway and the web page (ANNALS_HTTP_LISTEN).
http_ok() { # http_ok PORT
	timeout 10 curl -fsS -H 'Content-Type: application/json' \
		-d '{"organization":"org:csto","at":{"precision":"PRECISION_YEAR","year":2005}}' \
		"http://127.0.0.1:$1/v1/Members" >"$WORK/http-members.out" &&
		grep -q '"entity":"country:russia"' "$WORK/http-members.out" &&
		timeout 10 curl -fsS "http://127.0.0.1:$1/" | grep -q '<title>annals</title>' &&
		timeout 10 curl -fsS -o /dev/null "http://127.0.0.1:$1/web/vis-timeline-graph2d.min.js"
}
if http_ok "$HPORT" 2>"$WORK/http.err"; then
	pass deploy-run-http "POST /v1/Members and the web page through 127.0.0.1:$HPORT"
else
	show_log "$WORK/http.err"; fail deploy-run-http "ANNALS_HTTP_LISTEN=http://0.0.0.0:7780: no answer on 127.0.0.1:$HPORT"
fi

query() { # query SERVER [cli options]: the knowledge query; prints its answer
	local server=$1
	shift
	cli --server "$server" "$@" members org:csto --at 2005
}
# The CSTO's members in 2005, as the built-in dataset states them.
query_ok() { grep -q '^members (6)' "$1" && grep -q 'country:russia .* active' "$1"; }

if query "$SERVER" >"$WORK/query.out" 2>&1 && query_ok "$WORK/query.out"; then
	pass deploy-run-query "members org:csto --at 2005: $(grep -c 'active' "$WORK/query.out") active members"
else
	show_log "$WORK/query.out"; fail deploy-run-query "members org:csto --at 2005"
fi

if pm healthcheck run "$RUN" >"$WORK/hc.log" 2>&1 &&
	[ "$(pm inspect --format '{{.State.Health.Status}}' "$RUN" 2>/dev/null)" = healthy ]; then
	pass deploy-run-healthcheck "HEALTHCHECK annals health: healthy"
else
	show_log "$WORK/hc.log"; fail deploy-run-healthcheck "podman healthcheck run"
fi

# Data survives: write an entity, restart the container, read it back.
MARK="org:td-mark-$RANDOM$RANDOM"
printf '{"id": "%s", "type": "ENTITY_TYPE_ORGANIZATION", "names": [{"text": "%s", "kind": "NAME_KIND_OFFICIAL"}]}\n' \
	"$MARK" "TD mark ${MARK#org:}" >"$WORK/mark.json"
if cli --server "$SERVER" entity put "$WORK/mark.json" >"$WORK/write.out" 2>&1; then
	PM_TIMEOUT=60 pm restart -t 10 "$RUN" >/dev/null 2>&1
	if wait_until 30 cli --server "$SERVER" health &&
		cli --server "$SERVER" entity get "$MARK" >"$WORK/read.out" 2>&1 && grep -q "$MARK" "$WORK/read.out"; then
		pass deploy-data-survives-restart "entity $MARK read back after podman restart"
	else
		show_log "$WORK/read.out"; container_logs "$RUN"
		fail deploy-data-survives-restart "entity $MARK lost after podman restart"
	fi
else
	show_log "$WORK/write.out"; fail deploy-data-survives-restart "could not write an entity to test with"
fi

# podman stop -t 5: SIGTERM, then SIGKILL after 5 s. Exit 0 well inside it.
t0=$(date +%s%N)
PM_TIMEOUT=30 pm stop -t 5 "$RUN" >/dev/null 2>&1
ms=$((($(date +%s%N) - t0) / 1000000))
code=$(pm inspect --format '{{.State.ExitCode}}' "$RUN" 2>/dev/null)
pm logs "$RUN" >"$WORK/stop.log" 2>&1
if [ "$code" = 0 ] && [ "$ms" -lt 4000 ] && grep -q SIGTERM "$WORK/stop.log"; then
	pass deploy-sigterm-graceful "podman stop -t 5 took $ms ms, exit 0, annalsd logged the SIGTERM"
else
	show_log "$WORK/stop.log" 8
	fail deploy-sigterm-graceful "took $ms ms, exit code '$code' (137 = killed), SIGTERM logged: $(grep -c SIGTERM "$WORK/stop.log")"
fi
pm rm -f "$RUN" >/dev/null 2>&1

# ---- compose ------------------------------------------------------------------
ANNALS_PORT=$(free_port)
ANNALS_METRICS_PORT=$(free_port)
ANNALS_HTTP_PORT=$(free_port)
export ANNALS_IMAGE=$IMAGE ANNALS_PORT ANNALS_METRICS_PORT ANNALS_HTTP_PORT
if (cd "$ROOT" && timeout -k 10 180 podman-compose -p "$PROJ" -f "$DEPLOY/compose.yaml" up -d --no-build) \
	>"$WORK/compose-up.log" 2>&1 9>&- && wait_until 40 cli --server "tcp://127.0.0.1:$ANNALS_PORT" health; then
	limits=$(pm inspect --format '{{.HostConfig.Memory}} {{.HostConfig.RestartPolicy.Name}}' "${PROJ}_annalsd_1" 2>/dev/null)
	if [ "$limits" = "1073741824 unless-stopped" ]; then
		pass deploy-compose-up "annalsd answers on 127.0.0.1:$ANNALS_PORT; memory limit 1g, restart unless-stopped"
	else
		fail deploy-compose-up "annalsd answers, but memory/restart are '$limits'"
	fi
else
	grep -v systemd "$WORK/compose-up.log" >"$WORK/compose-up.short"; show_log "$WORK/compose-up.short"
	fail deploy-compose-up "podman-compose up or health on 127.0.0.1:$ANNALS_PORT"
fi
code=$(PM_TIMEOUT=90 pm wait "${PROJ}_query_1" 2>/dev/null)
pm logs "${PROJ}_query_1" >"$WORK/compose-query.out" 2>&1
if [ "$code" = 0 ] && query_ok "$WORK/compose-query.out"; then
	pass deploy-compose-client "the query service answered over the compose network and exited 0"
else
	show_log "$WORK/compose-query.out"; fail deploy-compose-client "query service exit code '$code'"
fi
pm rm -f -v "${PROJ}_query_1" >/dev/null 2>&1
timeout -k 10 90 podman-compose -p "$PROJ" -f "$DEPLOY/compose.yaml" down -v -t 5 >/dev/null 2>&1 9>&-

# ---- kube play ----------------------------------------------------------------
KPORT=$(free_port)
KMPORT=$(free_port)
READER=td-reader-$RANDOM$RANDOM$RANDOM
PROBE=td-probe-$RANDOM$RANDOM$RANDOM
printf 'reader %s\nadmin td-admin-%s%s\nreader %s\n' "$READER" "$RANDOM" "$RANDOM" "$PROBE" >"$WORK/tokens"
printf '%s\n' "$PROBE" >"$WORK/probe-token"
POD_CTR=$N-0-annalsd
KSERVER=tcp://127.0.0.1:$KPORT
if "$PY" "$DEPLOY/kube-podman.py" render "$DEPLOY/k8s" --image "$IMAGE" --prefix "$N" \
	--port "$KPORT" --metrics-port "$KMPORT" --secrets-dir "$WORK/secrets" \
	--secret-file "tokens=$WORK/tokens" --secret-file "probe-token=$WORK/probe-token" \
	>"$WORK/kube.yaml" 2>"$WORK/kube-render.log" &&
	PM_TIMEOUT=180 pm kube play "$WORK/kube.yaml" >"$WORK/kube-play.log" 2>&1 &&
	wait_until 40 cli --server "$KSERVER" --token "$READER" health; then
	if metrics_ok "$KMPORT" 2>/dev/null; then
		pass deploy-kube-play "pod $N-0 from the StatefulSet, its ConfigMap, Secret and claim; RPC and /readyz answer"
	else
		pass deploy-kube-play "pod $N-0 from the StatefulSet, its ConfigMap, Secret and claim; RPC answers (not /readyz: see deploy-run-metrics)"
	fi
else
	cat "$WORK/kube-render.log" "$WORK/kube-play.log" 2>/dev/null | grep -v systemd >"$WORK/kube.short"
	show_log "$WORK/kube.short"; container_logs "$POD_CTR"
	fail deploy-kube-play "podman kube play"
fi

if ANNALS_TOKEN=$READER query "$KSERVER" >"$WORK/kube-query.out" 2>&1 && query_ok "$WORK/kube-query.out"; then
	if ANNALS_TOKEN="" query "$KSERVER" >"$WORK/kube-anon.out" 2>&1; then
		fail deploy-kube-query "a query without a token was answered: tokens are not enforced"
	elif pm healthcheck run "$POD_CTR" >"$WORK/kube-hc.log" 2>&1; then
		pass deploy-kube-query "with the reader token from the Secret; refused without; liveness probe passes"
	else
		show_log "$WORK/kube-hc.log"; fail deploy-kube-query "the liveness probe (annals health) fails in the pod"
	fi
else
	show_log "$WORK/kube-query.out"; container_logs "$POD_CTR"; fail deploy-kube-query "query with the reader token"
fi

# shellcheck disable=SC2016
if pm exec "$POD_CTR" /bin/sh -c '
	set -e
	test "$(id -u)" != 0
	! touch /probe 2>/dev/null
	touch /data/.probe && rm /data/.probe
	grep -q "^NoNewPrivs:[[:space:]]*1" /proc/self/status
	grep -q "^CapEff:[[:space:]]*0000000000000000" /proc/self/status
	echo "uid $(id -u)"' >"$WORK/kube-sec.out" 2>&1; then
	lim=$(pm inspect --format '{{.HostConfig.Memory}}' "$POD_CTR" 2>/dev/null)
	pass deploy-kube-security "$(cat "$WORK/kube-sec.out"), read-only root, /data writable, no new privileges, no capabilities, memory limit $lim"
else
	show_log "$WORK/kube-sec.out"; fail deploy-kube-security "security context not in force"
fi
PM_TIMEOUT=60 pm kube down "$WORK/kube.yaml" >/dev/null 2>&1

# ---- cluster: 3 etcd + 3 annalsd (deploy/cluster/compose.yaml) -------------------
CPROJ=${PROJ}c
CL_COMPOSE=$DEPLOY/cluster/compose.yaml
ETCD_IMAGE=localhost/annals-etcd:test-deploy
cl_down() {
	ANNALS_IMAGE=$IMAGE ANNALS_ETCD_IMAGE=$ETCD_IMAGE timeout -k 10 90 podman-compose -p "$CPROJ" -f "$CL_COMPOSE" \
		down -v -t 3 >/dev/null 2>&1 9>&-
}
# `annals` inside node 1's container, against any node of the compose network
cl_cli() { pm exec "${CPROJ}_annals1_1" annals --timeout 10000 "$@"; }
if (cd "$WORK" && timeout 60 docker-compose -f "$CL_COMPOSE" config -q) >"$WORK/cl-config.log" 2>&1; then
	pass deploy-cluster-valid "docker-compose config -q on deploy/cluster/compose.yaml"
else
	show_log "$WORK/cl-config.log"; fail deploy-cluster-valid "docker-compose config -q"
fi
cl_down
CPORT=$(free_port)
CLUSTER_UP=0
if PM_TIMEOUT=900 pm build --pull=never --format docker --layers -f "$DEPLOY/cluster/Dockerfile.etcd" \
	-t "$ETCD_IMAGE" "$ROOT" >"$WORK/etcd-build.log" 2>&1 &&
	(cd "$ROOT" && ANNALS_IMAGE=$IMAGE ANNALS_ETCD_IMAGE=$ETCD_IMAGE ANNALS_PORT=$CPORT \
		timeout -k 10 240 podman-compose -p "$CPROJ" -f "$CL_COMPOSE" up -d --no-build) >"$WORK/cl-up.log" 2>&1 9>&- &&
	wait_until 90 cli --server "tcp://127.0.0.1:$CPORT" health &&
	wait_until 60 cl_cli --server tcp://annals1:7700,tcp://annals2:7700,tcp://annals3:7700 cluster status; then
	cl_cli cluster status >"$WORK/cl-status.out" 2>&1
	CLUSTER_UP=1
	pass deploy-cluster-up "$(grep -c SERVING "$WORK/cl-status.out") nodes SERVING, $(grep -c ' true ' "$WORK/cl-status.out") etcd rows healthy"
else
	show_log "$WORK/etcd-build.log"; grep -v systemd "$WORK/cl-up.log" >"$WORK/cl-up.short" 2>/dev/null
	show_log "$WORK/cl-up.short"; container_logs "${CPROJ}_annals1_1"
	fail deploy-cluster-up "the 3+3 cluster did not come up"
fi
if [ "$CLUSTER_UP" = 1 ]; then
# writes through node 1 from the host while etcd2 and annals2 are killed and restarted
cl_write() { # i: one PutEntity with its own request id, resent until acknowledged (20 s)
	local i=$1 end=$((SECONDS + 20))
	while [ "$SECONDS" -lt "$end" ]; do
		printf '{"id":"person:td-cluster-%d","type":"ENTITY_TYPE_PERSON"}' "$i" |
			cli --server "tcp://127.0.0.1:$CPORT" entity put - --request-id "td-cluster-$i" >/dev/null 2>&1 && return 0
		sleep 0.3
	done
	return 1
}
lost=0
for i in $(seq 1 60); do
	[ "$i" = 15 ] && pm kill "${CPROJ}_etcd2_1" >/dev/null 2>&1
	[ "$i" = 25 ] && pm kill "${CPROJ}_annals2_1" >/dev/null 2>&1
	[ "$i" = 40 ] && pm start "${CPROJ}_etcd2_1" "${CPROJ}_annals2_1" >/dev/null 2>&1
	cl_write "$i" || lost=$((lost + 1))
done
digests=""
for n in 1 2 3; do
	wait_until 60 sh -c "[ \"\$(timeout 20 podman exec ${CPROJ}_annals1_1 annals --server tcp://annals$n:7700 health 2>/dev/null | cut -d' ' -f1)\" = SERVING ]" 9>&-
	digests="$digests$(cl_cli --server "tcp://annals$n:7700" digest 2>/dev/null | awk '{print $2, $4}')\n"
done
distinct=$(printf "$digests" | sort -u | grep -c .)
missing=0
for n in 1 2 3; do
	for i in $(seq 1 60); do
		cl_cli --server "tcp://annals$n:7700" entity get "person:td-cluster-$i" >/dev/null 2>&1 || missing=$((missing + 1))
	done
done
if [ "$lost" = 0 ] && [ "$distinct" = 1 ] && [ "$missing" = 0 ]; then
	pass deploy-cluster-faults "60 writes with etcd2 and annals2 killed and restarted: all acknowledged, readable on all 3 nodes, one digest"
else
	printf "$digests" >"$WORK/cl-digests"; show_log "$WORK/cl-digests"; container_logs "${CPROJ}_annals2_1"
	fail deploy-cluster-faults "$lost writes not acknowledged, $missing reads missing, $distinct distinct digests"
fi
fi
[ "${ANNALS_DEPLOY_KEEP:-0}" = 1 ] || cl_down

summary ""
[ "$failed" -eq 0 ]
