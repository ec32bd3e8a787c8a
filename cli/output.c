/* output.c - messages and numbers for people (see cli.h) */
#include "cli.h"
#include "proto/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void err(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("weightsync: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

void warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("weightsync: warning: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

int fail(int code, char **msg, const char *what)
{
	if (msg && *msg)
		err("%s", *msg);
	else
		err("%s: %s", what, ws_strerror(code));
	if (msg) {
		free(*msg);
		*msg = NULL;
	}
	return ws_error_is_verification(code) ? EXIT_VERIFY : EXIT_ERROR;
}

int usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("weightsync: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	fprintf(stderr, "see 'weightsync %s --help'\n", cmd ? cmd : "");
	return EXIT_ERROR;
}

const char *human_size(uint64_t n, char *buf)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	double v = (double)n;
	int u = 0;

	while (v >= 1024 && u < 5) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, 16, "%llu B", (unsigned long long)n);
	else
		snprintf(buf, 16, "%.1f %s", v, units[u]);
	return buf;
}
