/*
 * te_ — real etcd members for tests (see etcd.h). The leader is asked of
 * each member's /v3/maintenance/status over its JSON gateway.
 */
#include "etcd.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

static void te_sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

const char *te_binary(void)
{
	const char *b = getenv("ANNALS_ETCD");
	if (b == NULL)
		b = "/usr/bin/etcd";
	return access(b, X_OK) == 0 ? b : NULL;
}

static int te_spawn(te_cluster *c, int i, const char *state)
{
	char name[16], data[300], client[64], peer[64], initial[600] = "", log[320];
	snprintf(name, sizeof(name), "e%d", i);
	snprintf(data, sizeof(data), "%s/%s", c->dir, name);
	snprintf(log, sizeof(log), "%s/%s.log", c->dir, name);
	snprintf(client, sizeof(client), "http://127.0.0.1:%d", c->client_port[i]);
	snprintf(peer, sizeof(peer), "http://127.0.0.1:%d", c->peer_port[i]);
	for (int j = 0; j < c->n; j++) {
		size_t l = strlen(initial);
		snprintf(initial + l, sizeof(initial) - l, "%se%d=http://127.0.0.1:%d", j ? "," : "", j,
		         c->peer_port[j]);
	}
	const char *bin = te_binary();
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		execl(bin, bin, "--name", name, "--data-dir", data, "--listen-client-urls", client,
		      "--advertise-client-urls", client, "--listen-peer-urls", peer,
		      "--initial-advertise-peer-urls", peer, "--initial-cluster", initial,
		      "--initial-cluster-state", state, "--initial-cluster-token", "annals-test",
		      (char *)NULL);
		_exit(127);
	}
	c->pid[i] = pid;
	return 0;
}

static size_t te_collect(char *p, size_t size, size_t n, void *arg)
{
	char *buf = arg;
	size_t have = strlen(buf), add = size * n;
	if (have + add < 4096) {
		memcpy(buf + have, p, add);
		buf[have + add] = '\0';
	}
	return add;
}

/* Member i's status: its own id and the leader's id (strings); 0 or -1. */
static int te_status(te_cluster *c, int i, char *self, char *leader, size_t len)
{
	CURL *h = curl_easy_init();
	char url[128], body[4096] = "";
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v3/maintenance/status", c->client_port[i]);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, "{}");
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 1000L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, te_collect);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, body);
	CURLcode rc = curl_easy_perform(h);
	curl_easy_cleanup(h);
	if (rc != CURLE_OK)
		return -1;
	json_t *j = json_loads(body, 0, NULL);
	const char *s = json_string_value(json_object_get(json_object_get(j, "header"), "member_id"));
	const char *l = json_string_value(json_object_get(j, "leader"));
	int out = s && l ? 0 : -1;
	if (out == 0) {
		snprintf(self, len, "%s", s);
		snprintf(leader, len, "%s", l);
	}
	json_decref(j);
	return out;
}

int te_leader(te_cluster *c)
{
	for (int i = 0; i < c->n; i++) {
		char self[32], leader[32];
		if (c->pid[i] > 0 && te_status(c, i, self, leader, sizeof(self)) == 0 &&
		    strcmp(self, leader) == 0)
			return i;
	}
	return -1;
}

int te_start(te_cluster *c, int n)
{
	memset(c, 0, sizeof(*c));
	if (n > TE_MAX || te_binary() == NULL)
		return -1;
	c->n = n;
	snprintf(c->dir, sizeof(c->dir), "%s/annals-etcd.XXXXXX",
	         getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(c->dir) == NULL)
		return -1;
	strcpy(c->endpoints, "etcd://");
	for (int i = 0; i < n; i++) {
		c->client_port[i] = th_free_port();
		c->peer_port[i] = th_free_port();
		size_t l = strlen(c->endpoints);
		snprintf(c->endpoints + l, sizeof(c->endpoints) - l, "%s127.0.0.1:%d", i ? "," : "",
		         c->client_port[i]);
	}
	for (int i = 0; i < n; i++)
		if (te_spawn(c, i, "new") != 0)
			return -1;
	for (int t = 0; t < 300; t++) { /* 30 s */
		if (te_leader(c) >= 0)
			return 0;
		te_sleep_ms(100);
	}
	fprintf(stderr, "  etcd elected no leader in 30 s; logs in %s\n", c->dir);
	return -1;
}

void te_kill(te_cluster *c, int i)
{
	if (c->pid[i] <= 0)
		return;
	kill(c->pid[i], SIGCONT);
	kill(c->pid[i], SIGKILL);
	waitpid(c->pid[i], NULL, 0);
	c->pid[i] = 0;
}

int te_restart(te_cluster *c, int i)
{
	if (c->pid[i] > 0)
		return 0;
	return te_spawn(c, i, "existing");
}

void te_pause(te_cluster *c, int i, bool paused)
{
	if (c->pid[i] > 0)
		kill(c->pid[i], paused ? SIGSTOP : SIGCONT);
}

void te_stop(te_cluster *c)
{
	for (int i = 0; i < c->n; i++)
		te_kill(c, i);
	if (c->dir[0] != '\0' && getenv("ANNALS_KEEP_ETCD") == NULL) {
		char cmd[300];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", c->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "  could not remove %s\n", c->dir);
	}
}
