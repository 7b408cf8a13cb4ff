/*
 * te_ — a real etcd cluster for integration tests: N members of Debian's
 * etcd (/usr/bin/etcd, package etcd-server) on free loopback ports, data in
 * a temporary directory. Members can be killed, stopped and restarted.
 */
#ifndef ANNALS_TESTS_ETCD_H
#define ANNALS_TESTS_ETCD_H

#include <stdbool.h>
#include <sys/types.h>

#define TE_MAX 5

typedef struct te_cluster {
	int n;
	pid_t pid[TE_MAX];
	int client_port[TE_MAX], peer_port[TE_MAX];
	char dir[256];
	char endpoints[400]; /* "etcd://127.0.0.1:P1,127.0.0.1:P2,..." for --cluster */
} te_cluster;

/* The etcd binary ($ANNALS_ETCD or /usr/bin/etcd); NULL when there is none. */
const char *te_binary(void);
/* Starts n members and waits until the cluster has a leader; 0 or -1. */
int te_start(te_cluster *c, int n);
/* SIGKILL member i (and wait for it). */
void te_kill(te_cluster *c, int i);
/* Starts member i again on its data directory (it rejoins); 0 or -1. */
int te_restart(te_cluster *c, int i);
/* SIGSTOP / SIGCONT member i: alive, silent. */
void te_pause(te_cluster *c, int i, bool paused);
/* The index of the member that is leader now, -1 when none answers. */
int te_leader(te_cluster *c);
/* Kills every member and removes the data. */
void te_stop(te_cluster *c);

#endif
