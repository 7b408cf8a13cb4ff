/* annalsd — the annals server. See `annalsd --help`. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "server/server.h"

int main(int argc, char **argv)
{
	srv_config cfg;
	int rc = srv_config_parse(&cfg, argc, argv);
	if (rc != 0)
		return rc > 0 ? 0 : 2;
	log_init(cfg.log_json, cfg.debug ? LOG_DEBUG : LOG_INFO);

	/* Block the stop signals in every thread (nng's included, which inherit
	 * this mask) and take them here, synchronously. */
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);

	static srv_server server; /* the one server object of this process */
	if (srv_start(&server, &cfg) != 0) {
		log_msg(LOG_ERROR, "start_failed", "hint=\"see the messages above; annalsd --help lists the options\"");
		srv_stop(&server);
		return 1;
	}
	int sig = 0;
	sigwait(&stop, &sig);
	log_msg(LOG_INFO, "stopping", "signal=%s", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	srv_drain(&server, 5000);
	srv_stop(&server);
	return 0;
}
