/*
 * ckp_ — checkpoints of the data file: the half of wal.h's contract that
 * lets a log record go once the pages it changed are on disk.
 *
 * A checkpoint of snapshot K, in two steps:
 *   1. on the writer, right after K committed (ckp_capture): copy both
 *      meta pages (the newer one describes K), open a read transaction on
 *      K (the pin), and start a new log segment at K+1;
 *   2. on the checkpoint thread (ckp_make): fdatasync the data file (every
 *      page of K was written to it before step 1), write DIR/checkpoint
 *      {the data file's inode (and device, kept but not compared), K, the
 *      boot id, the meta pages} under another name, sync it, rename it
 *      into place, sync the directory; then
 *      release the previous pin and delete the segments below K+1.
 * The previous pin lives until the new checkpoint file is durable, so at
 * every moment the checkpoint file on disk names a snapshot no commit has
 * overwritten a page of. A pin holds back page reuse for about one
 * interval (--checkpoint-ms), which the data file pays in size.
 *
 * A failed fdatasync of the data file is final: the kernel may have
 * dropped the pages it could not write, so no later checkpoint could be
 * trusted. The store then refuses writes (st_durability_refusal); the log
 * still holds everything since the last good checkpoint for the next start.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "annals/annals.h"
#include "common/file.h"
#include "common/hash.h"
#include "common/log.h"
#include "store/store_int.h"
#include "store/wal.h"

#define CKP_MAGIC     "ANNALSCK"
#define CKP_VERSION   1u
#define CKP_HEAD      48u /* magic 8, version 4, psize 4, dev 8, ino 8, txn 8, boot 8 */
#define CKP_MAX_PSIZE 65536u
#define CKP_WAL_BYTES (64ull << 20) /* a segment this big is checkpointed early */
/* Where LMDB 0.9 keeps a meta page's fields (64-bit builds): after the
 * 16-byte page header, MDB_meta {magic, version, address, mapsize,
 * dbs[2] (48 bytes each), last_pg, txnid}. */
#define CKP_META_MAGIC_AT 16u
#define CKP_META_TXNID_AT 144u
#define CKP_LMDB_MAGIC    0xBEEFC0DEu

typedef struct ckp_job {
	uint64_t txn;
	uint8_t *meta; /* 2 pages */
	MDB_txn *pin;
} ckp_job;

struct ckp_state {
	char dir[4096];
	int fd; /* the data file (LMDB's descriptor) */
	unsigned psize;
	uint64_t interval_ms;
	pthread_t thread;
	bool started;     /* the checkpoint thread runs */
	bool log_started; /* ckp_start_log: the log of this run is being written */
	bool opened;      /* the open's redo is over: a write may start the log (ckp_ready) */
	pthread_mutex_t lock;
	pthread_cond_t work; /* the thread waits here for a job or the stop */
	pthread_cond_t idle; /* and ckp_now here for the thread to be done */
	bool busy, job_ready, stop;
	ckp_job job;
	MDB_txn *pin;            /* the durable checkpoint's snapshot */
	MDB_txn *pin_extra;      /* after a failed directory sync: the other candidate's */
	bool need_ckp;           /* a synchronous checkpoint failed: logged writes wait for one */
	uint64_t durable;        /* its txn id */
	uint64_t last_ms;        /* when the last checkpoint was captured */
	char failed[256];        /* why no checkpoint can be trusted any more, once failed_set */
	_Atomic bool failed_set; /* set (release) after failed is written, under lock, once */
	int last_errno;          /* why the last checkpoint file could not be written */
};

static uint64_t ckp_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t ckp_meta_txnid(const uint8_t *page, bool *valid)
{
	uint32_t magic;
	uint64_t txn;
	memcpy(&magic, page + CKP_META_MAGIC_AT, sizeof(magic));
	memcpy(&txn, page + CKP_META_TXNID_AT, sizeof(txn));
	*valid = magic == CKP_LMDB_MAGIC;
	return txn;
}

/* The txn id the newer of two meta pages describes; 0 when either page is
 * not an LMDB meta page. */
