/* recover.c - commit journals and crash recovery of a home (see recover.h) */
#include "recover.h"
#include "durable.h"
#include "proto/error.h"
#include "proto/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define JOURNAL_MAGIC "weightsync-journal 1\n"
#define JOURNAL_SUFFIX ".journal"
/* manifest, signature and a torrent of a very large release, with room */
#define JOURNAL_MAX (64u << 20)
#define STAGE_PREFIX "stage."
#define FETCH_PREFIX "fetch-"

/* "OP:WHERE", a test hook (ws_crash_point) */
static void crash_at(const char *op, const char *where)
{
	char point[64];

	snprintf(point, sizeof(point), "%s:%s", op, where);
	ws_crash_point(point);
}

/* 1 for a folder name in tmp/ that can hold a commit's staging folder */
static int scratch_name(const char *base)
{
	return !strncmp(base, STAGE_PREFIX, strlen(STAGE_PREFIX)) ||
	       !strncmp(base, FETCH_PREFIX, strlen(FETCH_PREFIX));
}

/* The scratch folder of a staging folder relative to the home,
 * "tmp/stage.PID.XXXXXX" or "tmp/fetch-V2HEX" (malloc'd). */
static char *scratch_of(const char *stage_rel)
{
	char *top = xstrdup(stage_rel), *slash = strchr(top + 4, '/');

	if (slash)
		*slash = '\0';
	return top;
}

/* A journal as read back: every member owned. */
struct jrec {
	char *stage;                /* relative to the home */
	char *relpath;
	char *manifest, *sig;
	size_t mlen, slen;
	uint8_t *torrent;
	size_t torrent_len;
	uint8_t v2[32], v1[20];
	struct ws_pointer ptrs[2];
	size_t nptrs;
	int add_trust;
	struct ws_manifest m;       /* the verified manifest */
};

static void jrec_release(struct jrec *r)
{
	free(r->stage);
	free(r->relpath);
	free(r->manifest);
	free(r->sig);
	free(r->torrent);
	ws_manifest_release(&r->m);
	memset(r, 0, sizeof(*r));
}

/* ---- encoding: fields are a 4-byte big-endian length and the bytes ---- */

struct buf {
	uint8_t *p;
	size_t len, cap;
};

static void buf_add(struct buf *b, const void *data, size_t len)
{
	if (b->len + len > b->cap) {
		b->cap = (b->len + len) * 2 + 256;
		b->p = xrealloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, data, len);
	b->len += len;
}

static void buf_field(struct buf *b, const void *data, size_t len)
{
	uint8_t n[4] = { (uint8_t)(len >> 24), (uint8_t)(len >> 16),
			 (uint8_t)(len >> 8), (uint8_t)len };
	buf_add(b, n, 4);
	buf_add(b, data, len);
}

struct cursor {
	const uint8_t *p;
	size_t left;
};

/* The next field into a malloc'd, NUL-terminated copy (*len its size). */
static int take_field(struct cursor *c, size_t max, char **out, size_t *len)
{
	size_t n;

	if (c->left < 4)
		return WS_EFORMAT;
	n = (size_t)c->p[0] << 24 | (size_t)c->p[1] << 16 | (size_t)c->p[2] << 8 | c->p[3];
	if (n > max || n > c->left - 4)
		return WS_EFORMAT;
	*out = xmalloc(n + 1);
	memcpy(*out, c->p + 4, n);
	(*out)[n] = '\0';
	if (len)
		*len = n;
	c->p += 4 + n;
	c->left -= 4 + n;
	return 0;
}

/* The next field into fixed-size out, which it must fill exactly. */
static int take_fixed(struct cursor *c, void *out, size_t size)
{
	char *f = NULL;
	size_t n;
	int ret = take_field(c, size, &f, &n);

	if (ret == 0 && n != size)
		ret = WS_EFORMAT;
	if (ret == 0)
		memcpy(out, f, size);
	free(f);
	return ret;
}

