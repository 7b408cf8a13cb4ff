/*
 * srv_addr_ — the one rule for every address annalsd listens on.
 *
 * Without tokens anyone who can connect can read and write, so without
 * --tokens (and without --insecure) annalsd listens only where nobody but
 * this machine can connect: ipc://, inproc://, or a TCP address whose host
 * is "localhost", an IPv4 address in 127.0.0.0/8 written as a dotted quad,
 * or ::1. The host is parsed, not prefix-matched: "127.0.0.1.evil.example"
 * is a name, and "2130706433" (127.0.0.1 as one number, which the
 * resolver accepts) is not a dotted quad, so both are refused. The same
 * rule guards --listen, --publish and --metrics-listen (and any listener
 * added later): one function, called by each.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "server/server.h"

static bool addr_host_is_loopback(const char *host)
{
	if (strcmp(host, "localhost") == 0 || strcmp(host, "::1") == 0)
		return true;
	struct in_addr a4;
	/* inet_pton accepts exactly the dotted quad, not "2130706433" or "127.1" */
	return inet_pton(AF_INET, host, &a4) == 1 && (ntohl(a4.s_addr) >> 24) == 127;
}

bool srv_addr_is_local(const char *url)
{
	if (strncmp(url, "ipc://", 6) == 0 || strncmp(url, "inproc://", 9) == 0)
		return true;
	const char *sep = strstr(url, "://");
	if (sep == NULL)
		return false;
	const char *h = sep + 3;
	char host[256];
	size_t n;
	if (*h == '[') { /* [v6]:port */
		const char *close = strchr(h, ']');
		if (close == NULL)
			return false;
		n = (size_t)(close - h - 1);
		h++;
	} else {
		const char *colon = strchr(h, ':');
		const char *slash = strchr(h, '/');
		const char *end = colon ? colon : slash ? slash : h + strlen(h);
		n = (size_t)(end - h);
	}
	if (n == 0 || n >= sizeof(host))
		return false;
	memcpy(host, h, n);
	host[n] = '\0';
	return addr_host_is_loopback(host);
}

int srv_addr_check(const srv_server *s, const char *flag, const char *url)
{
	if (s->n_tokens > 0 || s->cfg.insecure || srv_addr_is_local(url))
		return 0;
	log_msg(LOG_ERROR, "listen_refused",
	        "flag=%s url=%s problem=\"no tokens are configured, and this address is not loopback-only; "
	        "give --tokens FILE, or --insecure to serve a network without authentication\"",
	        flag, url);
	return -1;
}
