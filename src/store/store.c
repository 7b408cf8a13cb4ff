/*
 * st_ — the environment: open, close, the meta table, LMDB error mapping
 * and map growth. The table layout is described in store_int.h.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/utf8.h"
#include "common/validate.h"
#include "store/pubfloor.h"
#include "store/refs.h"
#include "store/wal.h"

#define ST_FORMAT "annals-store/1"
#define ST_MIB    (1024ull * 1024ull)
/* Past this we stop doubling: something is wrong, not merely big. */
#define ST_MAP_LIMIT (1ull << 40)

static const char *const st_dbi_names[DB_COUNT] = {
    [DB_META] = "meta",
    [DB_ENTITIES] = "entities",
    [DB_EVENTS] = "events",
    [DB_RELATIONS] = "relations",
    [DB_DOCUMENTS] = "documents",
    [DB_NAMES] = "ix_names",
    [DB_TYPES] = "ix_types",
    [DB_SUBJECTS] = "ix_subjects",
    [DB_OBJECTS] = "ix_objects",
    [DB_TIME] = "ix_time",
    [DB_ENTITY_TIME] = "ix_entity_time",
    [DB_CITES] = "ix_cites",
    [DB_ANCHORS] = "ix_anchors",
    [DB_REFS] = "ix_refs",
    [DB_PUBFLOOR] = "ix_pubfloor",
    [DB_DEDUP] = "dedup",
    [DB_DEDUP_AGE] = "dedup_age",
    [DB_CHANGES] = "changes",
};

int st_mdb_status(int rc, st_err *err, const char *what)
{
	assert(rc != MDB_SUCCESS);
	if (rc == MDB_MAP_FULL)
		return ST_MAP_FULL;
	int code = ANNALS_INTERNAL;
	const char *why = mdb_strerror(rc);
	if (rc == MDB_READERS_FULL) {
		code = ANNALS_RESOURCE_EXHAUSTED;
		why = "too many concurrent readers";
	} else if (rc == ENOSPC) {
		code = ANNALS_RESOURCE_EXHAUSTED;
		why = "disk full";
	}
	if (err != NULL) {
		err->code = code;
		snprintf(err->msg, sizeof(err->msg), "store: %s: %s", what, why);
	}
	return code;
}

