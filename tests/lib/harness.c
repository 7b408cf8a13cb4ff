/* th_ — see harness.h. */
#include "harness.h"
#include "raw.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

const char *th_bin(const char *name, char *buf, size_t len)
{
	const char *bin = getenv("ANNALS_BIN");
	snprintf(buf, len, "%s/%s", bin ? bin : "bin", name);
	return buf;
}

int th_free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t l = sizeof(a);
	int port = -1;
	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &l) == 0)
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

static void th_sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static int th_wait_healthy(th_server *s)
{
	/* under valgrind start-up is slow: up to 60 s */
	for (int i = 0; i < 1200; i++) {
		annals_client *c = NULL;
		annals_options o = {.timeout_ms = 1000};
		annals_error err;
		if (annals_open(&c, s->url, &o, &err) == ANNALS_OK) {
			Annals__V1__HealthRequest req = ANNALS__V1__HEALTH_REQUEST__INIT;
			Annals__V1__HealthReply *rep = NULL;
			int rc = annals_health(c, &req, &rep, &err);
			annals_free(rep);
			annals_close(c);
			if (rc == ANNALS_OK)
				return 0;
		}
		int status;
		if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
			fprintf(stderr, "  annalsd exited during start-up; its log: %s\n", s->log);
			s->pid = 0;
			return -1;
		}
		th_sleep_ms(50);
	}
	fprintf(stderr, "  annalsd did not become healthy within 60 s; log: %s\n", s->log);
	return -1;
}

/* Forks annalsd on s->url and s->dir with the extra flags (and one
 * environment variable when env_name is set); does not wait. */
static int th_fork(th_server *s, const char *const *extra, const char *env_name, const char *env_value)
{
	char bin[512];
	th_bin("annalsd", bin, sizeof(bin));
	const char *argv[64] = {NULL};
	int n = 0;
	/* ANNALS_SERVER_WRAPPER="valgrind -q ..." runs the server under a tool */
	char wrapper[512] = "";
	const char *wrap = getenv("ANNALS_SERVER_WRAPPER");
	if (wrap != NULL)
		snprintf(wrapper, sizeof(wrapper), "%s", wrap);
	for (char *save = NULL, *tok = strtok_r(wrapper, " ", &save); tok && n < 40;
	     tok = strtok_r(NULL, " ", &save))
		argv[n++] = tok;
	const char *exe = n > 0 ? argv[0] : bin;
	argv[n++] = bin;
	argv[n++] = "--listen";
	argv[n++] = s->url;
	argv[n++] = "--data";
	argv[n++] = s->dir;
	for (int i = 0; extra && extra[i] && n < 62; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fd = open(s->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		if (env_name != NULL)
			setenv(env_name, env_value, 1);
		execvp(exe, (char *const *)argv);
		_exit(127);
	}
	s->pid = pid;
	return 0;
}

static int th_spawn(th_server *s, const char *const *extra)
{
	if (th_fork(s, extra, NULL, NULL) != 0)
		return -1;
	return th_wait_healthy(s);
}

/* A fresh data directory (and its log beside it) for s. */
static int th_new_dir(th_server *s)
{
	snprintf(s->dir, sizeof(s->dir), "%s/annals-it.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(s->dir) == NULL)
		return -1;
	snprintf(s->log, sizeof(s->log), "%s.log", s->dir);
	return 0;
}

int th_spawn_at(th_server *s, const char *url, const char *const *extra, const char *env_name,
                const char *env_value)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->url, sizeof(s->url), "%s", url);
	if (th_new_dir(s) != 0)
		return -1;
	return th_fork(s, extra, env_name, env_value);
}

int th_wait_exit(th_server *s, int timeout_ms)
{
	for (int waited = 0; waited < timeout_ms; waited += 50) {
		int st;
		if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
			s->pid = 0;
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		}
		th_sleep_ms(50);
	}
	th_kill(s);
	return -1;
}

int th_start(th_server *s, const char *dir, const char *const *extra)
{
	memset(s, 0, sizeof(*s));
	if (dir) {
		snprintf(s->dir, sizeof(s->dir), "%s", dir);
		snprintf(s->log, sizeof(s->log), "%s.log", s->dir);
	} else if (th_new_dir(s) != 0) {
		return -1;
	}
	snprintf(s->url, sizeof(s->url), "tcp://127.0.0.1:%d", th_free_port());
	return th_spawn(s, extra);
}

int th_restart(th_server *s, const char *const *extra)
{
	return th_spawn(s, extra);
}

int th_stop(th_server *s)
{
	if (s->pid <= 0)
		return -1;
	kill(s->pid, SIGTERM);
	for (int i = 0; i < 600; i++) {
		int status;
		if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
			s->pid = 0;
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		}
		th_sleep_ms(50);
	}
	th_kill(s);
	return -1;
}

