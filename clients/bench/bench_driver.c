/*
 * The driver: --in-flight slots, each one nng REQ context and one aio whose
 * callback is the slot's state machine:
 *
 *   issue --> SEND --(sent)--> RECV --(reply, error or timeout)--> done
 *     ^                                                             |
 *     +------------- closed loop: at once / open loop: when due ----+
 *
 * No thread per call: nng's own task threads run the callbacks, so on a
 * 2-core machine the harness adds little beside the transport itself. The
 * Call bytes come from templates packed before the run.
 *
 * Time: calls whose (intended) start lies in [t0, t0 + duration) are
 * measured, where t0 = start + warmup. Closed loop: a call is intended when
 * it is sent. Open loop (--rps R): call i is intended at start + i/R
 * whether or not a slot is free then, and its latency counts from that
 * moment, so a stalled server shows its queueing (no coordinated
 * omission).
 */
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "annals/annals.h"
#include "bench.h"

enum { SLOT_IDLE, SLOT_SEND, SLOT_RECV };

typedef struct drv drv;

typedef struct drv_slot {
	drv *d;
	nng_ctx ctx;
	nng_aio *aio;
	int state;
	bench_rng rng;
	int set;           /* the reqset of the call in flight */
	uint64_t intended; /* ns: when the call should have started */
	size_t req_len;
	bool measured;
	char rid[136]; /* request_id of the write in flight, for the --ack-log */
} drv_slot;

struct drv {
	const bench_opts *o;
	bench_reqset *sets;
	int n_sets;
	double cum[BENCH_MAX_MIX]; /* cumulative weights, normalised to 1 */
	bench_result *r;
	nng_socket *socks;
	int n_socks;
	drv_slot *slots;
	int n_slots;
	uint64_t start, t0, deadline; /* ns; deadline 0: none */
	bool open_loop;
	double period;              /* open loop: ns between intended starts */
	_Atomic uint64_t seq;       /* unique number of each write */
	_Atomic uint64_t tickets;   /* measured calls started (for -n) */
	_Atomic uint64_t completed; /* every call finished (progress) */
	_Atomic uint64_t failed;
	_Atomic uint64_t last_done; /* ns: latest end of a measured call */
	atomic_bool stopping;
	_Atomic int in_callback; /* slot callbacks running now (see drv_teardown) */
	/* idle slots; for the open loop also the schedule */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int active;      /* slots with a call in flight */
	int *free_slots; /* open loop: slots waiting for a due call */
	int n_free;
	uint64_t next_index; /* open loop: next call of the schedule */
	int ack_fd;
};

static void slot_cb(void *arg);

/* ---- choosing the next call ------------------------------------------------ */

static int drv_pick_set(drv *d, bench_rng *rng)
{
	if (d->n_sets == 1)
		return 0;
	double u = bench_rng_unit(rng);
	for (int i = 0; i < d->n_sets - 1; i++)
		if (u < d->cum[i])
			return i;
	return d->n_sets - 1;
}

/* Whether a call intended at t may start, and whether it is measured. */
static bool drv_admit(drv *d, uint64_t t, bool *measured)
{
	if (atomic_load_explicit(&d->stopping, memory_order_relaxed))
		return false;
	*measured = t >= d->t0;
	if (!*measured)
		return true;
	if (d->deadline && t >= d->deadline) {
		atomic_store(&d->stopping, true);
		return false;
	}
	if (d->o->calls && atomic_fetch_add(&d->tickets, 1) >= d->o->calls) {
		atomic_store(&d->stopping, true);
		return false;
	}
	return true;
}

/* Open loop, under d->mu: takes the next scheduled call if it is due. */
static bool drv_take_due(drv *d, uint64_t now, uint64_t *intended, bool *measured)
{
	uint64_t t = d->start + (uint64_t)((double)d->next_index * d->period);
	if (t > now || !drv_admit(d, t, measured))
		return false;
	d->next_index++;
	*intended = t;
	return true;
}

/* ---- one call ---------------------------------------------------------------- */

