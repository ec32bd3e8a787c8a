/*
 * util.h - small helpers shared by every layer: allocation that aborts on
 * out-of-memory, hex, bounded whole-file reads, atomic file writes, UTF-8
 * checks.
 */
#ifndef WS_PROTO_UTIL_H
#define WS_PROTO_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* x-wrappers: abort the process with a message when memory runs out. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ws_hex - write 2*len lowercase hex digits and a NUL into out. */
void ws_hex(const uint8_t *in, size_t len, char *out);

/* ws_unhex - parse exactly 2*len hex digits (any case) followed by NUL;
 * returns 0 or WS_EFORMAT.  out is written only on success. */
int ws_unhex(const char *in, uint8_t *out, size_t len);

/*
 * ws_read_file - read a whole file into a malloc'd, NUL-terminated buffer.
 * A file longer than cap bytes gives WS_ETOOBIG without reading it all.
 * Returns 0 or -errno / WS_ETOOBIG.  *buf is the caller's to free.
 */
int ws_read_file(const char *path, size_t cap, char **buf, size_t *len);

/*
 * ws_write_file_atomic - write len bytes to path through a temporary file
 * in the same directory, fsync, then rename over path.  mode is the new
 * file's mode.  With excl set, an existing path gives -EEXIST and is left
 * alone.  On failure nothing is left behind.
 */
int ws_write_file_atomic(const char *path, const void *data, size_t len,
			 int mode, int excl);

/* ws_pread_full - pread exactly len bytes at off (retrying short reads and
 * EINTR); -EIO when the file ends first, -errno on error. */
int ws_pread_full(int fd, void *buf, size_t len, uint64_t off);

/* ws_mkdir_p - create dir and its parents (mode 0755); 0 if it exists. */
int ws_mkdir_p(const char *dir);

/* ws_mkdir_parent - ws_mkdir_p of the folder path is in (nothing for a
 * path without '/'). */
int ws_mkdir_parent(const char *path);

/* ws_rm_rf - remove a tree; returns 0 or the first -errno met. */
int ws_rm_rf(const char *path);

/* ws_utf8_printable - 1 when s[0..len) is valid UTF-8 with no control
 * characters (C0, DEL, C1). */
int ws_utf8_printable(const char *s, size_t len);

/*
 * ws_escape - s made safe to print on a terminal: printable UTF-8 is kept,
 * every other byte (control characters, escape sequences, invalid UTF-8)
 * becomes "\xNN".  Returns a malloc'd string, the caller's to free.
 */
char *ws_escape(const char *s);

/* ws_now - seconds since the epoch. */
int64_t ws_now(void);

/* ws_format_time - "YYYY-MM-DDTHH:MM:SSZ" (UTC); out holds 21 bytes. */
void ws_format_time(int64_t t, char out[21]);

/*
 * ws_parse_time - parse the ws_format_time form, strictly: a real calendar
 * date (no February 30, leap years honoured), hours 00-23, minutes and
 * seconds 00-59.  *t is written only on success; 0 or WS_EFORMAT.
 */
int ws_parse_time(const char *s, int64_t *t);

/*
 * ws_crash_point - a test hook: when the environment variable WS_CRASH_AT
 * equals point, the process raises SIGKILL there and then, as a power cut
 * or kill -9 would end it.  Always compiled in (one getenv per call), so
 * crash tests run the binary users run.  Points are named "STEP:WHERE";
 * the publish points are listed in store/recover.h.
 */
void ws_crash_point(const char *point);

#endif