static uint64_t ckp_metas_txnid(const uint8_t *meta, unsigned psize)
{
	bool v0, v1;
	uint64_t t0 = ckp_meta_txnid(meta, &v0), t1 = ckp_meta_txnid(meta + psize, &v1);
	if (!v0 || !v1)
		return 0;
	return t0 > t1 ? t0 : t1;
}

/* This boot of the machine: a checkpoint written since it was made
 * survives in the page cache with everything the process wrote after it. */
static uint64_t ckp_boot_id(void)
{
	char id[64] = "";
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");
	size_t n = f ? fread(id, 1, sizeof(id) - 1, f) : 0;
	if (f)
		fclose(f);
	id[n] = '\0';
	return n > 0 ? hash_fnv1a(HASH_FNV1A_INIT, id, n) : 0; /* 0: unknown, never this boot */
}

static void ckp_path(char *out, size_t n, const char *dir, const char *name)
{
	snprintf(out, n, "%s/%s", dir, name);
}

/* ---- the checkpoint file ------------------------------------------------------- */

/* Puts len bytes as DIR/checkpoint: written under another name, synced,
 * renamed into place, the directory synced. 0: done; -1: not done (errno),
 * the previous file stands; 1: renamed but the directory not synced, so
 * after a power cut the file may be either the previous one or this. */
static int ckp_put_file(const char *dir, const uint8_t *buf, size_t len)
{
	char tmp[4200], final[4200];
	ckp_path(tmp, sizeof(tmp), dir, "checkpoint.tmp");
	ckp_path(final, sizeof(final), dir, "checkpoint");
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	bool ok = fd >= 0 && write(fd, buf, len) == (ssize_t)len && fdatasync(fd) == 0;
	if (fd >= 0)
		close(fd);
	bool renamed = ok && rename(tmp, final) == 0;
	if (renamed && wal_sync_dir(dir) != 0)
		return 1;
	if (!renamed) {
		int e = errno;
		unlink(tmp); /* a full disk keeps no empty file of ours */
		errno = e;
	}
	return renamed ? 0 : -1;
}

/* The checkpoint of txn with these meta pages, as ckp_put_file returns. */
static int ckp_write_file(ckp_state *c, uint64_t txn, const uint8_t *meta)
{
	char data[4200];
	ckp_path(data, sizeof(data), c->dir, "data.mdb");
	struct stat st;
	if (stat(data, &st) != 0)
		return -1;
	size_t len = CKP_HEAD + 2 * (size_t)c->psize + 8;
	uint8_t *buf = calloc(1, len);
	if (buf == NULL)
		return -1;
	uint32_t v32[2] = {CKP_VERSION, c->psize};
	uint64_t v64[4] = {(uint64_t)st.st_dev, (uint64_t)st.st_ino, txn, ckp_boot_id()};
	memcpy(buf, CKP_MAGIC, 8);
	memcpy(buf + 8, v32, 8);
	memcpy(buf + 16, v64, 32);
	memcpy(buf + CKP_HEAD, meta, 2 * (size_t)c->psize);
	uint64_t sum = hash_fnv1a(HASH_FNV1A_INIT, buf, len - 8);
	memcpy(buf + len - 8, &sum, 8);
	int rc = ckp_put_file(c->dir, buf, len);
	free(buf);
	return rc;
}

/* Forgets a checkpoint and the log once the data file is synced (a clean
 * close, or a start that found the data file whole). The checkpoint goes
 * first: a stop between the two leaves segments no checkpoint names, which
 * the next start deletes, never a checkpoint to go back to without the
 * records that followed it. */
static void ckp_forget(const char *dir)
{
	char path[4200];
	ckp_path(path, sizeof(path), dir, "checkpoint");
	if (unlink(path) == 0)
		wal_sync_dir(dir);
	wal_drop(dir, UINT64_MAX);
}

/* Whether this process could take the lock LMDB's first user takes: no
 * other process has the environment open. */
static bool ckp_store_unused(const char *dir)
{
	char path[4200];
	ckp_path(path, sizeof(path), dir, "lock.mdb");
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT;
	struct flock lk = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1};
	bool alone = fcntl(fd, F_SETLK, &lk) == 0;
	close(fd); /* and the lock with it */
	return alone;
}

/* Whether the data file's own meta pages are both whole and older than the
 * checkpoint's: then it is not the file the checkpoint was taken of (one
 * restored in its place that got the same inode number). */
