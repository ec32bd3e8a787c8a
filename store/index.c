/* index.c - the append-only LMDB index (see index.h, docs/index.md) */
#include "index.h"
#include "proto/error.h"
#include "proto/merkle.h"
#include "proto/util.h"

#include <errno.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAP_SIZE (4ULL << 30)
#define VKEY_MAX (32 + WS_NAME_MAX + 1 + 8 + 32)

struct ws_index {
	MDB_env *env;
	MDB_dbi manifests, sigs, versions, names, trust, events, torrents;
	MDB_dbi pointers, follows;
};

/* versions value: fixed header then the path */
struct vrec {
	uint8_t format;             /* 1 */
	uint8_t status;
	uint8_t complete;
	uint8_t pad[5];
	int64_t first_seen;
	uint8_t previous[32];
	/* char path[] follows, NUL-terminated */
};

struct nrec {
	int64_t highest;
	uint32_t flags;
	uint32_t pad;
};

struct trec {
	int64_t added;
	int64_t removed;
	uint8_t keyid[8];
};

struct erec {
	int64_t time;
	int32_t kind;
	int32_t pad;
	uint8_t pk[32];
	int64_t version;
	uint8_t mhash[32];
	char name[WS_NAME_MAX + 1];
	char detail[256];
};

static int lmdb_err(int rc)
{
	if (rc == 0)
		return 0;
	if (rc == MDB_NOTFOUND)
		return WS_ENOTFOUND;
	if (rc > 0)
		return -rc;       /* an errno value, ENOSPC among them */
	if (rc == MDB_MAP_FULL)
		return -ENOSPC;
	return WS_ESTORE;
}

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t get_be64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* pk | name | NUL: the prefix of a name's versions, and the names key */
static size_t name_key(uint8_t *k, const uint8_t pk[32], const char *name)
{
	size_t n = strlen(name);
	memcpy(k, pk, 32);
	memcpy(k + 32, name, n + 1);
	return 32 + n + 1;
}

static size_t version_key(uint8_t *k, const uint8_t pk[32], const char *name,
			  int64_t version, const uint8_t mhash[32])
{
	size_t n = name_key(k, pk, name);
	put_be64(k + n, (uint64_t)version);
	if (!mhash)
		return n + 8;
	memcpy(k + n + 8, mhash, 32);
	return n + 8 + 32;
}

int ws_index_open(const char *dir, ws_index **out, char **msg)
{
	ws_index *ix = xcalloc(1, sizeof(*ix));
	MDB_txn *txn = NULL;
	int rc;

	if ((rc = ws_mkdir_p(dir)) < 0) {
		ws_seterr(msg, rc, "cannot create '%s': %s", dir, ws_strerror(rc));
		free(ix);
		return rc;
	}
	if ((rc = mdb_env_create(&ix->env)) ||
	    (rc = mdb_env_set_maxdbs(ix->env, 16)) ||
	    (rc = mdb_env_set_mapsize(ix->env, MAP_SIZE)) ||
	    (rc = mdb_env_open(ix->env, dir, MDB_NOTLS, 0644)))
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
	    (rc = mdb_dbi_open(txn, "follows", MDB_CREATE, &ix->follows)))
		goto fail;
	if ((rc = mdb_txn_commit(txn))) {
		txn = NULL;
		goto fail;
	}
	*out = ix;
	return 0;
fail:
	if (txn)
		mdb_txn_abort(txn);
	ws_seterr(msg, lmdb_err(rc), "cannot open index in '%s': %s", dir,
		  mdb_strerror(rc));
	if (ix->env)
		mdb_env_close(ix->env);
	free(ix);
	return lmdb_err(rc);
}

void ws_index_close(ws_index *ix)
{
	if (!ix)
		return;
	mdb_env_close(ix->env);
	free(ix);
}

void ws_release_release(struct ws_release *r)
{
	free(r->path);
	free(r->manifest);
	free(r->sig);
	memset(r, 0, sizeof(*r));
}

void ws_releases_free(struct ws_release *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		ws_release_release(&r[i]);
	free(r);
}

static int log_event(ws_index *ix, MDB_txn *txn, int kind, const uint8_t *pk,
		     const char *name, int64_t version, const uint8_t *mhash,
		     const char *detail)
{
	struct erec e = { .time = ws_now(), .kind = kind, .version = version };
	uint8_t kb[8];
	MDB_val k = { 8, kb }, v = { sizeof(e), &e };
	MDB_cursor *c;
	uint64_t seq = 1;
	int rc;

	if (pk)
		memcpy(e.pk, pk, 32);
	if (mhash)
		memcpy(e.mhash, mhash, 32);
	snprintf(e.name, sizeof(e.name), "%s", name ? name : "");
	snprintf(e.detail, sizeof(e.detail), "%s", detail ? detail : "");
	if ((rc = mdb_cursor_open(txn, ix->events, &c)))
		return rc;
	MDB_val lk, lv;
	if (mdb_cursor_get(c, &lk, &lv, MDB_LAST) == 0 && lk.mv_size == 8)
		seq = get_be64(lk.mv_data) + 1;
	mdb_cursor_close(c);
	put_be64(kb, seq);
	return mdb_put(txn, ix->events, &k, &v, MDB_APPEND);
}