void th_kill(th_server *s)
{
	if (s->pid <= 0)
		return;
	kill(s->pid, SIGKILL);
	waitpid(s->pid, NULL, 0);
	s->pid = 0;
}

void th_cleanup(th_server *s)
{
	char cmd[600];
	if (s->dir[0] && strstr(s->dir, "annals-it.")) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", s->dir, s->log);
		if (system(cmd) != 0)
			fprintf(stderr, "  could not remove %s\n", s->dir);
	}
}

annals_client *th_client(const th_server *s, uint32_t timeout_ms)
{
	annals_client *c = NULL;
	annals_options o = {.timeout_ms = timeout_ms};
	annals_error err;
	if (annals_open(&c, s->url, &o, &err) != ANNALS_OK) {
		fprintf(stderr, "  cannot open a client on %s: %s\n", s->url, err.message);
		abort();
	}
	return c;
}

char *th_read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return strdup("");
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *b = calloc(1, (size_t)(n > 0 ? n : 0) + 1);
	if (n > 0 && fread(b, 1, (size_t)n, f) != (size_t)n)
		b[0] = '\0';
	fclose(f);
	return b;
}

static int put_entity(annals_client *c, Annals__V1__Entity *e, annals_error *err)
{
	Annals__V1__PutEntityRequest req = ANNALS__V1__PUT_ENTITY_REQUEST__INIT;
	req.entity = e;
	Annals__V1__WriteReply *wr = NULL;
	annals_error local;
	int rc = annals_put_entity(c, &req, &wr, err ? err : &local);
	annals_free(wr);
	return rc;
}

int th_put_person(annals_client *c, const char *id, annals_error *err)
{
	Annals__V1__Entity e = ANNALS__V1__ENTITY__INIT;
	e.id = (char *)id;
	e.type = ANNALS__V1__ENTITY_TYPE__ENTITY_TYPE_PERSON;
	return put_entity(c, &e, err);
}

int th_put_many_aliases(annals_client *c, const char *id, int n, annals_error *err)
{
	Annals__V1__Name *names = calloc((size_t)n, sizeof(*names));
	Annals__V1__Name **ptrs = calloc((size_t)n, sizeof(*ptrs));
	char(*text)[24] = calloc((size_t)n, sizeof(*text));
	if (names == NULL || ptrs == NULL || text == NULL) {
		fprintf(stderr, "th_put_many_aliases: out of memory\n");
		abort();
	}
	for (int i = 0; i < n; i++) {
		annals__v1__name__init(&names[i]);
		snprintf(text[i], sizeof(text[i]), "alias-0-%d", i);
		names[i].text = text[i];
		names[i].kind = ANNALS__V1__NAME_KIND__NAME_KIND_ALIAS;
		ptrs[i] = &names[i];
	}
	Annals__V1__Entity e = ANNALS__V1__ENTITY__INIT;
	e.id = (char *)id;
	e.type = ANNALS__V1__ENTITY_TYPE__ENTITY_TYPE_PERSON;
	e.names = ptrs;
	e.n_names = (size_t)n;
	int rc = put_entity(c, &e, err);
	free(names);
	free(ptrs);
	free(text);
	return rc;
}

int th_health(annals_client *c, uint64_t *revision)
{
	Annals__V1__HealthRequest req = ANNALS__V1__HEALTH_REQUEST__INIT;
	Annals__V1__HealthReply *rep = NULL;
	annals_error err;
	int rc = annals_health(c, &req, &rep, &err);
	if (revision != NULL)
		*revision = rc == ANNALS_OK ? rep->revision : 0;
	annals_free(rep);
	return rc;
}

char *th_http_get(int port, const char *path)
{
	char url[64];
	snprintf(url, sizeof(url), "tcp://127.0.0.1:%d", port);
	int fd = raw_tcp_connect(url); /* with a receive timeout */
	if (fd < 0)
		return NULL;
	char req[512];
	int n = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", path);
	size_t cap = 1 << 16, got = 0;
	char *buf = malloc(cap);
	if (buf == NULL || n < 0 || (size_t)n >= sizeof(req) || !raw_send_all(fd, req, (size_t)n)) {
		free(buf);
		close(fd);
		return NULL;
	}
	ssize_t r;
	while ((r = read(fd, buf + got, cap - 1 - got)) > 0) {
		got += (size_t)r;
		if (got == cap - 1) {
			char *more = realloc(buf, cap * 2);
			if (more == NULL)
				break;
			buf = more;
			cap *= 2;
		}
	}
	buf[got] = '\0';
	close(fd);
	return buf;
}
