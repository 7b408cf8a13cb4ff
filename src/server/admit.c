/*
 * srv_admit_ — admission by bytes: the memory requests in flight may hold.
 *
 * The in-flight bound counts calls, but 64 legal 4 MB Batches are 256 MB on
 * the wire and several times that once unpacked, validated and applied: 3.4
 * GB at the peak, 2.6 GB still resident when idle. So a request larger
 * than ADMIT_SMALL is admitted only while the wire bytes of the requests in
 * flight stay within --max-inflight-bytes; past it, RESOURCE_EXHAUSTED at
 * once, naming the flag (a client backs off and retries). Small requests
 * (reads, single writes) always pass: the count bound covers them. When a
 * burst is over (nothing large in flight after more than ADMIT_TRIM_AFTER
 * was), the allocator is asked to give memory back (malloc_trim), at most
 * once a second.
 */
#include <malloc.h>

#include "annals/annals.h"
#include "server/server.h"

#define ADMIT_SMALL      (64u << 10)
#define ADMIT_TRIM_AFTER (32u << 20)

int srv_admit(srv_worker *w)
{
	srv_server *s = w->srv;
	size_t cost = nng_msg_len(w->req);
	w->admitted_bytes = 0;
	if (cost < ADMIT_SMALL)
		return 0;
	size_t now = atomic_fetch_add(&s->inflight_bytes, cost) + cost;
	if (now > s->cfg.max_inflight_bytes && now != cost) { /* one alone always fits */
		atomic_fetch_sub(&s->inflight_bytes, cost);
		srv_fail(w, ANNALS_RESOURCE_EXHAUSTED,
		         "server busy: %zu bytes of requests in flight with this one (limit %zu, "
		         "--max-inflight-bytes); retry with backoff",
		         now, s->cfg.max_inflight_bytes);
		return -1;
	}
	w->admitted_bytes = cost;
	size_t high = atomic_load(&s->inflight_bytes_high);
	while (now > high && !atomic_compare_exchange_weak(&s->inflight_bytes_high, &high, now))
		;
	return 0;
}

void srv_admit_release(srv_worker *w)
{
	srv_server *s = w->srv;
	if (w->admitted_bytes == 0)
		return;
	size_t left = atomic_fetch_sub(&s->inflight_bytes, w->admitted_bytes) - w->admitted_bytes;
	w->admitted_bytes = 0;
	if (left != 0 || atomic_load(&s->inflight_bytes_high) < ADMIT_TRIM_AFTER)
		return;
	uint64_t t = srv_now_ms(), last = atomic_load(&s->trimmed_ms);
	if (t - last < 1000 || !atomic_compare_exchange_strong(&s->trimmed_ms, &last, t))
		return;
	atomic_store(&s->inflight_bytes_high, 0);
	malloc_trim(0); /* the burst's unpacked requests went back to the heap: give it back */
}