static void encode(struct buf *b, const char *stage_rel, const struct ws_journal *j)
{
	uint8_t flags = (uint8_t)(j->add_trust ? 1 : 0);
	uint8_t n = (uint8_t)j->nptrs;

	buf_add(b, JOURNAL_MAGIC, strlen(JOURNAL_MAGIC));
	buf_field(b, stage_rel, strlen(stage_rel));
	buf_field(b, j->relpath, strlen(j->relpath));
	buf_field(b, j->manifest, j->mlen);
	buf_field(b, j->sig, j->slen);
	buf_field(b, j->torrent ? j->torrent : (const uint8_t *)"", j->torrent ? j->torrent_len : 0);
	buf_field(b, j->v2, 32);
	buf_field(b, j->v1, 20);
	buf_field(b, &flags, 1);
	buf_field(b, &n, 1);
	for (size_t i = 0; i < j->nptrs; i++) {
		const struct ws_pointer *p = &j->ptrs[i];
		uint8_t seq[8];
		for (int k = 0; k < 8; k++)
			seq[k] = (uint8_t)((uint64_t)p->seq >> (56 - 8 * k));
		buf_field(b, p->pk, 32);
		buf_field(b, p->salt, strlen(p->salt));
		buf_field(b, seq, 8);
		buf_field(b, p->sig, 64);
		buf_field(b, p->v, p->vlen);
	}
}

/*
 * Parse and check a journal.  It was written by this program into the
 * home, but it is read back after a crash, so it is bounded and checked
 * like any input: the release folder must be the one the signed manifest
 * names, the staging folder a plain name in tmp/, every pointer signed.
 */
static int decode(const uint8_t *data, size_t len, struct jrec *r)
{
	struct cursor c = { data, len };
	size_t ml = strlen(JOURNAL_MAGIC), n;
	uint8_t flags, np;
	char *want = NULL, *f = NULL;
	int ret;

	memset(r, 0, sizeof(*r));
	ws_manifest_init(&r->m);
	if (len < ml || memcmp(data, JOURNAL_MAGIC, ml))
		return WS_EFORMAT;
	c.p += ml;
	c.left -= ml;
	if ((ret = take_field(&c, 4096, &r->stage, NULL)) ||
	    (ret = take_field(&c, 4096, &r->relpath, NULL)) ||
	    (ret = take_field(&c, WS_MANIFEST_MAX, &r->manifest, &r->mlen)) ||
	    (ret = take_field(&c, WS_SIGFILE_MAX, &r->sig, &r->slen)) ||
	    (ret = take_field(&c, JOURNAL_MAX, &f, &r->torrent_len)) ||
	    (ret = take_fixed(&c, r->v2, 32)) || (ret = take_fixed(&c, r->v1, 20)) ||
	    (ret = take_fixed(&c, &flags, 1)) || (ret = take_fixed(&c, &np, 1)))
		goto out;
	r->torrent = (uint8_t *)f;
	f = NULL;
	if (r->torrent_len == 0) {
		free(r->torrent);
		r->torrent = NULL;
	}
	r->add_trust = flags & 1;
	if ((ret = ws_manifest_verify(r->manifest, r->mlen, r->sig, r->slen, NULL,
				      &r->m, NULL)))
		goto out;
	want = ws_store_release_relpath(r->m.publisher.pk, r->m.name, r->m.version);
	if (strcmp(want, r->relpath) || np > 2) {
		ret = WS_EFORMAT;
		goto out;
	}
	/* tmp/stage.X (a publish's), or tmp/stage.X/NAME@V or
	 * tmp/fetch-X/NAME@V, NAME@V being the release folder's own name */
	const char *sub = strchr(r->stage + 4, '/');
	if (strncmp(r->stage, "tmp/", 4) || !scratch_name(r->stage + 4) ||
	    strstr(r->stage, "..") ||
	    (sub && strcmp(sub, strrchr(r->relpath, '/'))) ||
	    (!sub && strncmp(r->stage + 4, STAGE_PREFIX, strlen(STAGE_PREFIX)))) {
		ret = WS_EPATH;
		goto out;
	}
	for (size_t i = 0; i < np; i++) {
		struct ws_pointer *p = &r->ptrs[i];
		uint8_t seq[8];
		char *salt = NULL;
		if ((ret = take_fixed(&c, p->pk, 32)) ||
		    (ret = take_field(&c, WS_SALT_MAX, &salt, NULL)))
			goto out;
		snprintf(p->salt, sizeof(p->salt), "%s", salt);
		free(salt);
		if ((ret = take_fixed(&c, seq, 8)) || (ret = take_fixed(&c, p->sig, 64)) ||
		    (ret = take_field(&c, WS_POINTER_VMAX, &f, &n)))
			goto out;
		memcpy(p->v, f, n);
		p->vlen = n;
		free(f);
		f = NULL;
		p->seq = 0;
		for (int k = 0; k < 8; k++)
			p->seq = (int64_t)((uint64_t)p->seq << 8 | seq[k]);
		if (memcmp(p->pk, r->m.publisher.pk, 32) || ws_pointer_check(p)) {
			ret = WS_EBADSIG;
			goto out;
		}
		r->nptrs++;
	}
	if (c.left)
		ret = WS_EFORMAT;
out:
	free(f);
	free(want);
	if (ret)
		jrec_release(r);
	return ret;
}

