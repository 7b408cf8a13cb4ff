/*
 * srv_start / srv_drain / srv_stop: the life of the server object.
 *
 * Start order matters: the store first (and the built-in data), then the
 * writer and poller threads, then the socket, the workers and only then
 * the listeners, so that no call can arrive before everything that serves
 * it exists. Stop runs in the reverse order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/supplemental/tls/tls.h>

#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

#include "annals/annals.h"
#include "common/file.h"
#include "common/log.h"
#include "cluster/restore.h"
#include "server/gateway.h"
#include "server/server.h"

static int srv_mkdirs(const char *dir)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s", dir);
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		mkdir(path, 0750);
		*p = '/';
	}
	if (mkdir(path, 0750) != 0 && access(path, W_OK) != 0)
		return -1;
	return 0;
}

static int srv_open_store(srv_server *s)
{
	if (srv_mkdirs(s->cfg.data_dir) != 0) {
		log_msg(LOG_ERROR, "data_dir", "path=%s problem=\"cannot create or write it\"",
		        s->cfg.data_dir);
		return -1;
	}
	if (s->cfg.restore_from != NULL) { /* a new node: a peer's copy first */
		uint64_t rev = 0;
		char why[600];
		if (cl_restore(s->cfg.restore_from, s->cfg.restore_token, s->cfg.data_dir, &rev, why,
		               sizeof(why)) != 0) {
			log_msg(LOG_ERROR, "restore_failed",
			        "problem=\"%s\" next=\"check --restore-from and --restore-token "
			        "(the peer's admin token), then start again\"",
			        why);
			return -1;
		}
	}
	st_err err = {0};
	if (st_open(s->cfg.data_dir, &s->cfg.store, &s->store, &err) != ANNALS_OK) {
		log_msg(LOG_ERROR, "store_open", "path=%s code=%s problem=\"%s\"", s->cfg.data_dir,
		        annals_status_name(err.code), err.msg);
		return -1;
	}
	uint64_t rev = st_revision(s->store);
	log_msg(LOG_INFO, "store_open", "path=%s revision=%llu", s->cfg.data_dir, (unsigned long long)rev);
	if (rev == 0 && !s->cfg.empty)
		return srv_seed_load(s);
	return 0;
}

/* nng accepts a key that does not belong to the certificate and then
 * fails every handshake; refuse to start instead. */
static int srv_tls_pair_ok(const char *cert, const char *key)
{
	mbedtls_x509_crt crt;
	mbedtls_pk_context pk;
	mbedtls_x509_crt_init(&crt);
	mbedtls_pk_init(&pk);
	int ok = mbedtls_x509_crt_parse(&crt, (const unsigned char *)cert, strlen(cert) + 1) == 0 &&
	         mbedtls_pk_parse_key(&pk, (const unsigned char *)key, strlen(key) + 1, NULL, 0) == 0 &&
	         mbedtls_pk_check_pair(&crt.pk, &pk) == 0;
	mbedtls_pk_free(&pk);
	mbedtls_x509_crt_free(&crt);
	return ok;
}

static int srv_tls_setup(srv_server *s)
{
	if (s->cfg.tls_cert == NULL && s->cfg.tls_key == NULL)
		return 0;
	char *cert = s->cfg.tls_cert ? file_read_all(s->cfg.tls_cert, 1 << 20, NULL) : NULL;
	char *key = s->cfg.tls_key ? file_read_all(s->cfg.tls_key, 1 << 20, NULL) : NULL;
	int rv = -1;
	if (cert == NULL || key == NULL) {
		log_msg(LOG_ERROR, "tls",
		        "problem=\"--tls-cert and --tls-key must both name readable PEM files\"");
		goto out;
	}
	if (!srv_tls_pair_ok(cert, key)) {
		log_msg(LOG_ERROR, "tls",
		        "cert=%s key=%s problem=\"the key does not belong to the certificate (or either is "
		        "not PEM)\"",
		        s->cfg.tls_cert, s->cfg.tls_key);
		goto out;
	}
	rv = nng_tls_config_alloc(&s->tls, NNG_TLS_MODE_SERVER);
	if (rv == 0)
		rv = nng_tls_config_own_cert(s->tls, cert, key, NULL);
	if (rv == 0 && s->cfg.tls_ca) {
		rv = nng_tls_config_ca_file(s->tls, s->cfg.tls_ca);
		if (rv == 0)
			rv = nng_tls_config_auth_mode(s->tls, NNG_TLS_AUTH_MODE_REQUIRED);
	} else if (rv == 0) {
		rv = nng_tls_config_auth_mode(s->tls, NNG_TLS_AUTH_MODE_NONE);
	}
	if (rv != 0)
		log_msg(LOG_ERROR, "tls", "problem=\"%s\"", nng_strerror(rv));
out:
	free(cert);
	free(key);
	return rv == 0 ? 0 : -1;
}

