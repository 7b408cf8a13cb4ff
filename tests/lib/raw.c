/* Raw envelope calls for tests; see raw.h. */
#include "raw.h"

#include <stdlib.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

Annals__V1__Reply *raw_send(const char *url, const void *bytes, size_t len, int timeout_ms, int *nng_err)
{
	nng_socket s;
	int rv = nng_req0_open(&s);
	if (rv == 0)
		rv = nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, timeout_ms);
	if (rv == 0)
		rv = nng_dial(s, url, NULL, 0);
	if (rv == 0)
		rv = nng_send(s, (void *)bytes, len, 0);
	Annals__V1__Reply *rep = NULL;
	if (rv == 0) {
		void *buf = NULL;
		size_t n = 0;
		rv = nng_recv(s, &buf, &n, NNG_FLAG_ALLOC);
		if (rv == 0) {
			rep = annals__v1__reply__unpack(NULL, n, buf);
			nng_free(buf, n);
		}
	}
	if (nng_err)
		*nng_err = rv;
	nng_close(s);
	return rep;
}

Annals__V1__Reply *raw_call(const char *url, const char *method, const void *body, size_t len,
                            uint32_t call_timeout_ms, const char *request_id, const char *token)
{
	Annals__V1__Call call = ANNALS__V1__CALL__INIT;
	call.method = (char *)method;
	call.body.data = (uint8_t *)body;
	call.body.len = len;
	call.timeout_ms = call_timeout_ms;
	call.request_id = (char *)(request_id ? request_id : "");
	call.token = (char *)(token ? token : "");
	size_t n = annals__v1__call__get_packed_size(&call);
	uint8_t *buf = malloc(n + 1);
	annals__v1__call__pack(&call, buf);
	int err = 0;
	Annals__V1__Reply *r = raw_send(url, buf, n, 5000, &err);
	free(buf);
	return r;
}

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

int raw_tcp_connect(const char *url)
{
	int port = 0;
	if (sscanf(url, "tcp://127.0.0.1:%d", &port) != 1)
		return -1;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	struct timeval tv = {5, 0};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

bool raw_send_all(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;
	while (n > 0) {
		ssize_t w = send(fd, b, n, MSG_NOSIGNAL);
		if (w <= 0)
			return false;
		b += w;
		n -= (size_t)w;
	}
	return true;
}

bool raw_recv_all(int fd, void *p, size_t n)
{
	uint8_t *b = p;
	while (n > 0) {
		ssize_t r = recv(fd, b, n, 0);
		if (r <= 0)
			return false;
		b += r;
		n -= (size_t)r;
	}
	return true;
}

bool raw_closed_by_peer(int fd)
{
	uint8_t b[64];
	for (;;) {
		ssize_t r = recv(fd, b, sizeof(b), 0);
		if (r == 0 || (r < 0 && errno == ECONNRESET))
			return true;
		if (r < 0)
			return false; /* timeout: still open */
	}
}

/* SP handshake: "\0SP\0", our protocol (REQ = 0x30), reserved. */
const uint8_t raw_sp_req_header[8] = {0x00, 'S', 'P', 0x00, 0x00, 0x30, 0x00, 0x00};

int raw_sp_connect(const char *url)
{
	int fd = raw_tcp_connect(url);
	uint8_t peer[8];
	if (fd < 0 || !raw_send_all(fd, raw_sp_req_header, 8) || !raw_recv_all(fd, peer, 8)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

int raw_tcp_oversize(const char *url, uint64_t claimed, size_t sent, int wait_ms)
{
	int fd = raw_sp_connect(url);
	if (fd < 0)
		return -1;
	uint8_t len[8];
	for (int i = 0; i < 8; i++)
		len[i] = (uint8_t)(claimed >> (56 - 8 * i));
	send(fd, len, sizeof(len), MSG_NOSIGNAL);
	static const uint8_t chunk[4096];
	for (size_t off = 0; off < sent; off += sizeof(chunk))
		if (send(fd, chunk, sent - off < sizeof(chunk) ? sent - off : sizeof(chunk), MSG_NOSIGNAL) <
		    0)
			break; /* the server already hung up */
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int closed = 0;
	if (poll(&p, 1, wait_ms) > 0) {
		uint8_t b;
		ssize_t n = recv(fd, &b, 1, 0);
		closed = n == 0 || (n < 0 && errno == ECONNRESET);
	}
	close(fd);
	return closed;
}