/* ---- carrying a journal out ---- */

static int is_dir(const char *p)
{
	struct stat sb;
	return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}



/* a journal written or removed is one only once its folder says so */
static void sync_tmp(struct ws_store *st)
{
	char *tmp = ws_store_path(st, "tmp");
	ws_sync_dir(tmp);
	free(tmp);
}

/* 1 when the index has r's release, accepted, at r's folder */
static int index_names(struct ws_store *st, const struct jrec *r)
{
	struct ws_release rel;
	int yes = 0;

	if (ws_index_get(st->index, r->m.publisher.pk, r->m.name, r->m.version, &rel) == 0) {
		yes = !strcmp(rel.path, r->relpath);
		ws_release_release(&rel);
	}
	return yes;
}

/*
 * Steps 2-7 of recover.h; each can be done again after a crash and finds
 * its work done.  *kept = 1 when the journal must stay for a later run
 * (an I/O error: the index or the disk failed, not the release).
 */
static int apply(struct ws_store *st, const struct jrec *r, const char *jpath,
		 const char *op, int live, int *kept, char **msg)
{
	char *stage = ws_store_path(st, r->stage), *dst = ws_store_path(st, r->relpath);
	char *parent = xstrdup(dst), *slash = strrchr(parent, '/');
	struct ws_pubkey trusted;
	int ret = 0, moved = 0;

	*kept = 1;
	*slash = '\0';
	if (is_dir(stage)) {
		if (!is_dir(dst)) {
			/* files, then folders, then the rename, then the index
			 * (docs/index.md): a copied or reflinked file may still
			 * be only in the page cache */
			if ((ret = ws_sync_tree(stage, msg))) {
				*kept = !live;
				goto out;
			}
			if ((ret = ws_mkdir_p(parent)) < 0 ||
			    (rename(stage, dst) < 0 && (ret = -errno))) {
				ws_seterr(msg, ret, "cannot move the release into '%s': %s",
					  dst, ws_strerror(ret));
				/* nothing is committed yet: a live publish fails
				 * cleanly, its caller removes the staging folder */
				*kept = !live;
				goto out;
			}
			moved = 1;
			ws_sync_dir(parent);
		} else {
			/* a folder is there already: the index decides below */
			ws_rm_rf(stage);
		}
	}
	crash_at(op, "after-rename");
	if (!is_dir(dst) && !index_names(st, r)) {
		/* staged files gone by another hand: nothing to finish */
		ret = ws_seterr(msg, -ENOENT, "the staged release '%s' is gone", stage);
		*kept = 0;
		goto out;
	}
	ret = ws_index_add(st->index, r->manifest, r->mlen, r->sig, r->slen, &r->m,
			   is_dir(dst) ? r->relpath : NULL, is_dir(dst), msg);
	if (ret == WS_EEXIST)
		ret = 0;
	if (ret) {
		if (ret == WS_ESTORE || (ret < 0 && ret > -WS_E_BASE)) {
			/* could not write: a live publish is undone, as the
			 * index has nothing of it; recovery tries again later */
			if (live && !index_names(st, r)) {
				if (moved)
					ws_rm_rf(dst);
				*kept = 0;
			}
			goto out;
		}
		/* refused: what was put in place goes again, unless it is the
		 * folder of a release the index already has */
		if (!index_names(st, r))
			ws_rm_rf(dst);
		*kept = 0;
		goto out;
	}
	crash_at(op, "after-index");
	if (r->add_trust &&
	    ws_index_trust_lookup(st->index, r->m.name, &trusted) == WS_ENOTFOUND &&
	    (ret = ws_index_trust_add(st->index, r->m.name, &r->m.publisher)) &&
	    ret != WS_EEXIST) {
		ws_seterr(msg, ret, "cannot trust '%s' with the key: %s", r->m.name,
			  ws_strerror(ret));
		goto out;
	}
	if (r->torrent) {
		uint8_t mhash[32];
		ws_manifest_hash(r->manifest, r->mlen, mhash);
		ret = ws_index_put_torrent(st->index, mhash, r->torrent, r->torrent_len,
					   r->v2, r->v1);
		if (ret && ret != WS_EEXIST) {
			ws_seterr(msg, ret, "cannot keep the torrent in the index: %s",
				  ws_strerror(ret));
			goto out;
		}
	}
	crash_at(op, "after-torrent");
	for (size_t i = 0; i < r->nptrs; i++) {
		ret = ws_index_put_pointer(st->index, &r->ptrs[i], msg);
		if (ret == WS_EEXIST)
			ret = 0;
		if (ret == WS_EEQUIVOCATION)
			*kept = 0;      /* kept as evidence; doing it again changes nothing */
		else if (ret)
			ws_seterr(msg, ret, "cannot keep the signed pointer '%s': %s",
				  r->ptrs[i].salt, ws_strerror(ret));
		if (ret)
			goto out;
	}
	crash_at(op, "after-pointers");
	ret = 0;
	*kept = 0;
out:
	if (!*kept && !live) {
		/* what the release was staged in goes with the journal: a
		 * fetch's tmp/fetch-V2HEX/ (its .torrent and resume data) */
		char *top = scratch_of(r->stage), *tp = ws_store_path(st, top);
		if (strcmp(top, r->stage))
			ws_rm_rf(tp);
		free(top);
		free(tp);
	}
	if (!*kept && unlink(jpath) == 0)
		sync_tmp(st);
	free(stage);
	free(dst);
	free(parent);
	return ret;
}