int64_t st_now_ms(const st_store *s)
{
	if (s->opt.clock_ms != NULL)
		return s->opt.clock_ms(s->opt.clock_ctx);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- meta ------------------------------------------------------------------- */

int st_meta_get_u64(st_store *s, MDB_txn *txn, const char *key, uint64_t *out)
{
	MDB_val k = {strlen(key), (void *)key}, v;
	int rc = mdb_get(txn, s->dbi[DB_META], &k, &v);
	if (rc == MDB_NOTFOUND) {
		*out = 0;
		return ANNALS_OK;
	}
	if (rc != MDB_SUCCESS)
		return st_mdb_status(rc, NULL, "meta");
	*out = v.mv_size == 8 ? rd_be64(v.mv_data) : 0;
	return ANNALS_OK;
}

int st_meta_put_u64(st_store *s, MDB_txn *txn, const char *key, uint64_t v)
{
	uint8_t buf[8];
	wr_be64(buf, v);
	MDB_val k = {strlen(key), (void *)key}, val = {8, buf};
	int rc = dp_put(s, txn, DB_META, &k, &val, 0);
	return rc == MDB_SUCCESS ? ANNALS_OK : st_mdb_status(rc, NULL, "meta");
}

/* ---- open and close ---------------------------------------------------------- */

static void st_defaults(st_options *o, const st_options *in)
{
	if (in != NULL)
		*o = *in;
	else
		memset(o, 0, sizeof(*o));
	if (o->map_size == 0)
		o->map_size = 64 * ST_MIB;
	if (o->max_readers == 0)
		o->max_readers = 1024;
	if (o->dedup_keep == 0)
		o->dedup_keep = 100000;
	if (o->dedup_age_ms == 0)
		o->dedup_age_ms = 24ull * 3600 * 1000;
	if (o->changes_keep == 0)
		o->changes_keep = 1000000;
	if (o->checkpoint_ms == 0)
		o->checkpoint_ms = 1000;
	/* every repeated field is capped at VAL_MAX_REPEATED when a request is
	 * decoded, so a larger max_batch_ops could never take effect */
	if (o->max_batch_ops == 0 || o->max_batch_ops > VAL_MAX_REPEATED)
		o->max_batch_ops = VAL_MAX_REPEATED;
}

int st_errf(st_err *err, int code, const char *fmt, ...)
{
	if (err == NULL)
		return code;
	va_list ap;
	va_start(ap, fmt);
	err->code = code;
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	utf8_scrub(err->msg);
	return code;
}

/* An LMDB failure where no retry follows (opening, growing): a full map
 * is reported as exhausted. */
static int st_mdb_final(int rc, st_err *err, const char *what)
{
	int code = st_mdb_status(rc, err, what);
	if (code == ST_MAP_FULL)
		code = st_errf(err, ANNALS_RESOURCE_EXHAUSTED, "store: %s: map full", what);
	return code;
}

/* Checks the format mark, or writes it into a new store. */
static int st_check_format(st_store *s, MDB_txn *txn, st_err *err)
{
	MDB_val k = {6, "format"}, v;
	int rc = mdb_get(txn, s->dbi[DB_META], &k, &v);
	if (rc == MDB_NOTFOUND) {
		v.mv_size = strlen(ST_FORMAT);
		v.mv_data = ST_FORMAT;
		rc = mdb_put(txn, s->dbi[DB_META], &k, &v, 0);
	} else if (rc == MDB_SUCCESS &&
	           (v.mv_size != strlen(ST_FORMAT) || memcmp(v.mv_data, ST_FORMAT, v.mv_size) != 0)) {
		return st_errf(err, ANNALS_FAILED_PRECONDITION,
		               "store: the data directory holds another format (want %s)", ST_FORMAT);
	}
	return rc == MDB_SUCCESS ? ANNALS_OK : st_mdb_final(rc, err, "format mark");
}

/* Opens every DBI, checks the format and reads the revision. */
static int st_open_tables(st_store *s, st_err *err)
{
	MDB_txn *txn;
	int rc = mdb_txn_begin(s->env, NULL, 0, &txn);
	if (rc != MDB_SUCCESS)
		return st_mdb_final(rc, err, "begin");
	for (int i = 0; i < DB_COUNT; i++) {
		rc = mdb_dbi_open(txn, st_dbi_names[i], MDB_CREATE, &s->dbi[i]);
		if (rc != MDB_SUCCESS) {
			mdb_txn_abort(txn);
			return st_mdb_final(rc, err, st_dbi_names[i]);
		}
	}
	uint64_t rev = 0, applied = 0;
	int code = st_check_format(s, txn, err);
	if (code == ANNALS_OK && (st_meta_get_u64(s, txn, "revision", &rev) != ANNALS_OK ||
	                          st_meta_get_u64(s, txn, "log_applied", &applied) != ANNALS_OK))
		code = st_errf(err, ANNALS_INTERNAL, "store: cannot read the revision");
	if (code != ANNALS_OK) {
		mdb_txn_abort(txn);
		return code;
	}
	atomic_store(&s->revision, rev);
	atomic_store(&s->log_applied, applied);
	rc = mdb_txn_commit(txn);
	return rc == MDB_SUCCESS ? ANNALS_OK : st_mdb_final(rc, err, "commit");
}

/* The reverse index of references, built here for a store written before
 * it existed (refs_build.c); a full map grows as a write's would. */
static int st_open_refs(st_store *s, st_err *err)
{
	for (int tries = 0; tries < 24; tries++) {
		MDB_txn *txn;
		int rc = mdb_txn_begin(s->env, NULL, 0, &txn);
		if (rc != MDB_SUCCESS)
			return st_mdb_final(rc, err, "begin");
		struct timespec t0, t1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		uint64_t built = 0;
		uint64_t built_pf = 0;
		int code = rf_build_index(s, txn, &built, err);
		if (code == ANNALS_OK)
			code = pf_build_index(s, txn, &built_pf, err);
		if (code != ANNALS_OK) {
			mdb_txn_abort(txn);
			if (code != ST_MAP_FULL)
				return code;
			if ((code = st_grow_map(s, err)) != ANNALS_OK)
				return code;
			continue;
		}
		rc = mdb_txn_commit(txn);
		if (rc != MDB_SUCCESS)
			return st_mdb_final(rc, err, "commit ix_refs");
		clock_gettime(CLOCK_MONOTONIC, &t1);
		long long ms =
		    (long long)(t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
		if (built > 0)
			log_msg(LOG_INFO, "store_index_built",
			        "index=ix_refs records=%llu ms=%lld why=\"the store was written before the "
			        "reverse "
			        "index of references existed\"",
			        (unsigned long long)built, ms);
		if (built_pf > 0)
			log_msg(
			    LOG_INFO, "store_index_built",
			    "index=ix_pubfloor records=%llu ms=%lld why=\"the store was written before the "
			    "index of publication bounds existed\"",
			    (unsigned long long)built_pf, ms);
		return ANNALS_OK;
	}
	return st_errf(err, ANNALS_RESOURCE_EXHAUSTED, "store: map still full building ix_refs");
}

/* LMDB sizes lock.mdb for every reader slot with ftruncate, so the file is
 * sparse: the first reader to touch a slot past its first page makes the
 * kernel allocate that page through the shared mapping, and on a full
 * disk that is a SIGBUS in mdb_txn_begin — a crash on a read. Allocating
 * the whole file at open moves the failure to where it can be reported:
 * here, before anything is served. A restart finds the blocks already
 * allocated (LMDB keeps the file's size), so it needs no new space. */
static int st_lock_allocate(const char *dir, st_err *err)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/lock.mdb", dir);
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return st_errf(err, ANNALS_INTERNAL, "store: cannot open %s: %s", path, strerror(errno));
	struct stat st;
	int rc = fstat(fd, &st) == 0 ? posix_fallocate(fd, 0, st.st_size) : errno;
	close(fd);
	if (rc == 0)
		return ANNALS_OK;
	return st_errf(err, rc == ENOSPC ? ANNALS_RESOURCE_EXHAUSTED : ANNALS_INTERNAL,
	               "store: cannot allocate the reader table %s (%lld bytes): %s%s", path,
	               (long long)st.st_size, strerror(rc),
	               rc == ENOSPC ? "; free space on the disk and start again" : "");
}

static int st_open_env(st_store *s, const char *dir, st_err *err)
{
	int rc = mdb_env_create(&s->env);
	if (rc == MDB_SUCCESS)
		rc = mdb_env_set_maxreaders(s->env, s->opt.max_readers);
	if (rc == MDB_SUCCESS)
		rc = mdb_env_set_maxdbs(s->env, DB_COUNT);
	if (rc == MDB_SUCCESS)
		rc = mdb_env_set_mapsize(s->env, (size_t)s->opt.map_size);
	/* With the write-ahead log, commits need not sync: the log's record is
	 * on disk before the commit, and checkpoints sync the file (wal.h). */
	bool log = !s->opt.no_sync && !s->opt.lmdb_sync;
	unsigned flags = MDB_NOTLS | (s->opt.no_sync || log ? MDB_NOSYNC : 0);
	if (rc == MDB_SUCCESS)
		rc = mdb_env_open(s->env, dir, flags, 0600);
	if (rc != MDB_SUCCESS)
		return st_errf(err, rc == ENOSPC ? ANNALS_RESOURCE_EXHAUSTED : ANNALS_INTERNAL,
		               "store: cannot open %s: %s", dir, mdb_strerror(rc));
	if (st_lock_allocate(dir, err) != ANNALS_OK)
		return err->code;
	/* A map that grew in an earlier run is recorded in the file; keep it
	 * rather than shrinking back to the configured start size. */
	rc = mdb_env_set_mapsize(s->env, 0);
	MDB_envinfo info;
	if (rc == MDB_SUCCESS && mdb_env_info(s->env, &info) == MDB_SUCCESS &&
	    info.me_mapsize < s->opt.map_size)
		rc = mdb_env_set_mapsize(s->env, (size_t)s->opt.map_size);
	int dead = 0;
	if (rc == MDB_SUCCESS)
		rc = mdb_reader_check(s->env, &dead); /* slots left by crashed processes */
	if (rc != MDB_SUCCESS)
		return st_errf(err, ANNALS_INTERNAL, "store: cannot open %s: %s", dir, mdb_strerror(rc));
	return ANNALS_OK;
}

/* One process per store: a second one would redo records the first has
 * appended but not yet committed, and delete its segments. LMDB allows
 * several processes on one environment; the log does not. */
static int st_lock_dir(st_store *s, const char *dir, st_err *err)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/store.lock", dir);
	s->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (s->lock_fd < 0)
		return st_errf(err, errno == ENOSPC ? ANNALS_RESOURCE_EXHAUSTED : ANNALS_INTERNAL,
		               "store: cannot open %s: %s", path, strerror(errno));
	if (flock(s->lock_fd, LOCK_EX | LOCK_NB) != 0)
		return st_errf(err, ANNALS_FAILED_PRECONDITION,
		               "store: %s is open in another process (it holds %s): stop that annalsd "
		               "first, or give this one another --data directory",
		               dir, path);
	return ANNALS_OK;
}

