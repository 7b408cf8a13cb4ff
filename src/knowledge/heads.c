/*
 * kh_ — each thread's cache of decoded record heads: a stored relation
 * decoded without its evidence, or an event without what a timeline does
 * not read (what sorting and judging read), is kept, keyed by its exact
 * stored bytes, so the next question over the same record skips
 * pbw_filter and protobuf-c (about 7k instructions of a relation, 12 of
 * them in a Members answer over the built-in data).
 *
 * Why it is correct: a head is a pure function of the bytes, and an entry
 * is used only when the bytes are the same (its id and length pick the
 * slot, memcmp decides). A head is shared by every call on its thread that
 * meets those bytes, so callers do not change it where that would show:
 * kn_collect_relation and tl_visit_event judge the dates on a copy
 * (kn_span_as_stored, kn_date_as_stored), and a record whose dates resolve
 * otherwise now is decoded afresh in the call's arena. What writes into a
 * head later (kn_fact resolving its dates for the phrases) writes what
 * resolving the same bytes gives every time.
 *
 * A head's memo keeps that judgement when it cannot change: absolute dates
 * resolve by year, month and day alone, so a record whose dates are all
 * absolute is judged once for its bytes (kh_memo). A relative date depends
 * on its anchor's record and is judged again on every call.
 *
 * Lifecycle: heads live in the thread's arena until kh_release() finds it
 * over KH_BUDGET; the server calls that at the end of every call
 * (worker_call_done), when no reply being built can point into it. Nothing
 * else frees a head during a call: a slot taken over keeps the old head's
 * memory. The arena goes with its thread (a pthread key's destructor).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/hash.h"
#include "common/pbwire.h"
#include "knowledge/kn_int.h"

#define KH_SLOTS  4096       /* a power of two; direct-mapped */
#define KH_BUDGET (2u << 20) /* a thread's, between calls: ~12 nng task threads */

typedef struct kh_entry {
	const ProtobufCMessageDescriptor *desc;
	const uint8_t *bytes; /* a copy of the stored bytes, in the arena */
	size_t len;
	ProtobufCMessage *head;
	kh_memo memo;
} kh_entry;

typedef struct kh_cache {
	ar_arena a;
	kh_entry slot[KH_SLOTS];
	uint8_t *scratch; /* the filtered bytes being unpacked: protobuf-c copies what it keeps */
	size_t scratch_cap;
} kh_cache;

static pthread_key_t kh_key;
static pthread_once_t kh_once = PTHREAD_ONCE_INIT;

static void kh_destroy(void *p)
{
	kh_cache *c = p;
	ar_free(&c->a);
	free(c->scratch);
	free(c);
}

static void kh_key_init(void)
{
	if (pthread_key_create(&kh_key, kh_destroy) != 0)
		abort();
}

static kh_cache *kh_mine(bool create)
{
	pthread_once(&kh_once, kh_key_init);
	kh_cache *c = pthread_getspecific(kh_key);
	if (c == NULL && create) {
		c = calloc(1, sizeof(*c));
		if (c == NULL || pthread_setspecific(kh_key, c) != 0)
			abort();
		ar_init(&c->a);
	}
	return c;
}

ar_arena *kh_arena(void)
{
	return &kh_mine(true)->a;
}

void kh_release(void)
{
	kh_cache *c = kh_mine(false);
	if (c == NULL || c->a.total < KH_BUDGET)
		return;
	ar_reset(&c->a);
	memset(c->slot, 0, sizeof(c->slot));
}

static ProtobufCMessage *kh_head(const ProtobufCMessageDescriptor *desc, uint64_t skip, const char *id,
                                 const uint8_t *data, size_t len, kh_memo **memo)
{
	kh_cache *c = kh_mine(true);
	uint64_t h = hash_fnv1a(HASH_FNV1A_INIT, id, strlen(id));
	h = hash_fnv1a(h, &len, sizeof(len));
	kh_entry *e = &c->slot[h & (KH_SLOTS - 1)];
	if (e->head != NULL && e->desc == desc && e->len == len && memcmp(e->bytes, data, len) == 0) {
		*memo = &e->memo;
		return e->head;
	}
	if (c->scratch_cap < len + 1) {
		free(c->scratch);
		c->scratch_cap = 2 * (len + 1);
		c->scratch = malloc(c->scratch_cap);
		if (c->scratch == NULL)
			abort();
	}
	size_t n = pbw_filter(data, len, skip, c->scratch);
	ProtobufCMessage *m =
	    n == (size_t)-1 ? NULL : protobuf_c_message_unpack(desc, ar_pbc(&c->a), n, c->scratch);
	if (m == NULL)
		return NULL;
	uint8_t *copy = ar_alloc(&c->a, len ? len : 1);
	memcpy(copy, data, len);
	*e = (kh_entry){desc, copy, len, m, {0}};
	*memo = &e->memo;
	return m;
}

Annals__V1__Relation *kh_relation(const char *id, const uint8_t *data, size_t len, kh_memo **memo)
{
	/* Relation.evidence = 7 */
	return (Annals__V1__Relation *)kh_head(&annals__v1__relation__descriptor, (uint64_t)1 << 7, id, data,
	                                       len, memo);
}

Annals__V1__Event *kh_event(const char *id, const uint8_t *data, size_t len, kh_memo **memo)
{
	/* Event.place = 5, participants = 6, links = 8, attributes = 9, evidence = 10 */
	const uint64_t skip = (1u << 5) | (1u << 6) | (1u << 8) | (1u << 9) | (1u << 10);
	return (Annals__V1__Event *)kh_head(&annals__v1__event__descriptor, skip, id, data, len, memo);
}
