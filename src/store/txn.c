/*
 * st_txn — read snapshots. One MDB_txn per handle, created on first use
 * and then reset/renewed per call, so a call costs no allocation and no
 * reader-slot search. Every live snapshot is counted at the resize gate
 * (store_int.h) so the writer can grow the map with none open.
 */
#include <assert.h>
#include <time.h>
#include <stdlib.h>

#include "store/store_int.h"

st_txn *st_txn_new(st_store *s)
{
	st_txn *t = calloc(1, sizeof(*t));
	if (t != NULL)
		t->s = s;
	return t;
}

void st_txn_borrow(st_txn *t, st_store *s, MDB_txn *txn)
{
	t->s = s;
	t->txn = txn;
	t->active = true;
	t->borrowed = true;
	t->full_scans = false; /* the write path always reads the indexes */
	t->deps = NULL;
	t->revision = atomic_load(&s->revision);
	t->revision_known = true;
}

void st_gate_enter(st_store *s)
{
	for (;;) {
		atomic_fetch_add(&s->gate_readers, 1);
		if (!atomic_load(&s->gate_closed))
			return;
		/* a resize is waiting or running: step back out and wait for it */
		st_gate_leave(s);
		pthread_mutex_lock(&s->gate_lock);
		while (atomic_load(&s->gate_closed))
			pthread_cond_wait(&s->gate_cond, &s->gate_lock);
		pthread_mutex_unlock(&s->gate_lock);
	}
}

void st_gate_leave(st_store *s)
{
	unsigned before = atomic_fetch_sub(&s->gate_readers, 1);
	assert(before > 0);
	if (before == 1 && atomic_load(&s->gate_closed)) {
		/* the last reader out wakes the writer waiting to resize */
		pthread_mutex_lock(&s->gate_lock);
		pthread_cond_broadcast(&s->gate_cond);
		pthread_mutex_unlock(&s->gate_lock);
	}
}

int st_txn_begin(st_txn *t)
{
	assert(!t->borrowed);
	if (t->active)
		st_txn_end(t);
	st_gate_enter(t->s);
	int rc = t->txn == NULL ? mdb_txn_begin(t->s->env, NULL, MDB_RDONLY, &t->txn) : mdb_txn_renew(t->txn);
	if (rc != MDB_SUCCESS) {
		st_gate_leave(t->s);
		return st_mdb_status(rc, NULL, "begin read");
	}
	t->active = true;
	t->deadline_ms = 0;
	t->scanned = 0;
	t->revision_known = false; /* looked up only by the few calls that report it */
	return ANNALS_OK;
}

void st_txn_set_full_scans(st_txn *t, bool on)
{
	t->full_scans = on;
}

bool st_txn_full_scans(st_txn *t)
{
	return t->full_scans;
}

void st_txn_set_deadline(st_txn *t, uint64_t deadline_ms)
{
	t->deadline_ms = deadline_ms;
}

bool st_txn_expired(st_txn *t)
{
	if (t->deadline_ms == 0)
		return false;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u >= t->deadline_ms;
}

void st_txn_end(st_txn *t)
{
	if (!t->active || t->borrowed)
		return;
	mdb_txn_reset(t->txn);
	t->active = false;
	t->deps = NULL;
	st_gate_leave(t->s);
}

void st_txn_free(st_txn *t)
{
	if (t == NULL)
		return;
	if (!t->borrowed) {
		st_txn_end(t);
		if (t->txn != NULL)
			mdb_txn_abort(t->txn);
	}
	free(t);
}

uint64_t st_txn_revision(st_txn *t)
{
	assert(t->active);
	dp_read_key(t, DB_META, "revision", 8);
	if (!t->revision_known) {
		if (st_meta_get_u64(t->s, t->txn, "revision", &t->revision) != ANNALS_OK)
			t->revision = atomic_load(&t->s->revision);
		t->revision_known = true;
	}
	return t->revision;
}

uint64_t st_txn_id(st_txn *t)
{
	assert(t->active);
	return (uint64_t)mdb_txn_id(t->txn);
}
