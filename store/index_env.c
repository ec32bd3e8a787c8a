/* index_env.c - opening and closing the index, transactions, scans, and
 * telling a damaged file from an empty one (see index.h, index_int.h) */
#include "index_int.h"
#include "proto/error.h"
#include "proto/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAP_SIZE (4ULL << 30)

int ix_err(int rc)
{
	if (rc == 0)
		return 0;
	/* LMDB's own codes are [MDB_KEYEXIST, MDB_LAST_ERRCODE]: anything
	 * negative above them is already a WS_E code or a negated errno */
	if (rc < 0 && rc > MDB_LAST_ERRCODE)
		return rc;
	if (rc == MDB_NOTFOUND)
		return WS_ENOTFOUND;
	if (rc > 0)
		return -rc;       /* an errno value, ENOSPC among them */
	if (rc == MDB_MAP_FULL)
		return -ENOSPC;
	if (rc == MDB_CORRUPTED || rc == MDB_PAGE_NOTFOUND || rc == MDB_INVALID ||
	    rc == MDB_VERSION_MISMATCH)
		return WS_ECORRUPT;
	return WS_ESTORE;
}

/* The size the file must have for the newest meta page: every page up to
 * its last one.  0 when LMDB cannot say. */
static int file_short(ws_index *ix, off_t *size, uint64_t *need)
{
	MDB_envinfo info;
	MDB_stat st;
	struct stat sb;
	int fd;

	if (mdb_env_info(ix->env, &info) || mdb_env_stat(ix->env, &st) ||
	    mdb_env_get_fd(ix->env, &fd) || fstat(fd, &sb) < 0)
		return 0;
	*size = sb.st_size;
	*need = ((uint64_t)info.me_last_pgno + 1) * st.ms_psize;
	return (uint64_t)sb.st_size < *need;
}

int ix_begin(ws_index *ix, unsigned flags, MDB_txn **txn)
{
	off_t size;
	uint64_t need;
	int rc = mdb_txn_begin(ix->env, NULL, flags, txn);

	if (rc)
		return ix_err(rc);
	/* beginning touches only the two meta pages, which the open checked
	 * are in the file; the check must come before any other page is read */
	if (file_short(ix, &size, &need)) {
		mdb_txn_abort(*txn);
		*txn = NULL;
		return WS_ECORRUPT;
	}
	return 0;
}

int ix_scan(MDB_txn *txn, MDB_dbi dbi, const void *prefix, size_t plen,
	    ix_scan_fn fn, void *ctx)
{
	MDB_cursor *c;
	MDB_val k = { plen, (void *)prefix }, v;
	int rc, ret = 0;

	if ((rc = mdb_cursor_open(txn, dbi, &c)))
		return ix_err(rc);
	/* LMDB refuses an empty key, so "everything" starts at the first */
	rc = mdb_cursor_get(c, &k, &v, plen ? MDB_SET_RANGE : MDB_FIRST);
	/* plen 0 with a NULL prefix: memcmp must not see the NULL */
	while (rc == 0 && k.mv_size >= plen &&
	       (plen == 0 || !memcmp(k.mv_data, prefix, plen))) {
		if ((ret = fn(ctx, &k, &v)))
			break;
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(c);
	if (ret)
		return ret;
	return rc == MDB_NOTFOUND ? 0 : ix_err(rc);
}

int ix_scan_read(ws_index *ix, MDB_dbi dbi, const void *prefix, size_t plen,
		 ix_scan_fn fn, void *ctx)
{
	MDB_txn *txn;
	int rc = ix_begin(ix, MDB_RDONLY, &txn);

	if (rc)
		return rc;
	rc = ix_scan(txn, dbi, prefix, plen, fn, ctx);
	mdb_txn_abort(txn);
	return rc;
}

void ix_push(struct ix_list *l, const void *item, size_t size)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 16;
		l->items = xrealloc(l->items, l->cap * size);
	}
	memcpy((char *)l->items + l->n++ * size, item, size);
}

/* The message for a damaged index, and its code. */
static int damaged(char **msg, const char *file, const char *why)
{
	return ws_seterr(msg, WS_ECORRUPT,
			 "the index '%s' is damaged (%s): restore it from a backup "
			 "(the release folders beside it are not touched); see "
			 "docs/index.md", file, why);
}

/*
 * The size of data.mdb once no process is creating it.  LMDB creates the
 * file, and writes its meta pages, while it holds a write lock on byte 0
 * of lock.mdb (mdb_env_setup_locks, then mdb_env_open2; it downgrades to
 * a read lock after); a read lock there waits for that.  Without this,
 * two commands starting on a new home (`seed` and the `status` that asks
 * whether it runs) took the other's new, still empty file for a truncated
 * index, about 1 start in 30.  Only for a 0-byte file, before this process
 * opens the environment: closing a descriptor drops every fcntl lock the
 * process holds on the file, LMDB's too.
 */
static off_t settled_size(const char *dir, const char *file, off_t size)
{
	char *lock = xasprintf("%s/lock.mdb", dir);
	struct flock l = { .l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 0,
			   .l_len = 1 };
	struct stat sb;
	int fd;

	fd = open(lock, O_RDONLY | O_CLOEXEC);
	free(lock);
	if (fd < 0)
		return size;
	while (fcntl(fd, F_SETLKW, &l) < 0 && errno == EINTR)
		;
	if (stat(file, &sb) == 0)
		size = sb.st_size;
	l.l_type = F_UNLCK;
	fcntl(fd, F_SETLK, &l);
	close(fd);
	return size;
}