static void slot_record(drv_slot *s, uint64_t now, int code, const char *msg, size_t msg_len)
{
	drv *d = s->d;
	atomic_fetch_add_explicit(&d->completed, 1, memory_order_relaxed);
	if (code != ANNALS_OK)
		atomic_fetch_add_explicit(&d->failed, 1, memory_order_relaxed);
	if (!s->measured)
		return;
	bench_result *r = d->r;
	bench_hist_record(&r->hist, now - s->intended);
	atomic_fetch_add_explicit(&r->codes[code >= 0 && code < BENCH_CODES ? code : ANNALS_UNKNOWN], 1,
	                          memory_order_relaxed);
	atomic_fetch_add_explicit(&r->req_bytes, s->req_len, memory_order_relaxed);
	if (code != ANNALS_OK) {
		char text[200];
		int n = snprintf(text, sizeof(text), "%s: %.*s", annals_status_name(code), (int)msg_len,
		                 msg ? msg : "");
		bench_result_error(r, text,
		                   n < 0                       ? 0
		                   : (size_t)n >= sizeof(text) ? sizeof(text) - 1
		                                               : (size_t)n);
	}
	uint64_t last = atomic_load_explicit(&d->last_done, memory_order_relaxed);
	while (now > last && !atomic_compare_exchange_weak(&d->last_done, &last, now))
		;
}

static void slot_issue(drv_slot *s, uint64_t intended, bool measured)
{
	drv *d = s->d;
	int set = drv_pick_set(d, &s->rng);
	bench_reqset *rs = &d->sets[set];
	uint64_t key = bench_dist_draw(&rs->dist, &s->rng);
	const bench_tmpl *t = rs->key_is_variant ? &rs->tmpl[key % rs->n_tmpl]
	                                         : &rs->tmpl[rs->variant_of ? rs->variant_of(key) : 0];
	uint64_t seq = 0;
	for (int i = 0; i < t->n_patch; i++)
		if (t->patch[i].kind == BENCH_PATCH_SEQ) {
			seq = atomic_fetch_add(&d->seq, 1);
			break;
		}
	size_t len = t->len;
	if (d->o->echo && d->o->echo_size > len)
		len = d->o->echo_size; /* the padding after the Call is never parsed */
	nng_msg *m;
	s->set = set;
	s->intended = intended;
	s->measured = measured;
	s->req_len = len;
	if (nng_msg_alloc(&m, len) != 0) {
		slot_record(s, bench_now_ns(), ANNALS_RESOURCE_EXHAUSTED, "bench: out of memory", 20);
		/* give up this slot; the run goes on with the others */
		pthread_mutex_lock(&d->mu);
		if (--d->active == 0)
			pthread_cond_broadcast(&d->cv);
		pthread_mutex_unlock(&d->mu);
		return;
	}
	bench_tmpl_fill(t, nng_msg_body(m), key, seq);
	if (d->ack_fd >= 0 && bench_methods[rs->method].write) {
		const char *rid;
		size_t rid_len;
		bench_wire_string(nng_msg_body(m), t->len, 5, &rid, &rid_len); /* Call.request_id */
		snprintf(s->rid, sizeof(s->rid), "%.*s", (int)rid_len, rid);
	}
	if (len > t->len)
		memset((uint8_t *)nng_msg_body(m) + t->len, 0, len - t->len);
	s->state = SLOT_SEND;
	nng_aio_set_msg(s->aio, m);
	nng_aio_set_timeout(s->aio, (nng_duration)d->o->timeout_ms);
	nng_ctx_send(s->ctx, s->aio);
}

/* After a call: the next one, or idle. */
static void slot_next(drv_slot *s)
{
	drv *d = s->d;
	uint64_t intended;
	bool measured;
	if (!d->open_loop) {
		intended = bench_now_ns();
		if (drv_admit(d, intended, &measured)) {
			slot_issue(s, intended, measured);
			return;
		}
		s->state = SLOT_IDLE;
		pthread_mutex_lock(&d->mu);
		if (--d->active == 0)
			pthread_cond_broadcast(&d->cv);
		pthread_mutex_unlock(&d->mu);
		return;
	}
	pthread_mutex_lock(&d->mu);
	if (drv_take_due(d, bench_now_ns(), &intended, &measured)) {
		pthread_mutex_unlock(&d->mu);
		slot_issue(s, intended, measured);
		return;
	}
	s->state = SLOT_IDLE;
	d->free_slots[d->n_free++] = (int)(s - d->slots);
	d->active--;
	pthread_cond_broadcast(&d->cv); /* the pacer may be waiting for a free slot */
	pthread_mutex_unlock(&d->mu);
}

static void slot_ack(drv_slot *s, const bench_reply *rep)
{
	const char *id;
	size_t id_len;
	uint64_t revision;
	if (bench_wire_write_reply(rep->body, rep->body_len, &id, &id_len, &revision) != 0)
		return;
	/* The id and revision are the server's word that it stored the
	 * write. One write(2) per line with O_APPEND: lines stay whole and in
	 * the file even if this process is killed right after. */
	char line[400];
	int n = snprintf(line, sizeof(line), "%s %.*s %llu\n", s->rid, (int)id_len, id,
	                 (unsigned long long)revision);
	if (n > 0 && (size_t)n < sizeof(line) && write(s->d->ack_fd, line, (size_t)n) < 0)
		bench_result_error(s->d->r, "bench: writing the --ack-log failed", 36);
}

