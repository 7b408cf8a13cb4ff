/*
 * srv_conns_ — the bound on connections (--max-connections).
 *
 * Every connection costs a file descriptor and nng's per-pipe state, and a
 * peer that announces a large frame and stalls makes nng hold a buffer of
 * that size (nng 1.5.2 allocates a frame when its header arrives; that
 * cannot be changed from outside nng). Unbounded, ~20,000 idle connections
 * exhausted the descriptors and locked everyone out without a log line.
 * So pipes are counted as nng adds and removes them, and one past the
 * limit is closed at once (NNG_PIPE_EV_ADD_PRE: before it can send
 * anything), with a log line at most once a second. The memory stalled
 * frames can hold is then at most max-connections x the frame limit (two
 * times --max-message); the README states the figure for the defaults.
 *
 * And each connection has a deadline (--idle-timeout-s): a pipe that has
 * no call in flight and has completed no request or reply for that long
 * is closed by a sweep once a second. A peer that announces a frame and
 * stalls never completes a request, so its buffer is freed at the
 * deadline (and the heap trimmed after), not when it chooses to leave.
 * The table of pipes (id -> last activity, calls in flight) is an open-
 * addressing hash under one mutex, sized for max-connections at start.
 */
#include <malloc.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "common/log.h"
#include "server/server.h"

typedef struct conn_slot {
	uint32_t id; /* 0: empty */
	int busy;    /* calls in flight on this pipe */
	uint64_t last_ms;
} conn_slot;

struct srv_conns {
	pthread_mutex_t lock;
	conn_slot *slot;
	uint32_t mask;
	pthread_t sweeper;
	pthread_mutex_t slock;
	pthread_cond_t scond;
	bool stop, running;
};

static uint32_t conns_hash(uint32_t id)
{
	return id * 2654435761u;
}

static conn_slot *conns_find(srv_conns *t, uint32_t id)
{
	for (uint32_t i = conns_hash(id) & t->mask;; i = (i + 1) & t->mask) {
		if (t->slot[i].id == id)
			return &t->slot[i];
		if (t->slot[i].id == 0)
			return NULL;
	}
}

static void conns_insert(srv_conns *t, uint32_t id, uint64_t now)
{
	uint32_t i = conns_hash(id) & t->mask, probes = 0;
	while (t->slot[i].id != 0 && t->slot[i].id != id) {
		if (++probes > t->mask)
			return; /* full: cannot happen below the cap, and then the pipe has no deadline */
		i = (i + 1) & t->mask;
	}
	t->slot[i] = (conn_slot){.id = id, .busy = 0, .last_ms = now};
}

/* linear probing's backward-shift delete: no tombstones to age */
static void conns_remove(srv_conns *t, uint32_t id)
{
	conn_slot *hit = conns_find(t, id);
	if (hit == NULL)
		return;
	uint32_t i = (uint32_t)(hit - t->slot);
	t->slot[i].id = 0;
	for (uint32_t j = (i + 1) & t->mask; t->slot[j].id != 0; j = (j + 1) & t->mask) {
		uint32_t k = conns_hash(t->slot[j].id) & t->mask;
		bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
		if (stays)
			continue;
		t->slot[i] = t->slot[j];
		t->slot[j].id = 0;
		i = j;
	}
}

static void conns_event(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	srv_server *s = arg;
	/* the gateway's own pipe (gateway.c) carries every HTTP call: it is
	 * neither a peer to count nor one to close when idle */
	if (s->gw_listener > 0 && nng_listener_id(nng_pipe_listener(p)) == s->gw_listener)
		return;
	if (ev == NNG_PIPE_EV_ADD_PRE) {
		int now = atomic_fetch_add(&s->conns_open, 1) + 1;
		if (now <= s->cfg.max_connections)
			return;
		atomic_fetch_add(&s->conns_refused, 1);
		uint64_t t = srv_now_ms(), last = atomic_load(&s->conns_logged_ms);
		if (t - last >= 1000 && atomic_compare_exchange_strong(&s->conns_logged_ms, &last, t))
			log_msg(LOG_WARN, "connection_refused",
			        "open=%d limit=%d refused_total=%llu problem=\"--max-connections reached; "
			        "the new "
			        "connection is closed\"",
			        now - 1, s->cfg.max_connections,
			        (unsigned long long)atomic_load(&s->conns_refused));
		nng_pipe_close(p); /* nng then reports REM_POST, which gives the slot back */
	} else if (ev == NNG_PIPE_EV_ADD_POST) {
		if (s->conns) {
			pthread_mutex_lock(&s->conns->lock);
			conns_insert(s->conns, nng_pipe_id(p), srv_now_ms());
			pthread_mutex_unlock(&s->conns->lock);
		}
	} else if (ev == NNG_PIPE_EV_REM_POST) {
		atomic_fetch_sub(&s->conns_open, 1);
		if (s->conns) {
			pthread_mutex_lock(&s->conns->lock);
			conns_remove(s->conns, nng_pipe_id(p));
			pthread_mutex_unlock(&s->conns->lock);
		}
	}
}