/*
 * LMDB takes a 0-byte data.mdb for a new environment and writes fresh
 * meta pages into it: a truncated index would come back empty, and every
 * release it named would be forgotten without a word.  LMDB writes both
 * meta pages when it creates the file, so a 0-byte file that no process is
 * creating is never an index LMDB left behind; a missing file is a new
 * index.
 */
static int check_before_open(const char *dir, const char *file, char **msg)
{
	struct stat sb;

	if (stat(file, &sb) < 0) {
		int err = -errno;
		if (err == -ENOENT)
			return 0;
		return ws_seterr(msg, err, "cannot open the index '%s': %s", file,
				 ws_strerror(err));
	}
	if (!S_ISREG(sb.st_mode))
		return damaged(msg, file, "not a regular file");
	if (sb.st_size == 0 && settled_size(dir, file, 0) == 0)
		return damaged(msg, file, "the file is empty");
	return 0;
}

/* Walk the file once, before the first transaction reads a page. */
static int check_pages(ws_index *ix, char **msg)
{
	MDB_txn *txn = NULL;
	off_t size;
	uint64_t need;
	char *why = NULL;
	int rc;

	if ((rc = mdb_txn_begin(ix->env, NULL, MDB_RDONLY, &txn)))
		return ws_seterr(msg, ix_err(rc), "cannot open the index '%s': %s",
				 ix->file, mdb_strerror(rc));
	if (file_short(ix, &size, &need)) {
		why = xasprintf("the file is %lld bytes long, its pages reach %llu",
				(long long)size, (unsigned long long)need);
		rc = WS_ECORRUPT;
	} else {
		rc = ix_check(ix, txn, &why);
	}
	mdb_txn_abort(txn);
	if (rc == WS_ECORRUPT)
		damaged(msg, ix->file, why ? why : "bad page");
	else if (rc)
		ws_seterr(msg, rc, "cannot read the index '%s': %s", ix->file,
			  ws_strerror(rc));
	free(why);
	return rc;
}

int ws_index_open(const char *dir, ws_index **out, char **msg)
{
	ws_index *ix = xcalloc(1, sizeof(*ix));
	MDB_txn *txn = NULL;
	int rc, ret;

	ix->file = xasprintf("%s/data.mdb", dir);
	if ((ret = ws_mkdir_p(dir)) < 0) {
		ws_seterr(msg, ret, "cannot create '%s': %s", dir, ws_strerror(ret));
		goto fail;
	}
	if ((ret = check_before_open(dir, ix->file, msg)))
		goto fail;
	if ((rc = mdb_env_create(&ix->env)) ||
	    (rc = mdb_env_set_maxdbs(ix->env, 16)) ||
	    (rc = mdb_env_set_mapsize(ix->env, MAP_SIZE)) ||
	    (rc = mdb_env_open(ix->env, dir, MDB_NOTLS, 0644)))
		goto lmdb_fail;
	if ((ret = check_pages(ix, msg)))
		goto fail;
	if ((rc = mdb_txn_begin(ix->env, NULL, 0, &txn)) ||
	    (rc = mdb_dbi_open(txn, "manifests", MDB_CREATE, &ix->manifests)) ||
	    (rc = mdb_dbi_open(txn, "sigs", MDB_CREATE, &ix->sigs)) ||
	    (rc = mdb_dbi_open(txn, "versions", MDB_CREATE, &ix->versions)) ||
	    (rc = mdb_dbi_open(txn, "names", MDB_CREATE, &ix->names)) ||
	    (rc = mdb_dbi_open(txn, "trust", MDB_CREATE, &ix->trust)) ||
	    (rc = mdb_dbi_open(txn, "events", MDB_CREATE, &ix->events)) ||
	    (rc = mdb_dbi_open(txn, "torrents", MDB_CREATE, &ix->torrents)) ||
	    (rc = mdb_dbi_open(txn, "pointers", MDB_CREATE, &ix->pointers)) ||
	    (rc = mdb_dbi_open(txn, "follows", MDB_CREATE, &ix->follows)) ||
	    (rc = mdb_dbi_open(txn, "blobs", MDB_CREATE, &ix->blobs)))
		goto lmdb_fail;
	if ((ret = ix_fill_blobs(ix, txn))) {
		ws_seterr(msg, ret, "cannot update the index '%s': %s", ix->file,
			  ws_strerror(ret));
		goto fail;
	}
	rc = mdb_txn_commit(txn);
	txn = NULL;
	if (rc)
		goto lmdb_fail;
	*out = ix;
	return 0;
lmdb_fail:
	ret = ix_err(rc);
	if (ret == WS_ECORRUPT)
		damaged(msg, ix->file, mdb_strerror(rc));
	else
		ws_seterr(msg, ret, "cannot open index in '%s': %s", dir,
			  mdb_strerror(rc));
fail:
	if (txn)
		mdb_txn_abort(txn);
	ws_index_close(ix);
	return ret;
}

void ws_index_close(ws_index *ix)
{
	if (!ix)
		return;
	if (ix->env)
		mdb_env_close(ix->env);
	free(ix->file);
	free(ix);
}
