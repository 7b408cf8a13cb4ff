#!/usr/bin/python3
"""Checks deploy/k8s/ and renders it for `podman kube play`.

    kube-podman.py check  K8S_DIR
        Parses every manifest and checks that the pieces fit together:
        selectors match the pod labels, services target declared ports, the
        pod refers only to defined ConfigMaps, Secrets and volumes, probes use
        declared ports, and the security context is the restrictive one.

    kube-podman.py render K8S_DIR --image IMG --prefix P --port N --metrics-port N
                          --secrets-dir DIR [--secret-file KEY=FILE ...]
        Writes to stdout one multi-document YAML that podman 4.3 can play.
        podman has no StatefulSet, Service or PodDisruptionBudget, so:
          - the StatefulSet becomes its pod <prefix>-0 plus one
            PersistentVolumeClaim per volumeClaimTemplate (podman: a volume);
          - the ConfigMap is kept; each Secret is written out as files under
            --secrets-dir and mounted from there (podman 4.3 writes Secret
            values into a secret volume still base64-encoded);
          - Services and the PDB are left out (they are checked, not played).
        Every object is renamed with the prefix so a test leaves no name
        collisions behind, container ports are published on 127.0.0.1 only,
        env values from a secretKeyRef are written in, and --secret-file
        replaces a Secret's placeholder values (tokens, probe-token).

Uses only the Python standard library and PyYAML (Debian's python3-yaml).
"""
import argparse
import base64
import copy
import os
import sys

import yaml

FILES = ["configmap.yaml", "secret.yaml", "service.yaml", "statefulset.yaml", "pdb.yaml"]


def load(k8s_dir):
    docs = []
    for name in FILES:
        with open(f"{k8s_dir}/{name}", encoding="utf-8") as f:
            for doc in yaml.safe_load_all(f):
                if doc:
                    doc["_file"] = name
                    docs.append(doc)
    return docs


def by_kind(docs, kind):
    return [d for d in docs if d.get("kind") == kind]


def matches(selector, labels):
    return all(labels.get(k) == v for k, v in (selector or {}).items())


