/*
 * st_walk — visits every sub-message of one type, at any depth, by
 * descriptor. Dates and Evidence sit at many places in a record (names,
 * attributes, intervals, bounds); walking by descriptor finds them all,
 * including fields added to the proto later, where a hand-written walk
 * would silently miss them.
 */
#include <stdint.h>

#include "store/store_int.h"

static bool walk_present(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	if (!(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
		return true;
	return *(const uint32_t *)((const char *)m + f->quantifier_offset) == f->id;
}

static void walk_one(ProtobufCMessage *sub, const ProtobufCMessageDescriptor *want, st_walk_fn fn, void *ctx)
{
	if (sub == NULL)
		return;
	if (sub->descriptor == want)
		fn(ctx, sub); /* targets are leaves for our purposes: no recursion into them */
	else
		st_walk(sub, want, fn, ctx);
}

void st_walk(ProtobufCMessage *m, const ProtobufCMessageDescriptor *want, st_walk_fn fn, void *ctx)
{
	if (m == NULL)
		return;
	const ProtobufCMessageDescriptor *d = m->descriptor;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		if (f->type != PROTOBUF_C_TYPE_MESSAGE || !walk_present(m, f))
			continue;
		char *member = (char *)m + f->offset;
		if (f->label != PROTOBUF_C_LABEL_REPEATED) {
			walk_one(*(ProtobufCMessage **)member, want, fn, ctx);
			continue;
		}
		size_t n = *(const size_t *)((const char *)m + f->quantifier_offset);
		ProtobufCMessage **items = *(ProtobufCMessage ***)member;
		for (size_t k = 0; k < n; k++)
			walk_one(items[k], want, fn, ctx);
	}
}
