/*
 * syncer.h - put finished files on stable storage, then move them into
 * place, on a worker thread: a download loop hands a file over and goes on
 * receiving while the disk catches up.
 *
 * Part of store/.  Each file handed over is fsynced (data and size), its
 * destination's folder created, and it is renamed to its destination, in
 * the order handed over (with the writeback starts asked for before).  Only then is it at its destination: a crash
 * leaves it where it was (complete, for the next run to check) or durable
 * where it goes.  The folders' entries are not synced here: whoever makes
 * a release durable syncs its tree (durable.h) before the index names it.
 */
#ifndef WS_STORE_SYNCER_H
#define WS_STORE_SYNCER_H

#include <stdint.h>

struct ws_syncer;

/* ws_syncer_new - start the worker thread.  Returns NULL when it could not
 * start: then ws_syncer_put does its work on the caller's thread. */
struct ws_syncer *ws_syncer_new(void);

/*
 * ws_syncer_put - hand over fd (open on the file at from; the syncer
 * closes it) to be fsynced and renamed to to (paths copied).  s may be
 * NULL: it is then done at once.  Returns 0, or with s NULL the failure
 * (-errno, *msg names the file); with a thread, failures are reported by
 * ws_syncer_error and ws_syncer_finish.
 */
int ws_syncer_put(struct ws_syncer *s, int fd, const char *from, const char *to, char **msg);

/*
 * ws_syncer_writeback - start the writeback of bytes [off, off + len) of
 * the file open at fd (sync_file_range, SYNC_FILE_RANGE_WRITE), so that
 * the disk works while data still arrives and the fsync at the end has
 * little left.  The syncer works on a duplicate of fd: the caller keeps
 * fd.  s NULL: done at once.  A hint only: its failures are ignored (the
 * fsync of ws_syncer_put is what counts).  It can block for milliseconds
 * when the disk's queue is full, which is why it is the syncer's.
 */
void ws_syncer_writeback(struct ws_syncer *s, int fd, uint64_t off, uint64_t len);

/* ws_syncer_error - the first failure so far (0 for none); the message
 * comes with ws_syncer_finish. */
int ws_syncer_error(struct ws_syncer *s);

/*
 * ws_syncer_finish - wait until every file handed over is done, stop the
 * thread and free s (NULL is fine).  Returns 0, or the first failure
 * (-errno) with *msg (malloc'd, optional) naming the file; files after a
 * failure are still done.
 */
int ws_syncer_finish(struct ws_syncer *s, char **msg);

#endif
