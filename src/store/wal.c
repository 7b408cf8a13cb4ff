/*
 * wal_ — the write-ahead log's segment files: append and sync, take back,
 * rotate, delete, read back. The contract it serves is in wal.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "annals/annals.h"
#include "common/hash.h"
#include "common/log.h"
#include "store/store_int.h"
#include "store/wal.h"

#define WAL_MAGIC      0x4c415741u   /* "AWAL" little-endian */
#define WAL_HEADER     24u           /* magic, length, txn, sum */
#define WAL_MAX_RECORD (1024u << 20) /* far above any group (max message x max writes) */
#define WAL_NAME_FMT   "wal-%016" PRIx64 ".log"
#define WAL_PREALLOC   (16u << 20) /* a segment's space, allocated when it is created */

struct wal {
	char dir[4096];
	int fd;
	uint64_t first_txn; /* the current segment's name */
	uint64_t bytes;     /* its length: where the next record goes */
	uint64_t last_len;  /* the last record's length, for wal_undo */
	char broken[256];
};

static uint64_t wal_sum(uint64_t txn, uint32_t len, const uint8_t *p)
{
	uint64_t h = hash_fnv1a(HASH_FNV1A_INIT, &txn, sizeof(txn));
	h = hash_fnv1a(h, &len, sizeof(len));
	return hash_fnv1a(h, p, len);
}

int wal_sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	close(fd);
	return rc;
}

static int wal_create(wal *w, uint64_t first_txn, st_err *err)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/" WAL_NAME_FMT, w->dir, first_txn);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || wal_sync_dir(w->dir) != 0) {
		int e = errno;
		if (fd >= 0) {
			close(fd);
			unlink(path); /* an empty segment would stop the real last one being last */
		}
		return st_errf(err, e == ENOSPC ? ANNALS_RESOURCE_EXHAUSTED : ANNALS_INTERNAL,
		               "store: cannot create the write-ahead log %s: %s", path, strerror(e));
	}
	/* Allocated ahead, an append does not grow the file: its fdatasync
	 * then writes the record alone, not the inode's new size too (about a
	 * quarter of a small sync here). Where the file system cannot (or has
	 * no room), appends grow the file as usual. The space reads as zeros:
	 * the end of the log for wal_replay. */
	if (fallocate(fd, 0, 0, (off_t)WAL_PREALLOC) == 0)
		fdatasync(fd);
	w->fd = fd;
	w->first_txn = first_txn;
	w->bytes = 0;
	w->last_len = 0;
	return ANNALS_OK;
}

int wal_open(const char *dir, uint64_t first_txn, wal **out, st_err *err)
{
	*out = NULL;
	wal *w = calloc(1, sizeof(*w));
	if (w == NULL)
		return st_errf(err, ANNALS_RESOURCE_EXHAUSTED, "store: out of memory");
	snprintf(w->dir, sizeof(w->dir), "%s", dir);
	w->fd = -1;
	int rc = wal_create(w, first_txn, err);
	if (rc != ANNALS_OK) {
		free(w);
		return rc;
	}
	*out = w;
	return ANNALS_OK;
}

void wal_close(wal *w)
{
	if (w == NULL)
		return;
	if (w->fd >= 0)
		close(w->fd);
	free(w);
}

const char *wal_broken(const wal *w)
{
	return w->broken;
}

uint64_t wal_segment_bytes(const wal *w)
{
	return w->bytes;
}

/* Cuts the segment back to len bytes; a failure leaves the log broken. */
static int wal_cut(wal *w, uint64_t len, const char *why)
{
	if (ftruncate(w->fd, (off_t)len) == 0 && fdatasync(w->fd) == 0) {
		w->bytes = len;
		return 0;
	}
	snprintf(w->broken, sizeof(w->broken), "the write-ahead log could not be cut back after %s (%s)", why,
	         strerror(errno));
	log_msg(LOG_ERROR, "wal_broken", "why=\"%s\"", w->broken);
	return -1;
}

