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
	char url[160];
	char dir[256];
	char log[300];
} th_server;

/* Starts annalsd with a fresh data directory (or the given one when dir is
 * not NULL) and extra arguments (NULL-terminated list, may be NULL); waits
 * until Health answers. Returns 0 or -1. */
int th_start(th_server *s, const char *dir, const char *const *extra);
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
/* A free TCP port on 127.0.0.1. */
int th_free_port(void);

#endif
