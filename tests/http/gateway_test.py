#!/usr/bin/env python3
"""The HTTP/JSON gateway against a real annalsd (started by tests/cli/test_http.sh).

usage: gateway_test.py open HTTP_URL       a server without tokens (--idle-timeout-s 2,
                                           --http-max-inflight 4, --max-message 65536)
       gateway_test.py auth HTTP_URL TOKENS_FILE   a server with tokens
       gateway_test.py slow HTTP_URL       a server with --test-delay-ms 300

Standard library only. Prints "PASS name" / "FAIL name: why"; exits 1 on a failure.
"""
import http.client
import json
import socket
import sys
import threading
import time
import urllib.parse

failed = 0


def check(name, cond, why=""):
    global failed
    if cond:
        print("PASS " + name)
    else:
        failed += 1
        print("FAIL %s: %s" % (name, why))


class Gw:
    def __init__(self, url):
        u = urllib.parse.urlparse(url)
        self.host, self.port = u.hostname, u.port

    def raw(self, method, path, body=b"", headers=None, timeout=20):
        c = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, dict((k.lower(), v) for k, v in r.getheaders()), data

    def call(self, rpc, body=None, headers=None, path_suffix=""):
        h = {"Content-Type": "application/json"}
        h.update(headers or {})
        text = body if isinstance(body, (bytes, str)) else json.dumps(body or {})
        st, hd, data = self.raw("POST", "/v1/" + rpc + path_suffix, text, h)
        try:
            j = json.loads(data) if data else None
        except ValueError:
            j = None
        return st, hd, j, data


def pb_string(field, s):
    b = s.encode()
    return bytes([field << 3 | 2, len(b)]) + b


def sock_send(gw, data, wait=3.0):
    """Raw bytes on a fresh connection; what came back before it closed or `wait` passed."""
    s = socket.create_connection((gw.host, gw.port))
    s.sendall(data)
    s.settimeout(wait)
    got = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
    except socket.timeout:
        pass
    s.close()
    return got


