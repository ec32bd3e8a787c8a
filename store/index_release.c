/* index_release.c - manifests, versions and the chain rules (see index.h) */
#include "index_int.h"
#include "proto/error.h"
#include "proto/merkle.h"
#include "proto/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static size_t version_key(uint8_t *k, const uint8_t pk[32], const char *name,
			  int64_t version, const uint8_t mhash[32])
{
	size_t n = ix_name_key(k, pk, name);
	ix_put_be64(k + n, (uint64_t)version);
	if (!mhash)
		return n + 8;
	memcpy(k + n + 8, mhash, 32);
	return n + 8 + 32;
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
	r->version = (int64_t)ix_get_be64(kp + 32 + nlen + 1);
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
		return ix_err(rc);
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

int ix_get_name(ws_index *ix, MDB_txn *txn, const uint8_t pk[32],
		const char *name, struct nrec *out)
{
	uint8_t kb[VKEY_MAX];
	MDB_val k = { ix_name_key(kb, pk, name), kb }, v;
	int rc = mdb_get(txn, ix->names, &k, &v);

	memset(out, 0, sizeof(*out));
	if (rc == 0 && v.mv_size == sizeof(*out))
		memcpy(out, v.mv_data, sizeof(*out));
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int ix_put_name(ws_index *ix, MDB_txn *txn, const uint8_t pk[32],
		const char *name, const struct nrec *n)
{
	uint8_t kb[VKEY_MAX];
	MDB_val k = { ix_name_key(kb, pk, name), kb }, v = { sizeof(*n), (void *)n };
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
			return ix_err(rc);
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
		return ix_err(rc);
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
	if ((rc = ix_get_name(ix, txn, m->publisher.pk, m->name, &nr)) ||
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
		if ((rc = ix_put_name(ix, txn, m->publisher.pk, m->name, &nr)) ||
		    (rc = ix_log_event(ix, txn, WS_EV_EQUIVOCATION, m->publisher.pk,
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
		if (ev && ix_log_event(ix, txn, ev, m->publisher.pk, m->name,
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
	if ((rc = ix_put_name(ix, txn, m->publisher.pk, m->name, &nr)) ||
	    (rc = ix_log_event(ix, txn, WS_EV_ACCEPTED, m->publisher.pk, m->name,
			       m->version, mhash, NULL)))
		goto lmdb_fail;
	rc = mdb_txn_commit(txn);
	txn = NULL;
	if (rc)
		goto lmdb_fail;
	goto out;
lmdb_fail:
	ret = ws_seterr(msg, ix_err(rc), "cannot update the index: %s",
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
		return ix_err(rc);
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
	    (rc = ix_log_event(ix, txn, WS_EV_COMPLETE, pk, name, version, mhash, path)))
		goto out;
	rc = mdb_txn_commit(txn);
	txn = NULL;
out:
	if (txn)
		mdb_txn_abort(txn);
	free(rec);
	return ix_err(rc);
}

static int load_blobs(ws_index *ix, MDB_txn *txn, struct ws_release *r)
{
	MDB_val k = { 32, r->mhash }, v;
	int rc;

	if ((rc = mdb_get(txn, ix->manifests, &k, &v)))
		return ix_err(rc);
	r->manifest = xmalloc(v.mv_size + 1);
	memcpy(r->manifest, v.mv_data, v.mv_size);
	r->manifest[v.mv_size] = '\0';
	r->manifest_len = v.mv_size;
	if ((rc = mdb_get(txn, ix->sigs, &k, &v)))
		return ix_err(rc);
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
		return ix_err(rc);
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
		return ix_err(rc);
	memset(&at, 0, sizeof(at));
	if ((rc = ix_get_name(ix, txn, pk, name, &nr)))
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
	return ix_err(rc);
}

int64_t ws_index_highest(ws_index *ix, const uint8_t pk[32], const char *name)
{
	MDB_txn *txn;
	struct nrec nr;
	int64_t v = 0;

	if (mdb_txn_begin(ix->env, NULL, MDB_RDONLY, &txn))
		return 0;
	if (ix_get_name(ix, txn, pk, name, &nr) == 0)
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
		return ix_err(rc);
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
		return ix_err(rc);
	rc = ix_get_name(ix, txn, pk, name, &nr);
	mdb_txn_abort(txn);
	if (rc == 0)
		*flags = nr.flags;
	return ix_err(rc);
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
		return ix_err(rc);
	}
	rc = mdb_put(txn, ix->torrents, &k, &v, MDB_NOOVERWRITE);
	free(buf);
	if (rc) {
		mdb_txn_abort(txn);
		return rc == MDB_KEYEXIST ? WS_EEXIST : ix_err(rc);
	}
	return ix_err(mdb_txn_commit(txn));
}

int ws_index_get_torrent(ws_index *ix, const uint8_t mhash[32],
			 uint8_t **torrent, size_t *len, uint8_t v2[32],
			 uint8_t v1[20])
{
	MDB_val k = { 32, (void *)mhash }, v;
	MDB_txn *txn;
	int rc = mdb_txn_begin(ix->env, NULL, MDB_RDONLY, &txn);

	if (rc)
		return ix_err(rc);
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
	return ix_err(rc);
}

