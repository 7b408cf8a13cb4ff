/*
 * th_ — integration-test harness: a real annalsd process on a free
 * loopback port with its own data directory, started from $ANNALS_BIN.
 */
#ifndef ANNALS_TESTS_HARNESS_H
#define ANNALS_TESTS_HARNESS_H

#include <sys/types.h>

#include "annals/annals.h"

typedef struct th_server {
	pid_t pid;
	char url[200];
	char dir[256];
	char log[300];
} th_server;

/* Starts annalsd with a fresh data directory (or the given one when dir is
 * not NULL) and extra arguments (NULL-terminated list, may be NULL); waits
 * until Health answers. Returns 0 or -1. */
int th_start(th_server *s, const char *dir, const char *const *extra);
/* Starts annalsd listening on url (any scheme: tcp://, ipc://, tls+tcp://)
 * with a fresh data directory, extra flags and, when env_name is set, that
 * variable in its environment; does NOT wait for it (TLS servers need the
 * caller's client options to be probed, and some are meant to refuse to
 * start). Returns 0 or -1. */
int th_spawn_at(th_server *s, const char *url, const char *const *extra, const char *env_name,
                const char *env_value);
/* Waits for the server to exit (one that should refuse to start): its exit
 * status, or -1 when it still ran after timeout_ms (then it is killed). */
int th_wait_exit(th_server *s, int timeout_ms);
/* SIGTERM and wait; returns the exit status (0 for a clean drain), -1 on timeout. */
int th_stop(th_server *s);
/* SIGKILL and wait. */
void th_kill(th_server *s);
/* Restart on the same directory and port. */
int th_restart(th_server *s, const char *const *extra);
/* Removes the data directory. */
void th_cleanup(th_server *s);
/* A client on s->url with the given timeout (0: default); aborts the test on failure. */
annals_client *th_client(const th_server *s, uint32_t timeout_ms);
/* Path of a program in $ANNALS_BIN. */
const char *th_bin(const char *name, char *buf, size_t len);
/* PutEntity of a bare person with this id; the call's status (err may be NULL). */
int th_put_person(annals_client *c, const char *id, annals_error *err);
/* PutEntity of a person with n aliases "alias-0-0" .. "alias-0-<n-1>" (all
 * share the prefix "alias-0": the costliest name scan); the call's status. */
int th_put_many_aliases(annals_client *c, const char *id, int n, annals_error *err);
/* Health's status, and the store revision it reports (revision may be NULL). */
int th_health(annals_client *c, uint64_t *revision);
/* A whole file as a NUL-terminated string (free it); "" when unreadable. */
char *th_read_file(const char *path);
/* A free TCP port on 127.0.0.1. */
int th_free_port(void);
/* The whole HTTP/1.0 response (status line, headers, body) to GET path on
 * 127.0.0.1:port, NUL-terminated (free it); NULL when nothing answers. */
char *th_http_get(int port, const char *path);

#endif
