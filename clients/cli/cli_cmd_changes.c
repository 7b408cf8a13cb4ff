/*
 * cli_cmd_changes — the change feed: `annals changes --since N [--follow]`.
 *
 * With --json every change set is one compact JSON line, so a consumer can
 * read the feed line by line. --follow long-polls (wait_ms 30000) from the
 * last revision seen, forever, until SIGINT or SIGTERM.
 */
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define CH_WAIT_MS 30000

typedef struct ch_state {
	uint64_t since;
	uint64_t printed; /* change sets printed so far */
	Annals__V1__ChangesRequest req;
	pthread_mutex_t out; /* held while a change set is printed (--follow only) */
	sigset_t stop_signals;
	pthread_t signal_thread;
} ch_state;

static const char *ch_time(ar_arena *a, int64_t ms)
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;
	if (ms <= 0 || gmtime_r(&s, &tm) == NULL)
		return "-";
	return ar_printf(a, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
	                 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

static int ch_print_set(cli_ctx *ctx, const Annals__V1__ChangeSet *cs)
{
	if (ctx->structured)
		return cli_print_msg_line(ctx, &cs->base);
	ar_arena *a = &ctx->ar;
	printf("revision %" PRIu64 "  %s  %zu change%s%s%s\n", cs->revision, ch_time(a, cs->committed_ms),
	       cs->n_changes, cs->n_changes == 1 ? "" : "s", cs->request_id[0] ? "  request " : "",
	       cs->request_id);
	cli_table t;
	cli_table_init(&t, a, 3);
	for (size_t i = 0; i < cs->n_changes; i++) {
		const Annals__V1__Change *c = cs->changes[i];
		cli_table_row(&t, c->deleted ? "delete" : "put", cli_record_kind(a, c->kind), c->id);
	}
	cli_table_print(&t, stdout, "  ");
	return 0;
}

/* Prints the sets and moves `since` past them. Without sets, a reply may
 * still be newer (a --kind/--id filter skipped what happened): resume
 * from the revision the server answered at, so nothing is scanned twice. */
static int ch_print_reply(cli_ctx *ctx, ch_state *st, const Annals__V1__ChangesReply *r, bool follow)
{
	int rc = 0;
	for (size_t i = 0; i < r->n_changes && rc == 0; i++) {
		if (follow)
			pthread_mutex_lock(&st->out);
		rc = ch_print_set(ctx, r->changes[i]);
		fflush(stdout);
		if (follow)
			pthread_mutex_unlock(&st->out);
		st->since = r->changes[i]->revision;
		st->printed++;
	}
	if (r->n_changes == 0 && r->revision > st->since && (st->req.kind || st->req.id[0]))
		st->since = r->revision;
	return rc;
}

/* OUT_OF_RANGE: the feed no longer holds `since`; say where it begins. */
static int ch_out_of_range(cli_ctx *ctx, const ch_state *st, const char *message)
{
	Annals__V1__ServerInfoRequest req = ANNALS__V1__SERVER_INFO_REQUEST__INIT;
	Annals__V1__ServerInfoReply *info = NULL;
	annals_error err;
	cli_report(ctx, ANNALS_OUT_OF_RANGE, message);
	if (cli_call_quiet(ctx, "ServerInfo", &req.base, &info, 0, &err) == ANNALS_OK) {
		uint64_t oldest = info->oldest_change;
		fprintf(stderr,
		        "hint: revision %" PRIu64 " is no longer in the change feed; the oldest revision "
		        "available is %" PRIu64 ": resume with --since %" PRIu64 ", or take a full copy with "
		        "`annals export`\n",
		        st->since, oldest, oldest ? oldest - 1 : 0);
	}
	annals_free(info);
	return ANNALS_OUT_OF_RANGE;
}

/* One Changes call; *more says the store holds newer change sets than
 * the ones printed (the answer was cut at the limit). */
static int ch_poll(cli_ctx *ctx, ch_state *st, bool follow, bool *more)
{
	st->req.since = st->since;
	Annals__V1__ChangesReply *rep;
	annals_error err = {0};
	uint32_t timeout = follow ? ctx->timeout_ms + CH_WAIT_MS : 0;
	int rc = cli_call_quiet(ctx, "Changes", &st->req.base, &rep, timeout, &err);
	if (rc == ANNALS_OUT_OF_RANGE)
		return ch_out_of_range(ctx, st, err.message);
	if (rc != ANNALS_OK)
		return cli_report(ctx, rc, err.message);
	rc = ch_print_reply(ctx, st, rep, follow);
	*more = rep->n_changes > 0 && st->since < rep->revision;
	if (rc == 0 && !follow && !ctx->structured && st->printed == 0)
		fprintf(stderr, "(no changes after revision %" PRIu64 "; the store is at %" PRIu64 ")\n",
		        st->since, rep->revision);
	annals_free(rep);
	return rc;
}

/* The long poll cannot be interrupted through the client API, so a
 * dedicated thread takes SIGINT/SIGTERM: it waits until no change set is
 * half printed, flushes what was printed and ends the process with 0.
 * Nothing is pending then: the feed is only read. */
static void *ch_signal_thread(void *arg)
{
	ch_state *st = arg;
	int sig = 0;
	sigwait(&st->stop_signals, &sig);
	pthread_mutex_lock(&st->out);
	fflush(stdout);
	_exit(0);
	return NULL;
}

/* Must run before the client exists: threads nng starts inherit the
 * blocked mask, so the signals reach only the sigwait thread. */
static int ch_catch_signals(cli_ctx *ctx, ch_state *st)
{
	sigemptyset(&st->stop_signals);
	sigaddset(&st->stop_signals, SIGINT);
	sigaddset(&st->stop_signals, SIGTERM);
	if (pthread_sigmask(SIG_BLOCK, &st->stop_signals, NULL) != 0 ||
	    pthread_create(&st->signal_thread, NULL, ch_signal_thread, st) != 0)
		return cli_fail(ctx, ANNALS_INTERNAL, "cannot set up the signal handling for --follow");
	return 0;
}

/* After a failed poll: the thread refers to st, which is about to go, so
 * it is stopped (sigwait is a cancellation point) before st goes. */
static void ch_release_signals(ch_state *st)
{
	pthread_cancel(st->signal_thread);
	pthread_join(st->signal_thread, NULL);
}

static int ch_options(cli_ctx *ctx, ch_state *st)
{
	int kind = 0;
	int rc = cli_opt_u64(ctx, "since", &st->since, NULL);
	if (rc == 0)
		rc = cli_opt_u32(ctx, "limit", &st->req.limit);
	if (rc == 0)
		rc = cli_opt_enum(ctx, "kind", &annals__v1__record_kind__descriptor, "RECORD_KIND_", &kind);
	st->req.kind = (Annals__V1__RecordKind)kind;
	if (cli_opt(ctx, "id"))
		st->req.id = (char *)cli_opt(ctx, "id");
	return rc;
}

static int cmd_changes(cli_ctx *ctx)
{
	ch_state st = {.since = 0, .req = ANNALS__V1__CHANGES_REQUEST__INIT};
	bool follow = cli_flag(ctx, "follow");
	int rc = ch_options(ctx, &st);
	if (rc != 0)
		return rc;
	bool more = true;
	if (!follow) { /* everything after N, unless --limit asked for one answer's worth */
		while (rc == 0 && more) {
			rc = ch_poll(ctx, &st, false, &more);
			more = more && st.req.limit == 0;
		}
		return rc;
	}
	pthread_mutex_init(&st.out, NULL);
	st.req.wait_ms = CH_WAIT_MS;
	rc = ch_catch_signals(ctx, &st);
	if (rc != 0)
		return rc;
	while (rc == 0)
		rc = ch_poll(ctx, &st, true, &more);
	ch_release_signals(&st);
	pthread_mutex_destroy(&st.out);
	return rc;
}

static const cli_optspec changes_opts[] = {{"since", true}, {"follow", false}, {"kind", true},
                                           {"id", true},    {"limit", true},   {NULL, false}};

const cli_cmd cli_cmds_changes[] = {
    {.name = "changes",
     .synopsis = "--since N [--follow] [--kind K] [--id X] [--limit N]",
     .summary = "the change feed: every committed change set after revision N",
     .details = "  --since N        change sets with a revision above N (default 0: all retained)\n"
                "  --follow         keep waiting for new change sets (long poll) until Ctrl-C\n"
                "  --kind K         only entity, event, relation or document changes\n"
                "  --id X           only changes of this record\n"
                "  --limit N        at most N change sets per answer (server default 100)\n"
                "With --json, one ChangeSet per line (JSON lines).\n"
                "When N is older than the feed keeps, exits 11 (OUT_OF_RANGE) naming the oldest.\n",
     .opts = changes_opts,
     .max_pos = 0,
     .run = cmd_changes},
    {.run = NULL},
};
