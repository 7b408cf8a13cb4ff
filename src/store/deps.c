/*
 * dp_ — what a query read, and what each commit wrote, so that a commit
 * retires only the cached answers (server/qcache.h) that read something it
 * changed, instead of every one.
 *
 * Tokens. A token names a set of keys of one DBI: the FNV-1a hash of the
 * DBI's number and a key prefix. The prefixes used are the key's
 * *boundaries*: the empty prefix, every prefix that ends with a "\0"
 * separator, the first four bytes of a DBI whose keys start with a be32
 * (ix_types, ix_time), and the whole key. Whether a prefix is a boundary
 * depends only on its own bytes, so a key written under a boundary prefix
 * P always has P among its own boundaries.
 *
 *   read   a point read of key K depends on token(K); a scan of the keys
 *          starting with P depends on token(B), B the longest boundary
 *          prefix of P (so a name-prefix scan depends on all of ix_names);
 *   write  a put or delete of key K marks every boundary of K.
 *
 * So every write a read could have seen marks a token the read depends on:
 * the point read's K itself, the scan's B (a prefix of every key the scan
 * can meet). Derived values have a DBI number of their own past DB_COUNT:
 * a document's publication candidates (st_pub_candidates) are marked only
 * when a write changes what that function returns (pubfloor.c), not on
 * every record citing the document.
 *
 * The change table. chg[slot(token)] holds the id of the last write txn
 * that marked a token of that slot; slots are shared by many tokens, which
 * only retires more than needed. An answer read at snapshot (txn id) T
 * with tokens D is still the answer at snapshot S >= T when
 *
 *     marked >= S,  floor <= T,  and chg[slot(d)] <= T for every d in D:
 *
 * every txn up to S has written its marks (marked >= S), none of them
 * after T changed a key the answer read, and no txn after T wrote without
 * marks (floor). Marks are written before the txn commits, and `marked` is
 * stored with release order after them; a reader loads it with acquire
 * order, so it sees every mark of every txn <= marked.
 *
 * The request log and the change log are not marked: no cacheable query
 * reads them, and one that did would get no tokens (dp_unmarked).
 *
 * Writes outside the group path (opening, rebuilding an index, BulkLoad,
 * another process) write no marks. They need none: a reader whose
 * snapshot is past `marked` keeps nothing, and the next marked write txn
 * finds its id is not marked + 1 and raises floor to its own id, which
 * retires every older answer.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "common/hash.h"
#include "store/store_int.h"

#define DP_SLOTS (1u << 20) /* 8 MiB, touched lazily: ~1 s of life per answer at 30k marks/s */

struct dp_table {
	_Atomic uint64_t chg[DP_SLOTS];
};

/* ---- tokens --------------------------------------------------------------------- */

static uint64_t dp_seed(unsigned db)
{
	uint8_t b = (uint8_t)db;
	return hash_fnv1a(HASH_FNV1A_INIT, &b, 1);
}

static uint64_t dp_final(uint64_t h)
{
	return h != 0 ? h : 1; /* 0 marks an empty slot of a tracker */
}

/* The logs no cacheable query reads: their writes (changelog.c, dedup.c,
 * prune.c) are not marked (4 of a PutEvent's ~10 keys), and a tracked read
 * of them makes the answer one that is never kept across a commit. */
static bool dp_unmarked(unsigned db)
{
	return db == DB_DEDUP || db == DB_DEDUP_AGE || db == DB_CHANGES;
}

static bool dp_be32_led(unsigned db)
{
	return db == DB_TYPES || db == DB_TIME;
}

/* Whether the first i bytes of a key of db are a boundary (the top of the file). */
static bool dp_boundary(unsigned db, const uint8_t *key, size_t i)
{
	return i == 0 || key[i - 1] == '\0' || (i == 4 && dp_be32_led(db));
}

static size_t dp_slot(uint64_t tok)
{
	/* murmur3's finalizer: FNV's low bits alone cluster */
	tok ^= tok >> 33;
	tok *= 0xff51afd7ed558ccdull;
	tok ^= tok >> 33;
	tok *= 0xc4ceb9fe1a85ec53ull;
	tok ^= tok >> 33;
	return (size_t)(tok & (DP_SLOTS - 1));
}

/* ---- reads ---------------------------------------------------------------------- */

static void dp_add(st_deps *d, unsigned db, uint64_t tok)
{
	d->dbs |= 1ull << db;
	if (dp_unmarked(db))
		d->never = true;
	if (d->wide)
		return;
	size_t i = (size_t)tok & (ST_DEPS_SET - 1);
	while (d->set[i] != 0) {
		if (d->set[i] == tok)
			return;
		i = (i + 1) & (ST_DEPS_SET - 1);
	}
	if (d->n == ST_DEPS_MAX) {
		d->wide = true; /* too many to list: depend on the whole of every DBI read */
		return;
	}
	d->set[i] = tok;
	d->pos[d->n] = (uint16_t)i;
	d->tok[d->n++] = tok;
}

