/*
 * annals_follow — see include/annals/annals.h.
 *
 * The Changes RPC is the source of truth: it answers "everything after
 * revision N" in order. The PUB socket only makes delivery fast: a message
 * for exactly the next revision is delivered straight away (once all its
 * parts are in); anything else — a gap, a part missing, silence — makes
 * the follower ask Changes for what comes after the last revision it
 * delivered. A revision is delivered only if it is last + 1 (or, from
 * Changes, the next one in order), so none is missed or repeated.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nng/nng.h>
#include <nng/protocol/pubsub0/sub.h>

#include "annals/annals.h"

typedef struct follow {
	annals_client *c;
	const annals_follow_opts *o;
	annals_change_fn fn;
	void *ctx;
	uint64_t last;
	bool stopped;
	/* PUB parts of the revision last + 1 */
	Annals__V1__ChangeSet **parts;
	uint32_t n_parts, want_parts;
	uint64_t parts_rev;
} follow;

static bool follow_should_stop(follow *f)
{
	return f->stopped || (f->o->stop && *f->o->stop);
}

static void follow_deliver(follow *f, const Annals__V1__ChangeSet *cs)
{
	if (cs->revision <= f->last || follow_should_stop(f))
		return;
	if (f->fn(f->ctx, cs) != 0)
		f->stopped = true;
	f->last = cs->revision;
}

static void follow_drop_parts(follow *f)
{
	for (uint32_t i = 0; i < f->n_parts; i++)
		annals__v1__change_set__free_unpacked(f->parts[i], NULL);
	f->n_parts = 0;
	f->want_parts = 0;
	f->parts_rev = 0;
}

static void follow_sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static bool follow_retryable(int code)
{
	return code == ANNALS_UNAVAILABLE || code == ANNALS_DEADLINE_EXCEEDED ||
	       code == ANNALS_RESOURCE_EXHAUSTED || code == ANNALS_CANCELLED || code == ANNALS_INTERNAL;
}

/* One Changes call: delivers what it returns. wait_ms 0: no long poll.
 * Returns ANNALS_OK, or a code that cannot be retried. */
static int follow_fetch(follow *f, uint32_t wait_ms, annals_error *err)
{
	Annals__V1__ChangesRequest req = ANNALS__V1__CHANGES_REQUEST__INIT;
	req.since = f->last;
	req.wait_ms = wait_ms;
	req.kind = f->o->kind;
	req.id = (char *)(f->o->id ? f->o->id : "");
	req.limit = 1000;
	annals_call_opts co = {.timeout_ms = wait_ms + 5000};
	Annals__V1__ChangesReply *rep = NULL;
	int backoff = 50;
	for (;;) {
		int rc = annals_call(f->c, "Changes", &req.base, (ProtobufCMessage **)&rep, &co, err);
		if (rc == ANNALS_OK)
			break;
		if (!follow_retryable(rc) || follow_should_stop(f))
			return follow_should_stop(f) ? ANNALS_OK : rc;
		follow_sleep_ms(backoff); /* server restarting or unreachable: try again */
		backoff = backoff < 2000 ? backoff * 2 : 2000;
	}
	for (size_t i = 0; i < rep->n_changes; i++)
		follow_deliver(f, rep->changes[i]);
	/* With filters the feed skips revisions: remember how far we have looked. */
	if (rep->n_changes < req.limit && rep->revision > f->last && (f->o->kind || f->o->id))
		f->last = rep->revision;
	annals_free(rep);
	return ANNALS_OK;
}

/* Catch up until a call returns nothing new. */
static int follow_catch_up(follow *f, annals_error *err)
{
	follow_drop_parts(f);
	for (;;) {
		uint64_t before = f->last;
		int rc = follow_fetch(f, 0, err);
		if (rc != ANNALS_OK || f->last == before || follow_should_stop(f))
			return rc;
	}
}

/* A PUB message; returns true when it was delivered or already known,
 * false when the follower must catch up from Changes. */
