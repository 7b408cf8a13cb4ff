#!/usr/bin/env bash
# The metrics port of the deployment files: 7709, next to the RPC port
# 7700, and not 9100, which is node_exporter's (the standard host metrics
# exporter, on most hosts that run a Prometheus): a pod or a host with both
# would have one of them fail to bind, or scrape the wrong one. Every file
# that sets or reaches the metrics listener says 7709: the Dockerfile,
# compose files, Kubernetes manifests (container ports, services, probes,
# the scrape annotation), the systemd unit, the docs and the deploy test.
. "$(dirname "$0")/lib.sh"

DEPLOY="$ANNALS_ROOT/deploy"
mentions=$(grep -rlE '(^|[^0-9])9100([^0-9]|$)' "$DEPLOY" "$ANNALS_ROOT/README.md" 2>/dev/null)
check "no deploy file or README names port 9100 ($(echo $mentions))" test -z "$mentions"

# every ANNALS_METRICS_LISTEN value (env lines, YAML maps and lists, tables)
pycheck() {
	local name=$1 why
	shift
	if why=$(python3 - "$@" 2>&1); then pass "$name"; else fail "$name" "$(echo "$why" | tail -n 3)"; fi
}
pycheck "every ANNALS_METRICS_LISTEN in deploy/ is on port 7709" "$DEPLOY" <<'PY'
import os, re, sys
found = []
for root, _, files in os.walk(sys.argv[1]):
    for f in files:
        path = os.path.join(root, f)
        for n, line in enumerate(open(path, encoding="utf-8", errors="replace"), 1):
            if "ANNALS_METRICS_LISTEN" not in line:
                continue
            for url in re.findall(r"https?://[^\s\"'`|}:/]+(?::[0-9]+)?", line):
                found.append((path, n, url))
                assert re.fullmatch(r"https?://[^:/]+:7709", url), (path, n, url)
files = {p for p, _, _ in found}
for want in ("Dockerfile", "compose.yaml", "annalsd.service", "README.md", "k8s/configmap.yaml",
             "cluster/k8s/annals.yaml", "cluster/compose.yaml"):
    assert os.path.join(sys.argv[1], want) in files, "no ANNALS_METRICS_LISTEN in " + want
PY
check "the image exposes 7709" grep -qE '^EXPOSE .*\b7709/tcp' "$DEPLOY/Dockerfile"
check "single-node k8s: container port, service, probes and scrape annotation on 7709" bash -c "
	grep -qE 'containerPort: 7709' '$DEPLOY/k8s/statefulset.yaml' &&
	[ \$(grep -cE '^ +port: 7709$' '$DEPLOY/k8s/statefulset.yaml') = 2 ] &&
	grep -qE 'prometheus.io/port: \"7709\"' '$DEPLOY/k8s/statefulset.yaml' &&
	grep -qE '^ +port: 7709$' '$DEPLOY/k8s/service.yaml'"
check "cluster k8s: service, container port and probes on 7709" bash -c "
	grep -qF '{name: metrics, port: 7709, targetPort: 7709}' '$DEPLOY/cluster/k8s/annals.yaml' &&
	grep -qF '{name: metrics, containerPort: 7709}' '$DEPLOY/cluster/k8s/annals.yaml' &&
	grep -qF '{path: /healthz, port: 7709}' '$DEPLOY/cluster/k8s/annals.yaml' &&
	grep -qF '{path: /readyz, port: 7709}' '$DEPLOY/cluster/k8s/annals.yaml'"
check "compose publishes the container's 7709" grep -qF ':7709"' "$DEPLOY/compose.yaml"
check "the deploy test maps the container's 7709" grep -qF ':$MPORT:7709"' "$DEPLOY/test-deploy.sh"

finish
