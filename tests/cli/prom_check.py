#!/usr/bin/env python3
"""A strict reader of the Prometheus text format (0.0.4), for the tests:
promtool is not packaged for Debian 12 and python3-prometheus-client's
parser is lenient (it takes samples without HELP or TYPE).

usage: prom_check.py FILE        (exits 1 naming the first problem)
Also importable: parse(text) -> {family: {"type", "help", "samples"}}.

Rules checked: every sample belongs to a family with one HELP and one TYPE
line before its first sample; a family's lines are contiguous; names,
label names and quoted label values are well formed; values are floats;
no sample twice; counters are >= 0; each histogram series has buckets in
increasing `le` with non-decreasing counts, ending at +Inf, and _sum and
_count (equal to the +Inf bucket). A family may have no samples yet."""
import math
import re
import sys

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"'
LABEL_NC = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
SAMPLE = re.compile(r"(?P<name>%s)(?:\{(?P<labels>%s(?:,%s)*)?,?\})? (?P<value>\S+)(?: -?\d+)?$" % (NAME, LABEL_NC, LABEL_NC))
TYPES = ("counter", "gauge", "histogram", "summary", "untyped")


class Bad(Exception):
    pass


def family_of(name, families):
    for suffix in ("_bucket", "_sum", "_count"):
        base = name[: -len(suffix)]
        if name.endswith(suffix) and families.get(base, {}).get("type") in ("histogram", "summary"):
            return base
    return name


def value_of(text, line):
    if text in ("+Inf", "-Inf", "NaN"):
        return float(text.replace("Inf", "inf").replace("NaN", "nan"))
    if not re.fullmatch(r"-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", text):
        raise Bad("not a number: %r" % line)
    return float(text)


def parse(text):
    if not text.endswith("\n"):
        raise Bad("the page does not end with a newline")
    families, done, current, seen = {}, set(), None, set()
    for line in text[:-1].split("\n"):
        if line.startswith("#"):
            m = re.fullmatch(r"# (HELP|TYPE) (%s) (.*)" % NAME, line)
            if not m:
                if line.startswith("# HELP") or line.startswith("# TYPE"):
                    raise Bad("malformed: %r" % line)
                continue
            kind, name, rest = m.groups()
            fam = families.setdefault(name, {"type": None, "help": None, "samples": []})
            if name in done or fam["samples"]:
                raise Bad("%s %s after its samples: %r" % (kind, name, line))
            key = kind.lower()
            if fam[key] is not None:
                raise Bad("second %s for %s" % (kind, name))
            if kind == "TYPE" and rest not in TYPES:
                raise Bad("unknown type: %r" % line)
            if kind == "HELP" and not rest.strip():
                raise Bad("empty HELP for %s" % name)
            fam[key] = rest
            if current is not None and current != name:
                done.add(current)
            current = name
            continue
        if not line.strip():
            raise Bad("blank line in the page")
        m = SAMPLE.match(line)
        if not m:
            raise Bad("malformed sample: %r" % line)
        name, labels = m.group("name"), m.group("labels") or ""
        pairs = re.findall(LABEL, labels)
        if len({k for k, _ in pairs}) != len(pairs):
            raise Bad("a label twice: %r" % line)
        fname = family_of(name, families)
        fam = families.get(fname)
        if fam is None or fam["type"] is None or fam["help"] is None:
            raise Bad("sample without HELP and TYPE for its family %s: %r" % (fname, line))
        if fname in done or (current is not None and current != fname):
            raise Bad("family %s is not contiguous: %r" % (fname, line))
        current = fname
        key = (name, tuple(sorted(pairs)))
        if key in seen:
            raise Bad("sample twice: %r" % line)
        seen.add(key)
        value = value_of(m.group("value"), line)
        if fam["type"] == "counter" and not value >= 0:
            raise Bad("negative counter: %r" % line)
        fam["samples"].append((name, dict(pairs), value))
    for fname, fam in families.items():
        if fam["type"] is None or fam["help"] is None:
            raise Bad("family %s lacks %s" % (fname, "TYPE" if fam["type"] is None else "HELP"))
        if fam["type"] == "histogram":
            check_histogram(fname, fam["samples"])
    return families


def check_histogram(fname, samples):
    series = {}
    for name, labels, value in samples:
        rest = tuple(sorted((k, v) for k, v in labels.items() if k != "le"))
        s = series.setdefault(rest, {"buckets": [], "sum": None, "count": None})
        if name == fname + "_bucket":
            if "le" not in labels:
                raise Bad("%s bucket without le" % fname)
            s["buckets"].append((value_of(labels["le"], labels["le"]), value))
        elif name == fname + "_sum":
            s["sum"] = value
        elif name == fname + "_count":
            s["count"] = value
        else:
            raise Bad("%s: sample %s in a histogram" % (fname, name))
    for rest, s in series.items():
        b = s["buckets"]
        if not b or b[-1][0] != math.inf:
            raise Bad("%s%r: buckets do not end at +Inf" % (fname, rest))
        for (le0, c0), (le1, c1) in zip(b, b[1:]):
            if not le1 > le0 or c1 < c0:
                raise Bad("%s%r: buckets not monotonic at le=%g" % (fname, rest, le1))
        if s["sum"] is None or s["count"] is None:
            raise Bad("%s%r: _sum or _count missing" % (fname, rest))
        if s["count"] != b[-1][1]:
            raise Bad("%s%r: _count %g != +Inf bucket %g" % (fname, rest, s["count"], b[-1][1]))


if __name__ == "__main__":
    try:
        parse(open(sys.argv[1], encoding="utf-8").read())
    except Bad as e:
        print("prom_check: %s" % e, file=sys.stderr)
        sys.exit(1)