/*
 * Two limits. A request over --max-message is answered RESOURCE_EXHAUSTED
 * (dispatch checks it before decoding anything), which needs the frame to be
 * read first; nng itself drops frames over twice that (and a frame header
 * claiming more), closing the connection without reading them.
 */
size_t srv_frame_limit(const srv_config *cfg)
{
	size_t hard = cfg->max_message * 2;
	return hard > cfg->max_message + 4096 ? hard : cfg->max_message + 4096;
}

static int srv_listen(srv_server *s, const char *url)
{
	if (srv_addr_check(s, "--listen", url) != 0)
		return -1;
	nng_listener *l = &s->listeners[s->n_listeners];
	int rv = nng_listener_create(l, s->sock, url);
	if (rv == 0 && strncmp(url, "tls+", 4) == 0) {
		if (s->tls == NULL) {
			log_msg(LOG_ERROR, "listen",
			        "url=%s problem=\"tls+tcp:// needs --tls-cert and --tls-key\"", url);
			return -1;
		}
		rv = nng_listener_set_ptr(*l, NNG_OPT_TLS_CONFIG, s->tls);
	}
	if (rv == 0)
		rv = nng_listener_set_size(*l, NNG_OPT_RECVMAXSZ, srv_frame_limit(&s->cfg));
	if (rv == 0)
		rv = nng_listener_start(*l, 0);
	if (rv != 0) {
		log_msg(LOG_ERROR, "listen", "url=%s problem=\"%s\"", url, nng_strerror(rv));
		return -1;
	}
	s->n_listeners++;
	log_msg(LOG_INFO, "listening", "url=%s", url);
	return 0;
}

static int srv_open_socket(srv_server *s)
{
	int rv = nng_rep0_open(&s->sock);
	/* Set before listening: nng 1.5 accepts unlimited messages by default. */
	if (rv == 0)
		rv = nng_socket_set_size(s->sock, NNG_OPT_RECVMAXSZ, srv_frame_limit(&s->cfg));
	if (rv != 0) {
		log_msg(LOG_ERROR, "socket", "problem=\"%s\"", nng_strerror(rv));
		return -1;
	}
	if (srv_conns_watch(s) != 0 ||
	    srv_conns_start(s) != 0) /* before any listener: every pipe is counted */
		return -1;
	/* --contexts for calls, and contexts of their own for parked long
	 * polls, so that waiting polls never hold what other calls need */
	s->n_workers = s->cfg.contexts + s->cfg.max_polls;
	s->workers = calloc((size_t)s->n_workers, sizeof(*s->workers));
	if (s->workers == NULL)
		return -1;
	for (int i = 0; i < s->n_workers; i++)
		if (srv_worker_init(&s->workers[i], s) != 0)
			return -1;
	for (int i = 0; i < s->n_workers; i++)
		srv_worker_start(&s->workers[i]);
	return 0;
}

