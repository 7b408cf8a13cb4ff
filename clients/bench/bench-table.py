#!/usr/bin/env python3
"""Prints the `make bench` table from the JSON lines make-bench.sh collected.

Each run is labelled part/transport/in-flight/row/rep. Figures are medians
over the reps; every ratio is taken within one rep (the service against the
echo ceiling measured minutes apart in the same invocation) and then the
median of those ratios is shown, so slow drift of a noisy machine cancels.
calls/s counts successful calls only.
"""
import argparse
import json
import os
import platform
import statistics
import sys

ROWS = [
    ("echo", "echo (transport)"),
    ("health", "Health"),
    ("get", "GetEntity"),
    ("find", "FindEntities"),
    ("events", "ListEvents"),
    ("timeline", "Timeline"),
    ("members", "Members as of"),
    ("holder", "Holder as of"),
    ("put", "PutEvent durable"),
    ("redis", "Redis SET, fsync"),  # appendfsync always; redis-benchmark, 256 B
    ("mixmembers", "mix get80 members10 put10"),
    ("mixdefault", "mix get70 find10 timeline10 put10"),
]
MIX_ROWS = ("mixmembers", "mixdefault")
NAMES = dict(ROWS)


def load(path):
    runs, infos = {}, []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line.startswith("{"):
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                continue
            if "info" in obj:
                infos.append(obj)
                continue
            part, transport, inflight, row, rep = obj["label"].split("/")
            runs[(part, transport, int(inflight), row, int(rep))] = obj
    return runs, infos


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(v, digits=0):
    if v is None:
        return "-"
    return f"{v:,.{digits}f}"


class Table:
    def __init__(self, runs):
        self.runs = runs

    def reps(self, part, t, c, row):
        return sorted(k[4] for k in self.runs if k[:4] == (part, t, c, row))

    def get(self, part, t, c, row, rep):
        return self.runs.get((part, t, c, row, rep))

    def figure(self, part, t, c, row, key):
        vals = []
        for rep in self.reps(part, t, c, row):
            r = self.get(part, t, c, row, rep)
            vals.append(r["ok_per_s"] if key == "rate" else r["latency_us"][key])
        return med(vals)

    def ratio(self, part, t, c, row, key, other=None):
        """Median over reps of row/other (other: the echo row by default)."""
        other = other or (part, t, c, "echo")
        vals = []
        for rep in self.reps(part, t, c, row):
            a, b = self.get(part, t, c, row, rep), self.get(*other, rep)
            if not a or not b:
                continue
            x = a["ok_per_s"] if key == "rate" else a["latency_us"][key]
            y = b["ok_per_s"] if key == "rate" else b["latency_us"][key]
            if y:
                vals.append(x / y)
        return med(vals)

    def failures(self, part, t, c, row):
        n = 0
        for rep in self.reps(part, t, c, row):
            r = self.get(part, t, c, row, rep)
            n += r["count"] - r["ok"]
        return n


def print_part(tab, part, title):
    keys = {k[:4] for k in tab.runs if k[0] == part}
    if not keys:
        return
    print(title)
    width = 34 if part == "mix" else 18
    print(f"  {'transport':<9} {'in flight':>9}  {'call':<{width}} {'calls/s':>10} {'p50 µs':>9} {'p99 µs':>9}"
          f"  {'÷ echo calls/s':>14} {'÷ echo p50':>10}")
    for t in ("tcp", "ipc"):
        for c in (1, 64):
            if not any((part, t, c, row) in keys for row, _ in ROWS):
                continue
            for row, name in ROWS:
                if (part, t, c, row) not in keys:
                    continue
                rate = tab.figure(part, t, c, row, "rate")
                p50 = tab.figure(part, t, c, row, "p50")
                p99 = tab.figure(part, t, c, row, "p99")
                rr = tab.ratio(part, t, c, row, "rate") if row != "echo" else None
                pr = tab.ratio(part, t, c, row, "p50") if row != "echo" else None
                bad = tab.failures(part, t, c, row)
                note = f"  ({bad} failed calls)" if bad else ""
                print(f"  {t:<9} {c:>9}  {name:<{width}} {fmt(rate):>10} {fmt(p50, 1):>9} {fmt(p99, 1):>9}"
                      f"  {fmt(rr, 2):>14} {fmt(pr, 2):>10}{note}")
            print()


def verdict(ok):
    if ok is None:
        return "not measured"
    return "met" if ok else "MISSED"


