/*
 * cl_restore — see restore.h: annals_snapshot_save from the peer, with the
 * progress in the server's log.
 */
#include "cluster/restore.h"

#include <inttypes.h>
#include <stdio.h>
#include <sys/stat.h>

#include "annals/annals.h"
#include "common/log.h"

#define RESTORE_CHUNK_MS 30000u

typedef struct restore_log {
	uint64_t next;
} restore_log;

static void restore_progress(void *ctx, uint64_t done, uint64_t total)
{
	restore_log *l = ctx;
	if (done < l->next && done < total)
		return;
	log_msg(LOG_INFO, "restore_progress", "bytes=%" PRIu64 " of=%" PRIu64, done, total);
	l->next = done + total / 10 + 1;
}

int cl_restore(const char *urls, const char *token, const char *dir, uint64_t *revision, char *err,
               size_t len)
{
	*revision = 0;
	char final[4096];
	snprintf(final, sizeof(final), "%s/data.mdb", dir);
	struct stat st;
	if (stat(final, &st) == 0) {
		log_msg(LOG_INFO, "restore_skipped", "reason=\"%s holds a store already\"", final);
		return 0;
	}
	annals_options o = {.timeout_ms = RESTORE_CHUNK_MS, .token = token};
	annals_client *c = NULL;
	annals_error aerr = {0};
	if (annals_open(&c, urls, &o, &aerr) != ANNALS_OK) {
		snprintf(err, len, "--restore-from %s: %s", urls, aerr.message);
		return -1;
	}
	log_msg(LOG_INFO, "restore_started", "from=%s dir=%s", urls, dir);
	restore_log l = {0};
	int rc = annals_snapshot_save(c, dir, revision, restore_progress, &l, &aerr);
	annals_close(c);
	if (rc != ANNALS_OK) {
		snprintf(err, len, "a snapshot from %s: %s: %s", urls, annals_status_name(rc), aerr.message);
		return -1;
	}
	log_msg(LOG_INFO, "restore_done", "from=%s revision=%" PRIu64, urls, *revision);
	return 0;
}