/* Redoes the write-ahead log after the checkpoint txn (wal.h, point 5). */
static int st_redo_log(st_store *s, const char *dir, uint64_t after, st_err *err)
{
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	uint64_t last = after;
	int rc = wal_replay(dir, after, st_wal_redo, s, &last, err);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long long ms = (long long)(t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	if (rc != ANNALS_OK)
		return rc;
	log_msg(LOG_INFO, "wal_redone", "from_txn=%llu to_txn=%llu groups=%llu ms=%lld revision=%llu",
	        (unsigned long long)after, (unsigned long long)last, (unsigned long long)(last - after), ms,
	        (unsigned long long)atomic_load(&s->revision));
	return ANNALS_OK;
}

int st_open(const char *dir, const st_options *opt, st_store **out, st_err *err)
{
	*out = NULL;
	memset(err, 0, sizeof(*err));
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return st_errf(err, ANNALS_INTERNAL, "store: cannot create %s: %s", dir, strerror(errno));
	st_store *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return st_errf(err, ANNALS_RESOURCE_EXHAUSTED, "store: out of memory");
	st_defaults(&s->opt, opt);
	s->lock_fd = -1;
	pthread_mutex_init(&s->gate_lock, NULL);
	pthread_cond_init(&s->gate_cond, NULL);
	snprintf(s->dir, sizeof(s->dir), "%s", dir);
	/* A checkpoint left by a run that did not close cleanly is dealt with
	 * first, whatever the mode now: its log holds answered writes (wal.h,
	 * point 5). The opened snapshot is checkpointed (and held) before
	 * anything is written, so a stop at any point of the open finds a
	 * checkpoint whose pages are whole. */
	ckp_found found = CKP_NONE;
	bool log = !s->opt.no_sync && !s->opt.lmdb_sync;
	int rc = st_lock_dir(s, dir, err);
	if (rc == ANNALS_OK)
		rc = ckp_restore(dir, &found, err);
	if (rc == ANNALS_OK)
		rc = st_open_env(s, dir, err);
	if (rc == ANNALS_OK && (log || found != CKP_NONE))
		rc = ckp_begin(s, dir, &found, err);
	if (rc == ANNALS_OK)
		rc = st_open_tables(s, err);
	if (rc == ANNALS_OK)
		rc = st_open_refs(s, err);
	if (rc == ANNALS_OK && found != CKP_NONE)
		rc = st_redo_log(s, dir, ckp_durable_txn(s), err);
	if (rc == ANNALS_OK && log)
		rc = ckp_start_log(s, err);
	else if (rc == ANNALS_OK && found != CKP_NONE)
		rc = ckp_finish_without_log(s, err);
	if (rc != ANNALS_OK) {
		st_close(s);
		return rc;
	}
	*out = s;
	return ANNALS_OK;
}

void st_close(st_store *s)
{
	if (s == NULL)
		return;
	assert(atomic_load(&s->gate_readers) == 0); /* every snapshot ended */
	ckp_stop(s);
	dp_free(s);
	if (s->env != NULL)
		mdb_env_close(s->env);
	if (s->lock_fd >= 0)
		close(s->lock_fd); /* and the flock with it, last */
	pthread_mutex_destroy(&s->gate_lock);
	pthread_cond_destroy(&s->gate_cond);
	free(s);
}

/* ---- map growth --------------------------------------------------------------- */

int st_grow_map(st_store *s, st_err *err)
{
	MDB_envinfo info;
	int rc = mdb_env_info(s->env, &info);
	if (rc != MDB_SUCCESS)
		return st_mdb_status(rc, err, "map info");
	uint64_t want = (uint64_t)info.me_mapsize * 2;
	if (want > ST_MAP_LIMIT)
		return st_errf(err, ANNALS_RESOURCE_EXHAUSTED,
		               "store: the map is full at %llu bytes (limit %llu)",
		               (unsigned long long)info.me_mapsize, (unsigned long long)ST_MAP_LIMIT);
	/* Close the gate: new snapshots wait; then wait out the open ones. */
	pthread_mutex_lock(&s->gate_lock);
	atomic_store(&s->gate_closed, true);
	while (atomic_load(&s->gate_readers) > 0)
		pthread_cond_wait(&s->gate_cond, &s->gate_lock);
	rc = mdb_env_set_mapsize(s->env, (size_t)want);
	atomic_store(&s->gate_closed, false);
	pthread_cond_broadcast(&s->gate_cond);
	pthread_mutex_unlock(&s->gate_lock);
	if (rc != MDB_SUCCESS)
		return st_mdb_final(rc, err, "grow map");
	return ANNALS_OK;
}

/* ---- small accessors ------------------------------------------------------------ */

uint64_t st_revision(st_store *s)
{
	return atomic_load(&s->revision);
}

uint64_t st_log_applied(st_store *s)
{
	return atomic_load(&s->log_applied);
}

const st_options *st_limits(st_store *s)
{
	return &s->opt;
}

void st_lmdb_version(char *buf, size_t len)
{
	int major = 0, minor = 0, patch = 0;
	mdb_version(&major, &minor, &patch);
	snprintf(buf, len, "%d.%d.%d", major, minor, patch);
}
