/*
 * slow_write.c - a test helper, not a test: an LD_PRELOAD library that
 * holds back every write to files of one name, to open the window in which
 * libtorrent has verified a piece (hashed from the blocks it holds in
 * memory) but its disk thread has not yet written it to the file
 * (ws_lt_file_written, node/lt.h).  That window is microseconds on an idle
 * machine; this makes it WS_SLOW_WRITE_MS long, every time.
 *
 *   WS_SLOW_WRITE_FILE  the file name (last path component) to slow down
 *   WS_SLOW_WRITE_MS    how long each write to it waits first (1000)
 *
 * libtorrent writes through pwrite64 (mmap_storage::write, disk_write_mode
 * auto: pwrite unless the disk is DAX); pwrite is the same call on 64-bit.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

typedef ssize_t (*pwrite_fn)(int, const void *, size_t, off_t);

static void hold_back(int fd)
{
	const char *want = getenv("WS_SLOW_WRITE_FILE"), *ms = getenv("WS_SLOW_WRITE_MS");
	char link[64], path[4096], *base;
	ssize_t n;

	if (!want || !*want)
		return;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	if ((n = readlink(link, path, sizeof(path) - 1)) <= 0)
		return;
	path[n] = '\0';
	base = strrchr(path, '/');
	if (base && !strcmp(base + 1, want)) {
		long t = ms ? atol(ms) : 1000;
		struct timespec ts = { t / 1000, (t % 1000) * 1000000L };
		nanosleep(&ts, NULL);
	}
}

ssize_t pwrite64(int fd, const void *buf, size_t len, off_t off)
{
	static pwrite_fn real;
	if (!real)
		real = (pwrite_fn)dlsym(RTLD_NEXT, "pwrite64");
	hold_back(fd);
	return real(fd, buf, len, off);
}

ssize_t pwrite(int fd, const void *buf, size_t len, off_t off)
{
	static pwrite_fn real;
	if (!real)
		real = (pwrite_fn)dlsym(RTLD_NEXT, "pwrite");
	hold_back(fd);
	return real(fd, buf, len, off);
}
