/* rec_ — the few things that differ between the four record kinds. */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "store/store_int.h"

bool rec_kind_ok(int k)
{
	return k >= ST_ENTITY && k <= ST_DOCUMENT;
}

const ProtobufCMessageDescriptor *rec_desc(st_kind k)
{
	switch (k) {
	case ST_ENTITY:
		return &annals__v1__entity__descriptor;
	case ST_EVENT:
		return &annals__v1__event__descriptor;
	case ST_RELATION:
		return &annals__v1__relation__descriptor;
	case ST_DOCUMENT:
		return &annals__v1__document__descriptor;
	}
	assert(!"bad record kind");
	return NULL;
}

const char *rec_kind_name(st_kind k)
{
	static const char *const names[] = {"record", "entity", "event", "relation", "document"};
	return rec_kind_ok((int)k) ? names[k] : names[0];
}

enum st_dbi rec_dbi(st_kind k)
{
	assert(rec_kind_ok((int)k));
	/* DB_ENTITIES..DB_DOCUMENTS are laid out in st_kind order */
	return (enum st_dbi)(DB_ENTITIES + (int)k - ST_ENTITY);
}

const char *rec_id(const ProtobufCMessage *m)
{
	if (m->descriptor == &annals__v1__entity__descriptor)
		return ((const Annals__V1__Entity *)m)->id;
	if (m->descriptor == &annals__v1__event__descriptor)
		return ((const Annals__V1__Event *)m)->id;
	if (m->descriptor == &annals__v1__relation__descriptor)
		return ((const Annals__V1__Relation *)m)->id;
	assert(m->descriptor == &annals__v1__document__descriptor);
	return ((const Annals__V1__Document *)m)->id;
}

uint64_t *rec_revision(ProtobufCMessage *m)
{
	if (m->descriptor == &annals__v1__entity__descriptor)
		return &((Annals__V1__Entity *)m)->revision;
	if (m->descriptor == &annals__v1__event__descriptor)
		return &((Annals__V1__Event *)m)->revision;
	if (m->descriptor == &annals__v1__relation__descriptor)
		return &((Annals__V1__Relation *)m)->revision;
	assert(m->descriptor == &annals__v1__document__descriptor);
	return &((Annals__V1__Document *)m)->revision;
}

const char *rec_anchor(st_kind k, const char *id, char *buf, size_t len)
{
	/* the anchor that names it under st_anchor_date's rule */
	if (k == ST_DOCUMENT)
		snprintf(buf, len, "%s%s", strncmp(id, "doc:", 4) == 0 ? "" : "doc:", id);
	else if (k == ST_EVENT)
		snprintf(buf, len, "event:%s", id);
	else
		return NULL;
	return buf;
}

ProtobufCMessage *rec_unpack(st_kind k, const uint8_t *data, size_t len, ar_arena *a)
{
	return protobuf_c_message_unpack(rec_desc(k), ar_pbc(a), len, data);
}

uint8_t *rec_pack(const ProtobufCMessage *m, size_t *len, ar_arena *a)
{
	size_t n = protobuf_c_message_get_packed_size(m);
	uint8_t *buf = ar_alloc(a, n ? n : 1);
	size_t done = protobuf_c_message_pack(m, buf);
	assert(done == n);
	(void)done;
	*len = n;
	return buf;
}
