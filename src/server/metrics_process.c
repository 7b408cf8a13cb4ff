/*
 * mx_process_read — the standard process_* figures, read the way the
 * Prometheus client libraries read them, so dashboards made for any
 * exporter work unchanged: /proc/self/stat for CPU time, memory and the
 * start time (in clock ticks after boot, plus the boot time from
 * /proc/stat), /proc/self/fd for open descriptors, RLIMIT_NOFILE for the
 * most it may open. Read per scrape: nothing is kept between scrapes.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "server/metrics.h"

/* Boot time in seconds since the epoch ("btime" of /proc/stat), or -1. */
static double mx_boot_time(void)
{
	FILE *f = fopen("/proc/stat", "r");
	if (f == NULL)
		return -1;
	char line[256];
	double btime = -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "btime ", 6) == 0) {
			btime = strtod(line + 6, NULL);
			break;
		}
	fclose(f);
	return btime;
}

/* Fields 14-15 (utime, stime), 22 (starttime), 23 (vsize), 24 (rss) of
 * /proc/self/stat. The second field is the command in parentheses and may
 * hold spaces, so the count starts after its last ')'. */
static void mx_stat(mx_process *p)
{
	char buf[1024];
	FILE *f = fopen("/proc/self/stat", "r");
	if (f == NULL)
		return;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *s = strrchr(buf, ')');
	if (s == NULL)
		return;
	unsigned long utime, stime, vsize;
	unsigned long long start;
	long rss;
	/* after ')': state (3), then fields 4..13 skipped, 14 utime, 15 stime,
	 * 16..21 skipped, 22 starttime, 23 vsize, 24 rss */
	if (sscanf(
	        s + 1,
	        " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu %*d %*d %*d %*d %*d %*d %llu %lu %ld",
	        &utime, &stime, &start, &vsize, &rss) != 5)
		return;
	double tick = (double)sysconf(_SC_CLK_TCK);
	double boot = mx_boot_time();
	p->cpu_s = (double)(utime + stime) / tick;
	if (boot >= 0)
		p->start_time_s = boot + (double)start / tick;
	p->virtual_bytes = (double)vsize;
	p->resident_bytes = (double)rss * (double)sysconf(_SC_PAGESIZE);
}

static double mx_open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	if (d == NULL)
		return -1;
	double n = 0;
	for (const struct dirent *e; (e = readdir(d)) != NULL;)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the directory's own descriptor */
}

void mx_process_read(mx_process *p)
{
	*p = (mx_process){-1, -1, -1, -1, -1, -1};
	mx_stat(p);
	p->open_fds = mx_open_fds();
	struct rlimit lim;
	if (getrlimit(RLIMIT_NOFILE, &lim) == 0)
		p->max_fds = lim.rlim_cur == RLIM_INFINITY ? -1 : (double)lim.rlim_cur;
}