static bool ckp_file_older(const char *data, unsigned psize, uint64_t txn)
{
	uint8_t *cur = malloc(2 * (size_t)psize);
	int fd = open(data, O_RDONLY | O_CLOEXEC);
	bool older = false;
	if (cur != NULL && fd >= 0 && pread(fd, cur, 2 * (size_t)psize, 0) == (ssize_t)(2 * (size_t)psize)) {
		uint64_t now = ckp_metas_txnid(cur, psize); /* 0: not both whole */
		older = now != 0 && now < txn;
	}
	if (fd >= 0)
		close(fd);
	free(cur);
	return older;
}

int ckp_restore(const char *dir, ckp_found *found, st_err *err)
{
	*found = CKP_NONE;
	char path[4200], data[4200];
	ckp_path(path, sizeof(path), dir, "checkpoint");
	ckp_path(data, sizeof(data), dir, "data.mdb");
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno != ENOENT)
			return st_errf(err, ANNALS_INTERNAL, "store: cannot read %s: %s", path,
			               strerror(errno));
		/* Closed cleanly, or never run with the log: a segment left is from
		 * a run that had closed (its checkpoint file went last). */
		int gone = wal_drop(dir, UINT64_MAX);
		if (gone > 0)
			log_msg(LOG_WARN, "wal_stray_segments",
			        "dir=\"%s\" deleted=%d why=\"no checkpoint names them: the run that wrote "
			        "them closed cleanly\"",
			        dir, gone);
		return ANNALS_OK;
	}
	uint8_t head[CKP_HEAD];
	uint32_t v32[2];
	uint64_t v64[4];
	bool ok = read(fd, head, CKP_HEAD) == (ssize_t)CKP_HEAD && memcmp(head, CKP_MAGIC, 8) == 0;
	if (ok) {
		memcpy(v32, head + 8, 8);
		memcpy(v64, head + 16, 32);
		ok = v32[0] == CKP_VERSION && v32[1] >= 512 && v32[1] <= CKP_MAX_PSIZE;
	}
	size_t len = ok ? CKP_HEAD + 2 * (size_t)v32[1] + 8 : 0;
	uint8_t *buf = ok ? malloc(len) : NULL;
	if (buf != NULL) {
		memcpy(buf, head, CKP_HEAD);
		ok = read(fd, buf + CKP_HEAD, len - CKP_HEAD) == (ssize_t)(len - CKP_HEAD);
	}
	close(fd);
	uint64_t sum = 0;
	if (ok && buf != NULL) {
		memcpy(&sum, buf + len - 8, 8);
		ok = sum == hash_fnv1a(HASH_FNV1A_INIT, buf, len - 8) &&
		     ckp_metas_txnid(buf + CKP_HEAD, v32[1]) == v64[2];
	}
	if (!ok || buf == NULL) {
		free(buf);
		return st_errf(err, ANNALS_DATA_LOSS,
		               "store: the checkpoint file %s is damaged; the data file may not be whole "
		               "without it: move the data directory aside and restore a backup",
		               path);
	}
	struct stat st;
	if (stat(data, &st) != 0) {
		free(buf);
		if (errno != ENOENT)
			return st_errf(err, ANNALS_INTERNAL, "store: cannot read %s: %s", data,
			               strerror(errno));
		/* No data file (a node about to restore one): nothing to go back to. */
		log_msg(LOG_WARN, "checkpoint_stale",
		        "dir=\"%s\" why=\"a checkpoint and log without a data file; deleted\"", dir);
		ckp_forget(dir);
		return ANNALS_OK;
	}
	/* The inode, not the device: a device number may change across the
	 * very reboot after which the checkpoint matters most. */
	if ((uint64_t)st.st_ino != v64[1] || ckp_file_older(data, v32[1], v64[2])) {
		free(buf);
		return st_errf(err, ANNALS_FAILED_PRECONDITION,
		               "store: %s/checkpoint was written for another data file than the data.mdb "
		               "there now, and the log beside it holds that file's writes: if data.mdb "
		               "was replaced on purpose, delete %s/checkpoint and %s/wal-*.log and start "
		               "again",
		               dir, dir, dir);
	}
	uint64_t boot = ckp_boot_id();
	if (boot != 0 && boot == v64[3]) {
		free(buf);
		*found = CKP_WHOLE;
		log_msg(LOG_INFO, "checkpoint_found",
		        "txn=%" PRIu64 " why=\"the last run did not close cleanly; the machine did not "
		        "restart since, so the data file is whole: the write-ahead log is redone past it\"",
		        v64[2]);
		return ANNALS_OK;
	}
	if (!ckp_store_unused(dir)) {
		free(buf);
		return st_errf(err, ANNALS_FAILED_PRECONDITION,
		               "store: %s must go back to its last checkpoint (the machine restarted "
		               "since the last run, which did not close cleanly), and another process has "
		               "it open: stop that process (a backup, mdb_stat) and start annalsd again",
		               dir);
	}
	int dfd = open(data, O_RDWR | O_CLOEXEC);
	ok = dfd >= 0 &&
	     pwrite(dfd, buf + CKP_HEAD, 2 * (size_t)v32[1], 0) == (ssize_t)(2 * (size_t)v32[1]) &&
	     fdatasync(dfd) == 0;
	int e = errno;
	if (dfd >= 0)
		close(dfd);
	free(buf);
	if (!ok)
		return st_errf(err, e == ENOSPC ? ANNALS_RESOURCE_EXHAUSTED : ANNALS_INTERNAL,
		               "store: cannot write the checkpoint's meta pages back into %s: %s", data,
		               strerror(e));
	*found = CKP_ROLLED_BACK;
	log_msg(LOG_INFO, "checkpoint_restored",
	        "txn=%" PRIu64 " why=\"the last run did not close cleanly and the machine restarted "
	        "since: the store goes back to its last checkpoint and redoes the write-ahead log\"",
	        v64[2]);
	return ANNALS_OK;
}