static void slot_on_reply(drv_slot *s, nng_msg *m, uint64_t now)
{
	drv *d = s->d;
	size_t len = nng_msg_len(m);
	atomic_fetch_add_explicit(&d->r->reply_bytes, s->measured ? len : 0, memory_order_relaxed);
	if (d->o->echo) {
		slot_record(s, now, ANNALS_OK, NULL, 0);
		return;
	}
	bench_reply rep;
	if (bench_wire_reply(nng_msg_body(m), len, &rep) != 0) {
		slot_record(s, now, ANNALS_INTERNAL, "bench: the reply is not an annals.v1.Reply", 42);
		return;
	}
	if (rep.code == ANNALS_OK && bench_methods[d->sets[s->set].method].write) {
		if (s->measured)
			atomic_fetch_add_explicit(&d->r->writes_acked, 1, memory_order_relaxed);
		if (d->ack_fd >= 0)
			slot_ack(s, &rep);
	}
	slot_record(s, now, rep.code, rep.message, rep.message_len);
}

static void slot_on_transport_error(drv_slot *s, int rv, uint64_t now)
{
	char text[160];
	int code = ANNALS_UNAVAILABLE;
	if (rv == NNG_ETIMEDOUT) {
		code = ANNALS_DEADLINE_EXCEEDED;
		snprintf(text, sizeof(text), "no reply within %u ms (client --timeout)", s->d->o->timeout_ms);
	} else {
		snprintf(text, sizeof(text), "transport: %s", nng_strerror(rv));
	}
	slot_record(s, now, code, text, strlen(text));
}

static void slot_step(drv_slot *s)
{
	int rv = nng_aio_result(s->aio);
	if (s->state == SLOT_SEND) {
		if (rv == 0) {
			s->state = SLOT_RECV;
			nng_ctx_recv(s->ctx, s->aio);
			return;
		}
		nng_msg_free(nng_aio_get_msg(s->aio)); /* a failed send leaves the message with us */
		if (rv == NNG_ECLOSED)
			return;
		slot_on_transport_error(s, rv, bench_now_ns());
		slot_next(s);
		return;
	}
	uint64_t now = bench_now_ns();
	if (rv == NNG_ECLOSED)
		return;
	if (rv != 0) {
		slot_on_transport_error(s, rv, now);
	} else {
		nng_msg *m = nng_aio_get_msg(s->aio);
		slot_on_reply(s, m, now);
		nng_msg_free(m);
	}
	slot_next(s);
}

/* nng may finish the receive (on another thread) and so let the run end
 * while this callback is still inside nng_ctx_recv; the count keeps
 * drv_teardown from closing the sockets under it. */
static void slot_cb(void *arg)
{
	drv_slot *s = arg;
	atomic_fetch_add(&s->d->in_callback, 1);
	slot_step(s);
	atomic_fetch_sub(&s->d->in_callback, 1);
}

/* ---- set-up and tear-down ---------------------------------------------------- */