/* a NUL-terminated copy of at most n bytes of s */
static char *xstrndup_(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *p = xmalloc(len + 1);
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

static void fill_release(struct ws_release *r, const MDB_val *k, const MDB_val *v)
{
	const uint8_t *kp = k->mv_data;
	struct vrec rec_, *rec = &rec_;
	size_t nlen = strnlen((const char *)kp + 32, WS_NAME_MAX + 1);

	/* LMDB values are not aligned: copy before reading fields */
	memcpy(&rec_, v->mv_data, sizeof(rec_));

	memset(r, 0, sizeof(*r));
	memcpy(r->pk, kp, 32);
	memcpy(r->name, kp + 32, nlen);
	r->version = (int64_t)get_be64(kp + 32 + nlen + 1);
	memcpy(r->mhash, kp + 32 + nlen + 1 + 8, 32);
	memcpy(r->previous, rec->previous, 32);
	r->status = rec->status;
	r->complete = rec->complete;
	r->first_seen = rec->first_seen;
	r->path = xstrndup_(v->mv_size > sizeof(*rec) ? (const char *)v->mv_data + sizeof(*rec) : "",
			    v->mv_size > sizeof(*rec) ? v->mv_size - sizeof(*rec) : 0);
}

/* Entries for (pk, name, version): calls fn for each until it returns
 * nonzero.  Returns what fn returned, or 0. */
typedef int (*entry_fn)(void *ctx, const MDB_val *k, const MDB_val *v);
static int each_entry(ws_index *ix, MDB_txn *txn, const uint8_t *prefix,
		      size_t plen, entry_fn fn, void *ctx)
{
	MDB_cursor *c;
	MDB_val k = { plen, (void *)prefix }, v;
	int rc, ret = 0;

	if ((rc = mdb_cursor_open(txn, ix->versions, &c)))
		return lmdb_err(rc);
	/* LMDB refuses an empty key, so "everything" starts at the first */
	rc = mdb_cursor_get(c, &k, &v, plen ? MDB_SET_RANGE : MDB_FIRST);
	while (rc == 0 && k.mv_size >= plen && !memcmp(k.mv_data, prefix, plen)) {
		if ((ret = fn(ctx, &k, &v)))
			break;
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(c);
	return ret;
}

struct find_ctx {
	const uint8_t *mhash;       /* look for this one */
	int same;                   /* found it */
	int other_accepted;         /* found an accepted different one */
	int has_accepted;           /* accepted is filled */
	struct ws_release accepted; /* the accepted entry, when found */
};

static int find_fn(void *vctx, const MDB_val *k, const MDB_val *v)
{
	struct find_ctx *ctx = vctx;
	const uint8_t *kh = (const uint8_t *)k->mv_data + k->mv_size - 32;
	struct vrec rec_, *rec = &rec_;

	memcpy(&rec_, v->mv_data, sizeof(rec_));
	if (ctx->mhash && !memcmp(kh, ctx->mhash, 32))
		ctx->same = 1;
	else if (rec->status == WS_REL_ACCEPTED)
		ctx->other_accepted = 1;
	if (rec->status == WS_REL_ACCEPTED) {
		ctx->has_accepted = 1;
		ws_release_release(&ctx->accepted);
		fill_release(&ctx->accepted, k, v);
	}
	return 0;
}

/* What the index holds at (pk, name, version). */
static int find_version(ws_index *ix, MDB_txn *txn, const uint8_t pk[32],
			const char *name, int64_t version, const uint8_t *mhash,
			struct find_ctx *ctx)
{
	uint8_t prefix[VKEY_MAX];
	size_t plen = version_key(prefix, pk, name, version, NULL);

	memset(ctx, 0, sizeof(*ctx));
	ctx->mhash = mhash;
	return each_entry(ix, txn, prefix, plen, find_fn, ctx);
}

static int put_entry(ws_index *ix, MDB_txn *txn, const struct ws_manifest *m,
		     const uint8_t mhash[32], const char *manifest, size_t mlen,
		     const char *sig, size_t slen, int status, const char *path,
		     int complete)
{
	uint8_t kb[VKEY_MAX];
	size_t plen = path ? strlen(path) + 1 : 1;
	size_t vlen = sizeof(struct vrec) + plen;
	struct vrec *rec = xcalloc(1, vlen);
	MDB_val k = { 32, (void *)mhash }, v = { mlen, (void *)manifest };
	int rc;

	rec->format = 1;
	rec->status = (uint8_t)status;
	rec->complete = (uint8_t)complete;
	rec->first_seen = ws_now();
	if (m->has_previous)
		memcpy(rec->previous, m->previous, 32);
	memcpy(rec + 1, path ? path : "", plen);
	if ((rc = mdb_put(txn, ix->manifests, &k, &v, 0)))
		goto out;
	v = (MDB_val){ slen, (void *)sig };
	if ((rc = mdb_put(txn, ix->sigs, &k, &v, 0)))
		goto out;
	k = (MDB_val){ version_key(kb, m->publisher.pk, m->name, m->version, mhash), kb };
	v = (MDB_val){ vlen, rec };
	rc = mdb_put(txn, ix->versions, &k, &v, MDB_NOOVERWRITE);
out:
	free(rec);
	return rc;
}

static int get_name(ws_index *ix, MDB_txn *txn, const uint8_t pk[32],
		    const char *name, struct nrec *out)
{
	uint8_t kb[VKEY_MAX];
	MDB_val k = { name_key(kb, pk, name), kb }, v;
	int rc = mdb_get(txn, ix->names, &k, &v);

	memset(out, 0, sizeof(*out));
	if (rc == 0 && v.mv_size == sizeof(*out))
		memcpy(out, v.mv_data, sizeof(*out));
	return rc == MDB_NOTFOUND ? 0 : rc;
}

static int put_name(ws_index *ix, MDB_txn *txn, const uint8_t pk[32],
		    const char *name, const struct nrec *n)
{
	uint8_t kb[VKEY_MAX];
	MDB_val k = { name_key(kb, pk, name), kb }, v = { sizeof(*n), (void *)n };
	return mdb_put(txn, ix->names, &k, &v, 0);
}

/* Apply the chain rules; returns 0 to accept, or the refusal. */
static int chain_check(ws_index *ix, MDB_txn *txn, const struct ws_manifest *m,
		       const uint8_t mhash[32], const struct nrec *nr,
		       char **msg)
{
	struct find_ctx at;
	int rc, ret = 0;

	if (nr->highest == 0)
		return 0;
	if (m->version == nr->highest + 1) {
		if ((rc = find_version(ix, txn, m->publisher.pk, m->name,
				       nr->highest, NULL, &at)))
			return lmdb_err(rc);
		if (memcmp(at.accepted.mhash, m->previous, 32))
			ret = ws_seterr(msg, WS_EFORK,
					"'%s' version %lld does not follow version %lld: "
					"its previous-manifest hash names another release",
					m->name, (long long)m->version,
					(long long)nr->highest);
		ws_release_release(&at.accepted);
		return ret;
	}
	if (m->version > nr->highest + 1)
		return ws_seterr(msg, WS_EGAP,
				 "'%s' version %lld skips the chain: the highest known is "
				 "%lld; versions in between are needed first",
				 m->name, (long long)m->version, (long long)nr->highest);
	/* below the highest: only a missing link whose successor names it */
	if ((rc = find_version(ix, txn, m->publisher.pk, m->name, m->version + 1,
			       NULL, &at)))
		return lmdb_err(rc);
	if (!at.has_accepted || memcmp(at.accepted.previous, mhash, 32))
		ret = ws_seterr(msg, WS_EROLLBACK,
				"'%s' version %lld is older than version %lld already "
				"seen and is not part of its chain: rollback refused",
				m->name, (long long)m->version, (long long)nr->highest);
	ws_release_release(&at.accepted);
	return ret;
}

static int event_for(int err)
{
	switch (err) {
	case WS_EROLLBACK: return WS_EV_ROLLBACK_REFUSED;
	case WS_EFORK: return WS_EV_FORK_REFUSED;
	case WS_EGAP: return WS_EV_GAP_REFUSED;
	}
	return 0;
}

int ws_index_add(ws_index *ix, const char *manifest, size_t mlen,
		 const char *sig, size_t slen, const struct ws_manifest *m,
		 const char *path, int complete, char **msg)
{
	MDB_txn *txn = NULL;
	struct find_ctx at = {0};
	struct nrec nr;
	uint8_t mhash[32];
	int rc, ret = 0;

	ws_manifest_hash(manifest, mlen, mhash);
	if ((rc = mdb_txn_begin(ix->env, NULL, 0, &txn)))
		goto lmdb_fail;
	if ((rc = get_name(ix, txn, m->publisher.pk, m->name, &nr)) ||
	    (rc = find_version(ix, txn, m->publisher.pk, m->name, m->version,
			       mhash, &at)))
		goto lmdb_fail;
	if (at.same) {
		/* LMDB has one writer: end ours before set_complete starts one */
		mdb_txn_abort(txn);
		txn = NULL;
		ret = WS_EEXIST;
		if (complete && path)
			ret = ws_index_set_complete(ix, m->publisher.pk, m->name,
						    m->version, mhash, path) ?: WS_EEXIST;
		goto out;
	}
	if (at.other_accepted) {
		char detail[256];
		char a[17], b[17];
		ws_hex(at.accepted.mhash, 8, a);
		ws_hex(mhash, 8, b);
		snprintf(detail, sizeof(detail), "two manifests for version %lld: %s... and %s...",
			 (long long)m->version, a, b);
		if ((rc = put_entry(ix, txn, m, mhash, manifest, mlen, sig, slen,
				    WS_REL_EVIDENCE, NULL, 0)))
			goto lmdb_fail;
		nr.flags |= WS_NAME_EQUIVOCATED;
		if ((rc = put_name(ix, txn, m->publisher.pk, m->name, &nr)) ||
		    (rc = log_event(ix, txn, WS_EV_EQUIVOCATION, m->publisher.pk,
				    m->name, m->version, mhash, detail)))
			goto lmdb_fail;
		if ((rc = mdb_txn_commit(txn))) {
			txn = NULL;
			goto lmdb_fail;
		}
		txn = NULL;
		ret = ws_seterr(msg, WS_EEQUIVOCATION,
				"equivocation: the publisher of '%s' signed two different "
				"manifests for version %lld; both are kept as evidence",
				m->name, (long long)m->version);
		goto out;
	}
	ret = chain_check(ix, txn, m, mhash, &nr, msg);
	if (ret) {
		/* the refusal itself is history worth keeping */
		int ev = event_for(ret);
		if (ev && log_event(ix, txn, ev, m->publisher.pk, m->name,
				    m->version, mhash, msg ? *msg : NULL) == 0) {
			mdb_txn_commit(txn);
			txn = NULL;
		}
		goto out;
	}
	if ((rc = put_entry(ix, txn, m, mhash, manifest, mlen, sig, slen,
			    WS_REL_ACCEPTED, path, complete)))
		goto lmdb_fail;
	if (m->version > nr.highest)
		nr.highest = m->version;
	if ((rc = put_name(ix, txn, m->publisher.pk, m->name, &nr)) ||
	    (rc = log_event(ix, txn, WS_EV_ACCEPTED, m->publisher.pk, m->name,
			    m->version, mhash, NULL)))
		goto lmdb_fail;
	rc = mdb_txn_commit(txn);
	txn = NULL;
	if (rc)
		goto lmdb_fail;
	goto out;
lmdb_fail:
	ret = ws_seterr(msg, lmdb_err(rc), "cannot update the index: %s",
			mdb_strerror(rc));
out:
	if (txn)
		mdb_txn_abort(txn);
	ws_release_release(&at.accepted);
	return ret;
}

int ws_index_set_complete(ws_index *ix, const uint8_t pk[32], const char *name,
			  int64_t version, const uint8_t mhash[32], const char *path)
{
	uint8_t kb[VKEY_MAX];
	MDB_val k = { version_key(kb, pk, name, version, mhash), kb }, v;
	MDB_txn *txn = NULL;
	struct vrec *rec = NULL;
	size_t plen = strlen(path) + 1;
	int rc;

	if ((rc = mdb_txn_begin(ix->env, NULL, 0, &txn)))
		return lmdb_err(rc);
	if ((rc = mdb_get(txn, ix->versions, &k, &v)))
		goto out;
	if (v.mv_size < sizeof(*rec)) {
		rc = MDB_CORRUPTED;
		goto out;
	}
	rec = xcalloc(1, sizeof(*rec) + plen);
	memcpy(rec, v.mv_data, sizeof(*rec));
	if (rec->complete) {
		rc = 0; /* already complete: the path stays as first recorded */
		goto out;
	}
	rec->complete = 1;
	memcpy(rec + 1, path, plen);
	v = (MDB_val){ sizeof(*rec) + plen, rec };
	if ((rc = mdb_put(txn, ix->versions, &k, &v, 0)) ||
	    (rc = log_event(ix, txn, WS_EV_COMPLETE, pk, name, version, mhash, path)))
		goto out;
	rc = mdb_txn_commit(txn);
	txn = NULL;
out:
	if (txn)
		mdb_txn_abort(txn);
	free(rec);
	return lmdb_err(rc);
}

static int load_blobs(ws_index *ix, MDB_txn *txn, struct ws_release *r)
{
	MDB_val k = { 32, r->mhash }, v;
	int rc;

	if ((rc = mdb_get(txn, ix->manifests, &k, &v)))
		return lmdb_err(rc);
	r->manifest = xmalloc(v.mv_size + 1);
	memcpy(r->manifest, v.mv_data, v.mv_size);
	r->manifest[v.mv_size] = '\0';
	r->manifest_len = v.mv_size;
	if ((rc = mdb_get(txn, ix->sigs, &k, &v)))
		return lmdb_err(rc);
	r->sig = xmalloc(v.mv_size + 1);
	memcpy(r->sig, v.mv_data, v.mv_size);
	r->sig[v.mv_size] = '\0';
	r->sig_len = v.mv_size;
	return 0;
}

int ws_index_load(ws_index *ix, struct ws_release *r)
{
	MDB_txn *txn;
	int rc = mdb_txn_begin(ix->env, NULL, MDB_RDONLY, &txn);

	if (rc)
		return lmdb_err(rc);
	free(r->manifest);
	free(r->sig);
	r->manifest = r->sig = NULL;
	rc = load_blobs(ix, txn, r);
	mdb_txn_abort(txn);
	return rc;
}

int ws_index_get(ws_index *ix, const uint8_t pk[32], const char *name,
		 int64_t version, struct ws_release *out)
{
	MDB_txn *txn;
	struct find_ctx at;
	struct nrec nr;
	int rc = mdb_txn_begin(ix->env, NULL, MDB_RDONLY, &txn);

	if (rc)
		return lmdb_err(rc);
	memset(&at, 0, sizeof(at));
	if ((rc = get_name(ix, txn, pk, name, &nr)))
		goto out;
	if (version == 0)
		version = nr.highest;
	if (version == 0) {
		rc = MDB_NOTFOUND;
		goto out;
	}
	if ((rc = find_version(ix, txn, pk, name, version, NULL, &at)))
		goto out;
	if (!at.has_accepted) {
		rc = MDB_NOTFOUND;
		goto out;
	}
	if ((rc = load_blobs(ix, txn, &at.accepted))) {
		ws_release_release(&at.accepted);
		mdb_txn_abort(txn);
		return rc;
	}
	*out = at.accepted;
out:
	mdb_txn_abort(txn);
	if (rc)
		ws_release_release(&at.accepted);
	return lmdb_err(rc);
}

int64_t ws_index_highest(ws_index *ix, const uint8_t pk[32], const char *name)
{
	MDB_txn *txn;
	struct nrec nr;
	int64_t v = 0;

	if (mdb_txn_begin(ix->env, NULL, MDB_RDONLY, &txn))
		return 0;
	if (get_name(ix, txn, pk, name, &nr) == 0)
		v = nr.highest;
	mdb_txn_abort(txn);
	return v;
}

struct list_ctx {
	const char *name;
	struct ws_release *out;
	size_t n, cap;
};

static int list_fn(void *vctx, const MDB_val *k, const MDB_val *v)
{
	struct list_ctx *ctx = vctx;
	const char *kname = (const char *)k->mv_data + 32;

	if (ctx->name && strcmp(kname, ctx->name))
		return 0;
	if (ctx->n == ctx->cap) {
		ctx->cap = ctx->cap ? 2 * ctx->cap : 16;
		ctx->out = xrealloc(ctx->out, ctx->cap * sizeof(*ctx->out));
	}
	fill_release(&ctx->out[ctx->n++], k, v);
	return 0;
}

int ws_index_list(ws_index *ix, const uint8_t *pk, const char *name,
		  struct ws_release **out, size_t *n)
{
	MDB_txn *txn;
	struct list_ctx ctx = { .name = name };
	uint8_t prefix[32];
	int rc = mdb_txn_begin(ix->env, NULL, MDB_RDONLY, &txn);

	if (rc)
		return lmdb_err(rc);
	if (pk)
		memcpy(prefix, pk, 32);
	rc = each_entry(ix, txn, prefix, pk ? 32 : 0, list_fn, &ctx);
	mdb_txn_abort(txn);
	if (rc) {
		ws_releases_free(ctx.out, ctx.n);
		return rc;
	}
	*out = ctx.out;
	*n = ctx.n;
	return 0;
}

int ws_index_name_flags(ws_index *ix, const uint8_t pk[32], const char *name,
			unsigned *flags)
{
	MDB_txn *txn;
	struct nrec nr;
	int rc = mdb_txn_begin(ix->env, NULL, MDB_RDONLY, &txn);

	if (rc)
		return lmdb_err(rc);
	rc = get_name(ix, txn, pk, name, &nr);
	mdb_txn_abort(txn);
	if (rc == 0)
		*flags = nr.flags;
	return lmdb_err(rc);
}

/* ---- torrents ---- */

/* torrents value: v2[32] v1[20] then the bencoded torrent */
int ws_index_put_torrent(ws_index *ix, const uint8_t mhash[32],
			 const uint8_t *torrent, size_t len,
			 const uint8_t v2[32], const uint8_t v1[20])
{
	uint8_t *buf = xmalloc(52 + len);
	MDB_val k = { 32, (void *)mhash }, v = { 52 + len, buf };
	MDB_txn *txn;
	int rc;

	memcpy(buf, v2, 32);
	memcpy(buf + 32, v1, 20);
	memcpy(buf + 52, torrent, len);
	if ((rc = mdb_txn_begin(ix->env, NULL, 0, &txn))) {
		free(buf);
		return lmdb_err(rc);
	}
	rc = mdb_put(txn, ix->torrents, &k, &v, MDB_NOOVERWRITE);
	free(buf);
	if (rc) {
		mdb_txn_abort(txn);
		return rc == MDB_KEYEXIST ? WS_EEXIST : lmdb_err(rc);
	}
	return lmdb_err(mdb_txn_commit(txn));
}

int ws_index_get_torrent(ws_index *ix, const uint8_t mhash[32],
			 uint8_t **torrent, size_t *len, uint8_t v2[32],
			 uint8_t v1[20])
{
	MDB_val k = { 32, (void *)mhash }, v;
	MDB_txn *txn;
	int rc = mdb_txn_begin(ix->env, NULL, MDB_RDONLY, &txn);

	if (rc)
		return lmdb_err(rc);
	rc = mdb_get(txn, ix->torrents, &k, &v);
	if (rc == 0 && v.mv_size < 52)
		rc = MDB_CORRUPTED;
	if (rc == 0) {
		const uint8_t *b = v.mv_data;
		if (v2)
			memcpy(v2, b, 32);
		if (v1)
			memcpy(v1, b + 32, 20);
		*len = v.mv_size - 52;
		*torrent = xmalloc(*len ? *len : 1);
		memcpy(*torrent, b + 52, *len);
	}
	mdb_txn_abort(txn);
	return lmdb_err(rc);
}

/* ---- pointers ---- */

/* key: pk(32) salt NUL seq(u64 BE) sha256(v)(32); value: sig(64) v */
static size_t pointer_prefix(uint8_t *k, const uint8_t pk[32], const char *salt)
{
	size_t n = strlen(salt) + 1;
	memcpy(k, pk, 32);
	memcpy(k + 32, salt, n);
	return 32 + n;
}

static void pointer_from(const MDB_val *k, const MDB_val *v, struct ws_pointer *p)
{
	const uint8_t *kb = k->mv_data;
	size_t slen = strnlen((const char *)kb + 32, WS_SALT_MAX + 1);

	memset(p, 0, sizeof(*p));
	memcpy(p->pk, kb, 32);
	memcpy(p->salt, kb + 32, slen);
	p->seq = (int64_t)get_be64(kb + 32 + slen + 1);
	memcpy(p->sig, v->mv_data, 64);
	p->vlen = v->mv_size - 64;
	memcpy(p->v, (const uint8_t *)v->mv_data + 64, p->vlen);
	ws_pointer_check(p); /* fills the decoded fields; it passed before */
}

int ws_index_put_pointer(ws_index *ix, const struct ws_pointer *p, char **msg)
{
	uint8_t kb[32 + WS_SALT_MAX + 1 + 8 + 32], vb[64 + WS_POINTER_VMAX];
	size_t plen = pointer_prefix(kb, p->pk, p->salt);
	MDB_val k = { plen + 8, kb }, v, got;
	MDB_cursor *c = NULL;
	MDB_txn *txn;
	int rc, other = 0, same = 0;

	put_be64(kb + plen, (uint64_t)p->seq);
	if ((rc = mdb_txn_begin(ix->env, NULL, 0, &txn)))
		return lmdb_err(rc);
	if ((rc = mdb_cursor_open(txn, ix->pointers, &c)))
		goto out;
	rc = mdb_cursor_get(c, &k, &got, MDB_SET_RANGE);
	while (rc == 0 && k.mv_size == plen + 8 + 32 && !memcmp(k.mv_data, kb, plen + 8)) {
		if (got.mv_size == 64 + p->vlen &&
		    !memcmp((const uint8_t *)got.mv_data + 64, p->v, p->vlen))
			same = 1;
		else
			other = 1;
		rc = mdb_cursor_get(c, &k, &got, MDB_NEXT);
	}
	mdb_cursor_close(c);
	c = NULL;
	if (same) {
		mdb_txn_abort(txn);
		return WS_EEXIST;
	}
	ws_sha256(p->v, p->vlen, kb + plen + 8);
	memcpy(vb, p->sig, 64);
	memcpy(vb + 64, p->v, p->vlen);
	k = (MDB_val){ plen + 8 + 32, kb };
	v = (MDB_val){ 64 + p->vlen, vb };
	if ((rc = mdb_put(txn, ix->pointers, &k, &v, 0)))
		goto out;
	if (other) {
		/* two values signed for one seq: the publisher equivocated */
		char name[WS_SALT_MAX + 1], *at;
		struct nrec nr;
		snprintf(name, sizeof(name), "%s", p->salt);
		if ((at = strchr(name, '@')))
			*at = '\0';
		if ((rc = get_name(ix, txn, p->pk, name, &nr)))
			goto out;
		nr.flags |= WS_NAME_EQUIVOCATED;
		if ((rc = put_name(ix, txn, p->pk, name, &nr)) ||
		    (rc = log_event(ix, txn, WS_EV_POINTER_EQUIVOCATION, p->pk, name,
				    p->seq, NULL, "two signed pointers for one version")))
			goto out;
	}
	rc = mdb_txn_commit(txn);
	txn = NULL;
	if (rc == 0 && other)
		return ws_seterr(msg, WS_EEQUIVOCATION,
				 "equivocation: the publisher signed two different pointers "
				 "for '%s' version %lld; both are kept as evidence",
				 p->salt, (long long)p->seq);
out:
	if (c)
		mdb_cursor_close(c);
	if (txn)
		mdb_txn_abort(txn);
	return lmdb_err(rc);
}

int ws_index_get_pointer(ws_index *ix, const uint8_t pk[32], const char *salt,
			 struct ws_pointer *out)
{
	uint8_t kb[32 + WS_SALT_MAX + 1];
	size_t plen = pointer_prefix(kb, pk, salt);
	MDB_val k = { plen, kb }, v;
	MDB_cursor *c;
	MDB_txn *txn;
	int rc, found = 0;
	int64_t best = 0;

	if ((rc = mdb_txn_begin(ix->env, NULL, MDB_RDONLY, &txn)))
		return lmdb_err(rc);
	if ((rc = mdb_cursor_open(txn, ix->pointers, &c))) {
		mdb_txn_abort(txn);
		return lmdb_err(rc);
	}
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	while (rc == 0 && k.mv_size == plen + 40 && !memcmp(k.mv_data, kb, plen)) {
		int64_t seq = (int64_t)get_be64((const uint8_t *)k.mv_data + plen);
		if (!found || seq > best) {
			pointer_from(&k, &v, out);
			best = seq;
			found = 1;
		}
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(c);
	mdb_txn_abort(txn);
	return found ? 0 : WS_ENOTFOUND;
}

int ws_index_pointers(ws_index *ix, struct ws_pointer **out, size_t *n)
{
	MDB_val k, v;
	MDB_cursor *c;
	MDB_txn *txn;
	struct ws_pointer *list = NULL;
	size_t cnt = 0, cap = 0;
	int rc;

	if ((rc = mdb_txn_begin(ix->env, NULL, MDB_RDONLY, &txn)))
		return lmdb_err(rc);
	if ((rc = mdb_cursor_open(txn, ix->pointers, &c))) {
		mdb_txn_abort(txn);
		return lmdb_err(rc);
	}
	/* keys sort by key, salt, then seq: the last of each run is the highest */
	while (mdb_cursor_get(c, &k, &v, MDB_NEXT) == 0) {
		struct ws_pointer p;
		if (k.mv_size < 32 + 1 + 40 || v.mv_size < 64)
			continue;
		pointer_from(&k, &v, &p);
		if (cnt && !memcmp(list[cnt - 1].pk, p.pk, 32) &&
		    !strcmp(list[cnt - 1].salt, p.salt)) {
			if (p.seq > list[cnt - 1].seq)
				list[cnt - 1] = p;
			continue;
		}
		if (cnt == cap) {
			cap = cap ? 2 * cap : 16;
			list = xrealloc(list, cap * sizeof(*list));
		}
		list[cnt++] = p;
	}
	mdb_cursor_close(c);
	mdb_txn_abort(txn);
	*out = list;
	*n = cnt;
	return 0;
}

/* ---- follows ---- */

int ws_index_follow(ws_index *ix, const char *name, const struct ws_pubkey *key,
		    int on)
{
	uint8_t kb[WS_NAME_MAX + 1 + 32];
	const uint8_t *pk = key->pk;
	size_t n = strlen(name) + 1;
	MDB_val k = { n + 32, kb }, v = { 8, (void *)key->keyid };
	MDB_txn *txn;
	int rc;

	memcpy(kb, name, n);
	memcpy(kb + n, pk, 32);
	if ((rc = mdb_txn_begin(ix->env, NULL, 0, &txn)))
		return lmdb_err(rc);
	rc = on ? mdb_put(txn, ix->follows, &k, &v, MDB_NOOVERWRITE)
		: mdb_del(txn, ix->follows, &k, NULL);
	if (rc == MDB_KEYEXIST || rc == MDB_NOTFOUND) {
		mdb_txn_abort(txn);
		return on ? WS_EEXIST : WS_ENOTFOUND;
	}
	if (rc || (rc = log_event(ix, txn, on ? WS_EV_FOLLOW : WS_EV_UNFOLLOW, pk,
				  name, 0, NULL, NULL))) {
		mdb_txn_abort(txn);
		return lmdb_err(rc);
	}
	return lmdb_err(mdb_txn_commit(txn));
}

int ws_index_follows(ws_index *ix, struct ws_follow **out, size_t *n)
{
	MDB_val k, v;
	MDB_cursor *c;
	MDB_txn *txn;
	struct ws_follow *list = NULL;
	size_t cnt = 0, cap = 0;
	int rc;

	if ((rc = mdb_txn_begin(ix->env, NULL, MDB_RDONLY, &txn)))
		return lmdb_err(rc);
	if ((rc = mdb_cursor_open(txn, ix->follows, &c))) {
		mdb_txn_abort(txn);
		return lmdb_err(rc);
	}
	while (mdb_cursor_get(c, &k, &v, MDB_NEXT) == 0) {
		size_t nl = strnlen(k.mv_data, k.mv_size);
		if (nl > WS_NAME_MAX || k.mv_size != nl + 1 + 32)
			continue;
		if (cnt == cap) {
			cap = cap ? 2 * cap : 8;
			list = xrealloc(list, cap * sizeof(*list));
		}
		memset(&list[cnt], 0, sizeof(list[cnt]));
		memcpy(list[cnt].name, k.mv_data, nl);
		memcpy(list[cnt].pk.pk, (const uint8_t *)k.mv_data + nl + 1, 32);
		if (v.mv_size == 8)
			memcpy(list[cnt].pk.keyid, v.mv_data, 8);
		cnt++;
	}
	mdb_cursor_close(c);
	mdb_txn_abort(txn);
	*out = list;
	*n = cnt;
	return 0;
}

/* ---- trust ---- */

static size_t trust_key(uint8_t *k, const char *name, const uint8_t pk[32])
{
	size_t n = strlen(name) + 1;
	memcpy(k, name, n);
	memcpy(k + n, pk, 32);
	return n + 32;
}

int ws_index_trust_add(ws_index *ix, const char *name, const struct ws_pubkey *pk)
{
	uint8_t kb[WS_NAME_MAX + 1 + 32];
	MDB_val k = { trust_key(kb, name, pk->pk), kb }, v;
	struct trec t = { .added = ws_now() };
	MDB_txn *txn;
	int rc;

	if (ws_name_check(name))
		return WS_ENAME;
	if ((rc = mdb_txn_begin(ix->env, NULL, 0, &txn)))
		return lmdb_err(rc);
	rc = mdb_get(txn, ix->trust, &k, &v);
	if (rc == 0 && v.mv_size == sizeof(t))
		memcpy(&t, v.mv_data, sizeof(t));
	if (rc == 0 && v.mv_size == sizeof(t) && t.removed == 0) {
		mdb_txn_abort(txn);
		return WS_EEXIST;
	}
	t = (struct trec){ .added = ws_now() };
	memcpy(t.keyid, pk->keyid, 8);
	v = (MDB_val){ sizeof(t), &t };
	if ((rc = mdb_put(txn, ix->trust, &k, &v, 0)) ||
	    (rc = log_event(ix, txn, WS_EV_TRUST_ADD, pk->pk, name, 0, NULL, NULL))) {
		mdb_txn_abort(txn);
		return lmdb_err(rc);
	}
	return lmdb_err(mdb_txn_commit(txn));
}

int ws_index_trust_remove(ws_index *ix, const char *name, const uint8_t *pk)
{
	uint8_t kb[WS_NAME_MAX + 1 + 32];
	size_t plen = strlen(name) + 1;
	MDB_val k = { plen, (void *)name }, v;
	MDB_cursor *c = NULL;
	MDB_txn *txn;
	int rc, removed = 0;

	if ((rc = mdb_txn_begin(ix->env, NULL, 0, &txn)))
		return lmdb_err(rc);
	if ((rc = mdb_cursor_open(txn, ix->trust, &c)))
		goto out;
	memcpy(kb, name, plen);
	k.mv_data = kb;
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	while (rc == 0 && k.mv_size == plen + 32 && !memcmp(k.mv_data, name, plen)) {
		struct trec t;
		const uint8_t *kpk = (const uint8_t *)k.mv_data + plen;
		memcpy(&t, v.mv_data, sizeof(t));
		if (t.removed == 0 && (!pk || !memcmp(kpk, pk, 32))) {
			uint8_t keypk[32];
			memcpy(keypk, kpk, 32);
			t.removed = ws_now();
			MDB_val nv = { sizeof(t), &t };
			if ((rc = mdb_cursor_put(c, &k, &nv, MDB_CURRENT)) ||
			    (rc = log_event(ix, txn, WS_EV_TRUST_REMOVE, keypk, name,
					    0, NULL, NULL)))
				goto out;
			removed++;
		}
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	if (rc != MDB_NOTFOUND && rc != 0)
		goto out;
	mdb_cursor_close(c);
	c = NULL;
	if (!removed) {
		mdb_txn_abort(txn);
		return WS_ENOTFOUND;
	}
	rc = mdb_txn_commit(txn);
	return lmdb_err(rc);
out:
	if (c)
		mdb_cursor_close(c);
	mdb_txn_abort(txn);
	return lmdb_err(rc);
}

int ws_index_trust_list(ws_index *ix, struct ws_trust **out, size_t *n)
{
	MDB_txn *txn;
	MDB_cursor *c;
	MDB_val k, v;
	struct ws_trust *list = NULL;
	size_t cnt = 0, cap = 0;
	int rc = mdb_txn_begin(ix->env, NULL, MDB_RDONLY, &txn);

	if (rc)
		return lmdb_err(rc);
	if ((rc = mdb_cursor_open(txn, ix->trust, &c))) {
		mdb_txn_abort(txn);
		return lmdb_err(rc);
	}
	while ((rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) == 0) {
		size_t nlen = strnlen(k.mv_data, k.mv_size);
		struct trec t;
		if (nlen > WS_NAME_MAX || k.mv_size != nlen + 1 + 32 ||
		    v.mv_size != sizeof(t))
			continue;
		if (cnt == cap) {
			cap = cap ? 2 * cap : 8;
			list = xrealloc(list, cap * sizeof(*list));
		}
		memcpy(&t, v.mv_data, sizeof(t));
		memset(&list[cnt], 0, sizeof(list[cnt]));
		memcpy(list[cnt].name, k.mv_data, nlen);
		memcpy(list[cnt].pk, (const uint8_t *)k.mv_data + nlen + 1, 32);
		memcpy(list[cnt].keyid, t.keyid, 8);
		list[cnt].added = t.added;
		list[cnt].removed = t.removed;
		cnt++;
	}
	mdb_cursor_close(c);
	mdb_txn_abort(txn);
	*out = list;
	*n = cnt;
	return 0;
}

int ws_index_trust_lookup(ws_index *ix, const char *name, struct ws_pubkey *out)
{
	struct ws_trust *list;
	size_t n, found = 0;
	struct ws_pubkey pk;
	int rc = ws_index_trust_list(ix, &list, &n);

	if (rc)
		return rc;
	for (size_t i = 0; i < n; i++)
		if (!list[i].removed && !strcmp(list[i].name, name)) {
			memcpy(pk.pk, list[i].pk, 32);
			memcpy(pk.keyid, list[i].keyid, 8);
			found++;
		}
	free(list);
	if (found == 0)
		return WS_ENOTFOUND;
	if (found > 1)
		return WS_EAMBIGUOUS;
	*out = pk;
	return 0;
}

int ws_index_trust_check(ws_index *ix, const char *name, const uint8_t pk[32])
{
	uint8_t kb[WS_NAME_MAX + 1 + 32];
	MDB_val k = { trust_key(kb, name, pk), kb }, v;
	MDB_txn *txn;
	int rc = mdb_txn_begin(ix->env, NULL, MDB_RDONLY, &txn), ok = 0;

	if (rc)
		return lmdb_err(rc);
	if (mdb_get(txn, ix->trust, &k, &v) == 0 && v.mv_size == sizeof(struct trec)) {
		struct trec t;
		memcpy(&t, v.mv_data, sizeof(t));
		ok = t.removed == 0;
	}
	mdb_txn_abort(txn);
	return ok ? 0 : WS_EUNTRUSTED;
}

/* ---- events ---- */

const char *ws_event_kind_name(int kind)
{
	switch (kind) {
	case WS_EV_ACCEPTED: return "accepted";
	case WS_EV_COMPLETE: return "complete";
	case WS_EV_EQUIVOCATION: return "equivocation";
	case WS_EV_ROLLBACK_REFUSED: return "rollback-refused";
	case WS_EV_FORK_REFUSED: return "fork-refused";
	case WS_EV_GAP_REFUSED: return "gap-refused";
	case WS_EV_TRUST_ADD: return "trust-add";
	case WS_EV_TRUST_REMOVE: return "trust-remove";
	case WS_EV_POINTER_EQUIVOCATION: return "pointer-equivocation";
	case WS_EV_FOLLOW: return "follow";
	case WS_EV_UNFOLLOW: return "unfollow";
	}
	return "unknown";
}

int ws_index_events(ws_index *ix, const char *name, struct ws_event **out,
		    size_t *n)
{
	MDB_txn *txn;
	MDB_cursor *c;
	MDB_val k, v;
	struct ws_event *list = NULL;
	size_t cnt = 0, cap = 0;
	int rc = mdb_txn_begin(ix->env, NULL, MDB_RDONLY, &txn);

	if (rc)
		return lmdb_err(rc);
	if ((rc = mdb_cursor_open(txn, ix->events, &c))) {
		mdb_txn_abort(txn);
		return lmdb_err(rc);
	}
	while (mdb_cursor_get(c, &k, &v, MDB_NEXT) == 0) {
		struct erec e;
		if (k.mv_size != 8 || v.mv_size != sizeof(e))
			continue;
		memcpy(&e, v.mv_data, sizeof(e));
		e.name[WS_NAME_MAX] = '\0';
		e.detail[sizeof(e.detail) - 1] = '\0';
		if (name && strcmp(e.name, name))
			continue;
		if (cnt == cap) {
			cap = cap ? 2 * cap : 16;
			list = xrealloc(list, cap * sizeof(*list));
		}
		struct ws_event *o = &list[cnt++];
		o->seq = get_be64(k.mv_data);
		o->time = e.time;
		o->kind = e.kind;
		memcpy(o->pk, e.pk, 32);
		memcpy(o->name, e.name, sizeof(o->name));
		o->version = e.version;
		memcpy(o->mhash, e.mhash, 32);
		memcpy(o->detail, e.detail, sizeof(o->detail));
	}
	mdb_cursor_close(c);
	mdb_txn_abort(txn);
	*out = list;
	*n = cnt;
	return 0;
}