/* ---- making checkpoints --------------------------------------------------------- */

/* After a failed fdatasync of the data file the page cache can no longer
 * be trusted, not even by a start in the same boot: the checkpoint file is
 * rewritten as if from another boot, so the next start goes back to it. */
static void ckp_mark_rollback(ckp_state *c)
{
	char path[4200];
	ckp_path(path, sizeof(path), c->dir, "checkpoint");
	size_t len = 0;
	uint8_t *buf = (uint8_t *)file_read_all(path, CKP_HEAD + 2 * CKP_MAX_PSIZE + 8, &len);
	bool ok = buf != NULL && len > CKP_HEAD + 8;
	if (ok) {
		memset(buf + 40, 0, 8); /* boot id 0: never this boot */
		uint64_t sum = hash_fnv1a(HASH_FNV1A_INIT, buf, len - 8);
		memcpy(buf + len - 8, &sum, 8);
		ok = ckp_put_file(c->dir, buf, len) == 0;
	}
	free(buf);
	if (!ok)
		log_msg(LOG_ERROR, "checkpoint_unmarked",
		        "dir=\"%s\" why=\"could not mark the checkpoint for a roll-back at the next "
		        "start; restart only after a reboot\"",
		        c->dir);
}

static void ckp_fail(ckp_state *c, const char *what, int e)
{
	pthread_mutex_lock(&c->lock);
	if (!atomic_load(&c->failed_set)) {
		snprintf(c->failed, sizeof(c->failed), "%s (%s)", what, strerror(e));
		atomic_store(&c->failed_set, true);
	}
	pthread_mutex_unlock(&c->lock);
	log_msg(LOG_ERROR, "checkpoint_failed", "why=\"%s: %s\"", what, strerror(e));
}

