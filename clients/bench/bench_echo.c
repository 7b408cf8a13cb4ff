/*
 * annals-bench echo-server: the transport's own ceiling.
 *
 * A bare nng REP socket with the same pool of contexts as annalsd (one aio
 * callback per context, RECV -> SEND -> RECV) that returns each message
 * unchanged. Driven by the same driver with the same request bytes, it
 * measures everything a call costs except annalsd's own work, so `make
 * bench` can state the service as a fraction of it.
 */
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>

#include "bench.h"

enum { ECHO_RECV, ECHO_SEND };

typedef struct echo_ctx {
	nng_ctx ctx;
	nng_aio *aio;
	int state;
} echo_ctx;

static void echo_cb(void *arg)
{
	echo_ctx *e = arg;
	int rv = nng_aio_result(e->aio);
	if (e->state == ECHO_RECV) {
		if (rv == NNG_ECLOSED || rv == NNG_ECANCELED)
			return;
		if (rv == 0) {
			nng_msg *m = nng_aio_get_msg(e->aio);
			e->state = ECHO_SEND;
			nng_aio_set_msg(e->aio, m);
			nng_ctx_send(e->ctx, e->aio);
			return;
		}
	} else if (rv != 0) {
		nng_msg_free(nng_aio_get_msg(e->aio)); /* a failed send leaves it with us */
		if (rv == NNG_ECLOSED || rv == NNG_ECANCELED)
			return;
	}
	e->state = ECHO_RECV;
	nng_ctx_recv(e->ctx, e->aio);
}

/* Only for start-up failures: nothing has connected yet, so stopping each
 * aio (which waits for its callback) makes freeing safe. */
static int echo_abandon(nng_socket sock, echo_ctx *ctxs, int n)
{
	nng_close(sock);
	for (int i = 0; i < n; i++) {
		if (ctxs[i].aio) {
			nng_aio_stop(ctxs[i].aio);
			nng_aio_free(ctxs[i].aio);
		}
	}
	free(ctxs);
	return 1;
}

static void echo_usage(FILE *out)
{
	fprintf(out,
	        "usage: annals-bench echo-server --listen URL [--listen URL...] [--contexts N]\n"
	        "\n"
	        "A bare nng REP server that returns each message unchanged, with annalsd's pool of\n"
	        "contexts (default %d). Drive it with `annals-bench --echo -u URL ...` to measure\n"
	        "the transport's ceiling on this machine. Runs until SIGINT or SIGTERM.\n"
	        "\n"
	        "  -l, --listen URL     tcp://127.0.0.1:PORT or ipc:///PATH; repeatable\n"
	        "      --contexts N     contexts (calls in flight at once), like annalsd --contexts\n"
	        "  -h, --help           this text\n",
	        BENCH_ECHO_CONTEXTS);
}

static int echo_parse(int argc, char **argv, const char **urls, int *n_urls, int *contexts)
{
	static const struct option opts[] = {
	    {"listen", required_argument, NULL, 'l'},
	    {"contexts", required_argument, NULL, 'x'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int opt;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "l:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'l':
			if (*n_urls >= BENCH_MAX_URLS)
				return bench_usage_error("echo-server", "--listen: at most %d",
				                         BENCH_MAX_URLS);
			urls[(*n_urls)++] = optarg;
			break;
		case 'x': {
			int64_t v = bench_parse_count(optarg);
			if (v < 1 || v > 4096)
				return bench_usage_error("echo-server",
				                         "--contexts: '%s' is not from 1 to 4096", optarg);
			*contexts = (int)v;
			break;
		}
		case 'h':
			echo_usage(stdout);
			return 1;
		default:
			return bench_usage_error("echo-server", "unknown or incomplete option '%s'",
			                         argv[optind - 1]);
		}
	}
	if (optind < argc)
		return bench_usage_error("echo-server", "unexpected argument '%s'", argv[optind]);
	if (*n_urls == 0)
		return bench_usage_error("echo-server", "--listen URL is required");
	return 0;
}

int bench_echo_main(int argc, char **argv)
{
	const char *urls[BENCH_MAX_URLS];
	int n_urls = 0, contexts = BENCH_ECHO_CONTEXTS;
	int prc = echo_parse(argc, argv, urls, &n_urls, &contexts);
	if (prc != 0)
		return prc == 1 ? 0 : 2;
	/* Block the signals in every thread (nng's included) and wait for
	 * them here: shutdown is then ordinary code, not a handler. */
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);

	nng_socket sock;
	int rv = nng_rep0_open(&sock);
	if (rv == 0)
		rv = nng_socket_set_size(sock, NNG_OPT_RECVMAXSZ, 64u << 20);
	if (rv != 0) {
		fprintf(stderr, "annals-bench echo-server: cannot open a REP socket: %s\n", nng_strerror(rv));
		return 1;
	}
	echo_ctx *ctxs = calloc((size_t)contexts, sizeof(*ctxs));
	if (ctxs == NULL)
		return echo_abandon(sock, NULL, 0);
	for (int i = 0; i < contexts; i++) {
		if ((rv = nng_ctx_open(&ctxs[i].ctx, sock)) != 0 ||
		    (rv = nng_aio_alloc(&ctxs[i].aio, echo_cb, &ctxs[i])) != 0) {
			fprintf(stderr, "annals-bench echo-server: context %d: %s\n", i, nng_strerror(rv));
			return echo_abandon(sock, ctxs, contexts);
		}
		ctxs[i].state = ECHO_RECV;
		nng_ctx_recv(ctxs[i].ctx, ctxs[i].aio);
	}
	for (int i = 0; i < n_urls; i++) {
		if ((rv = nng_listen(sock, urls[i], NULL, 0)) != 0) {
			fprintf(stderr, "annals-bench echo-server: cannot listen on %s: %s\n", urls[i],
			        nng_strerror(rv));
			return echo_abandon(sock, ctxs, contexts);
		}
		fprintf(stderr, "annals-bench echo-server: listening on %s (%d contexts)\n", urls[i],
		        contexts);
	}
	int sig = 0;
	sigwait(&sigs, &sig);
	/* Exit without closing: a callback may be inside nng_ctx_send on
	 * another thread, and closing the socket under it makes nng 1.5 panic.
	 * The process ends here anyway; the kernel closes the connections. */
	fprintf(stderr, "annals-bench echo-server: stopping\n");
	_exit(0); /* NOLINT(clang-analyzer-unix.Malloc): ctxs live until the process ends */
}
