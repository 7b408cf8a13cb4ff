/*
 * The change feed and every listener obey authentication (issue 13, item
 * 6). With --tokens the PUB socket (which a subscriber joins without any
 * token) carries notifications only — a raw SUB socket sees that a record
 * changed, never the record — while annals_follow with a token still gets
 * every change set in full, through Changes. Without tokens, one address
 * rule guards --listen, --publish and --metrics-listen alike: loopback only,
 * with the host parsed ("2130706433", 127.0.0.1 as one number, is refused).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/pubsub0/sub.h>

#include "../lib/check.h"
#include "../lib/harness.h"

#define WRITER_TOKEN "feed-writer-4b1d8e27c9"
#define SECRET       "only-for-token-holders-7QZ"

static char tokens_path[300];

static int put_secret(annals_client *c, const char *id)
{
	Annals__V1__Name n = ANNALS__V1__NAME__INIT;
	n.text = SECRET;
	Annals__V1__Name *names[] = {&n};
	Annals__V1__Entity e = ANNALS__V1__ENTITY__INIT;
	e.id = (char *)id;
	e.type = ANNALS__V1__ENTITY_TYPE__ENTITY_TYPE_PERSON;
	e.names = names;
	e.n_names = 1;
	e.summary = SECRET;
	Annals__V1__PutEntityRequest req = ANNALS__V1__PUT_ENTITY_REQUEST__INIT;
	req.entity = &e;
	Annals__V1__WriteReply *wr = NULL;
	annals_error err;
	int rc = annals_put_entity(c, &req, &wr, &err);
	annals_free(wr);
	return rc;
}

static bool has_bytes(const uint8_t *hay, size_t n, const char *needle)
{
	size_t k = strlen(needle);
	for (size_t i = 0; i + k <= n; i++)
		if (memcmp(hay + i, needle, k) == 0)
			return true;
	return false;
}

typedef struct seen {
	int sets;
	bool record_with_secret;
} seen;

static int on_change(void *ctx, const Annals__V1__ChangeSet *cs)
{
	seen *s = ctx;
	s->sets++;
	for (size_t i = 0; i < cs->n_changes; i++)
		if (cs->changes[i]->record_case == ANNALS__V1__CHANGE__RECORD_ENTITY &&
		    strcmp(cs->changes[i]->entity->summary, SECRET) == 0)
			s->record_with_secret = true;
	return s->sets >= 1 && s->record_with_secret ? 1 : 0; /* stop once it came */
}

static void test_pub_carries_no_records_with_tokens(void)
{
	char pub[64];
	snprintf(pub, sizeof(pub), "tcp://127.0.0.1:%d", th_free_port());
	th_server srv;
	const char *extra[] = {"--tokens", tokens_path, "--publish", pub, NULL};
	if (th_start(&srv, NULL, extra) != 0) {
		CHECK(!"server with --tokens and --publish started");
		return;
	}
	nng_socket sub;
	CHECK_EQ_INT(nng_sub0_open(&sub), 0);
	nng_socket_set(sub, NNG_OPT_SUB_SUBSCRIBE, "", 0);
	nng_socket_set_ms(sub, NNG_OPT_RECVTIMEO, 300);
	CHECK_EQ_INT(nng_dial(sub, pub, NULL, 0), 0);
	usleep(300 * 1000); /* let the subscription reach the publisher */
	annals_options o = {.timeout_ms = 5000, .token = WRITER_TOKEN};
	annals_client *c = NULL;
	annals_error err;
	CHECK_EQ_INT(annals_open(&c, srv.url, &o, &err), ANNALS_OK);
	uint64_t before = 0;
	th_health(c, &before);
	CHECK_EQ_INT(put_secret(c, "person:feed-secret"), ANNALS_OK);
	int messages = 0, leaked = 0, named = 0;
	for (int i = 0; i < 10; i++) {
		nng_msg *m = NULL;
		if (nng_recvmsg(sub, &m, 0) != 0)
			continue;
		messages++;
		leaked += has_bytes(nng_msg_body(m), nng_msg_len(m), SECRET);
		named += has_bytes(nng_msg_body(m), nng_msg_len(m), "entity/person:feed-secret");
		nng_msg_free(m);
	}
	fprintf(stderr, "  (PUB with tokens: %d messages, %d with the record's text, %d naming it)\n",
	        messages, leaked, named);
	CHECK(messages >= 1);
	CHECK_EQ_INT(leaked, 0);
	CHECK(named >= 1);
	nng_close(sub);
	/* a follower with a token still gets the change set in full */
	seen s = {0};
	annals_follow_opts fo = {.since = before, .publish_url = pub};
	int rc = annals_follow(c, &fo, on_change, &s, &err);
	CHECK(rc == ANNALS_OK || rc == ANNALS_CANCELLED);
	CHECK(s.record_with_secret);
	annals_close(c);
	CHECK_EQ_INT(th_stop(&srv), 0);
	th_cleanup(&srv);
}

