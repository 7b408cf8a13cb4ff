/*
 * st_backup — a hot, compacted copy of the store.
 *
 * mdb_env_copy2(MDB_CP_COMPACT) copies one read snapshot while readers and
 * the writer go on; the copy omits free pages. It holds the resize gate
 * like any reader, so a map growth waits for the copy to finish instead of
 * remapping under it. The copy is a complete LMDB directory: annalsd started
 * on it serves the same records at the same revision.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "annals/annals.h"
#include "store/store_int.h"

static int backup_dir_ready(const char *dir, st_err *err)
{
	struct stat st;
	if (stat(dir, &st) != 0) {
		if (mkdir(dir, 0700) != 0) /* the copy is as private as the store it copies */
			return st_errf(err, ANNALS_INVALID_ARGUMENT, "dir: cannot create %s: %s", dir,
			               strerror(errno));
		return ANNALS_OK;
	}
	if (!S_ISDIR(st.st_mode))
		return st_errf(err, ANNALS_INVALID_ARGUMENT, "dir: %s is not a directory", dir);
	char path[4200];
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	if (access(path, F_OK) == 0)
		return st_errf(err, ANNALS_ALREADY_EXISTS,
		               "dir: %s already holds a data.mdb; give an empty directory", dir);
	return ANNALS_OK;
}

/* A path with a ".." component could name any directory of the host (the
 * admin's token is trusted to back up, not to write anywhere): refused, so
 * what the request names is what gets written. */
static bool backup_path_escapes(const char *dir)
{
	for (const char *p = dir; (p = strstr(p, "..")) != NULL; p += 2)
		if ((p == dir || p[-1] == '/') && (p[2] == '\0' || p[2] == '/'))
			return true;
	return false;
}

int st_backup(st_store *s, const char *dir, uint64_t *revision, uint64_t *bytes, st_err *err)
{
	if (dir == NULL || dir[0] != '/')
		return st_errf(err, ANNALS_INVALID_ARGUMENT,
		               "dir: an absolute path on the server's host is required");
	if (backup_path_escapes(dir))
		return st_errf(err, ANNALS_INVALID_ARGUMENT,
		               "dir: '..' is not allowed in the path; name the directory itself");
	int rc = backup_dir_ready(dir, err);
	if (rc != ANNALS_OK)
		return rc;
	/* data.mdb is made here with the live store's mode (0600 by default):
	 * mdb_env_copy2 would create it 0644, readable by every local user */
	struct stat live;
	mode_t mode = 0600;
	mdb_filehandle_t live_fd;
	if (mdb_env_get_fd(s->env, &live_fd) == MDB_SUCCESS && fstat(live_fd, &live) == 0)
		mode = live.st_mode & 0777;
	char path[4200];
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0)
		return st_errf(err, errno == ENOSPC ? ANNALS_RESOURCE_EXHAUSTED : ANNALS_INVALID_ARGUMENT,
		               "dir: cannot create %s: %s", path, strerror(errno));
	fchmod(fd, mode);           /* the umask does not get a say */
	*revision = st_revision(s); /* at least this: the copy's snapshot starts after this read */
	st_gate_enter(s);
	int mrc = mdb_env_copyfd2(s->env, fd, MDB_CP_COMPACT);
	st_gate_leave(s);
	if (mrc == MDB_SUCCESS && fsync(fd) != 0)
		mrc = errno;
	struct stat st;
	*bytes = fstat(fd, &st) == 0 ? (uint64_t)st.st_size : 0;
	close(fd);
	if (mrc != MDB_SUCCESS) {
		unlink(path); /* no half copy left behind to be mistaken for a backup */
		return st_mdb_status(mrc, err, "backup");
	}
	return ANNALS_OK;
}
