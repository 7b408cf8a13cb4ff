#!/usr/bin/env bash
# The server's log lines, as a log shipper reads them: with --log-format
# json every line is one JSON object with one key per field (numbers as
# numbers), and plain lines are logfmt (key=value, quoted and escaped
# where needed), whatever the client's text holds (quotes, spaces, a
# newline). Also: every log_msg call in src/ has a format the logger can
# split into fields, so none falls back to an unstructured "msg".
. "$(dirname "$0")/lib.sh"

# pycheck NAME ARGS... <<'PY' — a python3 script's assertions as one check;
# a failure shows the assertion's message.
pycheck() {
	local name=$1 why
	shift
	if why=$(python3 - "$@" 2>&1); then pass "$name"; else fail "$name" "$(echo "$why" | tail -n 3)"; fi
}

# The log file of the server started last.
last_log() { echo "${CLI_PIDS[${#CLI_PIDS[@]}-1]#*:}"; }

# provoke — failed calls whose messages quote the client's text: a quote,
# spaces and a newline in an id.
provoke() {
	annals entity get 'x"y z' >/dev/null 2>&1
	annals entity get $'line\nbreak' >/dev/null 2>&1
	annals entity get org:csto >/dev/null 2>&1
}

# ---- JSON ---------------------------------------------------------------------
start_server --log-format json --debug
JSON_LOG=$(last_log)
provoke
stop_servers
pycheck "json: every line is one JSON object with ts, level and event; no msg blob" "$JSON_LOG" <<'PY'
import json, re, sys
lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
assert lines[-1] == "", "the log ends with a newline"
recs = [json.loads(l) for l in lines[:-1]]
assert recs, "no lines"
for r in recs:
    assert isinstance(r, dict), r
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", r["ts"]), r
    assert r["level"] in ("debug", "info", "warn", "error"), r
    assert isinstance(r["event"], str) and r["event"], r
    assert "msg" not in r, "a field left inside msg: %r" % r
PY
pycheck "json: start, failed calls and shutdown with their fields, typed" "$JSON_LOG" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
ev = {}
for r in recs:
    ev.setdefault(r["event"], []).append(r)
so = ev["store_open"][-1]
assert isinstance(so["path"], str) and so["path"].endswith("/db"), so
assert so["revision"] == 1 or so["revision"] == 0, so
ready = ev["ready"][0]
assert ready["version"] and isinstance(ready["version"], str), ready
for k in ("contexts", "max_message", "tokens", "reply_cache_mb"):
    assert isinstance(ready[k], int) and not isinstance(ready[k], bool), (k, ready)
assert ev["listening"][0]["url"].startswith("tcp://127.0.0.1:"), ev["listening"]
failed = ev["call_failed"]
msgs = [f["message"] for f in failed]
assert all(f["level"] == "debug" and f["method"] == "GetEntity" and f["code"] == "NOT_FOUND" for f in failed), failed
assert 'entity "x"y z" not found' in msgs, msgs
assert 'entity "line\nbreak" not found' in msgs, msgs
assert ev["stopping"][0]["signal"] == "SIGTERM", ev["stopping"]
assert ev["stopped"][0]["calls"] >= 3 and isinstance(ev["stopped"][0]["calls"], int), ev["stopped"]
assert recs[-1]["event"] == "stopped", recs[-1]
PY

# ---- plain (logfmt) -----------------------------------------------------------
start_server --debug
PLAIN_LOG=$(last_log)
provoke
stop_servers
pycheck "plain: every line is logfmt, a message with quotes and a newline round-trips" "$PLAIN_LOG" <<'PY'
import re, sys
TOKEN = re.compile(r'([a-z_][a-z0-9_]*)=("(?:[^"\\]|\\["\\nrt]|\\x[0-9a-f]{2})*"|[^\s"=\\]+)')
def unquote(v):
    if not v.startswith('"'):
        return v
    out, i, body = [], 0, v[1:-1]
    while i < len(body):
        c = body[i]
        if c == "\\":
            n = body[i + 1]
            if n == "x":
                out.append(chr(int(body[i + 2:i + 4], 16))); i += 4; continue
            out.append({"n": "\n", "r": "\r", "t": "\t"}.get(n, n)); i += 2; continue
        out.append(c); i += 1
    return "".join(out)
def parse(line):
    fields, pos = {}, 0
    while pos < len(line):
        m = TOKEN.match(line, pos)
        assert m, "not logfmt at %d: %r" % (pos, line)
        assert m.group(1) not in fields, "duplicate key %s: %r" % (m.group(1), line)
        fields[m.group(1)] = unquote(m.group(2))
        pos = m.end()
        if pos < len(line):
            assert line[pos] == " ", "fields are separated by one space: %r" % line
            pos += 1
    return fields
text = open(sys.argv[1], encoding="utf-8").read()
assert text.endswith("\n")
recs = [parse(l) for l in text[:-1].split("\n")]
for r in recs:
    assert list(r)[:3] == ["ts", "level", "event"], r