def open_suite(gw):
    st, hd, j, _ = gw.call("Health")
    check("http: Health answers 200 with JSON", st == 200 and j and j.get("status") == "SERVING", (st, j))

    st, hd, j, _ = gw.call("GetEntity", {"id": "org:csto"})
    check("http: GetEntity in proto3 JSON", st == 200 and j["id"] == "org:csto"
          and j["type"] == "ENTITY_TYPE_ORGANIZATION", (st, j))
    check("http: 64-bit integers are JSON strings", isinstance(j.get("revision"), str), j.get("revision"))
    st2, _, j2, _ = gw.call("annals.v1.Annals/GetEntity", {"id": "org:csto"})
    check("http: the full method name routes too", st2 == 200 and j2 == j, st2)
    st, _, _, data = gw.call("GetEntity", {"id": "org:csto"}, path_suffix="?pretty")
    check("http: ?pretty indents", st == 200 and data.startswith(b"{\n  \""), data[:30])

    st, hd, data = gw.raw("POST", "/v1/GetEntity", pb_string(1, "org:csto"),
                             {"Content-Type": "application/x-protobuf"})
    check("http: a protobuf body gets a protobuf answer",
          st == 200 and hd.get("content-type") == "application/x-protobuf" and data[:1] == b"\x0a"
          and b"org:csto" in data and not data.startswith(b"{"), (st, hd.get("content-type"), data[:20]))

    st, hd, j, _ = gw.call("GetEntity", {"id": "country:nowhere"})
    check("http: NOT_FOUND is 404 with {code, message}",
          st == 404 and j["code"] == 5 and j["status"] == "NOT_FOUND" and "country:nowhere" in j["message"]
          and hd.get("annals-status") == "NOT_FOUND", (st, j))

    st, _, j, _ = gw.call("GetEntity", '{"id": "org:csto",')
    check("http: malformed JSON is 400 naming line and column",
          st == 400 and j["code"] == 3 and "1:" in j["message"], (st, j))
    st, _, j, _ = gw.call("PutEntity", {"entity": {"id": "person:x", "names": [{"text": "X", "kind": "NAME_KIND_NOPE"}]}},
                          {"Idempotency-Key": "bad-enum"})
    check("http: a bad enum is 400 naming its path",
          st == 400 and "entity.names[0].kind" in j["message"], (st, j))
    st, _, j, _ = gw.call("GetEntity", {"id": "org:csto", "colour": 1})
    check("http: an unknown field is 400 naming it", st == 400 and "colour" in j["message"], (st, j))
    st, _, j, _ = gw.call("GetEntity", '{"id": "org:csto\\u0000-shadow"}')
    check("http: a NUL inside a string is 400", st == 400 and j["code"] == 3, (st, j))
    st, _, j, _ = gw.call("Members", {"organization": "org:csto", "at": {"precision": "PRECISION_MONTH", "year": 2005, "month": 13}})
    check("http: an invalid date is 400 naming the field", st == 400 and "at" in j["message"], (st, j))
    st, _, j, _ = gw.call("GetEntity", b"\xff\xfe{}")
    check("http: bytes that are not UTF-8 JSON are 400", st == 400 and j["code"] == 3, (st, j))

    st, _, j, _ = gw.call("NoSuchMethod", {})
    check("http: an unknown method is 404 with UNIMPLEMENTED", st == 404 and j["code"] == 12
          and "NoSuchMethod" in j["message"], (st, j))
    st, hd, _ = gw.raw("GET", "/v1/Health")
    check("http: GET is 405 with Allow: POST", st == 405 and hd.get("allow") == "POST", (st, hd))
    st, _, j, _ = gw.call("Health", {}, {"Content-Type": "text/plain"})
    check("http: text/plain is refused (no cross-site simple requests)", st == 400 and "Content-Type" in j["message"], (st, j))
    st, _, _ = gw.raw("POST", "/v1/Health", b"{}", {})
    check("http: a missing Content-Type is refused", st == 400, st)
    st, _, j, _ = gw.call("Health", {}, {"Host": "annals.evil.example"})
    check("http: without tokens a non-loopback Host is 403 (DNS rebinding)", st == 403 and j["code"] == 7, (st, j))
    st, _, j, _ = gw.call("Health", {}, {"Annals-Timeout-Ms": "soon"})
    check("http: a malformed timeout header is 400 naming it", st == 400 and "Annals-Timeout-Ms" in j["message"], (st, j))

    # writes: request ids from Idempotency-Key, the same answer to a resend
    ent = {"entity": {"id": "org:gw-test", "type": "ENTITY_TYPE_ORGANIZATION",
                      "names": [{"text": "Gateway Test Org", "kind": "NAME_KIND_OFFICIAL"}]}}
    st, _, j, _ = gw.call("PutEntity", ent)
    check("http: a write without Idempotency-Key is refused as on the socket", st == 400 and "request_id" in j["message"], (st, j))
    st, _, w1, _ = gw.call("PutEntity", ent, {"Idempotency-Key": "gw-put-1"})
    ent2 = json.loads(json.dumps(ent))
    ent2["entity"]["summary"] = "changed"
    st2, _, w2, _ = gw.call("PutEntity", ent2, {"Idempotency-Key": "gw-put-1"})
    _, _, h, _ = gw.call("Health")
    check("http: Idempotency-Key is the request id: a resend gets the first answer",
          st == 200 and st2 == 200 and w1 == w2 and h["revision"] == w1["revision"], (st, w1, st2, w2, h))
    _, _, e, _ = gw.call("GetEntity", {"id": "org:gw-test"})
    check("http: the write is stored once, as first sent", e.get("summary") is None, e)

    # a long poll over HTTP sees a write made after it started
    rev = int(h["revision"])
    box = {}

    def poll():
        box["r"] = gw.call("Changes", {"since": rev, "wait_ms": 8000})
    t = threading.Thread(target=poll)
    t.start()
    time.sleep(0.5)
    gw.call("PutEntity", {"entity": {"id": "org:gw-poll", "type": "ENTITY_TYPE_ORGANIZATION"}},
            {"Idempotency-Key": "gw-poll-1"})
    t.join(10)
    st, _, j, _ = box.get("r", (0, None, None, None))
    ids = [c["id"] for cs in (j or {}).get("changes", []) for c in cs.get("changes", [])]
    check("http: a Changes long poll answers with the next write", st == 200 and "org:gw-poll" in ids, (st, j))

    # the gateway's own limits
    st, hd, _ = gw.raw("POST", "/v1/Health", b"x" * 70000, {"Content-Type": "application/json"})
    check("http: a body over --max-message is 413 and the connection closes",
          st == 413 and hd.get("connection", "").lower() == "close", (st, hd))
    got = sock_send(gw, b"POST /v1/Health HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                        b"Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n")
    check("http: a chunked body is refused and the connection closed", got.startswith(b"HTTP/1.1 400")
          and b"Transfer-Encoding" in got, got[:120])
    t0 = time.time()
    got = sock_send(gw, b"POST /v1/Health HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                        b"Content-Length: 100\r\n\r\n{\"a\"", wait=8)
    took = time.time() - t0
    # nng closes a connection whose read timed out, so no answer can be sent:
    # the peer sees the close at the deadline, as a stalled socket frame does
    check("http: a stalled body is closed at the idle deadline (--idle-timeout-s 2)",
          not got.startswith(b"HTTP/1.1 200") and 1.5 < took < 7, (round(took, 1), got[:160]))
    got = sock_send(gw, b"POST /v1/Health HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                        b"X-Big: " + b"a" * 20000 + b"\r\nContent-Length: 2\r\n\r\n{}", wait=3)
    check("http: a 20 KB header is refused (nng's 8 KiB header buffer)", not got.startswith(b"HTTP/1.1 200"), got[:80])

    # --http-max-inflight 4: 4 waiting polls hold every slot; a fifth call hears 429 at once
    polls = [threading.Thread(target=lambda: gw.call("Changes", {"since": 10 ** 6, "wait_ms": 3000})) for _ in range(4)]
    for p in polls:
        p.start()
    time.sleep(0.6)
    t0 = time.time()
    st, hd, j, _ = gw.call("Health")
    check("http: past --http-max-inflight a call gets 429 with Retry-After at once",
          st == 429 and hd.get("retry-after") == "1" and time.time() - t0 < 1, (st, j))
    for p in polls:
        p.join(10)

    # callers that hang up mid-call: nng cancels their requests; each slot
    # comes back once the server has answered (4 slots: a leak shows as 429)
    for _ in range(12):
        s = socket.create_connection((gw.host, gw.port))
        body = json.dumps({"since": 10 ** 6, "wait_ms": 1500}).encode()
        s.sendall(b"POST /v1/Changes HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                  b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        time.sleep(0.05)
        s.close()
    time.sleep(2.5)
    res = []
    polls = [threading.Thread(target=lambda: res.append(gw.call("Changes", {"since": 0, "limit": 1})[0])) for _ in range(4)]
    for p in polls:
        p.start()
    for p in polls:
        p.join(10)
    check("http: calls whose callers hung up give their slots back", res == [200] * 4, res)

    # many idle connections: the gateway still answers
    idle = [socket.create_connection((gw.host, gw.port)) for _ in range(200)]
    st, _, j, _ = gw.call("Health")
    check("http: 200 idle connections open, a call still answers", st == 200, st)
    for s in idle:
        s.close()

    # the web page is served from the same listener
    st, hd, data = gw.raw("GET", "/?entity=org:csto&at=2005")
    check("http: the page is served at / (query ignored)", st == 200 and b"<title>annals</title>" in data
          and hd.get("content-type", "").startswith("text/html"), (st, data[:60]))
    st, _, _ = gw.raw("GET", "/web/../../etc/passwd")
    check("http: no path reaches the file system", st == 404, st)
    st, _, data = gw.raw("GET", "/web/vis-timeline-graph2d.min.js")
    check("http: vis-timeline is served from the build", st == 200 and len(data) > 100000, (st, len(data)))

    st, _, j, _ = gw.call("Health")
    check("http: the server still serves after all of the above", st == 200 and j["status"] == "SERVING", st)


def auth_suite(gw, tokens_file):
    # the tokens file: "role token" per line
    tok = dict(line.split()[:2] for line in open(tokens_file) if line.strip() and not line.startswith("#"))
    reader, writer = tok["reader"], tok["writer"]
    st, hd, j, _ = gw.call("GetEntity", {"id": "org:csto"})
    check("http auth: no token is 401 with WWW-Authenticate", st == 401 and j["code"] == 16
          and "bearer" in hd.get("www-authenticate", "").lower(), (st, j))
    st, _, j, _ = gw.call("GetEntity", {"id": "org:csto"}, {"Authorization": "Bearer wrong-token"})
    check("http auth: a wrong token is 401", st == 401, (st, j))
    st, _, j, _ = gw.call("GetEntity", {"id": "org:csto"}, {"Authorization": "Basic abc"})
    check("http auth: a non-Bearer scheme is 401 naming the form", st == 401 and "Bearer" in j["message"], (st, j))
    st, _, j, _ = gw.call("GetEntity", {"id": "org:csto"}, {"Authorization": "Bearer " + reader})
    check("http auth: a reader token reads", st == 200 and j["id"] == "org:csto", st)
    put = {"entity": {"id": "org:gw-auth", "type": "ENTITY_TYPE_ORGANIZATION"}}
    st, _, j, _ = gw.call("PutEntity", put, {"Authorization": "Bearer " + reader, "Idempotency-Key": "a1"})
    check("http auth: a reader token cannot write (403)", st == 403 and j["code"] == 7, (st, j))
    st, _, j, _ = gw.call("PutEntity", put, {"Authorization": "Bearer " + writer, "Idempotency-Key": "a2"})
    check("http auth: a writer token writes", st == 200 and j["id"] == "org:gw-auth", (st, j))
    st, _, j, _ = gw.call("Health", {}, {"Host": "annals.example.org"})
    check("http auth: with tokens any Host is served (the token guards)", st == 200, (st, j))


def slow_suite(gw):
    st, hd, j, _ = gw.call("GetEntity", {"id": "org:csto"}, {"Annals-Timeout-Ms": "100"})
    check("http deadline: Annals-Timeout-Ms passed before the call started is 504",
          st == 504 and j["code"] == 4, (st, j))
    st, _, j, _ = gw.call("GetEntity", {"id": "org:csto"}, {"Grpc-Timeout": "100m"})
    check("http deadline: Grpc-Timeout works the same", st == 504 and j["code"] == 4, (st, j))
    st, _, j, _ = gw.call("GetEntity", {"id": "org:csto"}, {"Grpc-Timeout": "5S"})
    check("http deadline: a deadline that leaves time is met", st == 200, (st, j))


def main():
    mode, url = sys.argv[1], sys.argv[2]
    gw = Gw(url)
    if mode == "open":
        open_suite(gw)
    elif mode == "auth":
        auth_suite(gw, sys.argv[3])
    elif mode == "slow":
        slow_suite(gw)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