void dp_read_key(st_txn *t, unsigned db, const void *key, size_t n)
{
	if (t->deps != NULL)
		dp_add(t->deps, db, dp_final(hash_fnv1a(dp_seed(db), key, n)));
}

void dp_read_prefix(st_txn *t, unsigned db, const void *prefix, size_t n)
{
	if (t->deps == NULL)
		return;
	const uint8_t *p = prefix;
	while (n > 0 && !dp_boundary(db, p, n))
		n--;
	dp_add(t->deps, db, dp_final(hash_fnv1a(dp_seed(db), p, n)));
}

void st_txn_track(st_txn *t, st_deps *d)
{
	if (d != NULL) {
		if (d->wide) /* tok[] was rewritten: pos[] is what was set */
			memset(d->set, 0, sizeof(d->set));
		else
			for (size_t i = 0; i < d->n; i++) /* only the slots in use: a call's few */
				d->set[d->pos[i]] = 0;
		d->n = 0;
		d->wide = false;
		d->never = false;
		d->dbs = 0;
	}
	t->deps = d;
}

size_t st_deps_tokens(st_deps *d, const uint64_t **tok)
{
	*tok = d->tok;
	if (d->never)
		return 0; /* kept for its own snapshot only */
	if (d->wide) {
		/* the empty prefix of each DBI read: every write to it marks that */
		d->n = 0;
		for (unsigned db = 0; db < 64; db++)
			if (d->dbs & (1ull << db))
				d->tok[d->n++] = dp_final(dp_seed(db));
	}
	return d->n;
}

bool st_deps_unchanged(st_store *s, const uint64_t *tok, size_t n, uint64_t since, uint64_t snapshot)
{
	if (s->dp == NULL || since > snapshot)
		return false;
	if (atomic_load_explicit(&s->dp_marked, memory_order_acquire) < snapshot ||
	    atomic_load_explicit(&s->dp_floor, memory_order_relaxed) > since)
		return false;
	for (size_t i = 0; i < n; i++)
		if (atomic_load_explicit(&s->dp->chg[dp_slot(tok[i])], memory_order_relaxed) > since)
			return false;
	return true;
}

/* ---- writes --------------------------------------------------------------------- */

int st_deps_enable(st_store *s)
{
	if (s->dp != NULL)
		return ANNALS_OK;
	s->dp = calloc(1, sizeof(*s->dp)); /* large: mmap'd zero pages, touched as marked */
	if (s->dp == NULL)
		return ANNALS_RESOURCE_EXHAUSTED;
	MDB_envinfo info;
	uint64_t last = mdb_env_info(s->env, &info) == MDB_SUCCESS ? (uint64_t)info.me_last_txnid : 0;
	/* answers read before now were read with no marks being written */
	atomic_store(&s->dp_floor, last);
	atomic_store(&s->dp_marked, last);
	return ANNALS_OK;
}

void dp_free(st_store *s)
{
	free(s->dp);
	s->dp = NULL;
}

void dp_mark(st_store *s, MDB_txn *txn, unsigned db, const void *key, size_t n)
{
	if (s->dp == NULL)
		return;
	uint64_t id = (uint64_t)mdb_txn_id(txn); /* a nested txn has its parent's id */
	const uint8_t *k = key;
	uint64_t h = dp_seed(db);
	for (size_t i = 0;; i++) {
		if (i == n || dp_boundary(db, k, i))
			atomic_store_explicit(&s->dp->chg[dp_slot(dp_final(h))], id, memory_order_relaxed);
		if (i == n)
			break;
		h = hash_fnv1a(h, k + i, 1);
	}
}

void dp_write_begin(st_store *s, MDB_txn *txn)
{
	if (s->dp == NULL)
		return;
	uint64_t id = (uint64_t)mdb_txn_id(txn);
	/* a txn committed since the last marked one wrote no marks: retire all */
	if (id != atomic_load_explicit(&s->dp_marked, memory_order_relaxed) + 1)
		atomic_store_explicit(&s->dp_floor, id, memory_order_relaxed);
}

void dp_write_ready(st_store *s, MDB_txn *txn)
{
	if (s->dp != NULL)
		atomic_store_explicit(&s->dp_marked, (uint64_t)mdb_txn_id(txn), memory_order_release);
}

int dp_put(st_store *s, MDB_txn *txn, unsigned db, MDB_val *key, MDB_val *val, unsigned flags)
{
	dp_mark(s, txn, db, key->mv_data, key->mv_size);
	return mdb_put(txn, s->dbi[db], key, val, flags);
}

int dp_del(st_store *s, MDB_txn *txn, unsigned db, MDB_val *key)
{
	dp_mark(s, txn, db, key->mv_data, key->mv_size);
	return mdb_del(txn, s->dbi[db], key, NULL);
}
