/* annals-bench: picks the mode from the first argument. */
#include <stdio.h>
#include <string.h>

#include "bench.h"

static void main_usage(FILE *out)
{
	fprintf(out, "usage: annals-bench [MODE] [options]\n"
	             "\n"
	             "  run           (the default) load annalsd and report calls/s and latency\n"
	             "  gen           load a synthetic data set (entities and events) through Batch\n"
	             "  echo-server   a bare nng REP server: the transport's ceiling to compare with\n"
	             "  verify-acks   check that every write of an --ack-log can be read back\n"
	             "  feed-latency  time from a write's acknowledgement to its delivery to a follower\n"
	             "\n"
	             "annals-bench MODE --help explains each. `make bench` runs the standard table.\n"
	             "\n"
	             "Examples\n"
	             "  annals-bench -m get -c 64 -z 10s                      GetEntity, 64 in flight\n"
	             "  annals-bench --mix get=70,find=10,timeline=10,put=10 --rps 5000 -z 30s\n"
	             "  annals-bench echo-server --listen tcp://127.0.0.1:7800 &\n"
	             "  annals-bench --echo -u tcp://127.0.0.1:7800 -c 64     the transport alone\n"
	             "  annals-bench gen --entities 1M --events 10M\n"
	             "  annals-bench -m get --keys gen:1M:10M --dist zipf -c 64\n");
}

int main(int argc, char **argv)
{
	if (argc >= 2) {
		const char *mode = argv[1];
		if (strcmp(mode, "gen") == 0)
			return bench_gen_main(argc - 1, argv + 1);
		if (strcmp(mode, "echo-server") == 0)
			return bench_echo_main(argc - 1, argv + 1);
		if (strcmp(mode, "feed-latency") == 0)
			return bench_feed_main(argc - 1, argv + 1);
		if (strcmp(mode, "verify-acks") == 0)
			return bench_verify_main(argc - 1, argv + 1);
		if (strcmp(mode, "run") == 0)
			return bench_run_main(argc - 1, argv + 1);
		if (strcmp(mode, "help") == 0) {
			main_usage(stdout);
			return 0;
		}
		if (mode[0] != '-')
			return bench_usage_error(
			    NULL, "no mode '%s': use run, gen, echo-server or verify-acks", mode);
		if (strcmp(mode, "--help") == 0 || strcmp(mode, "-h") == 0) {
			main_usage(stdout);
			printf("\n");
			bench_run_usage(stdout);
			return 0;
		}
	}
	return bench_run_main(argc, argv);
}