/* ---- the publish lock ---- */

struct ws_name_lock {
	int fd;
	char *path;
};

static char *lock_path(struct ws_store *st, const uint8_t pk[32], const char *name)
{
	char hex[65];
	ws_hex(pk, 32, hex);
	return xasprintf("%s/tmp/publish.%s.%s.lock", st->home, hex, name);
}

/*
 * The lock file is removed as the lock is let go, so none is left behind;
 * a process that was waiting on the removed file then holds a lock nobody
 * else can see, so after taking it we check that the path still names our
 * file, and start again if not.
 */
static int lock_take(char *path, int wait, struct ws_name_lock **out)
{
	struct stat a, b;

	for (;;) {
		int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0)
			return -errno;
		if (flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) < 0) {
			int e = errno;
			close(fd);
			if (e == EINTR)
				continue;
			return -e;
		}
		if (fstat(fd, &a) == 0 && stat(path, &b) == 0 &&
		    a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
			*out = xcalloc(1, sizeof(**out));
			(*out)->fd = fd;
			(*out)->path = path;
			return 0;
		}
		close(fd);
	}
}

int ws_name_lock(struct ws_store *st, const uint8_t pk[32], const char *name,
		 struct ws_name_lock **out)
{
	char *path = lock_path(st, pk, name);
	int ret = lock_take(path, 1, out);

	if (ret)
		free(path);
	return ret;
}

void ws_name_unlock(struct ws_name_lock *l)
{
	if (!l)
		return;
	unlink(l->path);
	close(l->fd);
	free(l->path);
	free(l);
}

/* ---- committing ---- */

/* 1 when the index has r's release complete at r's folder */
static int index_complete(struct ws_store *st, const struct jrec *r)
{
	struct ws_release rel;
	uint8_t mhash[32];
	int yes = 0;

	ws_manifest_hash(r->manifest, r->mlen, mhash);
	if (ws_index_get(st->index, r->m.publisher.pk, r->m.name, r->m.version, &rel) == 0) {
		yes = rel.complete && !strcmp(rel.path, r->relpath) &&
		      !memcmp(rel.mhash, mhash, 32);
		ws_release_release(&rel);
	}
	return yes;
}

/* 1 when the index holds another manifest for r's name and version */
static int index_other(struct ws_store *st, const struct jrec *r)
{
	struct ws_release rel;
	uint8_t mhash[32];
	int yes = 0;

	ws_manifest_hash(r->manifest, r->mlen, mhash);
	if (ws_index_get(st->index, r->m.publisher.pk, r->m.name, r->m.version, &rel) == 0) {
		yes = memcmp(rel.mhash, mhash, 32) != 0;
		ws_release_release(&rel);
	}
	return yes;
}

