/*
 * Bytes mean what they say (issue 13, item 2): a protobuf string may carry
 * a NUL byte that protobuf-c's unpacked C strings cannot show. Every such
 * string is refused with INVALID_ARGUMENT naming the field, so
 * "job7\0part-B" is never taken for the request id "job7" and
 * "org:csto\0-shadow" never overwrites org:csto. Built from raw bytes:
 * protobuf-c itself cannot pack such a string.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/check.h"
#include "../lib/harness.h"
#include "../lib/raw.h"

static th_server srv;

typedef struct buf {
	uint8_t b[4096];
	size_t n;
} buf;

static void put_varint(buf *o, uint64_t v)
{
	do {
		o->b[o->n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v);
}

/* A length-delimited field: strings, bytes, sub-messages. */
static void put_len(buf *o, unsigned field, const void *data, size_t len)
{
	put_varint(o, (uint64_t)field << 3 | 2);
	put_varint(o, len);
	memcpy(o->b + o->n, data, len);
	o->n += len;
}

#define S(lit) lit, sizeof(lit) - 1 /* a literal with its NULs, without the final one */

static Annals__V1__Reply *send_call_n(const char *method, size_t method_len, const buf *body, const char *rid,
                                      size_t rid_len)
{
	buf call = {0};
	put_len(&call, 1, method, method_len);
	put_len(&call, 2, body->b, body->n);
	if (rid != NULL)
		put_len(&call, 5, rid, rid_len);
	int nerr = 0;
	return raw_send(srv.url, call.b, call.n, 5000, &nerr);
}

static Annals__V1__Reply *send_call(const char *method, const buf *body, const char *rid, size_t rid_len)
{
	return send_call_n(method, strlen(method), body, rid, rid_len);
}

/* PutEntityRequest{entity: {id, type PERSON, names: [{text}]}} */
static buf put_entity(const char *id, size_t id_len, const char *name, size_t name_len)
{
	buf e = {0}, n = {0}, req = {0};
	put_len(&e, 1, id, id_len);
	put_varint(&e, 2 << 3 | 0);
	put_varint(&e, 1); /* ENTITY_TYPE_PERSON */
	if (name != NULL) {
		put_len(&n, 1, "First", 5);
		put_len(&e, 3, n.b, n.n);
		buf n2 = {0};
		put_len(&n2, 1, name, name_len);
		put_len(&e, 3, n2.b, n2.n);
	}
	put_len(&req, 1, e.b, e.n);
	return req;
}

static void expect_invalid(Annals__V1__Reply *r, const char *field, int line)
{
	if (r == NULL || r->code != ANNALS_INVALID_ARGUMENT || strstr(r->message, field) == NULL ||
	    strstr(r->message, "NUL") == NULL) {
		fprintf(stderr, "  line %d: wanted INVALID_ARGUMENT naming %s and NUL, got %s \"%s\"\n", line,
		        field, r ? annals_status_name(r->code) : "no reply", r ? r->message : "");
		check_failed_now = 1;
	}
	if (r)
		annals__v1__reply__free_unpacked(r, NULL);
}

static int get_code(const char *id)
{
	buf g = {0};
	put_len(&g, 1, id, strlen(id));
	Annals__V1__Reply *r = send_call("annals.v1.Annals/GetEntity", &g, NULL, 0);
	int code = r ? r->code : -1;
	if (r)
		annals__v1__reply__free_unpacked(r, NULL);
	return code;
}

static uint8_t *entity_bytes(const char *id, size_t *len)
{
	buf g = {0};
	put_len(&g, 1, id, strlen(id));
	Annals__V1__Reply *r = send_call("annals.v1.Annals/GetEntity", &g, NULL, 0);
	uint8_t *b = NULL;
	*len = 0;
	if (r && r->code == ANNALS_OK) {
		b = malloc(r->body.len + 1);
		memcpy(b, r->body.data, r->body.len);
		*len = r->body.len;
	}
	if (r)
		annals__v1__reply__free_unpacked(r, NULL);
	return b;
}

/* Two writes whose request ids differ only after a NUL: both refused,
 * neither applied, neither taken for the other. */
static void test_request_id_with_nul(void)
{
	buf a = put_entity(S("person:part-a"), NULL, 0), b = put_entity(S("person:part-b"), NULL, 0);
	expect_invalid(send_call("annals.v1.Annals/PutEntity", &a, S("job7\0part-A")), "envelope.request_id",
	               __LINE__);
	expect_invalid(send_call("annals.v1.Annals/PutEntity", &b, S("job7\0part-B")), "envelope.request_id",
	               __LINE__);
	CHECK_EQ_INT(get_code("person:part-a"), ANNALS_NOT_FOUND);
	CHECK_EQ_INT(get_code("person:part-b"), ANNALS_NOT_FOUND);
	/* the same write with a plain id goes through */
	Annals__V1__Reply *r = send_call("annals.v1.Annals/PutEntity", &b, S("job7-part-B"));
	CHECK(r && r->code == ANNALS_OK);
	if (r)
		annals__v1__reply__free_unpacked(r, NULL);
	CHECK_EQ_INT(get_code("person:part-b"), ANNALS_OK);
}

/* "org:csto\0-shadow" must not overwrite org:csto; a name with a NUL is
 * refused naming its place. */
static void test_ids_and_names_with_nul(void)
{
	size_t before_len, after_len;
	uint8_t *before = entity_bytes("org:csto", &before_len);
	CHECK(before != NULL);
	buf shadow = put_entity(S("org:csto\0-shadow"), S("Shadow"));
	expect_invalid(send_call("annals.v1.Annals/PutEntity", &shadow, S("nul-shadow")), "entity.id",
	               __LINE__);
	buf named = put_entity(S("person:nul-name"), S("Evil\0Name"));
	expect_invalid(send_call("annals.v1.Annals/PutEntity", &named, S("nul-name")), "entity.names[1].text",
	               __LINE__);
	CHECK_EQ_INT(get_code("person:nul-name"), ANNALS_NOT_FOUND);
	uint8_t *after = entity_bytes("org:csto", &after_len);
	CHECK(after != NULL && before_len == after_len && memcmp(before, after, before_len) == 0);
	free(before);
	free(after);
	/* a read is refused too, instead of answering for the id before the NUL */
	buf g = {0};
	put_len(&g, 1, S("org:csto\0x"));
	expect_invalid(send_call("annals.v1.Annals/GetEntity", &g, NULL, 0), "id", __LINE__);
	/* and the envelope's own strings */
	buf empty = {0};
	expect_invalid(send_call_n(S("annals.v1.Annals/Health\0x"), &empty, NULL, 0), "envelope.method",
	               __LINE__);
}

int main(void)
{
	if (th_start(&srv, NULL, NULL) != 0) {
		printf("FAIL start_server\n");
		return 1;
	}
	RUN(test_request_id_with_nul);
	RUN(test_ids_and_names_with_nul);
	CHECK_EQ_INT(th_stop(&srv), 0);
	th_cleanup(&srv);
	return CHECK_DONE();
}