/* A call arrived on its pipe (+1) or ended (-1): the pipe is active. */
static void conns_mark(srv_server *s, uint32_t id, int delta)
{
	if (s->conns == NULL || id == 0)
		return;
	pthread_mutex_lock(&s->conns->lock);
	conn_slot *c = conns_find(s->conns, id);
	if (c) {
		c->busy += delta;
		c->last_ms = srv_now_ms();
	}
	pthread_mutex_unlock(&s->conns->lock);
}

void srv_conns_call_begin(srv_worker *w)
{
	w->pipe_id = w->req ? nng_pipe_id(nng_msg_get_pipe(w->req)) : 0;
	if (w->pipe_id > 0)
		conns_mark(w->srv, (uint32_t)w->pipe_id, +1);
}

void srv_conns_call_end(srv_worker *w)
{
	if (w->pipe_id > 0)
		conns_mark(w->srv, (uint32_t)w->pipe_id, -1);
	w->pipe_id = 0;
}

/* One sweep: the ids of pipes past their deadline, closed outside the lock
 * (nng_pipe_close runs REM_POST, which takes it). */
static int conns_sweep(srv_server *s)
{
	srv_conns *t = s->conns;
	uint64_t now = srv_now_ms(), limit = (uint64_t)s->cfg.idle_timeout_s * 1000u;
	uint32_t idle[256];
	int n = 0;
	pthread_mutex_lock(&t->lock);
	for (uint32_t i = 0; i <= t->mask && n < (int)(sizeof(idle) / sizeof(idle[0])); i++)
		if (t->slot[i].id != 0 && t->slot[i].busy <= 0 && now - t->slot[i].last_ms >= limit)
			idle[n++] = t->slot[i].id;
	pthread_mutex_unlock(&t->lock);
	for (int i = 0; i < n; i++) {
		nng_pipe p;
		p.id = idle[i];
		nng_pipe_close(p);
	}
	if (n > 0) {
		atomic_fetch_add(&s->conns_idle_closed, (unsigned long long)n);
		log_msg(LOG_INFO, "connection_idle",
		        "closed=%d idle_timeout_s=%u closed_total=%llu problem=\"no complete request for "
		        "--idle-timeout-s (idle, or stalled inside a frame)\"",
		        n, s->cfg.idle_timeout_s, (unsigned long long)atomic_load(&s->conns_idle_closed));
	}
	return n;
}

static void *conns_sweeper(void *arg)
{
	srv_server *s = arg;
	srv_conns *t = s->conns;
	bool trim = false;
	pthread_mutex_lock(&t->slock);
	while (!t->stop) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		pthread_cond_timedwait(&t->scond, &t->slock, &ts);
		if (t->stop)
			break;
		pthread_mutex_unlock(&t->slock);
		/* closing a stalled pipe frees its frame buffer; the sweep after
		 * gives the heap back (nng has released them by then) */
		if (trim)
			malloc_trim(0);
		trim = conns_sweep(s) > 0;
		pthread_mutex_lock(&t->slock);
	}
	pthread_mutex_unlock(&t->slock);
	return NULL;
}

int srv_conns_start(srv_server *s)
{
	if (s->cfg.idle_timeout_s == 0)
		return 0;
	srv_conns *t = calloc(1, sizeof(*t));
	uint32_t cap = 64;
	while (cap < 2u * (uint32_t)s->cfg.max_connections + 64u)
		cap *= 2;
	if (t == NULL || (t->slot = calloc(cap, sizeof(conn_slot))) == NULL) {
		free(t);
		return -1;
	}
	t->mask = cap - 1;
	pthread_mutex_init(&t->lock, NULL);
	pthread_mutex_init(&t->slock, NULL);
	pthread_cond_init(&t->scond, NULL);
	s->conns = t;
	if (pthread_create(&t->sweeper, NULL, conns_sweeper, s) != 0) {
		log_msg(LOG_ERROR, "connections", "problem=\"cannot start the idle sweeper\"");
		return -1;
	}
	t->running = true;
	return 0;
}

void srv_conns_stop(srv_server *s)
{
	srv_conns *t = s->conns;
	if (t == NULL || !t->running)
		return;
	pthread_mutex_lock(&t->slock);
	t->stop = true;
	pthread_cond_signal(&t->scond);
	pthread_mutex_unlock(&t->slock);
	pthread_join(t->sweeper, NULL);
	t->running = false;
}

/* after the socket is closed: no pipe event can come any more */
void srv_conns_free(srv_server *s)
{
	srv_conns *t = s->conns;
	if (t == NULL)
		return;
	srv_conns_stop(s);
	s->conns = NULL;
	free(t->slot);
	pthread_mutex_destroy(&t->lock);
	pthread_mutex_destroy(&t->slock);
	pthread_cond_destroy(&t->scond);
	free(t);
}

int srv_conns_watch(srv_server *s)
{
	int rv = nng_pipe_notify(s->sock, NNG_PIPE_EV_ADD_PRE, conns_event, s);
	if (rv == 0)
		rv = nng_pipe_notify(s->sock, NNG_PIPE_EV_ADD_POST, conns_event, s);
	if (rv == 0)
		rv = nng_pipe_notify(s->sock, NNG_PIPE_EV_REM_POST, conns_event, s);
	if (rv != 0)
		log_msg(LOG_ERROR, "connections", "problem=\"%s\"", nng_strerror(rv));
	return rv == 0 ? 0 : -1;
}
