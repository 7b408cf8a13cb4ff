/*
 * Long polls on the change feed. A Changes call with nothing newer parks
 * its worker here instead of holding a thread; so does a read waiting for
 * a revision this node has not reached (dispatch.c, srv_wait_try). One poller thread owns the
 * parked workers: after each commit (srv_poll_wake) it re-runs their
 * queries and answers those that now have changes; when a wait ends it
 * answers with an empty page. Only this thread touches a parked worker, so
 * wake-ups and time-outs cannot race.
 *
 * Capacity: a parked poll leaves the server's in-flight count (`inflight`,
 * bounded by --max-inflight) and counts in `polls_parked` instead, bounded
 * by --max-polls; the server opens that many contexts beyond --contexts.
 * So a flood of waiting polls (one reader token is enough to send them)
 * is refused at its own limit and never locks other calls out — not the
 * writes that would end the waits, not Health.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "annals/annals.h"
#include "common/log.h"
#include "server/server.h"
#include "knowledge/knowledge.h"
#include "store/query.h"

bool srv_poll_answer(srv_worker *w, const Annals__V1__ChangesRequest *in, bool may_wait)
{
	srv_server *s = w->srv;
	if (srv_read_begin(w) != ANNALS_OK)
		return true; /* answered with the error */
	Annals__V1__ChangesReply out = ANNALS__V1__CHANGES_REPLY__INIT;
	st_err err = {0};
	int rc = st_q_changes(w->txn, in, &w->arena, &out, &err);
	if (rc != ANNALS_OK) {
		srv_fail(w, rc, "%s", err.msg);
		return true;
	}
	bool nothing = out.n_changes == 0 && out.revision <= in->since;
	bool stopping = atomic_load(&s->draining) || atomic_load(&s->poll_stop);
	if (nothing && in->wait_ms > 0 && stopping) {
		/* no waiting on a server that is going away: follow elsewhere */
		srv_fail(w, ANNALS_UNAVAILABLE,
		         "the server is shutting down; follow again on another instance");
		return true;
	}
	if (nothing && may_wait) {
		srv_worker_read_end(w); /* never hold a snapshot while parked */
		return false;
	}
	srv_worker_reply_msg(w, &out.base);
	return true;
}

void srv_poll_park(srv_server *s, srv_worker *w, uint32_t wait_ms)
{
	pthread_mutex_lock(&s->plock);
	int parked = atomic_load(&s->polls_parked);
	if (parked >= s->cfg.max_polls) {
		pthread_mutex_unlock(&s->plock);
		srv_fail(
		    w, ANNALS_RESOURCE_EXHAUSTED,
		    "%d calls are waiting already (long polls, and reads waiting for a revision; limit %d, "
		    "--max-polls); retry later, or call without wait_ms / min_revision",
		    parked, s->cfg.max_polls);
		return;
	}
	atomic_fetch_add(&s->polls_parked, 1);
	atomic_fetch_sub(&s->inflight, 1); /* waiting is not work in flight */
	w->waited = true;
	w->poll_until_ms = srv_now_ms() + wait_ms;
	w->poll_next = s->pollers;
	s->pollers = w;
	pthread_cond_signal(&s->pcond);
	pthread_mutex_unlock(&s->plock);
}

void srv_poll_wake(srv_server *s)
{
	pthread_mutex_lock(&s->plock);
	if (s->pollers != NULL) {
		s->poll_wake = true;
		pthread_cond_signal(&s->pcond);
	}
	pthread_mutex_unlock(&s->plock);
}

/* Answers w if it has changes, its wait ended, or the server stops;
 * otherwise returns false and w stays parked. While it is being answered
 * it counts in flight again (the reply's send ends that). */
static bool poll_try_answer(srv_server *s, srv_worker *w, uint64_t now)
{
	atomic_fetch_add(&s->inflight, 1);
	bool may_wait = now < w->poll_until_ms;
	bool done = w->wait_call != NULL ? srv_wait_try(w, now) : srv_poll_answer(w, w->poll, may_wait);
	if (!done) {
		atomic_fetch_sub(&s->inflight, 1);
		return false;
	}
	atomic_fetch_sub(&s->polls_parked, 1);
	return true;
}

static uint64_t poll_earliest(srv_server *s)
{
	uint64_t t = UINT64_MAX;
	for (srv_worker *w = s->pollers; w; w = w->poll_next)
		if (w->poll_until_ms < t)
			t = w->poll_until_ms;
	return t;
}

static void poll_wait(srv_server *s, uint64_t until_ms)
{
	if (until_ms == UINT64_MAX) {
		pthread_cond_wait(&s->pcond, &s->plock);
		return;
	}
	/* pcond uses CLOCK_MONOTONIC, the clock of srv_now_ms */
	struct timespec ts = {.tv_sec = (time_t)(until_ms / 1000),
	                      .tv_nsec = (long)(until_ms % 1000) * 1000000L};
	pthread_cond_timedwait(&s->pcond, &s->plock, &ts);
}

static void *poll_main(void *arg)
{
	srv_server *s = arg;
	pthread_mutex_lock(&s->plock);
	for (;;) {
		uint64_t now = srv_now_ms();
		bool due = s->poll_wake || s->poll_stop || poll_earliest(s) <= now;
		if (!due) {
			if (s->poll_stop)
				break;
			poll_wait(s, poll_earliest(s));
			continue;
		}
		s->poll_wake = false;
		srv_worker *all = s->pollers;
		s->pollers = NULL;
		pthread_mutex_unlock(&s->plock);
		srv_worker *keep = NULL;
		while (all) {
			srv_worker *w = all;
			all = w->poll_next;
			if (!poll_try_answer(s, w, now)) {
				w->poll_next = keep;
				keep = w;
			}
		}
		pthread_mutex_lock(&s->plock);
		while (keep) { /* back on the list, with any parked meanwhile */
			srv_worker *w = keep;
			keep = w->poll_next;
			w->poll_next = s->pollers;
			s->pollers = w;
		}
		if (s->poll_stop && s->pollers == NULL)
			break;
	}
	pthread_mutex_unlock(&s->plock);
	return NULL;
}

int srv_poll_start(srv_server *s)
{
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->pcond, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&s->plock, NULL);
	if (pthread_create(&s->poll_thread, NULL, poll_main, s) != 0)
		return -1;
	s->poll_running = true;
	return 0;
}

void srv_poll_stop(srv_server *s)
{
	if (!s->poll_running)
		return;
	pthread_mutex_lock(&s->plock);
	s->poll_stop = true;
	pthread_cond_signal(&s->pcond);
	pthread_mutex_unlock(&s->plock);
	pthread_join(s->poll_thread, NULL);
	s->poll_running = false;
	pthread_mutex_destroy(&s->plock);
	pthread_cond_destroy(&s->pcond);
}