def check(k8s_dir):
    errors = []

    def need(cond, what):
        if not cond:
            errors.append(what)

    docs = load(k8s_dir)
    for d in docs:
        need(d.get("apiVersion") and d.get("kind") and d.get("metadata", {}).get("name"),
             f"{d['_file']}: apiVersion, kind and metadata.name are required")
    with open(f"{k8s_dir}/kustomization.yaml", encoding="utf-8") as f:
        kust = yaml.safe_load(f)
    need(sorted(kust.get("resources", [])) == sorted(FILES),
         "kustomization.yaml: resources must list " + ", ".join(FILES))

    sts_list = by_kind(docs, "StatefulSet")
    need(len(sts_list) == 1, "exactly one StatefulSet")
    if not sts_list:
        return errors
    sts = sts_list[0]
    spec = sts["spec"]
    tpl = spec["template"]
    labels = tpl["metadata"].get("labels", {})
    pod = tpl["spec"]
    need(spec.get("replicas") == 1, "StatefulSet: one replica (one LMDB writer)")
    need(matches(spec["selector"]["matchLabels"], labels), "StatefulSet: selector must match the pod labels")
    services = {s["metadata"]["name"]: s for s in by_kind(docs, "Service")}
    need(spec.get("serviceName") in services, "StatefulSet: serviceName must be a defined Service")
    need(services.get(spec.get("serviceName"), {}).get("spec", {}).get("clusterIP") == "None",
         "StatefulSet: its governing Service must be headless")

    configmaps = {c["metadata"]["name"] for c in by_kind(docs, "ConfigMap")}
    secret_data = {s["metadata"]["name"]: secret_files(s) for s in by_kind(docs, "Secret")}
    secrets = set(secret_data)
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    claims = {c["metadata"]["name"] for c in spec.get("volumeClaimTemplates", [])}
    need(claims, "StatefulSet: a volumeClaimTemplate for the LMDB directory")
    for v in volumes.values():
        if "secret" in v:
            need(v["secret"]["secretName"] in secrets, f"volume {v['name']}: no Secret {v['secret']['secretName']}")
        if "configMap" in v:
            need(v["configMap"]["name"] in configmaps, f"volume {v['name']}: no ConfigMap {v['configMap']['name']}")

    psc = pod.get("securityContext", {})
    need(psc.get("runAsNonRoot") is True, "pod securityContext: runAsNonRoot")
    need(isinstance(psc.get("runAsUser"), int) and psc["runAsUser"] > 0, "pod securityContext: runAsUser > 0")
    need(psc.get("fsGroup") == psc.get("runAsGroup"), "pod securityContext: fsGroup so the volume is writable")

    ports_by_name = {}
    ports = set()
    mounts = set()
    for c in pod["containers"]:
        cname = c["name"]
        for p in c.get("ports", []):
            ports.add(p["containerPort"])
            if "name" in p:
                ports_by_name[p["name"]] = p["containerPort"]
        for ef in c.get("envFrom", []):
            if "configMapRef" in ef:
                need(ef["configMapRef"]["name"] in configmaps, f"{cname}: envFrom names no ConfigMap")
            if "secretRef" in ef:
                need(ef["secretRef"]["name"] in secrets, f"{cname}: envFrom names no Secret")
        for e in c.get("env", []):
            ref = e.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                need(ref["key"] in secret_data.get(ref["name"], {}),
                     f"{cname}: env {e['name']} names no key {ref['key']} of a Secret {ref['name']}")
            if e["name"] == "ANNALS_TOKEN" and ref:
                data = secret_data.get(ref["name"], {})
                token = data.get(ref["key"], b"").decode().strip()
                lines = {tuple(line.split()) for line in data.get("tokens", b"").decode().splitlines()}
                need(any(len(t) == 2 and t[1] == token for t in lines),
                     f"{cname}: the ANNALS_TOKEN of the pod ({ref['key']}) must be a line of the tokens file")
        for m in c.get("volumeMounts", []):
            need(m["name"] in volumes or m["name"] in claims, f"{cname}: mount {m['name']} has no volume")
            mounts.add(m["mountPath"])
        sc = c.get("securityContext", {})
        need(sc.get("readOnlyRootFilesystem") is True, f"{cname}: readOnlyRootFilesystem")
        need(sc.get("allowPrivilegeEscalation") is False, f"{cname}: allowPrivilegeEscalation: false")
        need("ALL" in sc.get("capabilities", {}).get("drop", []), f"{cname}: capabilities.drop ALL")
        res = c.get("resources", {})
        for kind in ("requests", "limits"):
            for r in ("cpu", "memory"):
                need(r in res.get(kind, {}), f"{cname}: resources.{kind}.{r}")
        for probe in ("livenessProbe", "readinessProbe"):
            need(probe in c, f"{cname}: {probe}")
        for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
            pr = c.get(probe, {})
            for how in ("httpGet", "tcpSocket"):
                if how in pr:
                    port = pr[how]["port"]
                    need(port in ports or port in ports_by_name, f"{cname}: {probe} port {port} is not declared")
    need("/data" in mounts, "the LMDB directory /data must be a mounted volume")

    for name, svc in services.items():
        need(matches(svc["spec"].get("selector"), labels), f"Service {name}: selector must match the pod labels")
        for p in svc["spec"].get("ports", []):
            t = p.get("targetPort", p["port"])
            need(t in ports or t in ports_by_name, f"Service {name}: targetPort {t} is not a container port")
    pdbs = by_kind(docs, "PodDisruptionBudget")
    need(len(pdbs) == 1, "one PodDisruptionBudget")
    for pdb in pdbs:
        need(matches(pdb["spec"]["selector"]["matchLabels"], labels), "PodDisruptionBudget: selector must match")
    return errors


def secret_files(secret):
    """A Secret's keys and their bytes, from data (base64) and stringData."""
    files = {k: base64.b64decode(v) for k, v in (secret.get("data") or {}).items()}
    files.update({k: v.encode() for k, v in (secret.get("stringData") or {}).items()})
    return files