/* Step 1, on the writer (no commit can run beside it). */
static int ckp_capture(st_store *s, ckp_job *j)
{
	ckp_state *c = s->ckp;
	MDB_envinfo info;
	if (mdb_env_info(s->env, &info) != MDB_SUCCESS)
		return -1;
	j->txn = (uint64_t)info.me_last_txnid;
	j->meta = malloc(2 * (size_t)c->psize);
	j->pin = NULL;
	if (j->meta == NULL)
		return -1;
	bool ok = pread(c->fd, j->meta, 2 * (size_t)c->psize, 0) == (ssize_t)(2 * (size_t)c->psize) &&
	          ckp_metas_txnid(j->meta, c->psize) == j->txn &&
	          mdb_txn_begin(s->env, NULL, MDB_RDONLY, &j->pin) == MDB_SUCCESS &&
	          mdb_txn_id(j->pin) == j->txn;
	if (ok && s->wal != NULL) {
		st_err err = {0};
		ok = wal_rotate(s->wal, j->txn + 1, &err) == ANNALS_OK;
		if (!ok)
			log_msg(LOG_WARN, "checkpoint_skipped", "why=\"%s\"", err.msg);
	}
	if (!ok) {
		if (j->pin != NULL)
			mdb_txn_abort(j->pin);
		free(j->meta);
		j->meta = NULL;
		j->pin = NULL;
		return -1;
	}
	c->last_ms = ckp_now_ms();
	return 0;
}

/* Step 2, on the checkpoint thread, or on the writer for ckp_now. */
static int ckp_make(ckp_state *c, ckp_job *j)
{
	int rc = 0, written = 0;
	if (fdatasync(c->fd) != 0) {
		ckp_fail(c, "the data file could not be synced", errno);
		ckp_mark_rollback(c);
		rc = -1;
	} else if ((written = ckp_write_file(c, j->txn, j->meta)) == 1) {
		/* Either checkpoint may be the one on disk: keep both snapshots
		 * pinned for the rest of the run, and take no more writes. */
		ckp_fail(c, "the data directory could not be synced after a checkpoint", errno);
		c->pin_extra = j->pin;
		j->pin = NULL;
		rc = -1;
	} else if (written != 0) {
		/* The previous checkpoint and its segments stay: nothing is lost,
		 * the log only grows until a checkpoint file can be written. */
		c->last_errno = errno;
		log_msg(LOG_WARN, "checkpoint_skipped",
		        "txn=%" PRIu64 " why=\"cannot write %s/checkpoint: %s\"", j->txn, c->dir,
		        strerror(errno));
		rc = -1;
	}
	MDB_txn *old = j->pin;
	if (rc == 0) {
		pthread_mutex_lock(&c->lock);
		old = c->pin;
		c->pin = j->pin;
		c->durable = j->txn;
		pthread_mutex_unlock(&c->lock);
		wal_drop(c->dir, j->txn + 1);
	}
	if (old != NULL)
		mdb_txn_abort(old);
	free(j->meta);
	j->meta = NULL;
	return rc;
}