int wal_append(wal *w, uint64_t txn, const uint8_t *payload, size_t len, st_err *err)
{
	if (w->broken[0] != '\0')
		return st_errf(err, ANNALS_UNAVAILABLE, "store: writes are refused: %s; restart annalsd",
		               w->broken);
	if (len > WAL_MAX_RECORD)
		return st_errf(err, ANNALS_RESOURCE_EXHAUSTED,
		               "store: a group of writes of %zu bytes is too large for the log", len);
	uint32_t hdr32[2] = {WAL_MAGIC, (uint32_t)len};
	uint64_t hdr64[2] = {txn, wal_sum(txn, (uint32_t)len, payload)};
	uint8_t hdr[WAL_HEADER];
	memcpy(hdr, hdr32, 8);
	memcpy(hdr + 8, hdr64, 16);
	struct iovec iov[2] = {{hdr, WAL_HEADER}, {(void *)payload, len}};
	size_t want = WAL_HEADER + len;
	ssize_t n = pwritev(w->fd, iov, 2, (off_t)w->bytes);
	int e = errno;
	if (n == (ssize_t)want && fdatasync(w->fd) == 0) {
		w->bytes += want;
		w->last_len = want;
		return ANNALS_OK;
	}
	if (n == (ssize_t)want) {
		/* A failed fdatasync leaves the page cache's state unknown (the
		 * kernel may have dropped the dirty pages): never trust it again. */
		e = errno;
		snprintf(w->broken, sizeof(w->broken), "the write-ahead log could not be synced (%s)",
		         strerror(e));
		log_msg(LOG_ERROR, "wal_broken", "why=\"%s\"", w->broken);
		return st_errf(err, ANNALS_UNAVAILABLE,
		               "store: %s; the write's outcome is unknown (the next start redoes it if "
		               "its record reached the disk); restart annalsd once the disk is sound",
		               w->broken);
	}
	if (n < 0)
		n = 0;
	if (n > 0 && wal_cut(w, w->bytes, "a short write") != 0)
		return st_errf(err, ANNALS_UNAVAILABLE, "store: %s; restart annalsd", w->broken);
	if (n > 0 || e == 0)
		e = ENOSPC; /* a short write: the file system had no room for the rest */
	return st_errf(err, e == ENOSPC ? ANNALS_RESOURCE_EXHAUSTED : ANNALS_INTERNAL,
	               "store: %s: the write-ahead log could not be written (%s); the write was not "
	               "applied; free space and retry",
	               e == ENOSPC ? "disk full" : "I/O error", strerror(e));
}

int wal_undo(wal *w)
{
	if (w->last_len == 0 || w->last_len > w->bytes)
		return 0;
	int rc = wal_cut(w, w->bytes - w->last_len, "a failed commit");
	w->last_len = 0;
	return rc;
}

int wal_rotate(wal *w, uint64_t first_txn, st_err *err)
{
	if (first_txn == w->first_txn && w->bytes == 0)
		return ANNALS_OK;
	int old = w->fd;
	uint64_t old_first = w->first_txn, old_bytes = w->bytes;
	int rc = wal_create(w, first_txn, err);
	if (rc != ANNALS_OK) {
		w->fd = old; /* keep appending where we were */
		w->first_txn = old_first;
		w->bytes = old_bytes;
		return rc;
	}
	close(old);
	return ANNALS_OK;
}

/* ---- reading the segments back --------------------------------------------- */

static int wal_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* The segments' first txns, sorted; *n of them. NULL and *n = 0 when none. */
static uint64_t *wal_list(const char *dir, size_t *n, bool *failed)
{
	*n = 0;
	*failed = false;
	DIR *d = opendir(dir);
	if (d == NULL) {
		*failed = errno != ENOENT;
		return NULL;
	}
	uint64_t *v = NULL;
	size_t cap = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		uint64_t first;
		char tail[8];
		if (strlen(e->d_name) != 24 || sscanf(e->d_name, "wal-%16" SCNx64 "%4s", &first, tail) != 2 ||
		    strcmp(tail, ".log") != 0)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			uint64_t *nv = realloc(v, cap * sizeof(*v));
			if (nv == NULL) {
				*failed = true;
				break;
			}
			v = nv;
		}
		v[(*n)++] = first;
	}
	closedir(d);
	if (v != NULL)
		qsort(v, *n, sizeof(*v), wal_cmp_u64);
	return v;
}

int wal_drop(const char *dir, uint64_t keep_from)
{
	size_t n;
	bool failed;
	uint64_t *v = wal_list(dir, &n, &failed);
	if (failed) { /* deleting from a partial list could delete what the rest needs */
		free(v);
		return 0;
	}
	int gone = 0;
	for (size_t i = 0; i < n; i++) {
		bool all_below = keep_from == UINT64_MAX || (i + 1 < n && v[i + 1] <= keep_from);
		if (!all_below)
			continue;
		char path[4200];
		snprintf(path, sizeof(path), "%s/" WAL_NAME_FMT, dir, v[i]);
		if (unlink(path) == 0)
			gone++;
	}
	free(v);
	if (gone > 0)
		wal_sync_dir(dir);
	return gone;
}

typedef struct wal_reader {
	uint64_t after, expect, last;
	wal_fn fn;
	void *ctx;
	bool ended; /* a torn record was met: nothing may follow it */
} wal_reader;

