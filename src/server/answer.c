/*
 * srv_answer_ — sends the replies of committed writes from nng's task
 * threads instead of the writer thread.
 *
 * Why: every nng_ctx_send takes the REP socket's lock and wakes nng's task
 * threads. Done by the writer, once per write, that made the writer and
 * nng's threads contend for the socket lock and preempt each other (on the
 * one core the server gets under `make bench`, about ten context switches
 * per durable write). Now the writer appends the committed group to a list
 * and, at most once per group, schedules one nng task that sends every
 * reply on the list; the writer goes straight on to the next group.
 * Answers of later groups that arrive while that task runs are sent by it
 * too. A reply still leaves only after the commit that covers it returned.
 */
#include <stdlib.h>
#include <string.h>
#include "annals/annals.h"
#include "common/log.h"
#include "server/server.h"

/* The reply of a committed (or refused, or replayed) write, packed from
 * the store's outcome: a WriteReply for a Put or Delete, a BatchReply for
 * a Batch. The store keeps outcomes in its own terms; what goes on the
 * wire is decided here. */
uint8_t *srv_write_reply_pack(const st_write *w, size_t *len)
{
	*len = 0;
	if (w->legacy_body != NULL) { /* a resend answered from an annals 0.1 log entry */
		uint8_t *copy = malloc(w->legacy_len);
		if (copy != NULL) {
			memcpy(copy, w->legacy_body, w->legacy_len);
			*len = w->legacy_len;
		}
		return copy;
	}
	if (w->code != ANNALS_OK || w->n_results == 0)
		return NULL;
	if (w->op == ST_BULK)
		return srv_bulk_reply_pack(w, len);
	Annals__V1__WriteReply *wr = calloc(w->n_results, sizeof(*wr));
	Annals__V1__WriteReply **ptrs = calloc(w->n_results, sizeof(*ptrs));
	uint8_t *buf = NULL;
	if (wr != NULL && ptrs != NULL) {
		for (size_t i = 0; i < w->n_results; i++) {
			annals__v1__write_reply__init(&wr[i]);
			wr[i].id = (char *)w->results[i].id;
			wr[i].revision = w->results[i].revision;
			wr[i].unchanged = w->results[i].unchanged;
			ptrs[i] = &wr[i];
		}
		Annals__V1__BatchReply br = ANNALS__V1__BATCH_REPLY__INIT;
		br.revision = w->after_revision;
		br.results = ptrs;
		br.n_results = w->n_results;
		const ProtobufCMessage *m = w->op == ST_BATCH ? &br.base : &wr[0].base;
		*len = protobuf_c_message_get_packed_size(m);
		buf = malloc(*len ? *len : 1);
		if (buf != NULL)
			protobuf_c_message_pack(m, buf);
		else
			*len = 0;
	}
	free(ptrs);
	free(wr);
	return buf;
}

void srv_write_answer(srv_worker *w)
{
	size_t len;
	uint8_t *body = srv_write_reply_pack(&w->write, &len);
	if (w->write.code == ANNALS_OK && body == NULL && (w->write.n_results > 0 || w->write.legacy_body)) {
		srv_worker_reply(w, ANNALS_RESOURCE_EXHAUSTED, "out of memory for the reply", NULL, 0);
		return;
	}
	if (w->write.op == ST_BULK) /* before the reply: then w may take its next call */
		srv_bulk_answered(w);
	srv_worker_reply(w, w->write.code, w->write.code == ANNALS_OK ? NULL : w->write.msg, body, len);
	free(body);
}

static void answer_cb(void *arg)
{
	srv_server *s = arg;
	for (;;) {
		pthread_mutex_lock(&s->alock);
		srv_worker *w = s->answer_head;
		s->answer_head = NULL;
		s->answer_tail = &s->answer_head;
		if (w == NULL)
			s->answer_pending = false; /* the next group schedules the task again */
		pthread_mutex_unlock(&s->alock);
		if (w == NULL)
			return;
		while (w != NULL) {
			srv_worker *next = w->answer_next; /* w may start its next call once answered */
			w->answer_next = NULL;
			srv_write_answer(w);
			w = next;
		}
	}
}

int srv_answer_start(srv_server *s)
{
	pthread_mutex_init(&s->alock, NULL);
	s->answer_head = NULL;
	s->answer_tail = &s->answer_head;
	s->answer_pending = false;
	int rv = nng_aio_alloc(&s->answer_aio, answer_cb, s);
	if (rv != 0) {
		log_msg(LOG_ERROR, "answer_init", "error=\"%s\"", nng_strerror(rv));
		return -1;
	}
	return 0;
}

void srv_answer_group(srv_server *s, srv_worker **group, int n)
{
	if (n == 0)
		return;
	pthread_mutex_lock(&s->alock);
	for (int i = 0; i < n; i++) {
		group[i]->answer_next = NULL;
		*s->answer_tail = group[i];
		s->answer_tail = &group[i]->answer_next;
	}
	bool kick = !s->answer_pending;
	s->answer_pending = true;
	pthread_mutex_unlock(&s->alock);
	if (!kick)
		return; /* the task is scheduled or running and will see these too */
	/* An operation that completes at once: its callback runs on a task thread. */
	if (nng_aio_begin(s->answer_aio))
		nng_aio_finish(s->answer_aio, 0);
}

void srv_answer_stop(srv_server *s)
{
	if (s->answer_aio == NULL)
		return;
	/* Waits for the task: every reply handed over has been sent. */
	nng_aio_wait(s->answer_aio);
	answer_cb(s); /* anything appended after the last run started */
	nng_aio_free(s->answer_aio);
	s->answer_aio = NULL;
	pthread_mutex_destroy(&s->alock);
}
