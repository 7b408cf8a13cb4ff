/*
 * An example of another service using libannals: resolve a name to an
 * entity, read its timeline, and record a new event about it.
 *
 *   registry_client [URL]     (default tcp://127.0.0.1:7700)
 *
 * Exits 0 when every step worked; the tests run it against a real server.
 */
#include <stdio.h>
#include <string.h>

#include "annals/annals.h"

static int fail(const char *step, const annals_error *err)
{
	fprintf(stderr, "registry_client: %s: %s: %s\n", step, annals_status_name(err->code), err->message);
	return 1;
}

int main(int argc, char **argv)
{
	const char *url = argc > 1 ? argv[1] : "tcp://127.0.0.1:7700";
	annals_client *c;
	annals_error err;
	if (annals_open(&c, url, NULL, &err) != ANNALS_OK)
		return fail("open", &err);

	/* 1. Resolve a name another service holds as text. */
	Annals__V1__ResolveRequest rq = ANNALS__V1__RESOLVE_REQUEST__INIT;
	rq.name = "Stanislav Zas";
	Annals__V1__ResolveReply *rr;
	if (annals_resolve(c, &rq, &rr, &err) != ANNALS_OK)
		return fail("resolve", &err);
	if (rr->n_candidates != 1) {
		fprintf(stderr, "registry_client: expected one candidate, got %zu\n", rr->n_candidates);
		return 1;
	}
	char id[256];
	snprintf(id, sizeof(id), "%s", rr->candidates[0]->entity);
	annals_free(rr);
	printf("resolved: %s\n", id);

	/* 2. Read what is known about it, in time order. */
	Annals__V1__TimelineRequest tq = ANNALS__V1__TIMELINE_REQUEST__INIT;
	tq.entity = id;
	Annals__V1__TimelineReply *tl;
	if (annals_timeline(c, &tq, &tl, &err) != ANNALS_OK)
		return fail("timeline", &err);
	printf("timeline: %zu items\n", tl->n_items);
	for (size_t i = 0; i < tl->n_items && i < 5; i++)
		printf("  %s %s\n", tl->items[i]->kind, tl->items[i]->description);
	annals_free(tl);

	/* 3. Record a new event about it (the library gives the write a request id). */
	Annals__V1__Date when = ANNALS__V1__DATE__INIT;
	when.precision = ANNALS__V1__PRECISION__PRECISION_DAY;
	when.year = 2021;
	when.month = 9;
	when.day = 16;
	Annals__V1__Participant who = ANNALS__V1__PARTICIPANT__INIT;
	who.entity = id;
	who.role = "attendee";
	Annals__V1__Participant *whos[] = {&who};
	Annals__V1__Event ev = ANNALS__V1__EVENT__INIT;
	ev.id = "ev:example-registry-client";
	ev.type = "meeting";
	ev.summary = "example event written by clients/examples/registry_client";
	ev.when = &when;
	ev.status = ANNALS__V1__EVENT_STATUS__EVENT_STATUS_OCCURRED;
	ev.n_participants = 1;
	ev.participants = whos;
	Annals__V1__PutEventRequest pq = ANNALS__V1__PUT_EVENT_REQUEST__INIT;
	pq.event = &ev;
	Annals__V1__WriteReply *wr;
	if (annals_put_event(c, &pq, &wr, &err) != ANNALS_OK)
		return fail("put_event", &err);
	printf("written: %s at revision %llu%s\n", wr->id, (unsigned long long)wr->revision,
	       wr->unchanged ? " (unchanged)" : "");
	annals_free(wr);
	annals_close(c);
	return 0;
}
