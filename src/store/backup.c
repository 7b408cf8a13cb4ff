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
		if (mkdir(dir, 0750) != 0)
			return st_errf(err, ANNALS_INVALID_ARGUMENT, "dir: cannot create %s: %s", dir, strerror(errno));
		return ANNALS_OK;
	}
	if (!S_ISDIR(st.st_mode))
		return st_errf(err, ANNALS_INVALID_ARGUMENT, "dir: %s is not a directory", dir);
	char path[4200];
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	if (access(path, F_OK) == 0)
		return st_errf(err, ANNALS_ALREADY_EXISTS, "dir: %s already holds a data.mdb; give an empty directory", dir);
	return ANNALS_OK;
}

int st_backup(st_store *s, const char *dir, uint64_t *revision, uint64_t *bytes, st_err *err)
{
	if (dir == NULL || dir[0] != '/')
		return st_errf(err, ANNALS_INVALID_ARGUMENT, "dir: an absolute path on the server's host is required");
	int rc = backup_dir_ready(dir, err);
	if (rc != ANNALS_OK)
		return rc;
	*revision = st_revision(s); /* at least this: the copy's snapshot starts after this read */
	st_gate_enter(s);
	int mrc = mdb_env_copy2(s->env, dir, MDB_CP_COMPACT);
	st_gate_leave(s);
	if (mrc != MDB_SUCCESS)
		return st_mdb_status(mrc, err, "backup");
	char path[4200];
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	struct stat st;
	*bytes = stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
	return ANNALS_OK;
}
