/*
 * fetch_resume.c - resume data saved while a fetch downloads, trusted
 * again only for files nobody touched while the fetch was stopped
 * (fetch_impl.h; docs/datapath.md).
 *
 * Under the staging folder:
 *   .resume  libtorrent's resume data (which pieces are verified, the
 *            merkle trees), written atomically after the files it speaks
 *            for were fsynced, so it never claims a piece a power cut lost;
 *   .files   the torrent's files: libtorrent index and path, one a line;
 *   .alive   touched every second while the fetch runs.
 * A restart trusts the resume data for every file whose inode change time
 * is not later than .alive's last touch (give or take ALIVE_SLACK): such a
 * file was last changed by the fetch itself, and libtorrent only ever
 * writes to pieces it does not have yet.  A file changed later, or gone,
 * loses its pieces and is downloaded again.  ctime, not mtime: a user can
 * set mtime back, not ctime.  The limit: a change made within ALIVE_SLACK
 * of the fetch's death cannot be told from its own last writes.
 *
 * In a hybrid torrent a piece can pass on its v1 SHA-1 while its v2 layer
 * hash is still on the way; libtorrent keeps such a piece's block hashes
 * in the merkle tree it saves with the resume data, unverified, and checks
 * them when the layer hash comes, in this run or after a restart (one that
 * disagrees stops the torrent with an error).  The fetch completes only
 * when every piece is v2-proven (ws_lt_pieces_v2_proven), so a piece taken
 * on SHA-1 alone is never reported complete.  The torrent kept in .torrent
 * is rewritten with its piece layers once it can carry them.
 */
#include "fetch_impl.h"
#include "store/durable.h"
#include "proto/error.h"
#include "proto/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SAVE_SECONDS 10     /* resume data at least this often */
#define SAVE_SHARE 20       /* ... but a save starts at least SAVE_SHARE
			     * times its last cost after the previous one */
#define BEAT_SECONDS 0.2    /* .alive is touched this often */
#define ALIVE_SLACK 0.5     /* seconds a file's ctime may pass .alive's
			     * last touch and still be the fetch's own */
#define FILES_MAGIC "weightsync-fetch-files 1\n"

static char *state_path(const struct fetch *f, const char *name)
{
	return xasprintf("%s/%s", f->staging, name);
}

static void touch_alive(struct fetch *f)
{
	char *p = state_path(f, ".alive");
	int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0) {
		futimens(fd, NULL);
		close(fd);
	}
	free(p);
}

static int write_files_list(struct fetch *f)
{
	char *p = state_path(f, ".files");
	size_t cap = 64, len = 0;
	char *buf;
	int ret;

	for (size_t i = 0; i < f->nfiles; i++)
		cap += strlen(f->files[i].path) + strlen(f->top) + 32;
	buf = xmalloc(cap);
	len += (size_t)snprintf(buf + len, cap - len, "%s", FILES_MAGIC);
	for (size_t i = 0; i < f->nfiles; i++)
		len += (size_t)snprintf(buf + len, cap - len, "%d %s/%s\n",
					f->files[i].index, f->top, f->files[i].path);
	ret = ws_write_file_atomic(p, buf, len, 0644, 0);
	free(buf);
	free(p);
	return ret;
}

static double ts_seconds(const struct timespec *ts)
{
	return (double)ts->tv_sec + (double)ts->tv_nsec / 1e9;
}