msgs = [r["message"] for r in recs if r["event"] == "call_failed"]
assert 'entity "x"y z" not found' in msgs, msgs
assert 'entity "line\nbreak" not found' in msgs, msgs
assert [r for r in recs if r["event"] == "ready"][0]["contexts"].isdigit()
assert recs[-1]["event"] == "stopped", recs[-1]
PY

# ---- the access log -----------------------------------------------------------
# Off by default; with --access-log one line per call: method, code,
# duration, bytes in and out, peer, request_id.
start_server --log-format json
NOACCESS_LOG=$(last_log)
annals entity get org:csto >/dev/null 2>&1
start_server --log-format json --access-log
ACCESS_LOG=$(last_log)
echo '{"id":"person:access-log","type":"ENTITY_TYPE_PERSON"}' >"$CLI_TMP/e.json"
annals health >/dev/null 2>&1
HEALTHS=$(grep -c '"event":"access"' "$ACCESS_LOG") # the start-up probes and this one
annals entity get org:csto >/dev/null 2>&1
annals entity get 'person:no"body' >/dev/null 2>&1
annals entity put "$CLI_TMP/e.json" >/dev/null 2>&1
stop_servers
pycheck "access log: off by default" "$NOACCESS_LOG" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
assert recs and not [r for r in recs if r["event"] == "access"], recs
PY
pycheck "access log: one line per call with method, code, duration, bytes, peer, request_id" "$ACCESS_LOG" "$HEALTHS" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
acc = [r for r in recs if r["event"] == "access"]
healths = int(sys.argv[2])
assert healths >= 1 and all(r["method"] == "Health" for r in acc[:healths]), acc[:healths]
calls = acc[healths:]
assert [(r["method"], r["code"]) for r in calls] == [
    ("GetEntity", "OK"), ("GetEntity", "NOT_FOUND"), ("PutEntity", "OK")], calls
for r in acc:
    assert r["level"] == "info", r
    assert isinstance(r["duration_ms"], (int, float)) and 0 <= r["duration_ms"] < 5000, r
    assert isinstance(r["bytes_in"], int) and r["bytes_in"] > 0, r
    assert isinstance(r["bytes_out"], int) and r["bytes_out"] > 0, r
    assert r["peer"].startswith("127.0.0.1:") and r["peer"][10:].isdigit(), r
get, missing, put = calls
assert get["bytes_out"] > 200 and missing["bytes_out"] < get["bytes_out"], (get, missing)
assert put["request_id"] and get["request_id"] and put["request_id"] != get["request_id"], (put, get)
PY

# ---- every call site ----------------------------------------------------------
# The format of each log_msg(level, "event", FORMAT, ...) in src/: adjacent
# string literals joined, PRIu64 and friends as their conversions. Each must
# be space-separated key=value fields, the value a conversion, a literal or
# "a quoted run of both", with no key twice and none of ts/level/event.
pycheck "every log_msg format in src/ is key=value fields" "$ANNALS_ROOT/src" <<'PY'
import os, re, sys
bad, seen = [], 0
FIELD = re.compile(r'[a-z_][a-z0-9_]*=("[^"]*"|[^\s"]+)')
for root, _, files in os.walk(sys.argv[1]):
    for f in files:
        if not f.endswith(".c") or f == "log.c" and root.endswith("common"):
            continue
        src = open(os.path.join(root, f), encoding="utf-8").read()
        for m in re.finditer(r"\blog_msg\(", src):
            # the call's text up to its closing parenthesis
            depth, i = 1, m.end()
            while depth:
                c = src[i]
                if c == '"':
                    i += 1
                    while src[i] != '"':
                        i += 2 if src[i] == "\\" else 1
                depth += c == "(" and 1 or c == ")" and -1 or 0
                i += 1
            call = src[m.end():i - 1]
            parts = re.findall(r'"((?:[^"\\]|\\.)*)"|\b(PRI[udx]64)\b|(,)', call)
            # skip the level and the event: the format starts after the second comma
            commas, fmt = 0, ""
            for lit, pri, comma in parts:
                if comma:
                    commas += 1
                    if commas == 3:
                        break
                elif commas == 2:
                    fmt += {"PRIu64": "lu", "PRId64": "ld", "PRIx64": "lx"}.get(pri, "") + lit.replace('\\"', '"').replace("\\\\", "\\")
            seen += 1
            keys, pos = [], 0
            while pos < len(fmt):
                fm = FIELD.match(fmt, pos)
                if not fm:
                    bad.append("%s: %r at %d" % (f, fmt, pos)); break
                keys.append(fmt[pos:fmt.index("=", pos)])
                pos = fm.end()
                if pos < len(fmt):
                    if fmt[pos] != " ":
                        bad.append("%s: %r at %d" % (f, fmt, pos)); break
                    pos += 1
            if len(set(keys)) != len(keys) or {"ts", "level", "event"} & set(keys):
                bad.append("%s: keys %r" % (f, keys))
assert seen > 50, seen
assert not bad, "\n".join(bad)
PY

finish