def render(args):
    docs = load(args.k8s_dir)
    p = args.prefix
    names = {}  # old name -> new name, for ConfigMaps and Secrets
    secret_dirs = {}  # Secret name -> the directory holding its files
    secret_values = {}  # Secret name -> {key: bytes}
    for d in docs:
        if d["kind"] in ("ConfigMap", "Secret"):
            names[d["metadata"]["name"]] = f"{p}-{d['metadata']['name'].split('annals-', 1)[-1]}"
    out = []
    # Secrets first: the pod's volumes refer to the directories they become.
    docs.sort(key=lambda d: d["kind"] != "Secret")
    for d in docs:
        d = copy.deepcopy(d)
        d.pop("_file")
        kind = d["kind"]
        if kind == "ConfigMap":
            d["metadata"]["name"] = names[d["metadata"]["name"]]
            out.append(d)
        elif kind == "Secret":
            # podman 4.3 mishandles Secret volumes: it ignores stringData, and
            # writes each data value into the volume still base64-encoded. So
            # the Secret's files are written to --secrets-dir and mounted from
            # there (a hostPath volume) at the same path, with the same names.
            files = secret_files(d)
            for item in args.secret_file:
                key, _, path = item.partition("=")
                with open(path, "rb") as f:
                    files[key] = f.read()
            secret_values[d["metadata"]["name"]] = files
            secret_dir = os.path.join(os.path.abspath(args.secrets_dir), d["metadata"]["name"])
            os.makedirs(secret_dir, mode=0o755, exist_ok=True)
            os.chmod(secret_dir, 0o755)
            for key, value in files.items():
                path = os.path.join(secret_dir, key)
                with open(path, "wb") as f:
                    f.write(value)
                os.chmod(path, 0o644)
            secret_dirs[d["metadata"]["name"]] = secret_dir
        elif kind == "StatefulSet":
            tpl = d["spec"]["template"]
            spec = tpl["spec"]
            pod_name = f"{p}-0"
            vols = spec.setdefault("volumes", [])
            for v in vols:
                if "secret" in v:
                    path = secret_dirs[v.pop("secret")["secretName"]]
                    v["hostPath"] = {"path": path, "type": "Directory"}
                if "configMap" in v:
                    v["configMap"]["name"] = names[v["configMap"]["name"]]
            for vct in d["spec"].get("volumeClaimTemplates", []):
                claim = f"{vct['metadata']['name']}-{pod_name}"
                out.append({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                            "metadata": {"name": claim, "labels": vct["metadata"].get("labels", {})},
                            "spec": vct["spec"]})
                vols.append({"name": vct["metadata"]["name"], "persistentVolumeClaim": {"claimName": claim}})
            for c in spec["containers"]:
                c["image"] = args.image
                c["imagePullPolicy"] = "Never"
                for e in c.get("env", []):  # secretKeyRef: the value itself
                    ref = e.get("valueFrom", {}).get("secretKeyRef")
                    if ref:
                        e.pop("valueFrom")
                        e["value"] = secret_values[ref["name"]][ref["key"]].decode().strip()
                for ef in c.get("envFrom", []):
                    for ref in ("configMapRef", "secretRef"):
                        if ref in ef:
                            ef[ref]["name"] = names[ef[ref]["name"]]
                for port in c.get("ports", []):
                    port["hostIP"] = "127.0.0.1"
                    port["hostPort"] = args.port if port["containerPort"] == 7700 else args.metrics_port
            out.append({"apiVersion": "v1", "kind": "Pod",
                        "metadata": {"name": pod_name, "labels": tpl["metadata"].get("labels", {}),
                                     "annotations": tpl["metadata"].get("annotations", {})},
                        "spec": spec})
    yaml.safe_dump_all(out, sys.stdout, sort_keys=False)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("check")
    c.add_argument("k8s_dir")
    r = sub.add_parser("render")
    r.add_argument("k8s_dir")
    r.add_argument("--image", required=True)
    r.add_argument("--prefix", required=True)
    r.add_argument("--port", type=int, required=True)
    r.add_argument("--metrics-port", type=int, required=True)
    r.add_argument("--secret-file", action="append", default=[], metavar="KEY=FILE",
                   help="replace a Secret key's value with a file's contents")
    r.add_argument("--secrets-dir", required=True)
    args = ap.parse_args()
    if args.cmd == "check":
        errors = check(args.k8s_dir)
        for e in errors:
            print(f"k8s: {e}", file=sys.stderr)
        return 1 if errors else 0
    render(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
