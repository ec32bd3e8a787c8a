/* output.c - messages and numbers for people (see cli.h) */
#include "cli.h"
#include "proto/error.h"
#include "proto/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

const char *esc(const char *s)
{
	static char *ring[ESC_RING];
	static unsigned next;
	char **slot = &ring[next++ % ESC_RING];

	free(*slot);
	*slot = ws_escape(s ? s : "(null)");
	return *slot;
}

void print_path(const char *path)
{
	static int tty = -1;

	if (tty < 0)
		tty = isatty(STDOUT_FILENO);
	printf("%s\n", tty ? esc(path) : path);
}

/* "weightsync: PREFIX MESSAGE" on stderr, the message made printable: it
 * may quote a name, a path or a peer's text */
static void vsay(const char *prefix, const char *fmt, va_list ap)
{
	char *text = NULL, *safe;

	if (vasprintf(&text, fmt, ap) < 0) {
		fputs("weightsync: out of memory\n", stderr);
		abort();
	}
	safe = ws_escape(text);
	fprintf(stderr, "weightsync: %s%s\n", prefix, safe);
	free(safe);
	free(text);
}

void err(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsay("", fmt, ap);
	va_end(ap);
}

void warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsay("warning: ", fmt, ap);
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
	vsay("", fmt, ap);
	va_end(ap);
	if (cmd)
		fprintf(stderr, "see 'weightsync %s --help'\n", cmd);
	else
		fprintf(stderr, "see 'weightsync --help'\n");
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