def print_targets(tab, infos):
    print("Targets (medians of per-run ratios; judged unrounded)")
    for t in ("tcp", "ipc"):
        r = tab.ratio("main", t, 64, "get", "rate")
        print(f"  GetEntity at 64 in flight, {t}: {fmt(r, 3)} x the echo ceiling (target >= 0.90): "
              f"{verdict(None if r is None else r >= 0.90)}")
    for t in ("tcp", "ipc"):
        r = tab.ratio("main", t, 1, "get", "p50")
        print(f"  GetEntity at 1 in flight, {t}: p50 {fmt(r, 3)} x the echo p50 (target <= 1.15): "
              f"{verdict(None if r is None else r <= 1.15)}")
    for t in ("tcp", "ipc"):
        r = tab.ratio("main", t, 64, "put", "rate", other=("main", t, 1, "put"))
        print(f"  PutEvent at 64 in flight, {t}: {fmt(r, 1)} x the rate at 1 in flight (target >= 15): "
              f"{verdict(None if r is None else r >= 15)}")
    for c, want in ((64, 0.6), (1, 0.4)):
        r = tab.ratio("main", "tcp", c, "put", "rate", other=("main", "tcp", c, "redis"))
        print(f"  PutEvent at {c} in flight, tcp: {fmt(r, 3)} x Redis SET with appendfsync always "
              f"(target >= {want}): {verdict(None if r is None else r >= want)}")
    for info in infos:
        if info.get("info") == "durability":
            missing = " 0 missing" in info["text"] and "older" not in info["text"]
            print(f"  acknowledged writes after kill -9 and restart ({info['part']}): {info['text']}: "
                  f"{verdict(missing)}")
    for t in ("tcp", "ipc"):
        for c in (1, 64):
            worst = None
            for row in ("members", "holder", "timeline"):
                r = tab.ratio("main", t, c, row, "rate", other=("main", t, c, "get"))
                if r is not None and (worst is None or r < worst[1]):
                    worst = (NAMES[row], r)
            if worst:
                print(f"  knowledge queries vs GetEntity, {t}, {c} in flight: slowest {worst[0]} at "
                      f"{worst[1]:.3f} x (target >= 0.80): {verdict(worst[1] >= 0.80)}")
    for c in (1, 64):
        worst = None
        for row in ("members", "holder", "timeline"):
            r = tab.ratio("uncached", "tcp", c, row, "rate", other=("uncached", "tcp", c, "get"))
            if r is not None and (worst is None or r < worst[1]):
                worst = (NAMES[row], r)
        if worst:
            print(f"  (for information) the same with the reply cache off, tcp, {c} in flight: slowest "
                  f"{worst[0]} at {worst[1]:.3f} x GetEntity")
    for row in MIX_ROWS:
        r = tab.ratio("mix", "tcp", 64, row, "rate", other=("mix", "tcp", 64, "get"))
        if r is not None:
            print(f"  {NAMES[row]}, reply cache on, tcp, 64 in flight: {r:.3f} x GetEntity of the same run "
                  f"(target >= 0.70): {verdict(r >= 0.70)}")
    for t in ("tcp", "ipc"):
        r = tab.ratio("big", t, 64, "put", "rate", other=("big", t, 1, "put"))
        if r is not None:
            print(f"  PutEvent at 64 in flight with the generated data, {t}: {r:.1f} x the rate at 1 in flight "
                  f"(target >= 15): {verdict(r >= 15)}")
    for t in ("tcp", "ipc"):
        for c in (1, 64):
            big = tab.figure("big", t, c, "get", "rate")
            small = tab.figure("main", t, c, "get", "rate")
            if big is None or not small:
                continue
            # the two parts run many minutes apart; dividing each by its own
            # echo ceiling takes out what the machine did in between
            nb, ns = tab.ratio("big", t, c, "get", "rate"), tab.ratio("main", t, c, "get", "rate")
            norm = f", {nb / ns:.2f} x with each divided by its own echo ceiling" if nb and ns else ""
            print(f"  GetEntity with the generated data, {t}, {c} in flight: {big / small:.2f} x the built-in "
                  f"figure{norm} (target >= 0.80): {verdict(big / small >= 0.80)}")
    print()


def print_infos(infos):
    for info in infos:
        kind = info.get("info")
        if kind == "memory":
            print(f"  annalsd after {info['when']}: resident {info['rss_anon_kb'] / 1024:,.0f} MiB heap (anonymous) + "
                  f"{info['rss_file_kb'] / 1024:,.0f} MiB mapped data file; data.mdb "
                  f"{info['data_bytes'] / 1e6:,.0f} MB ({info['data_kb_on_disk'] / 1024:,.0f} MiB on disk)")
        elif kind == "load":
            via = "BulkLoad" if info.get("bulk") else "Batch"
            print(f"  load: {info['entities']:,} entities + {info['events']:,} events through {via} in "
                  f"{info['seconds']:,.0f} s = {info['records_per_s']:,.0f} records/s"
                  f"{'' if info.get('ok') else ' (FAILED part way)'}")
        elif kind == "failed":
            print(f"  run {info['label']}: no result (see bench-errors.log)")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("results")
    ap.add_argument("--seconds", default="?")
    ap.add_argument("--repeat", default="?")
    ap.add_argument("--connections", default="1")
    ap.add_argument("--pinning", default="not pinned")
    a = ap.parse_args()
    runs, infos = load(a.results)
    if not runs:
        print("make-bench: no results", file=sys.stderr)
        return 1
    tab = Table(runs)
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "")
    except OSError:
        pass
    print(f"annals make bench: {os.cpu_count()} CPUs ({cpu}), Linux {platform.release()}; "
          f"{a.seconds} s per run, median of {a.repeat} run(s), {a.connections} connection(s), "
          f"{a.pinning}; calls/s counts successful calls")
    print()
    print_part(tab, "main", "Built-in data")
    print_part(tab, "mix", "Built-in data, mixed load, reply cache on (a commit retires the cached answers that read what it wrote)")
    print_part(tab, "uncached", "Built-in data, reply cache off (--reply-cache-mb 0): every answer computed")
    print_part(tab, "big", "With the generated data set loaded (annals-bench gen)")
    print_targets(tab, infos)
    if infos:
        print("Server")
        print_infos(infos)
    return 0


if __name__ == "__main__":
    sys.exit(main())