int ws_fetch_resume_open(struct fetch *f, uint8_t **resume, size_t *rlen,
			 int **distrust, size_t *ndistrust)
{
	char *rp = state_path(f, ".resume"), *lp = state_path(f, ".files");
	char *ap = state_path(f, ".alive");
	char *list = NULL, *line, *save = NULL;
	uint8_t *r = NULL;
	size_t len, llen, n = 0, cap = 0;
	int *d = NULL, ret;
	struct stat alive;

	if ((ret = ws_read_file(rp, 256u << 20, (char **)&r, &len)) ||
	    (ret = ws_read_file(lp, 64u << 20, &list, &llen)) ||
	    strncmp(list, FILES_MAGIC, strlen(FILES_MAGIC)) ||
	    stat(ap, &alive) < 0) {
		ret = WS_ENOTFOUND;
		goto out;
	}
	for (line = strtok_r(list + strlen(FILES_MAGIC), "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *sp = strchr(line, ' '), *path;
		struct stat sb;
		int idx;
		if (!sp || sscanf(line, "%d", &idx) != 1 || idx < 0) {
			ret = WS_ENOTFOUND;
			goto out;
		}
		path = xasprintf("%s/%s", f->staging, sp + 1);
		if (lstat(path, &sb) < 0 || !S_ISREG(sb.st_mode) ||
		    ts_seconds(&sb.st_ctim) > ts_seconds(&alive.st_mtim) + ALIVE_SLACK) {
			if (n == cap) {
				cap = cap ? 2 * cap : 16;
				d = xrealloc(d, cap * sizeof(*d));
			}
			d[n++] = idx;
		}
		free(path);
	}
	*resume = r;
	*rlen = len;
	*distrust = d;
	*ndistrust = n;
	r = NULL;
	d = NULL;
	ret = 0;
out:
	free(r);
	free(d);
	free(list);
	free(rp);
	free(lp);
	free(ap);
	return ret;
}

/* fsync the files that gained verified data since they were last synced;
 * one syncfs when there are many (store/durable.h) */
static int sync_grown(struct fetch *f, uint64_t *synced)
{
	size_t grown = 0;
	int ret = 0;

	for (size_t i = 0; i < f->nfiles; i++)
		grown += f->progress[f->files[i].index] != synced[f->files[i].index];
	if (grown > WS_SYNCFS_FILES) {
		if ((ret = ws_sync_fs(f->data)) < 0)
			return ws_seterr(f->msg, ret, "cannot sync '%s' to disk: %s",
					 f->data, ws_strerror(ret));
		for (size_t i = 0; i < f->nfiles; i++)
			synced[f->files[i].index] = f->progress[f->files[i].index];
		return 0;
	}
	for (size_t i = 0; i < f->nfiles && !ret; i++) {
		int k = f->files[i].index;
		char *p;
		int fd;
		if (f->progress[k] == synced[k])
			continue;
		p = xasprintf("%s/%s", f->data, f->files[i].path);
		fd = open(p, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || fsync(fd) < 0)
			ret = ws_seterr(f->msg, -errno, "cannot sync '%s' to disk: %s",
					f->files[i].path, strerror(errno));
		else
			synced[k] = f->progress[k];
		if (fd >= 0)
			close(fd);
		free(p);
	}
	return ret;
}

void ws_fetch_heartbeat(struct fetch *f)
{
	double t = ws_fetch_now();
	if (t - f->last_beat >= BEAT_SECONDS) {
		touch_alive(f);
		f->last_beat = t;
	}
}

/* .torrent again, once it can carry the piece layers: a restart then has
 * every layer from the start */
static void keep_torrent(struct fetch *f)
{
	uint8_t *meta = NULL;
	size_t mlen;
	struct stat sb;

	/* once written with its layers, it stays */
	if (f->torrent_kept || !ws_lt_pieces_v2_proven(f->t))
		return;
	if (ws_lt_metadata(f->t, &meta, &mlen) == 0 &&
	    (stat(f->tfile, &sb) < 0 || (uint64_t)sb.st_size < mlen) &&
	    ws_write_file_atomic(f->tfile, meta, mlen, 0644, 0) == 0)
		f->torrent_kept = 1;
	free(meta);
}

/*
 * Start writing back, without waiting, what the files gained in the last
 * second: the fsyncs of the next save, and the one before the release is
 * committed, then find little left to write (the time from the last byte
 * to the end of a fetch is mostly that final fsync otherwise).
 */
static void start_writeback(struct fetch *f, double t)
{
	if (t - f->last_kick < 1)
		return;
	f->last_kick = t;
	if (!f->kicked)
		f->kicked = xcalloc((size_t)f->nlt, sizeof(*f->kicked));
	for (size_t i = 0; i < f->nfiles; i++) {
		int k = f->files[i].index, fd;
		char *p;
		if (f->progress[k] == f->kicked[k])
			continue;
		p = xasprintf("%s/%s", f->data, f->files[i].path);
		if ((fd = open(p, O_RDONLY | O_CLOEXEC)) >= 0) {
			sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
			close(fd);
		}
		f->kicked[k] = f->progress[k];
		free(p);
	}
}

int ws_fetch_resume_tick(struct fetch *f, int force)
{
	double t = ws_fetch_now();
	size_t done = 0;
	uint8_t *r = NULL;
	size_t len;
	char *p;
	int ret;

	ws_fetch_heartbeat(f);
	start_writeback(f, t);
	for (size_t i = 0; i < f->nfiles; i++)
		done += f->progress[f->files[i].index] == f->files[i].size;
	/* on the timer, and when files completed -- but not more than once
	 * a second: a release of thousands of small files completes many a
	 * second, and each save costs the resume data and fsyncs */
	if (!force && t - f->last_save < SAVE_SECONDS &&
	    (done <= f->files_done_saved || t - f->last_save < 1))
		return 0;
	/* a save, its syncs (seconds, when a big release outruns the
	 * disk's writeback) and its write stop this loop: saves keep to
	 * 1/SAVE_SHARE of the time, whatever the timer and the completed
	 * files ask for */
	if (!force && t - f->last_save < SAVE_SHARE * f->save_cost)
		return 0;
	if (!f->synced) {
		f->synced = xcalloc((size_t)f->nlt, sizeof(*f->synced));
		if ((ret = write_files_list(f)))
			goto fail;
	}
	if ((ret = ws_lt_save_resume(f->t, &r, &len)))
		goto fail;
	/* then the data, then the claim about it: every piece the saved data
	 * claims was written before it was saved, so these fsyncs cover it */
	if ((ret = ws_fetch_poll_files(f)) || (ret = sync_grown(f, f->synced))) {
		free(r);
		goto fail;
	}
	keep_torrent(f);
	p = state_path(f, ".resume");
	ret = ws_write_file_atomic(p, r, len, 0644, 0);
	free(p);
	free(r);
	if (ret)
		goto fail;
	f->last_save = t;
	f->save_cost = ws_fetch_now() - t;
	f->files_done_saved = done;
	f->res->resume_saves++;
	return 0;
fail:
	/* not fatal while downloading: the next tick tries again, and a
	 * restart without resume data checks the files from disk */
	f->last_save = t;
	if (force)
		return ws_seterr(f->msg, ret, "cannot save the fetch's resume data: %s",
				 ws_strerror(ret));
	return 0;
}

void ws_fetch_resume_drop(struct fetch *f)
{
	const char *names[] = { ".resume", ".files", ".alive" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char *p = state_path(f, names[i]);
		unlink(p);
		free(p);
	}
}
