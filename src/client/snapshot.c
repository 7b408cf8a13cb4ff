/*
 * annals_snapshot_save — a server's hot backup fetched over the connection
 * (FetchSnapshot, chunk by chunk) into DIR/data.mdb on this machine. The
 * copy is written as data.mdb.part and renamed only once it is whole and
 * fsynced, so a transfer cut short never leaves a store that looks complete.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "annals/annals.h"

#define SNAPSHOT_FIRST_MS 300000u /* the first call takes the copy on the server's host */

static int snapshot_fail(annals_error *err, int code, const char *what, const char *why)
{
	if (err != NULL) {
		err->code = code;
		/* the path's end matters most: keep the last 300 bytes of it */
		size_t n = strlen(what);
		snprintf(err->message, sizeof(err->message), "%s%.300s: %.200s", n > 300 ? "..." : "",
		         n > 300 ? what + n - 300 : what, why);
	}
	return code;
}

static int snapshot_write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int annals_snapshot_save(annals_client *c, const char *dir, uint64_t *revision, annals_progress_fn progress,
                         void *ctx, annals_error *err)
{
	*revision = 0;
	char final[4096], part[4200];
	snprintf(final, sizeof(final), "%s/data.mdb", dir);
	snprintf(part, sizeof(part), "%s/data.mdb.part", dir);
	struct stat st;
	if (stat(final, &st) == 0)
		return snapshot_fail(err, ANNALS_ALREADY_EXISTS, final,
		                     "holds a store already; give an empty directory");
	mkdir(dir, 0700);
	int fd = open(part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return snapshot_fail(err, ANNALS_FAILED_PRECONDITION, part, strerror(errno));
	char snap[32] = "";
	uint64_t offset = 0, size = 0;
	int rc = ANNALS_OK;
	for (;;) {
		Annals__V1__FetchSnapshotRequest req = ANNALS__V1__FETCH_SNAPSHOT_REQUEST__INIT;
		req.snapshot = snap;
		req.offset = offset;
		ProtobufCMessage *rep = NULL;
		annals_call_opts co = {.timeout_ms = snap[0] ? 0 : SNAPSHOT_FIRST_MS};
		rc = annals_call(c, "FetchSnapshot", &req.base, &rep, &co, err);
		if (rc != ANNALS_OK)
			break;
		const Annals__V1__FetchSnapshotReply *r = (const Annals__V1__FetchSnapshotReply *)rep;
		if (snap[0] == '\0') {
			snprintf(snap, sizeof(snap), "%s", r->snapshot);
			*revision = r->revision;
			size = r->size;
		}
		bool bad = r->offset != offset || r->size != size || (r->data.len == 0 && !r->last);
		if (bad || snapshot_write_all(fd, r->data.data, r->data.len) != 0) {
			rc = snapshot_fail(err, bad ? ANNALS_DATA_LOSS : ANNALS_FAILED_PRECONDITION, part,
			                   bad ? "the server's chunks do not fit together" : strerror(errno));
			annals_free(rep);
			break;
		}
		offset += r->data.len;
		bool last = r->last;
		annals_free(rep);
		if (progress != NULL)
			progress(ctx, offset, size);
		if (last)
			break;
	}
	if (rc == ANNALS_OK && fsync(fd) != 0)
		rc = snapshot_fail(err, ANNALS_FAILED_PRECONDITION, part, strerror(errno));
	close(fd);
	if (rc == ANNALS_OK && rename(part, final) != 0)
		rc = snapshot_fail(err, ANNALS_FAILED_PRECONDITION, final, strerror(errno));
	if (rc != ANNALS_OK) {
		unlink(part);
		*revision = 0;
		return rc;
	}
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd); /* the rename itself on disk */
		close(dfd);
	}
	if (err != NULL) {
		err->code = ANNALS_OK;
		err->message[0] = '\0';
	}
	return ANNALS_OK;
}