static bool follow_on_pub(follow *f, nng_msg *m)
{
	const uint8_t *p = nng_msg_body(m);
	size_t len = nng_msg_len(m);
	const uint8_t *nul = memchr(p, 0, len);
	if (nul == NULL)
		return false;
	size_t off = (size_t)(nul - p) + 1;
	Annals__V1__ChangeSet *cs = annals__v1__change_set__unpack(NULL, len - off, p + off);
	if (cs == NULL)
		return false;
	if (cs->revision <= f->last) {
		annals__v1__change_set__free_unpacked(cs, NULL);
		return true;
	}
	/* A server with tokens publishes notifications without records (a SUB
	 * socket carries no token): read the change sets through Changes. */
	if (cs->committed_ms == 0) { /* every real change set has its commit time */
		annals__v1__change_set__free_unpacked(cs, NULL);
		return false;
	}
	if (cs->revision != f->last + 1 || (f->parts_rev && f->parts_rev != cs->revision) ||
	    cs->part != f->n_parts + 1 || cs->parts == 0) {
		annals__v1__change_set__free_unpacked(cs, NULL);
		return false; /* a gap or a lost part */
	}
	Annals__V1__ChangeSet **grown = realloc(f->parts, sizeof(*grown) * (f->n_parts + 1));
	if (grown == NULL) {
		annals__v1__change_set__free_unpacked(cs, NULL);
		return false;
	}
	f->parts = grown;
	f->parts[f->n_parts++] = cs;
	f->parts_rev = cs->revision;
	f->want_parts = cs->parts;
	if (f->n_parts < f->want_parts)
		return true;
	/* all parts in: deliver them as one change set */
	Annals__V1__Change **all = malloc(sizeof(*all) * f->n_parts);
	if (all == NULL)
		return false;
	for (uint32_t i = 0; i < f->n_parts; i++)
		all[i] = f->parts[i]->changes[0];
	Annals__V1__ChangeSet whole = *f->parts[0];
	whole.changes = all;
	whole.n_changes = f->n_parts;
	whole.part = whole.parts = 0;
	follow_deliver(f, &whole);
	free(all);
	follow_drop_parts(f);
	return true;
}

static int follow_with_pub(follow *f, annals_error *err)
{
	nng_socket sub;
	int rv = nng_sub0_open(&sub);
	if (rv == 0)
		rv = nng_socket_set(sub, NNG_OPT_SUB_SUBSCRIBE, "", 0);
	if (rv == 0)
		rv = nng_socket_set_ms(sub, NNG_OPT_RECVTIMEO, 200);
	if (rv == 0)
		rv = nng_dial(sub, f->o->publish_url, NULL, NNG_FLAG_NONBLOCK);
	if (rv != 0) {
		nng_close(sub);
		if (err) {
			err->code = ANNALS_INVALID_ARGUMENT;
			snprintf(err->message, sizeof(err->message), "publish URL %s: %s", f->o->publish_url,
			         nng_strerror(rv));
		}
		return ANNALS_INVALID_ARGUMENT;
	}
	int rc = follow_catch_up(f, err);
	int idle = 0;
	while (rc == ANNALS_OK && !follow_should_stop(f)) {
		nng_msg *m = NULL;
		rv = nng_recvmsg(sub, &m, 0);
		if (rv == 0) {
			bool ok = follow_on_pub(f, m);
			nng_msg_free(m);
			idle = 0;
			if (!ok)
				rc = follow_catch_up(f, err);
		} else if (++idle * 200 >= 1000) {
			/* quiet for a second: a dropped last message would go unnoticed */
			idle = 0;
			rc = follow_catch_up(f, err);
		}
	}
	follow_drop_parts(f);
	nng_close(sub);
	return rc;
}

int annals_follow(annals_client *c, const annals_follow_opts *o, annals_change_fn fn, void *ctx,
                  annals_error *err)
{
	follow f = {.c = c, .o = o, .fn = fn, .ctx = ctx, .last = o->since};
	int rc;
	/* PUB cannot tell a filtered-out revision from a dropped one: with
	 * filters, long polls alone are exact. */
	if (o->publish_url && o->kind == 0 && (o->id == NULL || o->id[0] == '\0')) {
		rc = follow_with_pub(&f, err);
	} else {
		uint32_t wait = o->wait_ms ? o->wait_ms : 10000;
		do
			rc = follow_fetch(&f, wait, err);
		while (rc == ANNALS_OK && !follow_should_stop(&f));
	}
	free(f.parts);
	if (rc == ANNALS_OK && err) {
		err->code = ANNALS_OK;
		err->message[0] = '\0';
	}
	return rc;
}
