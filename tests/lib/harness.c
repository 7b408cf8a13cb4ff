/* th_ — see harness.h. */
#include "harness.h"

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

static int th_spawn(th_server *s, const char *const *extra)
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
		execvp(exe, (char *const *)argv);
		_exit(127);
	}
	s->pid = pid;
	return th_wait_healthy(s);
}

int th_start(th_server *s, const char *dir, const char *const *extra)
{
	memset(s, 0, sizeof(*s));
	if (dir) {
		snprintf(s->dir, sizeof(s->dir), "%s", dir);
	} else {
		snprintf(s->dir, sizeof(s->dir), "%s/annals-it.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
		if (mkdtemp(s->dir) == NULL)
			return -1;
	}
	snprintf(s->log, sizeof(s->log), "%s.log", s->dir);
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
