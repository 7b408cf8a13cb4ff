/*
 * srv_h_fetch_snapshot — a hot backup handed out in chunks over the
 * connection (FetchSnapshot, admin). The copy is taken with st_backup into
 * <data>/snapshots/<id>/ on the first call; later calls read it by id and
 * offset. Ids are 16 random hex digits, checked before they touch a path;
 * a copy untouched for SNAP_KEEP_S is removed when the next one is taken.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "annals/annals.h"
#include "common/log.h"
#include "server/server.h"

#define SNAP_CHUNK  (1u << 20)
#define SNAP_KEEP_S 600

static bool snap_id_ok(const char *id)
{
	if (strlen(id) != 16)
		return false;
	for (const char *p = id; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}

/* <data>/snapshots as an absolute path (st_backup wants one). */
static int snap_root(const srv_server *s, char *out, size_t len)
{
	char data[PATH_MAX];
	if (realpath(s->cfg.data_dir, data) == NULL)
		return -1;
	int n = snprintf(out, len, "%s/snapshots", data);
	return n > 0 && (size_t)n < len ? 0 : -1;
}

static void snap_remove(const char *dir)
{
	char f[PATH_MAX + 340];
	snprintf(f, sizeof(f), "%s/data.mdb", dir);
	unlink(f);
	snprintf(f, sizeof(f), "%s/lock.mdb", dir);
	unlink(f);
	rmdir(dir);
}

/* Removes the copies nobody asked for during SNAP_KEEP_S. */
static void snap_sweep(const char *root)
{
	DIR *d = opendir(root);
	if (d == NULL)
		return;
	struct dirent *e;
	time_t now = time(NULL);
	while ((e = readdir(d)) != NULL) {
		if (!snap_id_ok(e->d_name))
			continue;
		char dir[PATH_MAX + 300];
		snprintf(dir, sizeof(dir), "%s/%s", root, e->d_name);
		struct stat st; /* the directory's mtime: touched by every chunk read */
		if (stat(dir, &st) != 0 || now - st.st_mtime > SNAP_KEEP_S) {
			snap_remove(dir);
			log_msg(LOG_INFO, "snapshot_removed", "id=%s", e->d_name);
		}
	}
	closedir(d);
}

void srv_h_fetch_snapshot(srv_worker *w, const Annals__V1__FetchSnapshotRequest *in)
{
	srv_server *s = w->srv;
	char root[PATH_MAX], dir[PATH_MAX + 32], file[PATH_MAX + 48], id[17];
	if (snap_root(s, root, sizeof(root)) != 0) {
		srv_fail(w, ANNALS_INTERNAL, "the data directory's path cannot be resolved");
		return;
	}
	Annals__V1__FetchSnapshotReply out = ANNALS__V1__FETCH_SNAPSHOT_REPLY__INIT;
	if (in->snapshot[0] == '\0') {
		if (in->offset != 0) {
			srv_fail(w, ANNALS_INVALID_ARGUMENT, "offset: a new snapshot starts at 0");
			return;
		}
		unsigned char r[8];
		if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
			srv_fail(w, ANNALS_INTERNAL, "no randomness for a snapshot id");
			return;
		}
		for (int i = 0; i < 8; i++)
			snprintf(id + 2 * i, 3, "%02x", r[i]);
		mkdir(root, 0700);
		snap_sweep(root);
		snprintf(dir, sizeof(dir), "%s/%s", root, id);
		st_err err = {0};
		uint64_t bytes = 0;
		int rc = st_backup(s->store, dir, &out.revision, &bytes, &err);
		if (rc != ANNALS_OK) {
			snap_remove(dir);
			srv_fail(w, rc, "%s", err.msg);
			return;
		}
		log_msg(LOG_INFO, "snapshot_taken", "id=%s revision=%llu bytes=%llu", id,
		        (unsigned long long)out.revision, (unsigned long long)bytes);
	} else if (!snap_id_ok(in->snapshot)) {
		srv_fail(w, ANNALS_INVALID_ARGUMENT, "snapshot: not an id this server gave (16 hex digits)");
		return;
	} else {
		snprintf(id, sizeof(id), "%s", in->snapshot);
		snprintf(dir, sizeof(dir), "%s/%s", root, id);
	}
	snprintf(file, sizeof(file), "%s/data.mdb", dir);
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0) {
		if (fd >= 0)
			close(fd);
		srv_fail(
		    w, ANNALS_NOT_FOUND,
		    "snapshot %s: no such copy (removed after %d s unused?); start again with snapshot \"\"",
		    id, SNAP_KEEP_S);
		return;
	}
	uint64_t size = (uint64_t)st.st_size;
	if (in->offset > size) {
		close(fd);
		srv_fail(w, ANNALS_OUT_OF_RANGE, "offset %llu is past the snapshot's %llu bytes",
		         (unsigned long long)in->offset, (unsigned long long)size);
		return;
	}
	size_t want = in->max_bytes && in->max_bytes < SNAP_CHUNK ? in->max_bytes : SNAP_CHUNK;
	if (want > size - in->offset)
		want = (size_t)(size - in->offset);
	uint8_t *buf = ar_alloc(&w->arena, want ? want : 1);
	ssize_t got = pread(fd, buf, want, (off_t)in->offset);
	close(fd);
	if (got < 0 || (size_t)got != want) {
		srv_fail(w, ANNALS_INTERNAL, "snapshot %s: read failed: %s", id,
		         got < 0 ? strerror(errno) : "short read");
		return;
	}
	utimensat(AT_FDCWD, dir, NULL, 0); /* in use: the sweep goes by this time */
	out.snapshot = ar_printf(&w->arena, "%s", id);
	out.size = size;
	out.offset = in->offset;
	out.data.data = buf;
	out.data.len = want;
	out.last = in->offset + want == size;
	srv_worker_reply_msg(w, &out.base);
}
