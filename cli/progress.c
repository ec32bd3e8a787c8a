/* progress.c - one status line on stderr, only on a terminal (see cli.h) */
#include "cli.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void progress_init(struct progress *p, const char *label)
{
	p->label = label;
	p->enabled = isatty(STDERR_FILENO);
	p->start = now_seconds();
	p->drawn = 0;
}

void progress_update(void *ctx, uint64_t done, uint64_t total)
{
	struct progress *p = ctx;
	double el = now_seconds() - p->start;
	char a[16], b[16], r[16];
	double rate;

	/* quiet for work that ends within a moment */
	if (!p->enabled || el < 0.5 || total == 0)
		return;
	rate = el > 0 ? (double)done / el : 0;
	fprintf(stderr, "\r\033[K%s %s / %s  %3d%%  %s/s", p->label,
		human_size(done, a), human_size(total, b),
		(int)(100.0 * (double)done / (double)total), human_size((uint64_t)rate, r));
	if (rate > 0 && done < total)
		fprintf(stderr, "  ETA %ds", (int)((double)(total - done) / rate + 0.5));
	fflush(stderr);
	p->drawn = 1;
}

void progress_done(struct progress *p)
{
	if (p->drawn) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
	}
	p->drawn = 0;
}