int ws_journal_commit(struct ws_store *st, const struct ws_journal *j,
		      int *kept, char **msg)
{
	const char *op = j->op ? j->op : "publish";
	size_t hl = strlen(st->home);
	char *rel = NULL, *top = NULL, *jpath = NULL, *dst = NULL;
	struct ws_name_lock *lock = NULL;
	struct buf b = { 0 };
	struct jrec r;
	int ret, have = 0;

	*kept = 0;
	/* the journal names the staging folder relative to the home, so a
	 * home moved elsewhere still recovers */
	if (strncmp(j->stage, st->home, hl) || strncmp(j->stage + hl, "/tmp/", 5)) {
		return ws_seterr(msg, WS_EPATH, "cannot commit '%s': not a staging folder "
				 "of the home '%s'", j->stage, st->home);
	}
	rel = xstrdup(j->stage + hl + 1);
	top = scratch_of(rel);
	jpath = xasprintf("%s/%s" JOURNAL_SUFFIX, st->home, top);
	encode(&b, rel, j);
	/* read back what is written: recovery will trust nothing else */
	if ((ret = decode(b.p, b.len, &r))) {
		ws_seterr(msg, ret, "cannot make the %s journal: %s", op, ws_strerror(ret));
		goto out;
	}
	have = 1;
	if (j->lock && (ret = ws_name_lock(st, r.m.publisher.pk, r.m.name, &lock))) {
		ws_seterr(msg, ret, "cannot lock '%s' for the commit: %s", r.m.name,
			  ws_strerror(ret));
		goto out;
	}
	dst = ws_store_path(st, r.relpath);
	if (is_dir(dst)) {
		/* under the lock: another fetch or import of the release got
		 * there first, or a folder nobody accounts for is in the way;
		 * its files were not verified here, so it is never taken for
		 * this release */
		if (index_complete(st, &r))
			ret = WS_EEXIST;
		else if (index_other(st, &r) &&
			 (ret = ws_index_add(st->index, r.manifest, r.mlen, r.sig, r.slen,
					     &r.m, NULL, 0, msg)) && ret != WS_EEXIST)
			;       /* another manifest holds the version: the index
				 * keeps the evidence and refuses (equivocation) */
		else
			ret = ws_seterr(msg, -EEXIST, "'%s' is in the way: no index entry names "
					"it; remove it (see 'weightsync audit') and try again", dst);
		goto out;
	}
	crash_at(op, "staged");
	if ((ret = ws_write_file_atomic(jpath, b.p, b.len, 0644, 1)) < 0) {
		ws_seterr(msg, ret, "cannot write '%s': %s", jpath, ws_strerror(ret));
		goto out;
	}
	sync_tmp(st);
	crash_at(op, "after-journal");
	ret = apply(st, &r, jpath, op, 1, kept, msg);
out:
	ws_name_unlock(lock);
	if (have)
		jrec_release(&r);
	free(b.p);
	free(rel);
	free(top);
	free(jpath);
	free(dst);
	return ret;
}

int ws_release_commit(struct ws_store *st, const struct ws_journal *j,
		      const struct ws_manifest *m, char **relpath, int *already,
		      char **msg)
{
	struct ws_journal c = *j;
	char *rel = ws_store_release_relpath(m->publisher.pk, m->name, m->version);
	int kept = 0, ret, was = 0;

	c.relpath = rel;
	c.lock = 1;
	ret = ws_journal_commit(st, &c, &kept, msg);
	if (ret == WS_EEXIST) {
		/* complete already: a second fetch or import, which found it
		 * missing when it started and was beaten to the lock */
		ret = 0;
		was = 1;
	}
	if (ret && kept && msg && *msg) {
		char *m2 = xasprintf("%s (the release is committed: the next command "
				     "that opens the home finishes the %s)", *msg,
				     c.op ? c.op : "commit");
		free(*msg);
		*msg = m2;
	}
	if (ret == 0 && relpath) {
		*relpath = rel;
		rel = NULL;
	}
	if (ret == 0 && already)
		*already = was;
	free(rel);
	return ret;
}

/* ---- recovery ---- */

static int has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n > k && !strcmp(s + n - k, suffix);
}