static int drv_open_socket(drv *d, int i)
{
	const char *url = d->o->urls[i % d->o->n_urls];
	nng_socket *sock = &d->socks[i];
	nng_dialer dialer;
	int rv = nng_req0_open(sock);
	if (rv == 0)
		rv = nng_socket_set_size(*sock, NNG_OPT_RECVMAXSZ, 256u << 20);
	/* No resends: the bench measures single attempts (a lost call is a
	 * timeout), and nng 1.5's resend bookkeeping costs O(n^2) with many
	 * contexts. */
	if (rv == 0)
		rv = nng_socket_set_ms(*sock, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
	if (rv == 0)
		rv = nng_socket_set_ms(*sock, NNG_OPT_RECONNMINT, 50);
	if (rv == 0)
		rv = nng_socket_set_ms(*sock, NNG_OPT_RECONNMAXT, 1000);
	if (rv == 0)
		rv = nng_dialer_create(&dialer, *sock, url);
	if (rv != 0) {
		fprintf(stderr, "annals-bench: cannot use %s: %s (expected tcp://HOST:PORT or ipc:///PATH)\n",
		        url, nng_strerror(rv));
		return -1;
	}
	/* Connect now (blocking), so a wrong address fails here with a clear
	 * message and the first calls do not pay for the connection. */
	rv = nng_dialer_start(dialer, 0);
	if (rv != 0) {
		fprintf(stderr,
		        "annals-bench: cannot connect to %s: %s; is annalsd (or annals-bench "
		        "echo-server) listening there?\n",
		        url, nng_strerror(rv));
		return -1;
	}
	return 0;
}

static int drv_open_slot(drv *d, int i)
{
	drv_slot *s = &d->slots[i];
	s->d = d;
	s->rng.s = d->o->seed * 0x9e3779b97f4a7c15u + (uint64_t)i * 0xd1b54a32d192ed03u + 1;
	int rv = nng_ctx_open(&s->ctx, d->socks[i % d->n_socks]);
	if (rv == 0)
		rv = nng_ctx_set_ms(s->ctx, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
	if (rv == 0)
		rv = nng_aio_alloc(&s->aio, slot_cb, s);
	if (rv != 0) {
		fprintf(stderr, "annals-bench: cannot open call slot %d: %s\n", i, nng_strerror(rv));
		return -1;
	}
	return 0;
}

static int drv_setup(drv *d)
{
	double total = 0;
	for (int i = 0; i < d->n_sets; i++)
		total += d->sets[i].weight;
	double acc = 0;
	for (int i = 0; i < d->n_sets; i++) {
		acc += d->sets[i].weight / total;
		d->cum[i] = acc;
	}
	d->n_socks = d->o->connections;
	d->n_slots = d->o->in_flight;
	d->socks = calloc((size_t)d->n_socks, sizeof(*d->socks));
	d->slots = calloc((size_t)d->n_slots, sizeof(*d->slots));
	d->free_slots = calloc((size_t)d->n_slots, sizeof(int));
	if (!d->socks || !d->slots || !d->free_slots) {
		fprintf(stderr, "annals-bench: out of memory for %d slots\n", d->n_slots);
		return -1;
	}
	for (int i = 0; i < d->n_socks; i++)
		if (drv_open_socket(d, i) != 0)
			return -1;
	for (int i = 0; i < d->n_slots; i++)
		if (drv_open_slot(d, i) != 0)
			return -1;
	d->ack_fd = -1;
	if (d->o->ack_log) {
		d->ack_fd = open(d->o->ack_log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (d->ack_fd < 0) {
			perror(d->o->ack_log);
			fprintf(stderr, "annals-bench: --ack-log: cannot open it for appending\n");
			return -1;
		}
	}
	return 0;
}

static void drv_teardown(drv *d)
{
	while (atomic_load(&d->in_callback) > 0)
		bench_sleep_until_ns(bench_now_ns() + 100000u);
	/* Close the sockets first: it aborts anything still pending, whose
	 * callbacks then see NNG_ECLOSED and stop. */
	for (int i = 0; d->socks && i < d->n_socks; i++)
		nng_close(d->socks[i]);
	for (int i = 0; d->slots && i < d->n_slots; i++) {
		if (d->slots[i].aio) {
			nng_aio_stop(d->slots[i].aio);
			nng_aio_free(d->slots[i].aio);
		}
	}
	if (d->ack_fd >= 0)
		close(d->ack_fd);
	free(d->socks);
	free(d->slots);
	free(d->free_slots);
}

/* ---- the run ------------------------------------------------------------------ */

static void drv_progress(drv *d, uint64_t now, bool tty)
{
	if (!tty)
		return;
	double el = (double)(now - d->start) / 1e9;
	uint64_t n = atomic_load(&d->completed);
	fprintf(stderr, "\r  %6.1f s  %10llu calls  %9.0f/s  failed %llu%s\033[K", el, (unsigned long long)n,
	        el > 0 ? (double)n / el : 0.0, (unsigned long long)atomic_load(&d->failed),
	        now < d->t0 ? "  (warm-up)" : "");
	fflush(stderr);
}

/* Waits for d->active to reach 0, printing progress; a signal, or running
 * far past the deadline, stops the run. */
static void drv_wait_idle(drv *d, bool tty)
{
	pthread_mutex_lock(&d->mu);
	while (d->active > 0) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 250000000L;
		if (ts.tv_nsec >= 1000000000L)
			ts.tv_sec++, ts.tv_nsec -= 1000000000L;
		pthread_cond_timedwait(&d->cv, &d->mu, &ts);
		uint64_t now = bench_now_ns();
		if (atomic_load(&bench_interrupted) || (d->deadline && now >= d->deadline))
			atomic_store(&d->stopping, true);
		pthread_mutex_unlock(&d->mu);
		drv_progress(d, now, tty);
		pthread_mutex_lock(&d->mu);
	}
	pthread_mutex_unlock(&d->mu);
}

static void drv_closed_loop(drv *d, bool tty)
{
	pthread_mutex_lock(&d->mu);
	d->active = d->n_slots;
	pthread_mutex_unlock(&d->mu);
	for (int i = 0; i < d->n_slots; i++)
		slot_next(&d->slots[i]);
	drv_wait_idle(d, tty);
}

/* The pacer: starts every due call on a free slot, then sleeps until the
 * next one is due. Completions start due calls themselves, so the pacer
 * only matters while slots sit idle. */
static void drv_open_loop(drv *d, bool tty)
{
	for (int i = 0; i < d->n_slots; i++)
		d->free_slots[d->n_free++] = d->n_slots - 1 - i;
	uint64_t next_progress = d->start + 1000000000u;
	pthread_mutex_lock(&d->mu);
	for (;;) {
		uint64_t now = bench_now_ns(), intended;
		bool measured;
		if (atomic_load(&bench_interrupted))
			atomic_store(&d->stopping, true);
		while (d->n_free > 0 && drv_take_due(d, now, &intended, &measured)) {
			drv_slot *s = &d->slots[d->free_slots[--d->n_free]];
			d->active++;
			pthread_mutex_unlock(&d->mu);
			slot_issue(s, intended, measured);
			pthread_mutex_lock(&d->mu);
		}
		bool stopping = atomic_load(&d->stopping);
		if (stopping && d->active == 0)
			break;
		uint64_t due = d->start + (uint64_t)((double)d->next_index * d->period);
		if (!stopping && due <= now && d->n_free == 0) {
			/* calls are due but every slot is busy: they wait, and their
			 * latency counts from their schedule (only calls scheduled
			 * before the end of the run count) */
			uint64_t until = d->deadline && d->deadline - 1 < now ? d->deadline - 1 : now;
			uint64_t due_calls = (uint64_t)((double)(until - d->start) / d->period) + 1;
			if (d->o->calls) {
				uint64_t last =
				    (uint64_t)ceil((double)(d->t0 - d->start) / d->period) + d->o->calls;
				due_calls = due_calls < last ? due_calls : last;
			}
			uint64_t backlog = due_calls > d->next_index ? due_calls - d->next_index : 0;
			if (backlog > d->r->backlog_max)
				d->r->backlog_max = backlog;
		}
		if (now >= next_progress) {
			pthread_mutex_unlock(&d->mu);
			drv_progress(d, now, tty);
			pthread_mutex_lock(&d->mu);
			next_progress = now + 1000000000u;
		}
		if (stopping || d->n_free == 0) {
			/* a completion will signal; wake every millisecond regardless */
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 1000000L;
			if (ts.tv_nsec >= 1000000000L)
				ts.tv_sec++, ts.tv_nsec -= 1000000000L;
			pthread_cond_timedwait(&d->cv, &d->mu, &ts);
		} else if (due > now) {
			pthread_mutex_unlock(&d->mu);
			bench_sleep_until_ns(due < next_progress ? due : next_progress);
			pthread_mutex_lock(&d->mu);
		}
	}
	pthread_mutex_unlock(&d->mu);
}

int bench_drive(const bench_opts *o, bench_reqset *sets, int n_sets, bench_result *r)
{
	drv *d = calloc(1, sizeof(*d));
	if (d == NULL)
		return 1;
	d->o = o;
	d->sets = sets;
	d->n_sets = n_sets;
	d->r = r;
	pthread_mutex_init(&d->mu, NULL);
	pthread_cond_init(&d->cv, NULL);
	int rc = 1;
	if (drv_setup(d) == 0) {
		bool tty = !o->quiet && isatty(2);
		d->start = bench_now_ns();
		d->t0 = d->start + o->warmup_ns;
		d->deadline = o->duration_ns ? d->t0 + o->duration_ns : 0;
		d->open_loop = o->rps > 0;
		d->period = o->rps > 0 ? 1e9 / o->rps : 0;
		if (d->open_loop)
			drv_open_loop(d, tty);
		else
			drv_closed_loop(d, tty);
		if (tty)
			fprintf(stderr, "\r\033[K");
		r->started_ns = d->t0;
		r->finished_ns = atomic_load(&d->last_done);
		if (r->finished_ns < r->started_ns)
			r->finished_ns = r->started_ns;
		rc = 0;
	}
	drv_teardown(d);
	pthread_cond_destroy(&d->cv);
	pthread_mutex_destroy(&d->mu);
	free(d);
	return rc;
}
