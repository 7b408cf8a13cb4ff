#!/usr/bin/env python3
"""annals from Python with nothing but the standard library, through the
HTTP/JSON gateway (annalsd --http-listen http://127.0.0.1:7780).

Every method of the method table is POST /v1/{Method} with a proto3-JSON
body; errors come back as {"code", "status", "message"} with an HTTP status
as grpc-gateway maps them. Copy the Annals class into a service of your own.

  annals_http.py [--url URL] [--token T] get ID
  annals_http.py [--url URL] find NAME
  annals_http.py [--url URL] members ORG [--at YYYY[-MM[-DD]]]
  annals_http.py [--url URL] call METHOD [JSON]

Exit status: 0 answered, 4 NOT_FOUND, 1 any other error, 2 bad usage.
"""
import argparse
import json
import os
import sys
import urllib.error
import urllib.request
import uuid


class AnnalsError(Exception):
    def __init__(self, status, message, http_status):
        super().__init__("%s: %s" % (status, message))
        self.status, self.message, self.http_status = status, message, http_status


class Annals:
    def __init__(self, url="http://127.0.0.1:7780", token=None, timeout_ms=5000):
        self.url, self.token, self.timeout_ms = url.rstrip("/"), token, timeout_ms

    def call(self, method, body=None, request_id=None):
        """One call; writes need a request_id (a resend with it is answered once)."""
        headers = {"Content-Type": "application/json", "Annals-Timeout-Ms": str(self.timeout_ms)}
        if self.token:
            headers["Authorization"] = "Bearer " + self.token
        if request_id:
            headers["Idempotency-Key"] = request_id
        req = urllib.request.Request(self.url + "/v1/" + method, data=json.dumps(body or {}).encode(),
                                     headers=headers, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_ms / 1000 + 5) as r:
                return json.load(r)
        except urllib.error.HTTPError as e:
            try:
                j = json.load(e)
            except ValueError:
                j = {"status": "HTTP_%d" % e.code, "message": e.reason}
            raise AnnalsError(j.get("status", ""), j.get("message", ""), e.code) from None

    def put_entity(self, entity):
        return self.call("PutEntity", {"entity": entity}, request_id=str(uuid.uuid4()))


def date(text):
    parts = [int(p) for p in text.split("-")]
    d = {"year": parts[0], "precision": ["PRECISION_YEAR", "PRECISION_MONTH", "PRECISION_DAY"][len(parts) - 1]}
    if len(parts) > 1:
        d["month"] = parts[1]
    if len(parts) > 2:
        d["day"] = parts[2]
    return d


def main():
    ap = argparse.ArgumentParser(description="annals through its HTTP/JSON gateway")
    ap.add_argument("--url", default=os.environ.get("ANNALS_HTTP", "http://127.0.0.1:7780"))
    ap.add_argument("--token", default=os.environ.get("ANNALS_TOKEN"))
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("get").add_argument("id")
    sub.add_parser("find").add_argument("name")
    m = sub.add_parser("members")
    m.add_argument("org")
    m.add_argument("--at")
    c = sub.add_parser("call")
    c.add_argument("method")
    c.add_argument("json", nargs="?", default="{}")
    a = ap.parse_args()
    api = Annals(a.url, a.token)
    try:
        if a.cmd == "get":
            print(json.dumps(api.call("GetEntity", {"id": a.id}), indent=2))
        elif a.cmd == "find":
            for e in api.call("FindEntities", {"name": a.name, "prefix": True}).get("entities", []):
                print(e["id"], e["names"][0]["text"] if e.get("names") else "")
        elif a.cmd == "members":
            body = {"organization": a.org}
            if a.at:
                body["at"] = date(a.at)
            r = api.call("Members", body)
            for label, key in (("members", "members"), ("suspended", "suspended"), ("unknown", "unknown")):
                names = ", ".join(x.get("name") or x["entity"] for x in r.get(key, []))
                print("%s: %s" % (label, names or "-"))
        else:
            print(json.dumps(api.call(a.method, json.loads(a.json)), indent=2))
    except AnnalsError as e:
        print("annals: %s" % e, file=sys.stderr)
        return 4 if e.status == "NOT_FOUND" else 1
    except (OSError, ValueError) as e:
        print("annals: %s (is annalsd running with --http-listen %s?)" % (e, a.url), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
