/* Small helpers of annals-bench: clocks, number and duration parsing, signals. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

atomic_bool bench_interrupted;

uint64_t bench_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void bench_sleep_until_ns(uint64_t t)
{
	struct timespec ts = {(time_t)(t / 1000000000u), (long)(t % 1000000000u)};
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		if (atomic_load(&bench_interrupted))
			return;
}

int64_t bench_parse_duration_ns(const char *s)
{
	char *end = NULL;
	errno = 0;
	double v = strtod(s, &end);
	if (errno != 0 || end == s || v < 0)
		return -1;
	double unit = 1e9;
	if (strcmp(end, "ms") == 0)
		unit = 1e6;
	else if (strcmp(end, "us") == 0)
		unit = 1e3;
	else if (strcmp(end, "m") == 0 || strcmp(end, "min") == 0)
		unit = 60e9;
	else if (strcmp(end, "h") == 0)
		unit = 3600e9;
	else if (strcmp(end, "s") != 0 && *end != '\0')
		return -1;
	double ns = v * unit;
	if (ns > 9e18)
		return -1;
	return (int64_t)ns;
}

int64_t bench_parse_count(const char *s)
{
	char *end = NULL;
	errno = 0;
	if (s[0] == '-')
		return -1;
	double v = strtod(s, &end);
	if (errno != 0 || end == s || v < 0)
		return -1;
	double mult = 1;
	if (*end == 'k' || *end == 'K')
		mult = 1e3, end++;
	else if (*end == 'M')
		mult = 1e6, end++;
	else if (*end == 'G')
		mult = 1e9, end++;
	if (*end != '\0' || v * mult > 9e18)
		return -1;
	return (int64_t)(v * mult + 0.5);
}

void bench_nonce(char out[9])
{
	uint32_t r = 0;
	if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
		r = (uint32_t)bench_now_ns() ^ ((uint32_t)getpid() << 16);
	snprintf(out, 9, "%08x", r);
}

void bench_put_digits(uint8_t *p, int width, uint64_t v)
{
	for (int i = width - 1; i >= 0; i--) {
		p[i] = (uint8_t)('0' + v % 10);
		v /= 10;
	}
}

int bench_usage_error(const char *mode, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "annals-bench%s%s: ", mode ? " " : "", mode ? mode : "");
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(see annals-bench%s%s --help)\n", mode ? " " : "", mode ? mode : "");
	return 2;
}

/* The first signal asks every loop to wind down and report; a second one
 * kills the process the usual way, for when winding down hangs. */
static void bench_on_signal(int sig)
{
	if (atomic_exchange(&bench_interrupted, true))
		signal(sig, SIG_DFL), raise(sig);
}

void bench_catch_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = bench_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}
