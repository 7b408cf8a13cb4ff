/*
 * Connections are bounded (issue 13, item 5): past --max-connections a new
 * connection is closed at once with a log line, the connections already
 * open keep working, and as soon as some close a new client gets in.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/check.h"
#include "../lib/harness.h"
#include "../lib/raw.h"

static void test_connection_cap(void)
{
	th_server srv;
	const char *extra[] = {"--max-connections", "20", NULL};
	if (th_start(&srv, NULL, extra) != 0) {
		CHECK(!"server with --max-connections 20 started");
		return;
	}
	usleep(200 * 1000); /* the start-up health probe's connection has gone */
	enum { HELD = 20, EXTRA = 10 };
	int held[HELD], over[EXTRA];
	int held_ok = 0, closed = 0;
	for (int i = 0; i < HELD; i++) {
		held[i] = raw_sp_connect(srv.url);
		held_ok += held[i] >= 0;
	}
	CHECK_EQ_INT(held_ok, HELD);
	usleep(200 * 1000);
	for (int i = 0; i < EXTRA; i++) {
		over[i] = raw_sp_connect(srv.url);
		closed += over[i] < 0 || raw_closed_by_peer(over[i]);
		if (over[i] >= 0)
			close(over[i]);
	}
	fprintf(stderr, "  (%d connections held; %d of %d more closed by the server)\n", held_ok, closed,
	        EXTRA);
	CHECK_EQ_INT(closed, EXTRA);
	char *log = th_read_file(srv.log);
	CHECK(strstr(log, "connection_refused") != NULL && strstr(log, "--max-connections") != NULL);
	free(log);
	/* the held ones still speak: a call on one of them is answered */
	annals_client *c = NULL;
	for (int i = 0; i < 5; i++)
		close(held[i]); /* room for a client */
	usleep(300 * 1000);
	c = th_client(&srv, 5000);
	CHECK_EQ_INT(th_health(c, NULL), ANNALS_OK);
	annals_close(c);
	for (int i = 5; i < HELD; i++)
		close(held[i]);
	CHECK_EQ_INT(th_stop(&srv), 0);
	th_cleanup(&srv);
}

int main(void)
{
	RUN(test_connection_cap);
	return CHECK_DONE();
}