/* Starts annalsd with these flags and no tokens; returns its exit status
 * when it refused to start (its log naming `flag`), or 0 when it served. */
static int refused(const char *flag, const char *url, bool *log_names_flag)
{
	th_server s;
	char listen[64];
	snprintf(listen, sizeof(listen), "tcp://127.0.0.1:%d", th_free_port());
	const char *extra[] = {flag, url, NULL};
	const char *listen_only[] = {NULL};
	bool is_listen = strcmp(flag, "--listen") == 0;
	th_spawn_at(&s, is_listen ? url : listen, is_listen ? listen_only : extra, NULL, NULL);
	int st = th_wait_exit(&s, 3000); /* -1: still running after 3 s (then killed) */
	char *log = th_read_file(s.log);
	*log_names_flag = strstr(log, flag) != NULL && strstr(log, "loopback") != NULL;
	free(log);
	th_cleanup(&s);
	return st < 0 ? 0 : st;
}

static void test_one_address_rule(void)
{
	int port = th_free_port();
	char url[96];
	bool named;
	struct {
		const char *flag, *fmt;
	} bad[] = {
	    {"--publish", "tcp://0.0.0.0:%d"},         {"--publish", "tcp://2130706433:%d"},
	    {"--metrics-listen", "http://0.0.0.0:%d"}, {"--metrics-listen", "http://2130706433:%d"},
	    {"--listen", "tcp://2130706433:%d"},       {"--listen", "tcp://127.0.0.1.nip.example:%d"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(url, sizeof(url), bad[i].fmt, port);
		int st = refused(bad[i].flag, url, &named);
		if (st == 0 || !named)
			fprintf(stderr, "  %s %s without tokens: exit %d, log names the rule: %d\n",
			        bad[i].flag, url, st, named);
		CHECK(st != 0);
		CHECK(named);
	}
	/* loopback in its usual spellings still serves */
	th_server ok;
	snprintf(url, sizeof(url), "tcp://localhost:%d", th_free_port());
	char metrics[96];
	snprintf(metrics, sizeof(metrics), "http://127.0.0.1:%d", th_free_port());
	const char *extra[] = {"--metrics-listen", metrics, NULL};
	th_spawn_at(&ok, url, extra, NULL, NULL);
	CHECK_EQ_INT(th_wait_exit(&ok, 1500), -1); /* still serving after 1.5 s (then stopped) */
	th_cleanup(&ok);
}

int main(void)
{
	snprintf(tokens_path, sizeof(tokens_path), "%s/annals-it.feedauth-%d.tokens",
	         getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (int)getpid());
	FILE *f = fopen(tokens_path, "w");
	if (f == NULL) {
		printf("FAIL tokens file\n");
		return 1;
	}
	fprintf(f, "writer %s\n", WRITER_TOKEN);
	fclose(f);
	RUN(test_pub_carries_no_records_with_tokens);
	RUN(test_one_address_rule);
	unlink(tokens_path);
	return CHECK_DONE();
}
