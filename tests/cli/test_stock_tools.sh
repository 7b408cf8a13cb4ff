#!/usr/bin/env bash
# A client that knows only the .proto files: protoc --encode/--decode for
# the messages and nngcat (Debian's nng-utils) as a stock REQ socket.
# Nothing of annals' own code is on this side of the wire.
. "$(dirname "$0")/lib.sh"
PROTO="$ANNALS_ROOT/proto"
command -v nngcat >/dev/null && command -v protoc >/dev/null || {
	fail "stock-tools-present" "nngcat (nng-utils) and protoc (protobuf-compiler) are needed"
	finish
}
start_server
T=$CLI_TMP

# call METHOD REQUEST_TYPE REQUEST_TEXT — writes the reply to $T/reply.bin
call() {
	printf '%s' "$3" | protoc -I"$PROTO" --encode="annals.v1.$2" annals/v1/service.proto >"$T/body.bin" || return 1
	local esc
	esc=$(python3 -c "import sys; print(''.join('\\\\%03o' % b for b in open(sys.argv[1], 'rb').read()))" "$T/body.bin")
	printf 'method: "annals.v1.Annals/%s"\nbody: "%s"\nrequest_id: "stock-%s"\n' "$1" "$esc" "$RANDOM$RANDOM" |
		protoc -I"$PROTO" --encode=annals.v1.Call annals/v1/rpc.proto >"$T/call.bin" || return 1
	timeout 20 nngcat --req --dial "$URL" --raw --file "$T/call.bin" --recv-timeout 10 >"$T/reply.bin"
}
# reply_text — the Reply envelope as protobuf text
reply_text() { protoc -I"$PROTO" --decode=annals.v1.Reply annals/v1/rpc.proto <"$T/reply.bin"; }
# body_text TYPE — the Reply's body decoded as annals.v1.TYPE
body_text() {
	reply_text | python3 -c '
import codecs, re, sys
m = re.search(r"^body: \"(.*)\"$", sys.stdin.read(), re.M)
sys.stdout.buffer.write(codecs.escape_decode(m.group(1))[0] if m else b"")' >"$T/rbody.bin"
	protoc -I"$PROTO" --decode="annals.v1.$1" annals/v1/service.proto <"$T/rbody.bin"
}

call GetEntity GetRequest 'id: "org:csto"'
check "stock GetEntity: OK (no code in the Reply)" bash -c "! protoc -I'$PROTO' --decode=annals.v1.Reply annals/v1/rpc.proto <'$T/reply.bin' | grep -q '^code:'"
body_text Entity >"$T/entity.txt"
check "stock GetEntity: body is the CSTO entity" grep -q 'id: "org:csto"' "$T/entity.txt"
check "stock GetEntity: names come back" grep -q 'text: "CSTO"' "$T/entity.txt"

call Members MembersRequest 'organization: "org:csto" at { precision: PRECISION_YEAR year: 2005 }'
body_text MembersReply >"$T/members.txt"
check "stock Members 2005: Russia a member" grep -q 'entity: "country:russia"' "$T/members.txt"
check "stock Members 2005: Uzbekistan suspended" bash -c "awk '/^suspended/,0' '$T/members.txt' | grep -q country:uzbekistan"

call NoSuchMethod GetRequest 'id: "x"'
check "stock unknown method: UNIMPLEMENTED (12)" bash -c "protoc -I'$PROTO' --decode=annals.v1.Reply annals/v1/rpc.proto <'$T/reply.bin' | grep -q '^code: 12'"

call GetEntity GetRequest 'id: "person:nobody"'
check "stock unknown id: NOT_FOUND (5)" bash -c "protoc -I'$PROTO' --decode=annals.v1.Reply annals/v1/rpc.proto <'$T/reply.bin' | grep -q '^code: 5'"

call PutEvent PutEventRequest 'event { id: "ev:stock" type: "meeting" when { precision: PRECISION_MONTH year: 2019 month: 13 } }'
reply_text >"$T/bad.txt"
check "stock invalid date: INVALID_ARGUMENT (3)" grep -q '^code: 3' "$T/bad.txt"
check "stock invalid date: message names the field" grep -q 'event.when.month' "$T/bad.txt"

call PutEvent PutEventRequest 'event { id: "ev:stock" type: "meeting" when { precision: PRECISION_MONTH year: 2019 month: 5 } }'
check "stock PutEvent: OK" bash -c "! protoc -I'$PROTO' --decode=annals.v1.Reply annals/v1/rpc.proto <'$T/reply.bin' | grep -q '^code:'"
expect_contains "ev:stock" annals event get ev:stock

# bytes that are not a Call at all
printf '\377\377\377\377' >"$T/junk.bin"
timeout 20 nngcat --req --dial "$URL" --raw --file "$T/junk.bin" --recv-timeout 10 >"$T/reply.bin"
check "stock junk envelope: INVALID_ARGUMENT (3)" bash -c "protoc -I'$PROTO' --decode=annals.v1.Reply annals/v1/rpc.proto <'$T/reply.bin' | grep -q '^code: 3'"
expect_contains "SERVING" annals health
finish
