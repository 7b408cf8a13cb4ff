#!/usr/bin/env bash
# `annals call METHOD [JSON|-|@FILE]` and `annals describe` against a real
# annalsd: any method by name with a JSON body, errors as status codes,
# and the schema as the server reports it (ServerInfo's FileDescriptorSet).
source "$(dirname "$0")/lib.sh"
start_server

json_get() { # FILE PYTHON-EXPR(d) — prints the expression over the parsed JSON
	python3 -c "import json, sys; d = json.load(open('$1')); print($2)"
}

# call by name, any spelling of the method
expect_exit 0 annals call GetEntity '{"id": "org:csto"}'
check "call GetEntity: the record as JSON" test "$(json_get "$OUT" 'd["type"]')" = ENTITY_TYPE_ORGANIZATION
expect_exit 0 annals call annals.v1.Annals/GetEntity '{"id": "org:csto"}'
check "the full method string works" out_has '"org:csto"'
expect_exit 0 annals call getentity '{"id": "org:csto"}'
check "the method name in any case" out_has '"org:csto"'
# a computed answer: the members of the CSTO in 2005 (lowerCamel names accepted)
expect_exit 0 annals call Members '{"organization": "CSTO", "at": {"precision": "PRECISION_YEAR", "year": 2005}}'
check "call Members: Uzbekistan suspended in 2005" \
	test "$(json_get "$OUT" '",".join(m["entity"] for m in d["suspended"])')" = country:uzbekistan
# no body: {}; stdin; @FILE
expect_exit 0 annals call Health
check "no body is {}: Health answers SERVING" test "$(json_get "$OUT" 'd["status"]')" = SERVING
run bash -c "echo '{\"name\": \"CST\"}' | '$ANNALS_EXE' call Resolve -"
check "- reads the body from stdin" test "$RC" -eq 0 -a "$(json_get "$OUT" 'len(d["candidates"])')" -ge 2
echo '{"id": "rel:russia.member_of.csto"}' >"$CLI_TMP/body.json"
expect_contains '"predicate": "member_of"' annals call GetRelation @"$CLI_TMP/body.json"
expect_exit 0 annals call Health --emit-defaults
check "--emit-defaults writes fields at their default" out_has '"node": ""'

# a write through call: acknowledged with a revision, and readable after
rev=$(revision)
expect_exit 0 annals call PutEntity '{"entity": {"id": "person:call-test", "type": "ENTITY_TYPE_PERSON", "names": [{"text": "Call Test", "kind": "NAME_KIND_OFFICIAL"}]}}'
check "PutEntity through call: revision +1" test "$(json_get "$OUT" 'd["revision"]')" -eq $((rev + 1))
expect_contains "Call Test" annals entity get person:call-test

# a failed call: "annals: CODE: message" on stderr, exit status = the code
expect_exit 5 annals call GetEntity '{"id": "org:nope"}'
check "NOT_FOUND on stderr as CODE: message" err_has "annals: NOT_FOUND: "
check "nothing on stdout after a failure" test ! -s "$OUT"
expect_exit 3 annals call PutEntity '{"entity": {"id": "BAD ID"}}'
check "INVALID_ARGUMENT names the field" err_has "annals: INVALID_ARGUMENT: entity.id"
expect_exit 3 annals call GetEntity '{"idd": "org:csto"}'
check "an unknown JSON key is named" err_has "idd"
expect_exit 3 annals call GetEntity '{"id": '
check "broken JSON: line and column" err_has "1:"
expect_exit 66 annals call GetEntity @"$CLI_TMP/none.json"
# an unknown method: a usage error listing close names
expect_exit 64 annals call GetEntty '{}'
check "unknown method: did you mean GetEntity" err_has "did you mean GetEntity"
expect_exit 64 annals call Frobnicate
check "unknown method without a close name" err_has "annals describe lists them"
# the global options are honoured: a token the server wants
printf 'reader reader-token-0123456789\nwriter writer-token-0123456789\n' >"$CLI_TMP/tokens"
chmod 600 "$CLI_TMP/tokens"
start_server --tokens "$CLI_TMP/tokens"
expect_exit 16 annals call GetEntity '{"id": "org:csto"}'
check "no token: UNAUTHENTICATED with the hint" err_has "ANNALS_TOKEN"
expect_exit 0 annals --token reader-token-0123456789 call GetEntity '{"id": "org:csto"}'
ANNALS_TOKEN=reader-token-0123456789 expect_exit 7 annals call DeleteEntity '{"id": "org:csto"}'
check "reader token writing: PERMISSION_DENIED" err_has "PERMISSION_DENIED"
# -o yaml for call
ANNALS_TOKEN=reader-token-0123456789 expect_exit 0 annals -o yaml call GetEntity '{"id": "org:csto"}'
check "call -o yaml parses to the same record" python3 -c "
import yaml, sys
d = yaml.safe_load(open('$OUT'))
sys.exit(not (d['id'] == 'org:csto' and d['type'] == 'ENTITY_TYPE_ORGANIZATION'))"

# describe: from the server's descriptors
export ANNALS_TOKEN=reader-token-0123456789
expect_exit 0 annals describe
check "describe: the service" out_has "service Annals {"
check "describe: a method with its messages and kind" out_has "rpc Members(MembersRequest) returns (MembersReply);  // read, cacheable"
check "describe: every method of the table" test "$(grep -c '^  rpc ' "$OUT")" -eq "$(grep -c '^	X(' "$ANNALS_ROOT/include/annals/methods.h")"
check "describe: a write is marked" out_has "rpc PutEvent(PutEventRequest) returns (WriteReply);  // write"
expect_exit 0 annals describe Members
check "describe METHOD: the request message" out_has "message MembersRequest {"
check "describe METHOD: the reply message" out_has "repeated Member suspended = 3;"
check "describe METHOD: trailing comments kept" out_has "// membership suspended on that date"
expect_exit 0 annals describe annals.v1.Annals/ServerInfo
check "describe: the new descriptors flag is there" out_has "bool descriptors = 1;"
expect_exit 0 annals describe annals.v1.Date
check "describe MESSAGE: a message in .proto syntax" out_has "message Date {"
expect_exit 0 annals describe BatchRequest
expect_exit 0 annals describe Op
check "describe: a oneof is shown as one" out_has "oneof op {"
expect_exit 0 annals describe EntityType
check "describe ENUM: values" out_has "ENTITY_TYPE_POSITION = 5;"
expect_exit 5 annals describe Nonesuch
check "describe of an unknown name: NOT_FOUND" err_has "has no method or message 'Nonesuch'"
# the raw descriptors are a FileDescriptorSet that protoc reads back
run annals call ServerInfo '{"descriptors": true}'
python3 -c "
import json, base64
d = json.load(open('$OUT'))
open('$CLI_TMP/set.bin', 'wb').write(base64.b64decode(d['file_descriptor_set']))"
if command -v protoc >/dev/null; then
	printf 'id: "org:csto"' | protoc --descriptor_set_in="$CLI_TMP/set.bin" --encode=annals.v1.GetRequest annals/v1/service.proto >"$CLI_TMP/req.bin" 2>"$ERR"
	check "protoc encodes with the server's FileDescriptorSet" test -s "$CLI_TMP/req.bin"
else
	skip "protoc reads the descriptor set" "no protoc"
fi
# plain ServerInfo stays small: no descriptors unless asked
run annals call ServerInfo
check "ServerInfo without the flag carries no descriptors" bash -c "! grep -q file_descriptor_set '$OUT'"

finish
