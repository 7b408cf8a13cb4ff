/*
 * The writer: the one seam through which every change enters the store.
 *
 * Workers park their writes on a bounded queue; one thread takes
 * everything queued, applies it in one LMDB transaction and commits once
 * (one fsync for the whole group), then hands the answers to nng's task
 * threads (answer.c) and takes the next group. While a commit
 * runs, new writes pile up and go into the next group, so durable write
 * throughput grows with concurrency (group commit). A write is answered only
 * after its commit returned.
 */
#include <stdlib.h>
#include <string.h>

#include "annals/annals.h"
#include "common/log.h"
#include "server/server.h"

#define WRITER_GROUP_MAX 1024

int srv_writer_submit(srv_server *s, srv_worker *w)
{
	pthread_mutex_lock(&s->wlock);
	if (s->wstop || s->wq_len >= s->wq_cap) {
		bool stopping = s->wstop;
		pthread_mutex_unlock(&s->wlock);
		if (stopping)
			srv_fail(w, ANNALS_UNAVAILABLE,
			         "the server is shutting down; retry on another instance");
		else
			srv_fail(w, ANNALS_RESOURCE_EXHAUSTED,
			         "%d writes are already queued; retry later with backoff", s->wq_cap);
		return -1;
	}
	s->wqueue[(s->wq_head + s->wq_len) % s->wq_cap] = w;
	s->wq_len++;
	atomic_store(&s->writes_queued, s->wq_len);
	/* Wake the writer only when it sleeps, and after unlocking: a writer
	 * woken inside the lock would preempt us only to wait for the lock. */
	bool wake = s->wwaiting;
	s->wwaiting = false;
	pthread_mutex_unlock(&s->wlock);
	if (wake)
		pthread_cond_signal(&s->wcond);
	return 0;
}

/* Takes up to max queued writes; blocks while there are none. Returns 0
 * when stopping with an empty queue. */
static int writer_take(srv_server *s, srv_worker **group, int max)
{
	pthread_mutex_lock(&s->wlock);
	while (s->wq_len == 0 && !s->wstop) {
		s->wwaiting = true;
		pthread_cond_wait(&s->wcond, &s->wlock);
	}
	s->wwaiting = false;
	int n = 0;
	while (s->wq_len > 0 && n < max) {
		group[n++] = s->wqueue[s->wq_head];
		s->wq_head = (s->wq_head + 1) % s->wq_cap;
		s->wq_len--;
	}
	atomic_store(&s->writes_queued, s->wq_len);
	pthread_mutex_unlock(&s->wlock);
	return n;
}

static void writer_run_group(srv_server *s, srv_worker **group, int n)
{
	st_write *writes[WRITER_GROUP_MAX];
	/* A write whose deadline passed while it was queued is not applied —
	 * but the store decides that after its request-log lookup, so a resend
	 * of a write already applied gets the first answer, whatever its
	 * deadline (st_write.expired). */
	uint64_t now = srv_now_ms();
	int live = n;
	for (int i = 0; i < n; i++)
		group[i]->write.expired = group[i]->deadline_ms && now >= group[i]->deadline_ms;
	/* st_apply takes a contiguous array; copy in and out (a few hundred
	 * bytes each, negligible against an fsync). */
	st_write *batch = malloc(sizeof(st_write) * (size_t)live);
	if (batch == NULL) {
		for (int i = 0; i < live; i++)
			srv_fail(group[i], ANNALS_RESOURCE_EXHAUSTED, "out of memory in the writer");
		return;
	}
	for (int i = 0; i < live; i++) {
		batch[i] = group[i]->write;
		writes[i] = &group[i]->write;
	}
	int rc = st_apply(s->store, batch, (size_t)live);
	if (rc == ANNALS_OK)
		mx_record_commit(&s->mx, (unsigned)live, st_last_commit_us(s->store));
	if (rc != ANNALS_OK)
		log_msg(LOG_ERROR, "commit_failed", "writes=%d code=%s message=\"%s\"", live,
		        annals_status_name(rc), batch[0].msg);
	for (int i = 0; i < live; i++)
		*writes[i] = batch[i];
	free(batch);
	srv_answer_group(s, group, live);
	srv_publish_commits(s);
	srv_poll_wake(s);
}

static void *writer_main(void *arg)
{
	srv_server *s = arg;
	srv_worker *group[WRITER_GROUP_MAX];
	int n;
	pthread_setname_np(pthread_self(), "annals-writer"); /* top -H, perf, renice find it */
	while ((n = writer_take(s, group, WRITER_GROUP_MAX)) > 0)
		writer_run_group(s, group, n);
	return NULL;
}

int srv_writer_start(srv_server *s)
{
	s->wq_cap = s->cfg.max_inflight_writes;
	s->wqueue = calloc((size_t)s->wq_cap, sizeof(*s->wqueue));
	if (s->wqueue == NULL)
		return -1;
	pthread_mutex_init(&s->wlock, NULL);
	pthread_cond_init(&s->wcond, NULL);
	if (srv_answer_start(s) != 0 || pthread_create(&s->writer_thread, NULL, writer_main, s) != 0)
		return -1;
	s->writer_running = true;
	return 0;
}

/* Answers everything queued, then stops. */
void srv_writer_stop(srv_server *s)
{
	if (!s->writer_running)
		return;
	pthread_mutex_lock(&s->wlock);
	s->wstop = true;
	pthread_cond_signal(&s->wcond);
	pthread_mutex_unlock(&s->wlock);
	pthread_join(s->writer_thread, NULL);
	s->writer_running = false;
	srv_answer_stop(s);
	free(s->wqueue);
	s->wqueue = NULL;
	pthread_mutex_destroy(&s->wlock);
	pthread_cond_destroy(&s->wcond);
}
