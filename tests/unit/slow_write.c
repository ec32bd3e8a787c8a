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
 *   WS_SLOW_WRITE_ZEROS 1: then write zeros instead (a disk that loses
 *                       what is written to that file)
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

/* 1 when the write goes to the file of WS_SLOW_WRITE_FILE's name; waits */
static int hold_back(int fd)
{
	const char *want = getenv("WS_SLOW_WRITE_FILE"), *ms = getenv("WS_SLOW_WRITE_MS");
	char link[64], path[4096], *base;
	ssize_t n;

	if (!want || !*want)
		return 0;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	if ((n = readlink(link, path, sizeof(path) - 1)) <= 0)
		return 0;
	path[n] = '\0';
	base = strrchr(path, '/');
	if (base && !strcmp(base + 1, want)) {
		long t = ms ? atol(ms) : 1000;
		struct timespec ts = { t / 1000, (t % 1000) * 1000000L };
		nanosleep(&ts, NULL);
		return 1;
	}
	return 0;
}

static ssize_t do_write(pwrite_fn real, int fd, const void *buf, size_t len, off_t off)
{
	const char *z = getenv("WS_SLOW_WRITE_ZEROS");
	void *zeros;
	ssize_t r;

	if (!hold_back(fd) || !z || strcmp(z, "1"))
		return real(fd, buf, len, off);
	if (!(zeros = calloc(1, len ? len : 1)))
		return real(fd, buf, len, off);
	r = real(fd, zeros, len, off);
	free(zeros);
	return r;
}

ssize_t pwrite64(int fd, const void *buf, size_t len, off_t off)
{
	static pwrite_fn real;
	if (!real)
		real = (pwrite_fn)dlsym(RTLD_NEXT, "pwrite64");
	return do_write(real, fd, buf, len, off);
}

ssize_t pwrite(int fd, const void *buf, size_t len, off_t off)
{
	static pwrite_fn real;
	if (!real)
		real = (pwrite_fn)dlsym(RTLD_NEXT, "pwrite");
	return do_write(real, fd, buf, len, off);
}