/* Reads one segment's records; returns 0, or a code with err set. */
static int wal_read_segment(wal_reader *r, const char *path, bool last_segment, st_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0) {
		if (fd >= 0)
			close(fd);
		return st_errf(err, ANNALS_INTERNAL, "store: cannot read the write-ahead log %s: %s", path,
		               strerror(errno));
	}
	size_t size = (size_t)st.st_size;
	uint8_t *buf = malloc(size ? size : 1);
	size_t got = 0;
	while (buf != NULL && got < size) {
		ssize_t k = pread(fd, buf + got, size - got, (off_t)got);
		if (k <= 0)
			break;
		got += (size_t)k;
	}
	close(fd);
	if (buf == NULL || got < size) {
		free(buf);
		return st_errf(err, ANNALS_INTERNAL, "store: cannot read the write-ahead log %s", path);
	}
	int rc = ANNALS_OK;
	size_t off = 0;
	while (rc == ANNALS_OK && off < size) {
		uint32_t hdr32[2] = {0, 0};
		uint64_t hdr64[2] = {0, 0};
		bool whole = size - off >= WAL_HEADER;
		if (whole) {
			memcpy(hdr32, buf + off, 8);
			memcpy(hdr64, buf + off + 8, 16);
			whole = hdr32[0] == WAL_MAGIC && hdr32[1] <= size - off - WAL_HEADER;
		}
		if (hdr32[0] == 0 && hdr32[1] == 0 && hdr64[0] == 0 && hdr64[1] == 0)
			break; /* the segment's space allocated ahead: its records end here */
		if (whole && hdr64[0] <= r->after && off + WAL_HEADER + hdr32[1] < size) {
			off += WAL_HEADER + hdr32[1]; /* the data file has it: not read, not judged */
			continue;
		}
		whole = whole && wal_sum(hdr64[0], hdr32[1], buf + off + WAL_HEADER) == hdr64[1];
		/* A whole record that fails its sum with more of the log after it
		 * was not being written when the machine stopped: the records
		 * after it were answered, so it is damage, not a torn tail. */
		size_t next = off + WAL_HEADER + hdr32[1];
		uint32_t next_magic = 0;
		if (hdr32[0] == WAL_MAGIC && hdr32[1] <= size - off - WAL_HEADER && size - next >= 4)
			memcpy(&next_magic, buf + next, 4);
		bool damaged = !whole && next_magic == WAL_MAGIC;
		if (damaged) {
			rc = st_errf(
			    err, ANNALS_DATA_LOSS,
			    "store: the write-ahead log %s is damaged at byte %zu, with answered writes "
			    "after it; move the data directory aside and restore a backup",
			    path, off);
			break;
		}
		if (!whole) {
			/* Torn: the record being appended when the machine stopped. It
			 * can only be the last thing in the log. */
			if (!last_segment)
				rc = st_errf(
				    err, ANNALS_DATA_LOSS,
				    "store: the write-ahead log %s is damaged at byte %zu, before "
				    "later segments; move the data directory aside and restore a backup",
				    path, off);
			else
				log_msg(LOG_WARN, "wal_torn_tail",
				        "file=\"%s\" offset=%zu bytes=%zu why=\"a record cut short by a stop "
				        "while it was written; its writes were never answered\"",
				        path, off, size - off);
			r->ended = true;
			break;
		}
		uint64_t txn = hdr64[0];
		const uint8_t *p = buf + off + WAL_HEADER;
		off += WAL_HEADER + hdr32[1];
		if (txn <= r->after)
			continue;
		if (txn != r->expect) {
			rc = st_errf(err, ANNALS_DATA_LOSS,
			             "store: the write-ahead log jumps from txn %" PRIu64 " to %" PRIu64
			             " (%s); move the data directory aside and restore a backup",
			             r->expect - 1, txn, path);
			break;
		}
		rc = r->fn(r->ctx, txn, p, hdr32[1], err);
		r->last = txn;
		r->expect = txn + 1;
	}
	free(buf);
	return rc;
}

int wal_replay(const char *dir, uint64_t after, wal_fn fn, void *ctx, uint64_t *last, st_err *err)
{
	size_t n;
	bool failed;
	uint64_t *v = wal_list(dir, &n, &failed);
	if (failed) {
		free(v);
		return st_errf(err, ANNALS_INTERNAL,
		               "store: cannot list the write-ahead log's segments in %s: %s", dir,
		               strerror(errno));
	}
	wal_reader r = {.after = after, .expect = after + 1, .last = after, .fn = fn, .ctx = ctx};
	int rc = ANNALS_OK;
	for (size_t i = 0; rc == ANNALS_OK && i < n && !r.ended; i++) {
		if (i + 1 < n && v[i + 1] <= after + 1)
			continue; /* holds only txns the checkpoint has */
		char path[4200];
		snprintf(path, sizeof(path), "%s/" WAL_NAME_FMT, dir, v[i]);
		rc = wal_read_segment(&r, path, i + 1 == n, err);
	}
	free(v);
	*last = r.last;
	return rc;
}
