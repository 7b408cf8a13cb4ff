#!/usr/bin/env bash
# The HTTP/JSON gateway (--http-listen) against real servers: the open
# (loopback, no tokens) suite with small limits, the tokens suite, the
# deadline suite on a server that delays every call, and the Python example
# client (clients/examples/annals_http.py, standard library only).
# The checks themselves are in tests/http/gateway_test.py.
. "$(dirname "$0")/lib.sh"
GW_TEST="$ANNALS_ROOT/tests/http/gateway_test.py"

http_server() { # NAME annalsd-flags... — starts a server with a gateway; sets HTTP
	local port
	port=$(free_port)
	HTTP="http://127.0.0.1:$port"
	start_server --http-listen "$HTTP" "$@"
}

suite() { # a python suite's PASS/FAIL lines are this script's
	python3 "$GW_TEST" "$@"
	[ $? -eq 0 ] || CLI_FAILS=$((CLI_FAILS + 1))
}

http_server --idle-timeout-s 2 --http-max-inflight 4 --max-message 65536
suite open "$HTTP"

# the Python example: standard library only, through the gateway
run python3 "$ANNALS_ROOT/clients/examples/annals_http.py" --url "$HTTP" members org:csto --at 2005
if [ "$RC" -eq 0 ] && grep -q 'Armenia' "$OUT" && grep -q 'suspended: Uzbekistan' "$OUT"; then
	pass "example: annals_http.py members org:csto --at 2005"
else
	fail "example: annals_http.py members org:csto --at 2005" "exit $RC"
fi
run python3 "$ANNALS_ROOT/clients/examples/annals_http.py" --url "$HTTP" get country:nowhere
if [ "$RC" -eq 4 ] && grep -q 'NOT_FOUND' "$ERR"; then
	pass "example: a missing entity is NOT_FOUND on stderr, exit 4"
else
	fail "example: a missing entity is NOT_FOUND on stderr, exit 4" "exit $RC"
fi

tokens="$CLI_TMP/tokens"
printf 'reader reader-%s\nwriter writer-%s\n' "$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')" \
	"$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')" >"$tokens"
http_server --tokens "$tokens"
suite auth "$HTTP" "$tokens"

http_server --test-delay-ms 300
suite slow "$HTTP"

# https:// with the TLS options: a self-signed certificate for 127.0.0.1
(cd "$CLI_TMP" && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	-keyout gw.key -out gw.pem -days 2 -subj '/CN=127.0.0.1' -addext subjectAltName=IP:127.0.0.1 \
	>/dev/null 2>&1)
port=$(free_port)
start_server --tls-cert "$CLI_TMP/gw.pem" --tls-key "$CLI_TMP/gw.key" --http-listen "https://127.0.0.1:$port"
run python3 - "$port" "$CLI_TMP/gw.pem" <<'PY'
import http.client, json, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
c = http.client.HTTPSConnection("127.0.0.1", int(sys.argv[1]), context=ctx, timeout=10)
c.request("POST", "/v1/GetEntity", body='{"id":"org:csto"}', headers={"Content-Type": "application/json"})
r = c.getresponse()
print(r.status, json.loads(r.read())["id"])
PY
if [ "$RC" -eq 0 ] && grep -q '^200 org:csto' "$OUT"; then
	pass "http: https:// with --tls-cert/--tls-key answers, the certificate verified"
else
	fail "http: https:// with --tls-cert/--tls-key answers, the certificate verified" "exit $RC"
fi

# an address the loopback rule refuses without tokens
port=$(free_port)
run "$ANNALSD_EXE" --listen "tcp://127.0.0.1:$(free_port)" --data "$CLI_TMP/refused" --http-listen "http://0.0.0.0:$port"
if [ "$RC" -ne 0 ] && grep -q -- '--http-listen' "$ERR"; then
	pass "http: --http-listen on 0.0.0.0 without tokens is refused naming the flag"
else
	fail "http: --http-listen on 0.0.0.0 without tokens is refused naming the flag" "exit $RC"
fi
finish
