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
 */
#include <stdatomic.h>

#include "common/log.h"
#include "server/server.h"

static void conns_event(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	srv_server *s = arg;
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
	} else if (ev == NNG_PIPE_EV_REM_POST) {
		atomic_fetch_sub(&s->conns_open, 1);
	}
}

int srv_conns_watch(srv_server *s)
{
	int rv = nng_pipe_notify(s->sock, NNG_PIPE_EV_ADD_PRE, conns_event, s);
	if (rv == 0)
		rv = nng_pipe_notify(s->sock, NNG_PIPE_EV_REM_POST, conns_event, s);
	if (rv != 0)
		log_msg(LOG_ERROR, "connections", "problem=\"%s\"", nng_strerror(rv));
	return rv == 0 ? 0 : -1;
}