static void *ckp_main(void *arg)
{
	ckp_state *c = arg;
	pthread_setname_np(pthread_self(), "annals-ckpt");
	pthread_mutex_lock(&c->lock);
	for (;;) {
		while (!c->job_ready && !c->stop)
			pthread_cond_wait(&c->work, &c->lock);
		if (!c->job_ready)
			break;
		ckp_job j = c->job;
		c->job_ready = false;
		pthread_mutex_unlock(&c->lock);
		ckp_make(c, &j);
		pthread_mutex_lock(&c->lock);
		c->busy = false;
		pthread_cond_broadcast(&c->idle);
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

void ckp_committed(st_store *s)
{
	ckp_state *c = s->ckp;
	if (c == NULL || atomic_load(&c->failed_set))
		return;
	if (ckp_now_ms() - c->last_ms < c->interval_ms && wal_segment_bytes(s->wal) < CKP_WAL_BYTES)
		return;
	pthread_mutex_lock(&c->lock);
	bool busy = c->busy;
	pthread_mutex_unlock(&c->lock);
	if (busy)
		return; /* the next commit looks again */
	ckp_job j;
	if (ckp_capture(s, &j) != 0) {
		c->last_ms = ckp_now_ms();
		return;
	}
	if (!c->started) {
		ckp_make(c, &j);
		return;
	}
	pthread_mutex_lock(&c->lock);
	c->job = j;
	c->job_ready = true;
	c->busy = true;
	pthread_cond_broadcast(&c->work);
	pthread_mutex_unlock(&c->lock);
}

static void ckp_wait_idle(ckp_state *c)
{
	pthread_mutex_lock(&c->lock);
	while (c->busy)
		pthread_cond_wait(&c->idle, &c->lock);
	pthread_mutex_unlock(&c->lock);
}

int ckp_now(st_store *s, st_err *err)
{
	ckp_state *c = s->ckp;
	if (c == NULL)
		return ANNALS_OK;
	ckp_wait_idle(c);
	c->last_errno = 0; /* judged by this attempt alone */
	ckp_job j;
	int rc = !atomic_load(&c->failed_set) && ckp_capture(s, &j) == 0 ? ckp_make(c, &j) : -1;
	if (rc == 0) {
		c->need_ckp = false;
		return ANNALS_OK;
	}
	if (!atomic_load(&c->failed_set) && c->last_errno == ENOSPC)
		return st_errf(err, ANNALS_RESOURCE_EXHAUSTED,
		               "store: disk full: the store cannot write its checkpoint in %s (%s); the "
		               "write was not applied; free space and retry",
		               c->dir, strerror(c->last_errno));
	return st_errf(err, ANNALS_UNAVAILABLE,
	               "store: the write could not be made durable: %s; writes are refused until "
	               "annalsd is restarted on a sound disk",
	               atomic_load(&c->failed_set) ? c->failed : "a checkpoint failed (see the log)");
}

static int ckp_count_record(void *ctx, uint64_t txn, const uint8_t *p, size_t len, st_err *err)
{
	(void)txn, (void)p, (void)len, (void)err;
	(*(int *)ctx)++;
	return ANNALS_OK;
}

/* Whether the log holds no record past the data file's last commit. */
static bool ckp_nothing_to_redo(st_store *s)
{
	MDB_envinfo info;
	int n = 0;
	uint64_t last = 0;
	st_err err = {0};
	return mdb_env_info(s->env, &info) == MDB_SUCCESS &&
	       wal_replay(s->ckp->dir, (uint64_t)info.me_last_txnid, ckp_count_record, &n, &last, &err) ==
	           ANNALS_OK &&
	       n == 0;
}

static void ckp_free(st_store *s)
{
	ckp_state *c = s->ckp;
	if (c->pin != NULL)
		mdb_txn_abort(c->pin);
	if (c->pin_extra != NULL)
		mdb_txn_abort(c->pin_extra);
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->work);
	pthread_cond_destroy(&c->idle);
	free(c);
	s->ckp = NULL;
}

/* A checkpoint that a full disk keeps from being written at open: the
 * store opens and serves reads; writes wait for one (ckp_ready). */
static int ckp_pending(st_err *err)
{
	log_msg(LOG_WARN, "checkpoint_pending", "why=\"%s; writes are refused until it can be written\"",
	        err->msg);
	memset(err, 0, sizeof(*err));
	return ANNALS_OK;
}

int ckp_begin(st_store *s, const char *dir, ckp_found *found, st_err *err)
{
	ckp_state *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return st_errf(err, ANNALS_RESOURCE_EXHAUSTED, "store: out of memory");
	snprintf(c->dir, sizeof(c->dir), "%s", dir);
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->work, NULL);
	pthread_cond_init(&c->idle, NULL);
	c->interval_ms = s->opt.checkpoint_ms;
	MDB_stat ms;
	int fd = -1;
	s->ckp = c;
	if (mdb_env_get_fd(s->env, &fd) != MDB_SUCCESS || mdb_env_stat(s->env, &ms) != MDB_SUCCESS ||
	    ms.ms_psize < 512 || ms.ms_psize > CKP_MAX_PSIZE) {
		ckp_free(s);
		return st_errf(err, ANNALS_INTERNAL, "store: cannot read the data file's page size");
	}
	c->fd = fd;
	c->psize = ms.ms_psize;
	int rc = ckp_now(s, err);
	if (rc != ANNALS_OK && *found == CKP_WHOLE && !atomic_load(&c->failed_set) &&
	    ckp_nothing_to_redo(s)) {
		/* A full disk, a checkpoint of this boot and no record past the
		 * data file's last commit: once the file is synced it needs
		 * neither the checkpoint nor the log, as after a clean close. */
		if (mdb_env_sync(s->env, 1) == MDB_SUCCESS) {
			ckp_forget(dir);
			*found = CKP_NONE;
		}
	}
	if (rc != ANNALS_OK && *found == CKP_NONE && !atomic_load(&c->failed_set)) {
		/* A clean store on a full disk still serves reads; writes wait for
		 * a checkpoint to be possible (ckp_ready). With a log to redo, the
		 * redo's commits would have no checkpoint to fall back on. */
		return ckp_pending(err);
	}
	return rc;
}

