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

/*
 * decode_version - one versions record into r (r written only on
 * success).  The key is pk(32) name NUL version(8) mhash(32), the value a
 * struct vrec then the NUL-terminated path; anything else, or a field out
 * of its range, is WS_ECORRUPT: LMDB returns whatever bytes the file
 * holds, and a damaged record must not become a garbage release.
 */
static int decode_version(const MDB_val *k, const MDB_val *v, struct ws_release *r)
{
	const uint8_t *kp = k->mv_data;
	const char *path = (const char *)v->mv_data + sizeof(struct vrec);
	struct vrec rec;
	size_t nlen;

	if (k->mv_size < 32 + 1 + 8 + 32 || v->mv_size < sizeof(rec) + 1)
		return WS_ECORRUPT;
	nlen = strnlen((const char *)kp + 32, k->mv_size - 32);
	if (nlen == 0 || nlen > WS_NAME_MAX || k->mv_size != 32 + nlen + 1 + 8 + 32)
		return WS_ECORRUPT;
	/* LMDB values are not aligned: copy before reading fields */
	memcpy(&rec, v->mv_data, sizeof(rec));
	if (rec.format != 1 ||
	    (rec.status != WS_REL_ACCEPTED && rec.status != WS_REL_EVIDENCE) ||
	    rec.complete > 1 ||
	    strnlen(path, v->mv_size - sizeof(rec)) != v->mv_size - sizeof(rec) - 1)
		return WS_ECORRUPT;
	memset(r, 0, sizeof(*r));
	memcpy(r->pk, kp, 32);
	memcpy(r->name, kp + 32, nlen);
	r->version = (int64_t)ix_get_be64(kp + 32 + nlen + 1);
	memcpy(r->mhash, kp + 32 + nlen + 1 + 8, 32);
	memcpy(r->previous, rec.previous, 32);
	r->status = rec.status;
	r->complete = rec.complete;
	r->first_seen = rec.first_seen;
	r->path = xstrdup(path);
	return 0;
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
	struct ws_release r;
	int ret;

	if ((ret = decode_version(k, v, &r)))
		return ret;
	if (ctx->mhash && !memcmp(r.mhash, ctx->mhash, 32))
		ctx->same = 1;
	else if (r.status == WS_REL_ACCEPTED)
		ctx->other_accepted = 1;
	if (r.status == WS_REL_ACCEPTED) {
		ctx->has_accepted = 1;
		ws_release_release(&ctx->accepted);
		ctx->accepted = r;
	} else {
		ws_release_release(&r);
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
	return ix_scan(txn, ix->versions, prefix, plen, find_fn, ctx);
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
	if ((rc = mdb_put(txn, ix->versions, &k, &v, MDB_NOOVERWRITE)))
		goto out;
	if (status == WS_REL_ACCEPTED)
		rc = ix_put_blobs(ix, txn, m, mhash);
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
	struct nrec nr = {0};

	if (rc && rc != MDB_NOTFOUND)
		return ix_err(rc);
	if (rc == 0) {
		if (v.mv_size != sizeof(nr))
			return WS_ECORRUPT;
		memcpy(&nr, v.mv_data, sizeof(nr));
		if (nr.highest < 0)
			return WS_ECORRUPT;
	}
	*out = nr;
	return 0;
}

int ix_put_name(ws_index *ix, MDB_txn *txn, const uint8_t pk[32],
		const char *name, const struct nrec *n)
{
	uint8_t kb[VKEY_MAX];
	MDB_val k = { ix_name_key(kb, pk, name), kb }, v = { sizeof(*n), (void *)n };
	return ix_err(mdb_put(txn, ix->names, &k, &v, 0));
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
			goto fail;
		/* the names record says the highest is there: its absence is
		 * damage, not a fork to accuse the publisher of */
		if (!at.has_accepted) {
			rc = WS_ECORRUPT;
			goto fail;
		}
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
		goto fail;
	if (!at.has_accepted || memcmp(at.accepted.previous, mhash, 32))
		ret = ws_seterr(msg, WS_EROLLBACK,
				"'%s' version %lld is older than version %lld already "
				"seen and is not part of its chain: rollback refused",
				m->name, (long long)m->version, (long long)nr->highest);
	ws_release_release(&at.accepted);
	return ret;
fail:
	ws_release_release(&at.accepted);
	return ws_seterr(msg, ix_err(rc), "cannot read the index to check the chain of '%s': %s",
			 m->name, ws_strerror(ix_err(rc)));
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
	if ((rc = ix_begin(ix, 0, &txn)))
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
		if (ret != WS_EEXIST)
			ws_seterr(msg, ret, "cannot mark '%s' version %lld complete in the index: %s",
				  m->name, (long long)m->version, ws_strerror(ret));
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
		rc = mdb_txn_commit(txn);
		txn = NULL;
		if (rc)
			goto lmdb_fail;
		ret = ws_seterr(msg, WS_EEQUIVOCATION,
				"equivocation: the publisher of '%s' signed two different "
				"manifests for version %lld; both are kept as evidence",
				m->name, (long long)m->version);
		goto out;
	}
	ret = chain_check(ix, txn, m, mhash, &nr, msg);
	if (ret) {
		/* the refusal itself is history worth keeping; when it cannot
		 * be kept the refusal still stands, and the message says so */
		int ev = event_for(ret);
		if (ev) {
			rc = ix_log_event(ix, txn, ev, m->publisher.pk, m->name,
					  m->version, mhash, msg ? *msg : NULL);
			if (rc == 0) {
				rc = mdb_txn_commit(txn);
				txn = NULL;
			}
			if (rc && msg && *msg) {
				char *s = xasprintf("%s (the refusal could not be logged: %s)",
						    *msg, ws_strerror(ix_err(rc)));
				free(*msg);
				*msg = s;
			}
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
			ws_strerror(ix_err(rc)));
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
	struct ws_release old = {0};
	size_t plen = strlen(path) + 1;
	int rc;

	if ((rc = ix_begin(ix, 0, &txn)))
		return rc;
	if ((rc = mdb_get(txn, ix->versions, &k, &v)) ||
	    (rc = decode_version(&k, &v, &old)))
		goto out;
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
	ws_release_release(&old);
	free(rec);
	return ix_err(rc);
}

/* One blob record: a copy, NUL-terminated, of 1 to max bytes. */
static int get_blob(MDB_txn *txn, MDB_dbi dbi, const uint8_t mhash[32],
		    size_t max, char **out, size_t *len)
{
	MDB_val k = { 32, (void *)mhash }, v;
	int rc;

	if ((rc = mdb_get(txn, dbi, &k, &v)))
		return ix_err(rc);
	if (v.mv_size == 0 || v.mv_size > max)
		return WS_ECORRUPT;
	*out = xmalloc(v.mv_size + 1);
	memcpy(*out, v.mv_data, v.mv_size);
	(*out)[v.mv_size] = '\0';
	*len = v.mv_size;
	return 0;
}

/* Manifests are kept under their own SHA-256, so a changed byte in one is
 * seen here, whatever page it sits on. */
static int load_blobs(ws_index *ix, MDB_txn *txn, struct ws_release *r)
{
	char *man = NULL, *sig = NULL;
	size_t mlen = 0, slen = 0;
	uint8_t h[32];
	int ret;

	if ((ret = get_blob(txn, ix->manifests, r->mhash, WS_MANIFEST_MAX, &man, &mlen)) ||
	    (ret = get_blob(txn, ix->sigs, r->mhash, WS_SIGFILE_MAX, &sig, &slen)))
		goto out;
	ws_manifest_hash(man, mlen, h);
	if (memcmp(h, r->mhash, 32)) {
		ret = WS_ECORRUPT;
		goto out;
	}
	free(r->manifest);
	free(r->sig);
	r->manifest = man;
	r->manifest_len = mlen;
	r->sig = sig;
	r->sig_len = slen;
	man = sig = NULL;
out:
	free(man);
	free(sig);
	return ret;
}

int ws_index_load(ws_index *ix, struct ws_release *r)
{
	MDB_txn *txn;
	int rc = ix_begin(ix, MDB_RDONLY, &txn);

	if (rc)
		return rc;
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
	int rc = ix_begin(ix, MDB_RDONLY, &txn);

	if (rc)
		return rc;
	memset(&at, 0, sizeof(at));
	if ((rc = ix_get_name(ix, txn, pk, name, &nr)))
		goto out;
	if (version == 0)
		version = nr.highest;
	if (version == 0) {
		rc = WS_ENOTFOUND;
		goto out;
	}
	if ((rc = find_version(ix, txn, pk, name, version, NULL, &at)))
		goto out;
	if (!at.has_accepted) {
		/* the highest the names record gives must be there */
		rc = version == nr.highest ? WS_ECORRUPT : WS_ENOTFOUND;
		goto out;
	}
	if ((rc = load_blobs(ix, txn, &at.accepted)))
		goto out;
	*out = at.accepted;
	memset(&at.accepted, 0, sizeof(at.accepted));
out:
	mdb_txn_abort(txn);
	ws_release_release(&at.accepted);
	return ix_err(rc);
}

/* The names record of (pk, name), in a read transaction of its own. */
static int read_name(ws_index *ix, const uint8_t pk[32], const char *name,
		     struct nrec *nr)
{
	MDB_txn *txn;
	int rc = ix_begin(ix, MDB_RDONLY, &txn);

	if (rc)
		return rc;
	rc = ix_get_name(ix, txn, pk, name, nr);
	mdb_txn_abort(txn);
	return rc;
}

int ws_index_highest(ws_index *ix, const uint8_t pk[32], const char *name,
		     int64_t *highest)
{
	struct nrec nr;
	int rc = read_name(ix, pk, name, &nr);

	if (rc == 0)
		*highest = nr.highest;
	return rc;
}

struct list_ctx {
	const char *name;
	struct ix_list l;
};

static int list_fn(void *vctx, const MDB_val *k, const MDB_val *v)
{
	struct list_ctx *ctx = vctx;
	struct ws_release r;
	int ret;

	if ((ret = decode_version(k, v, &r)))
		return ret;
	if (ctx->name && strcmp(r.name, ctx->name)) {
		ws_release_release(&r);
		return 0;
	}
	ix_push(&ctx->l, &r, sizeof(r));
	return 0;
}

int ws_index_list(ws_index *ix, const uint8_t *pk, const char *name,
		  struct ws_release **out, size_t *n)
{
	struct list_ctx ctx = { .name = name };
	uint8_t prefix[32] = {0};
	int rc;

	if (pk)
		memcpy(prefix, pk, 32);
	rc = ix_scan_read(ix, ix->versions, prefix, pk ? 32 : 0, list_fn, &ctx);
	if (rc) {
		ws_releases_free(ctx.l.items, ctx.l.n);
		return rc;
	}
	*out = ctx.l.items;
	*n = ctx.l.n;
	return 0;
}

int ws_index_name_flags(ws_index *ix, const uint8_t pk[32], const char *name,
			unsigned *flags)
{
	struct nrec nr;
	int rc = read_name(ix, pk, name, &nr);

	if (rc == 0)
		*flags = nr.flags;
	return rc;
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
	if ((rc = ix_begin(ix, 0, &txn))) {
		free(buf);
		return rc;
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
	int rc = ix_begin(ix, MDB_RDONLY, &txn);

	if (rc)
		return rc;
	rc = mdb_get(txn, ix->torrents, &k, &v);
	/* a bencoded torrent is at least "d...e" */
	if (rc == 0 && v.mv_size < 52 + 2)
		rc = WS_ECORRUPT;
	if (rc == 0) {
		const uint8_t *b = v.mv_data;
		if (v2)
			memcpy(v2, b, 32);
		if (v1)
			memcpy(v1, b + 32, 20);
		*len = v.mv_size - 52;
		*torrent = xmalloc(*len);
		memcpy(*torrent, b + 52, *len);
	}
	mdb_txn_abort(txn);
	return ix_err(rc);
}

int ws_index_find_release(ws_index *ix, const uint8_t mhash[32],
			  struct ws_release *out)
{
	MDB_txn *txn;
	struct ws_manifest m;
	struct ws_release r = {0};
	char *man = NULL;
	size_t mlen;
	int ret = ix_begin(ix, MDB_RDONLY, &txn);

	if (ret)
		return ret;
	ret = get_blob(txn, ix->manifests, mhash, WS_MANIFEST_MAX, &man, &mlen);
	mdb_txn_abort(txn);
	if (ret)
		return ret;
	if (ws_manifest_parse(man, mlen, &m, NULL)) {
		free(man);
		return WS_ECORRUPT;
	}
	ret = ws_index_get(ix, m.publisher.pk, m.name, m.version, &r);
	ws_manifest_release(&m);
	free(man);
	if (ret)
		return ret;
	if (memcmp(r.mhash, mhash, 32)) {
		/* held as evidence only, not the accepted release */
		ws_release_release(&r);
		return WS_ENOTFOUND;
	}
	*out = r;
	return 0;
}
