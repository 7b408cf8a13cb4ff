/*
 * The live change feed: an optional nng PUB socket (--publish URL).
 *
 * After each commit the writer sends every new change as its own message:
 *   "<kind>/<id>\0" + packed ChangeSet{revision, ..., changes: [that change], part, parts}
 * so a subscriber filters with nng's prefix topics: "" for everything,
 * "entity/" for one kind, "entity/org:csto\0" (with the NUL) for one record.
 * PUB/SUB may drop messages under pressure; annals_follow() fills gaps from
 * the Changes RPC by revision, so a follower never misses or repeats one.
 *
 * A SUB socket carries no token, so with --tokens the PUB socket must not
 * hand out what only a token may read: then each message is a notification
 * only — kind, id, revision, deleted, part/parts; no record, no request id,
 * committed_ms 0 (which no real change set has, so followers can tell) —
 * and followers read the change sets through the authenticated Changes RPC
 * (annals_follow treats a notification as "there is something new"). The
 * alternative, refusing --publish unless TLS with client certificates, would
 * still give every certificate holder records its token could not read.
 * Without tokens every listener is loopback-only (addr.c), so anyone who can
 * subscribe could call Changes anyway: the records go out in full.
 */
#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/pubsub0/pub.h>

#include "annals/annals.h"
#include "common/log.h"
#include "server/server.h"

static const char *pub_kind_name(int kind)
{
	switch (kind) {
	case ST_ENTITY:
		return "entity";
	case ST_EVENT:
		return "event";
	case ST_RELATION:
		return "relation";
	case ST_DOCUMENT:
		return "document";
	default:
		return "unknown";
	}
}

int srv_publish_open(srv_server *s)
{
	if (s->cfg.publish == NULL)
		return 0;
	if (srv_addr_check(s, "--publish", s->cfg.publish) != 0)
		return -1;
	int rv = nng_pub0_open(&s->pub);
	if (rv == 0)
		rv = nng_listen(s->pub, s->cfg.publish, NULL, 0);
	if (rv != 0) {
		log_msg(LOG_ERROR, "publish", "url=%s problem=\"%s\"", s->cfg.publish, nng_strerror(rv));
		return -1;
	}
	s->pub_open = true;
	s->pub_txn = st_txn_new(s->store);
	s->pub_revision = st_revision(s->store);
	log_msg(LOG_INFO, "publishing", "url=%s", s->cfg.publish);
	return s->pub_txn ? 0 : -1;
}

static void pub_send_change(srv_server *s, const Annals__V1__ChangeSet *cs, size_t i)
{
	Annals__V1__ChangeSet one = *cs;
	Annals__V1__Change *ch = cs->changes[i];
	Annals__V1__Change note = *ch;
	Annals__V1__Change *notep = &note;
	one.n_changes = 1;
	one.changes = &cs->changes[i];
	if (s->n_tokens > 0) { /* a notification: nothing a token would guard */
		note.record_case = ANNALS__V1__CHANGE__RECORD__NOT_SET;
		one.changes = &notep;
		one.request_id = (char *)"";
		one.committed_ms = 0; /* marks a notification: every change set has its commit time */
	}
	one.part = (uint32_t)i + 1;
	one.parts = (uint32_t)cs->n_changes;
	if (s->cfg.test_drop_publish && ++s->pub_count % s->cfg.test_drop_publish == 0)
		return; /* fault injection: a dropped message, as PUB may drop under load */
	char topic[300];
	int tl = snprintf(topic, sizeof(topic), "%s/%s", pub_kind_name(ch->kind), ch->id);
	if (tl < 0 || (size_t)tl >= sizeof(topic))
		return;
	size_t len = annals__v1__change_set__get_packed_size(&one);
	nng_msg *m;
	if (nng_msg_alloc(&m, (size_t)tl + 1 + len) != 0)
		return;
	uint8_t *p = nng_msg_body(m);
	memcpy(p, topic, (size_t)tl + 1);
	annals__v1__change_set__pack(&one, p + tl + 1);
	if (nng_sendmsg(s->pub, m, NNG_FLAG_NONBLOCK) != 0)
		nng_msg_free(m);
}

static int pub_on_change(void *ctx, uint64_t revision, const uint8_t *data, size_t len)
{
	srv_server *s = ctx;
	Annals__V1__ChangeSet *cs = annals__v1__change_set__unpack(NULL, len, data);
	if (cs == NULL) {
		log_msg(LOG_ERROR, "publish", "revision=%llu problem=\"stored change set does not decode\"",
		        (unsigned long long)revision);
		return 0;
	}
	for (size_t i = 0; i < cs->n_changes; i++)
		pub_send_change(s, cs, i);
	annals__v1__change_set__free_unpacked(cs, NULL);
	s->pub_revision = revision;
	return 0;
}

/* Called by the writer after each commit: sends what is newer than the
 * last revision published. */
void srv_publish_commits(srv_server *s)
{
	if (!s->pub_open)
		return;
	if (st_txn_begin(s->pub_txn) != ANNALS_OK)
		return;
	st_scan_changes(s->pub_txn, s->pub_revision, pub_on_change, s);
	st_txn_end(s->pub_txn);
}

void srv_publish_close(srv_server *s)
{
	if (!s->pub_open)
		return;
	nng_close(s->pub);
	st_txn_free(s->pub_txn);
	s->pub_open = false;
}