/* 1 while the process that made staging folder "stage.PID.XXXXXX" lives */
static int stage_owner_alive(const char *base)
{
	char *end;
	long pid;

	if (strncmp(base, "stage.", 6))
		return 0;
	pid = strtol(base + 6, &end, 10);
	/* no PID in the name: made by an older weightsync; nobody owns it */
	if (end == base + 6 || *end != '.' || pid <= 0)
		return 0;
	if (pid == (long)getpid())
		return 0;       /* this process has made none yet: PID reused */
	return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

/* 1 while a fetch holds the lock of the journal "fetch-V2HEX.journal" in
 * tmp: its fetch (node/fetch.c) holds tmp/fetch-V2HEX.lock to the end */
static int fetch_owner_alive(const char *tmp, const char *base)
{
	size_t n = strlen(base) - strlen(JOURNAL_SUFFIX);
	char *lp = xasprintf("%s/%.*s.lock", tmp, (int)n, base);
	int fd = open(lp, O_RDONLY | O_CLOEXEC), alive = 0;

	if (fd >= 0) {
		alive = flock(fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK;
		close(fd);
	}
	free(lp);
	return alive;
}

/* Finish one journal; 1 when it was finished, 0 when left alone. */
static int recover_journal(struct ws_store *st, const char *jpath,
			   const uint8_t *pk, const char *name)
{
	struct ws_name_lock *lock = NULL;
	struct jrec r;
	char *data = NULL, *lp;
	size_t len;
	int kept = 1, ret;

	if (ws_read_file(jpath, JOURNAL_MAX, &data, &len) < 0)
		return 0;
	if (decode((const uint8_t *)data, len, &r)) {
		/* not ours to replay; audit reports it */
		free(data);
		return 0;
	}
	free(data);
	if (pk && (memcmp(pk, r.m.publisher.pk, 32) || strcmp(name, r.m.name)))
		goto out;
	if (!pk) {
		/* a live publish holds the lock until it is done */
		lp = lock_path(st, r.m.publisher.pk, r.m.name);
		if (lock_take(lp, 0, &lock)) {
			free(lp);
			goto out;
		}
		/* another command may have finished it while we read it */
		if (access(jpath, F_OK) < 0)
			goto out;
	}
	ret = apply(st, &r, jpath, "recover", 0, &kept, NULL);
	(void)ret;
out:
	ws_name_unlock(lock);
	jrec_release(&r);
	return !kept;
}

static int recover(struct ws_store *st, const uint8_t *pk, const char *name, int sweep);

int ws_store_recover(struct ws_store *st, const uint8_t *pk, const char *name)
{
	return recover(st, pk, name, !pk);
}

int ws_store_finish_journals(struct ws_store *st)
{
	return recover(st, NULL, NULL, 0);
}

static int recover(struct ws_store *st, const uint8_t *pk, const char *name, int sweep)
{
	char *tmp = ws_store_path(st, "tmp");
	DIR *d = opendir(tmp);
	struct dirent *e;
	int done = 0;

	if (!d) {
		free(tmp);
		return 0;
	}
	while ((e = readdir(d))) {
		if (!scratch_name(e->d_name) || !has_suffix(e->d_name, JOURNAL_SUFFIX))
			continue;
		char *jp = xasprintf("%s/%s", tmp, e->d_name);
		done += recover_journal(st, jp, pk, name);
		free(jp);
	}
	if (sweep) {
		rewinddir(d);
		while ((e = readdir(d))) {
			if ((!strncmp(e->d_name, "publish.", 8) ||
			     !strncmp(e->d_name, FETCH_PREFIX, strlen(FETCH_PREFIX))) &&
			    has_suffix(e->d_name, ".lock")) {
				/* a lock a dead publisher or fetch could not
				 * remove: free now, so ours to take and remove
				 * (both check after taking one that its path
				 * still names it) */
				struct ws_name_lock *l = NULL;
				char *lp = xasprintf("%s/%s", tmp, e->d_name);
				if (lock_take(lp, 0, &l) == 0)
					ws_name_unlock(l);
				else
					free(lp);
				continue;
			}
			if (strncmp(e->d_name, "stage.", 6) || has_suffix(e->d_name, JOURNAL_SUFFIX))
				continue;
			char *sp = xasprintf("%s/%s", tmp, e->d_name);
			char *jp = xasprintf("%s" JOURNAL_SUFFIX, sp);
			/* a staging folder with a journal is a publish to finish */
			if (is_dir(sp) && access(jp, F_OK) < 0 && !stage_owner_alive(e->d_name))
				ws_rm_rf(sp);
			free(sp);
			free(jp);
		}
	}
	closedir(d);
	free(tmp);
	return done;
}

/* ---- strays ---- */

const char *ws_stray_kind_name(int kind)
{
	switch (kind) {
	case WS_STRAY_RELEASE: return "stray";
	case WS_STRAY_STAGE: return "stale";
	case WS_STRAY_JOURNAL: return "unfinished";
	}
	return "?";
}

static void stray_add(struct ws_stray **out, size_t *n, char *path, int kind)
{
	*out = xrealloc(*out, (*n + 1) * sizeof(**out));
	(*out)[*n].path = path;
	(*out)[*n].kind = kind;
	(*n)++;
}

static int stray_cmp(const void *a, const void *b)
{
	return strcmp(((const struct ws_stray *)a)->path, ((const struct ws_stray *)b)->path);
}

static int named(const struct ws_release *rels, size_t n, const char *rel)
{
	for (size_t i = 0; i < n; i++)
		if (rels[i].path && !strcmp(rels[i].path, rel))
			return 1;
	return 0;
}

int ws_store_strays(struct ws_store *st, struct ws_stray **out, size_t *n)
{
	struct ws_release *rels = NULL;
	struct ws_stray *s = NULL;
	size_t nrels = 0, ns = 0;
	char *dir = ws_store_path(st, "releases");
	DIR *d = NULL, *d2;
	struct dirent *e, *e2;
	int ret;

	if ((ret = ws_index_list(st->index, NULL, NULL, &rels, &nrels)))
		goto out;
	if ((d = opendir(dir))) {
		while ((e = readdir(d))) {
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			char *kp = xasprintf("%s/%s", dir, e->d_name);
			if (!(d2 = opendir(kp))) {
				stray_add(&s, &ns, xasprintf("releases/%s", e->d_name),
					  WS_STRAY_RELEASE);
				free(kp);
				continue;
			}
			while ((e2 = readdir(d2))) {
				if (!strcmp(e2->d_name, ".") || !strcmp(e2->d_name, ".."))
					continue;
				char *rel = xasprintf("releases/%s/%s", e->d_name, e2->d_name);
				if (named(rels, nrels, rel))
					free(rel);
				else
					stray_add(&s, &ns, rel, WS_STRAY_RELEASE);
			}
			closedir(d2);
			free(kp);
		}
		closedir(d);
	} else if (errno != ENOENT) {
		ret = -errno;
		goto out;
	}
	free(dir);
	dir = ws_store_path(st, "tmp");
	if ((d = opendir(dir))) {
		while ((e = readdir(d))) {
			if (!strncmp(e->d_name, FETCH_PREFIX, strlen(FETCH_PREFIX)) &&
			    has_suffix(e->d_name, JOURNAL_SUFFIX)) {
				if (!fetch_owner_alive(dir, e->d_name))
					stray_add(&s, &ns, xasprintf("tmp/%s", e->d_name),
						  WS_STRAY_JOURNAL);
				continue;
			}
			if (strncmp(e->d_name, "stage.", 6))
				continue;
			if (has_suffix(e->d_name, JOURNAL_SUFFIX)) {
				if (!stage_owner_alive(e->d_name))
					stray_add(&s, &ns, xasprintf("tmp/%s", e->d_name),
						  WS_STRAY_JOURNAL);
				continue;
			}
			char *sp = xasprintf("%s/%s", dir, e->d_name);
			char *jp = xasprintf("%s" JOURNAL_SUFFIX, sp);
			if (access(jp, F_OK) < 0 && !stage_owner_alive(e->d_name))
				stray_add(&s, &ns, xasprintf("tmp/%s", e->d_name), WS_STRAY_STAGE);
			free(sp);
			free(jp);
		}
		closedir(d);
	}
	if (ns)  /* qsort must not see a NULL array, even empty */
		qsort(s, ns, sizeof(*s), stray_cmp);
	*out = s;
	*n = ns;
	s = NULL;
	ns = 0;
out:
	ws_strays_free(s, ns);
	ws_releases_free(rels, nrels);
	free(dir);
	return ret;
}

void ws_strays_free(struct ws_stray *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(s[i].path);
	free(s);
}