uint64_t ckp_durable_txn(const st_store *s)
{
	return s->ckp != NULL ? s->ckp->durable : 0;
}

/* Starts this run's log: a checkpoint of everything (so every segment of
 * the last run can go), a new segment, the checkpoint thread. */
static int ckp_try_log(st_store *s, st_err *err)
{
	ckp_state *c = s->ckp;
	int rc = ckp_now(s, err);
	if (rc == ANNALS_OK) {
		wal_drop(c->dir, UINT64_MAX);
		rc = wal_open(c->dir, c->durable + 1, &s->wal, err);
	}
	if (rc != ANNALS_OK)
		return rc;
	c->log_started = true;
	if (pthread_create(&c->thread, NULL, ckp_main, c) == 0)
		c->started = true; /* without the thread, ckp_committed checkpoints inline */
	return ANNALS_OK;
}

int ckp_cover(st_store *s, st_err *err)
{
	int rc = ckp_now(s, err);
	if (rc != ANNALS_OK && s->ckp != NULL)
		s->ckp->need_ckp = true; /* what it was to cover is not durable: logged writes wait */
	return rc;
}

int ckp_start_log(st_store *s, st_err *err)
{
	s->ckp->opened = true;
	int rc = ckp_try_log(s, err);
	if (rc != ANNALS_OK && !atomic_load(&s->ckp->failed_set)) {
		/* a full disk: reads go on; the first write tries again (ckp_ready) */
		return ckp_pending(err);
	}
	return rc;
}

int ckp_ready(st_store *s, st_err *err)
{
	/* The redo at open writes without a log of its own: its records stay
	 * in the last run's segments until ckp_start_log. */
	ckp_state *c = s->ckp;
	if (c == NULL || !c->opened)
		return ANNALS_OK;
	if (!c->log_started)
		return ckp_try_log(s, err);
	/* A write outside the log (a load) is not yet covered by a checkpoint:
	 * a logged write after it would follow a gap in the log. */
	return c->need_ckp ? ckp_now(s, err) : ANNALS_OK;
}

int ckp_finish_without_log(st_store *s, st_err *err)
{
	int rc = mdb_env_sync(s->env, 1);
	if (rc != MDB_SUCCESS)
		return st_errf(err, ANNALS_INTERNAL, "store: cannot sync the data file: %s",
		               mdb_strerror(rc));
	ckp_forget(s->ckp->dir);
	ckp_free(s);
	return ANNALS_OK;
}

const char *st_durability_refusal(const st_store *s)
{
	if (s->wal != NULL && wal_broken(s->wal)[0] != '\0')
		return wal_broken(s->wal);
	if (s->ckp != NULL && atomic_load(&s->ckp->failed_set))
		return s->ckp->failed;
	return NULL;
}

void ckp_stop(st_store *s)
{
	ckp_state *c = s->ckp;
	if (c == NULL)
		return;
	if (c->started) {
		pthread_mutex_lock(&c->lock);
		c->stop = true;
		pthread_cond_broadcast(&c->work);
		pthread_mutex_unlock(&c->lock);
		pthread_join(c->thread, NULL); /* it makes a checkpoint handed over first */
		c->started = false;
	}
	/* A clean close: once the data file is synced it is whole as it is,
	 * and the segments and the checkpoint go (needing no space, so a full
	 * disk closes cleanly too). An open that failed before its log started
	 * (a redo refused, say), or a log that could not be trusted, leaves
	 * them for the next start. */
	bool synced = st_durability_refusal(s) == NULL && mdb_env_sync(s->env, 1) == MDB_SUCCESS;
	bool clean = c->log_started && synced; /* synced: every commit is on disk, loads too */
	wal_close(s->wal);
	s->wal = NULL;
	if (clean)
		ckp_forget(c->dir);
	else if (c->log_started)
		log_msg(LOG_WARN, "wal_kept",
		        "dir=\"%s\" why=\"the store could not make everything durable; the next start "
		        "redoes the write-ahead log\"",
		        c->dir);
	ckp_free(s);
}
