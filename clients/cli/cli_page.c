/*
 * cli_page — paging through the List* RPCs.
 *
 * Every List request has page_size and page_token, and every page reply
 * one repeated record field plus next_page_token: the same loop serves all
 * four record kinds (and export) by looking those fields up in the
 * descriptors instead of repeating it per type.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void *page_field_ptr(const ProtobufCMessage *m, const char *name, const ProtobufCFieldDescriptor **fd)
{
	*fd = protobuf_c_message_descriptor_get_field_by_name(m->descriptor, name);
	return *fd ? (char *)m + (*fd)->offset : NULL;
}

/* The first repeated message field: the records of the page. */
static const ProtobufCFieldDescriptor *page_items_field(const ProtobufCMessageDescriptor *d)
{
	for (unsigned i = 0; i < d->n_fields; i++)
		if (d->fields[i].label == PROTOBUF_C_LABEL_REPEATED &&
		    d->fields[i].type == PROTOBUF_C_TYPE_MESSAGE)
			return &d->fields[i];
	return NULL;
}

size_t cli_page_items(const ProtobufCMessage *page, ProtobufCMessage ***items)
{
	const ProtobufCFieldDescriptor *f = page_items_field(page->descriptor);
	if (f == NULL) {
		*items = NULL;
		return 0;
	}
	*items = *(ProtobufCMessage ***)((char *)page + f->offset);
	return *(size_t *)((char *)page + f->quantifier_offset);
}

static int page_keep(cli_pages *p, ProtobufCMessage *reply)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 8;
		ProtobufCMessage **r = realloc(p->replies, cap * sizeof(ProtobufCMessage *));
		if (r == NULL)
			return -1;
		p->replies = r;
		p->cap = cap;
	}
	p->replies[p->n++] = reply;
	return 0;
}

static void page_progress(const char *method, uint64_t got, bool done)
{
	fprintf(stderr, "\r%s: %llu records%s", method, (unsigned long long)got, done ? "\n" : "");
}

int cli_fetch_pages(cli_ctx *ctx, const char *method, ProtobufCMessage *req, uint32_t page_size,
                    uint64_t limit, cli_pages *out)
{
	const ProtobufCFieldDescriptor *fd;
	uint32_t *size = page_field_ptr(req, "page_size", &fd);
	char **token = page_field_ptr(req, "page_token", &fd);
	bool progress = limit == 0 && cli_stderr_is_tty() && !ctx->structured;
	uint64_t got = 0;
	memset(out, 0, sizeof(*out));
	for (;;) {
		*size = limit && limit - got < page_size ? (uint32_t)(limit - got) : page_size;
		ProtobufCMessage *reply;
		int rc = cli_call(ctx, method, req, &reply);
		if (rc != 0)
			return rc;
		if (page_keep(out, reply) != 0) {
			annals_free(reply);
			return cli_fail(ctx, ANNALS_RESOURCE_EXHAUSTED, "out of memory after %llu records",
			                (unsigned long long)got);
		}
		ProtobufCMessage **items;
		got += cli_page_items(reply, &items);
		char **next = page_field_ptr(reply, "next_page_token", &fd);
		out->more = next && **next;
		if (progress)
			page_progress(method, got, !out->more);
		if (!out->more || (limit && got >= limit))
			return 0;
		*token = *next; /* lives as long as the kept reply */
	}
}

ProtobufCMessage *cli_pages_merge(const cli_pages *p)
{
	if (p->n == 0)
		return NULL;
	const ProtobufCMessageDescriptor *d = p->replies[0]->descriptor;
	const ProtobufCFieldDescriptor *f = page_items_field(d);
	size_t total = 0;
	for (size_t i = 0; i < p->n; i++) {
		ProtobufCMessage **items;
		total += cli_page_items(p->replies[i], &items);
	}
	ProtobufCMessage *m = calloc(1, d->sizeof_message);
	ProtobufCMessage **all = calloc(total ? total : 1, sizeof(ProtobufCMessage *));
	if (m == NULL || all == NULL || f == NULL) {
		free(m);
		free(all);
		return NULL;
	}
	protobuf_c_message_init(d, m);
	for (size_t i = 0, k = 0; i < p->n; i++) {
		ProtobufCMessage **items;
		size_t n = cli_page_items(p->replies[i], &items);
		if (n > 0) /* an empty page may have no array at all */
			memcpy(all + k, items, n * sizeof(ProtobufCMessage *));
		k += n;
	}
	/* borrowed pointers: cli_merged_free() releases only the array */
	*(ProtobufCMessage ***)((char *)m + f->offset) = all;
	*(size_t *)((char *)m + f->quantifier_offset) = total;
	const ProtobufCFieldDescriptor *fd;
	char **next = page_field_ptr(m, "next_page_token", &fd);
	char **last = page_field_ptr(p->replies[p->n - 1], "next_page_token", &fd);
	if (next && last && p->more) /* where a caller would go on from */
		*next = *last;
	return m;
}

void cli_merged_free(ProtobufCMessage *merged)
{
	if (merged == NULL)
		return;
	const ProtobufCFieldDescriptor *f = page_items_field(merged->descriptor);
	free(*(ProtobufCMessage ***)((char *)merged + f->offset));
	free(merged);
}

void cli_pages_free(cli_pages *p)
{
	for (size_t i = 0; i < p->n; i++)
		annals_free(p->replies[i]);
	free(p->replies);
	memset(p, 0, sizeof(*p));
}