int srv_start(srv_server *s, const srv_config *cfg)
{
	memset(s, 0, sizeof(*s));
	s->cfg = *cfg;
	s->started_ms = srv_now_ms();
	s->qcache = qc_open(cfg->reply_cache_bytes);
	if (s->qcache == NULL) {
		log_msg(LOG_ERROR, "reply_cache", "problem=\"out of memory or thread keys\"");
		return -1;
	}
	if (srv_auth_load(s) != 0 || srv_tls_setup(s) != 0 || srv_open_store(s) != 0)
		return -1;
	/* the cache keeps answers across commits that did not touch them:
	 * the store then notes what each commit wrote (store/deps.c) */
	if (qc_budget(s->qcache) > 0 && st_deps_enable(s->store) != ANNALS_OK) {
		log_msg(LOG_ERROR, "reply_cache", "problem=\"out of memory for the change table\"");
		return -1;
	}
	if (srv_publish_open(s) != 0)
		return -1;
	/* Stats reads through mx_txn: ready before any worker can take a call. */
	pthread_mutex_init(&s->mx_lock, NULL);
	pthread_mutex_init(&s->bulk_lock, NULL);
	s->mx_txn = st_txn_new(s->store);
	if (s->mx_txn == NULL)
		return -1;
	if (srv_writer_start(s) != 0 || srv_cluster_start(s) != 0 || srv_poll_start(s) != 0 ||
	    srv_open_socket(s) != 0)
		return -1;
	for (int i = 0; i < cfg->n_listen; i++)
		if (srv_listen(s, cfg->listen[i]) != 0)
			return -1;
	if (cfg->metrics_listen && mx_http_start(s, cfg->metrics_listen) != 0)
		return -1;
	if (gw_start(s) != 0) /* after the socket: the gateway dials it */
		return -1;
	atomic_store(&s->ready, true);
	log_msg(LOG_INFO, "ready", "version=%s contexts=%d max_message=%zu tokens=%d reply_cache_mb=%zu",
	        ANNALS_VERSION, s->n_workers, s->cfg.max_message, s->n_tokens,
	        s->cfg.reply_cache_bytes >> 20);
	return 0;
}

/* Stop taking new work and let calls in flight finish (up to timeout_ms). */
void srv_drain(srv_server *s, int timeout_ms)
{
	atomic_store(&s->draining, true);
	atomic_store(&s->ready, false);
	srv_poll_stop(s); /* parked long polls answer now rather than at their end */
	uint64_t until = srv_now_ms() + (uint64_t)timeout_ms;
	while (atomic_load(&s->inflight) > 0 && srv_now_ms() < until) {
		struct timespec ts = {0, 5 * 1000000L};
		nanosleep(&ts, NULL);
	}
	log_msg(LOG_INFO, "drained", "inflight=%d", atomic_load(&s->inflight));
}

void srv_stop(srv_server *s)
{
	/* Answer what is still parked, so no client waits for a reply that cannot come. */
	gw_stop(s);      /* HTTP calls go through the socket: before it closes */
	mx_http_stop(s); /* nothing may ask for figures once the store closes */
	srv_poll_stop(s);
	srv_cluster_stop(s); /* its applier answers through the writer's answer task */
	srv_writer_stop(s);
	srv_publish_close(s); /* after the writer: it is the only user */
	if (s->workers) {
		/* Stop every worker's aio first: that waits out callbacks still
		 * running, so none calls into the socket while it closes. */
		for (int i = 0; i < s->n_workers; i++)
			if (s->workers[i].aio)
				nng_aio_stop(s->workers[i].aio);
		srv_conns_stop(s); /* no sweep may close a pipe of a closing socket */
		nng_close(s->sock);
		srv_conns_free(s);
		for (int i = 0; i < s->n_workers; i++)
			srv_worker_fini(&s->workers[i]);
		free(s->workers);
		s->workers = NULL;
	}
	if (s->tls)
		nng_tls_config_free(s->tls);
	if (s->mx_txn)
		st_txn_free(s->mx_txn);
	s->mx_txn = NULL;
	st_bulk_free(s->bulk); /* staged, never committed: memory only */
	s->bulk = NULL;
	if (s->store)
		st_close(s->store);
	s->store = NULL;
	srv_auth_free(s);
	qc_close(s->qcache); /* every worker has stopped: no thread uses it now */
	s->qcache = NULL;
	log_msg(LOG_INFO, "stopped", "calls=%llu", (unsigned long long)atomic_load(&s->calls));
}
