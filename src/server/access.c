/*
 * srv_access_log — with --access-log, one line per call through the same
 * logger (so it is JSON or logfmt like every other line): which method,
 * its status, how long from receipt to reply, the bytes of the request
 * and of the reply, who asked (the pipe's remote address) and the call's
 * request_id. Written from worker_send, the one place every reply passes,
 * while the request is still held. Off by default: at tens of thousands
 * of calls a second the lines cost more than the calls.
 */
#include <arpa/inet.h>
#include <stdio.h>

#include "annals/annals.h"
#include "common/envelope.h"
#include "common/log.h"
#include "server/server.h"

/* "127.0.0.1:40112", "[::1]:40112", "ipc:///tmp/x.sock", or "-". */
static void access_peer(nng_msg *req, char *buf, size_t len)
{
	snprintf(buf, len, "-");
	nng_pipe p = req != NULL ? nng_msg_get_pipe(req) : (nng_pipe)NNG_PIPE_INITIALIZER;
	nng_sockaddr sa;
	if (nng_pipe_id(p) <= 0 || nng_pipe_get_addr(p, NNG_OPT_REMADDR, &sa) != 0)
		return;
	char ip[INET6_ADDRSTRLEN];
	switch (sa.s_family) {
	case NNG_AF_INET:
		if (inet_ntop(AF_INET, &sa.s_in.sa_addr, ip, sizeof(ip)) != NULL)
			snprintf(buf, len, "%s:%u", ip, (unsigned)ntohs(sa.s_in.sa_port));
		break;
	case NNG_AF_INET6:
		if (inet_ntop(AF_INET6, sa.s_in6.sa_addr, ip, sizeof(ip)) != NULL)
			snprintf(buf, len, "[%s]:%u", ip, (unsigned)ntohs(sa.s_in6.sa_port));
		break;
	case NNG_AF_IPC:
		snprintf(buf, len, "ipc://%s", sa.s_ipc.sa_path);
		break;
	default:
		break;
	}
}

void srv_access_log(const srv_worker *w, int code, size_t bytes_out)
{
	if (!log_enabled(LOG_INFO))
		return;
	const ProtobufCMethodDescriptor *md = w->method >= 0 ? env_method(w->method) : NULL;
	char peer[160];
	access_peer(w->req, peer, sizeof(peer));
	log_msg(LOG_INFO, "access",
	        "method=%s code=%s duration_ms=%.3f bytes_in=%zu bytes_out=%zu peer=%s request_id=%s",
	        md != NULL ? md->name : "unknown", annals_status_name(code),
	        (double)(srv_now_us() - w->received_us) / 1000.0, w->req != NULL ? nng_msg_len(w->req) : 0,
	        bytes_out, peer, w->request_id != NULL ? w->request_id : "");
}
