/* index_names.c - name pointers, followed names and trust (see index.h) */
#include "index_int.h"
#include "proto/error.h"
#include "proto/merkle.h"
#include "proto/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct trec {
	int64_t added;
	int64_t removed;
	uint8_t keyid[8];
};

/* ---- pointers ---- */

/* key: pk(32) salt NUL seq(u64 BE) sha256(v)(32); value: sig(64) v */
static size_t pointer_prefix(uint8_t *k, const uint8_t pk[32], const char *salt)
{
	size_t n = strlen(salt) + 1;
	memcpy(k, pk, 32);
	memcpy(k + 32, salt, n);
	return 32 + n;
}

/*
 * decode_pointer - one pointers record into p (written only on success).
 * The record was checked when it was kept, so one that no longer passes
 * ws_pointer_check (signature, value format) or whose value no longer
 * has the hash in its key is damage: WS_ECORRUPT.
 */
static int decode_pointer(const MDB_val *k, const MDB_val *v, struct ws_pointer *p)
{
	const uint8_t *kb = k->mv_data;
	struct ws_pointer q;
	uint8_t h[32];
	size_t slen;

	if (k->mv_size < 32 + 1 + 8 + 32 || v->mv_size < 64 ||
	    v->mv_size > 64 + WS_POINTER_VMAX)
		return WS_ECORRUPT;
	slen = strnlen((const char *)kb + 32, k->mv_size - 32);
	if (slen == 0 || slen > WS_SALT_MAX || k->mv_size != 32 + slen + 1 + 8 + 32)
		return WS_ECORRUPT;
	memset(&q, 0, sizeof(q));
	memcpy(q.pk, kb, 32);
	memcpy(q.salt, kb + 32, slen);
	q.seq = (int64_t)ix_get_be64(kb + 32 + slen + 1);
	memcpy(q.sig, v->mv_data, 64);
	q.vlen = v->mv_size - 64;
	memcpy(q.v, (const uint8_t *)v->mv_data + 64, q.vlen);
	ws_sha256(q.v, q.vlen, h);
	if (memcmp(h, kb + 32 + slen + 1 + 8, 32) || ws_pointer_check(&q))
		return WS_ECORRUPT;
	*p = q;
	return 0;
}

struct same_ctx {
	const struct ws_pointer *p;
	size_t klen;
	int same, other;
};

static int same_fn(void *vctx, const MDB_val *k, const MDB_val *v)
{
	struct same_ctx *ctx = vctx;

	if (k->mv_size != ctx->klen || v->mv_size < 64)
		return WS_ECORRUPT;
	if (v->mv_size == 64 + ctx->p->vlen &&
	    !memcmp((const uint8_t *)v->mv_data + 64, ctx->p->v, ctx->p->vlen))
		ctx->same = 1;
	else
		ctx->other = 1;
	return 0;
}

int ws_index_put_pointer(ws_index *ix, const struct ws_pointer *p, char **msg)
{
	uint8_t kb[32 + WS_SALT_MAX + 1 + 8 + 32], vb[64 + WS_POINTER_VMAX];
	size_t plen = pointer_prefix(kb, p->pk, p->salt);
	struct same_ctx at = { .p = p, .klen = plen + 8 + 32 };
	MDB_val k, v;
	MDB_txn *txn = NULL;
	int rc;

	ix_put_be64(kb + plen, (uint64_t)p->seq);
	if ((rc = ix_begin(ix, 0, &txn)))
		goto out;
	if ((rc = ix_scan(txn, ix->pointers, kb, plen + 8, same_fn, &at)))
		goto out;
	if (at.same) {
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
	if (at.other) {
		/* two values signed for one seq: the publisher equivocated */
		char name[WS_SALT_MAX + 1], *sep;
		struct nrec nr;
		snprintf(name, sizeof(name), "%s", p->salt);
		if ((sep = strchr(name, '@')))
			*sep = '\0';
		if ((rc = ix_get_name(ix, txn, p->pk, name, &nr)))
			goto out;
		nr.flags |= WS_NAME_EQUIVOCATED;
		if ((rc = ix_put_name(ix, txn, p->pk, name, &nr)) ||
		    (rc = ix_log_event(ix, txn, WS_EV_POINTER_EQUIVOCATION, p->pk, name,
				       p->seq, NULL, "two signed pointers for one version")))
			goto out;
	}
	rc = mdb_txn_commit(txn);
	txn = NULL;
	if (rc == 0 && at.other)
		return ws_seterr(msg, WS_EEQUIVOCATION,
				 "equivocation: the publisher signed two different pointers "
				 "for '%s' version %lld; both are kept as evidence",
				 p->salt, (long long)p->seq);
out:
	if (txn)
		mdb_txn_abort(txn);
	rc = ix_err(rc);
	if (rc)
		ws_seterr(msg, rc, "cannot keep the pointer of '%s' in the index: %s",
			  p->salt, ws_strerror(rc));
	return rc;
}

struct best_ctx {
	struct ws_pointer *out;
	int found;
};

static int best_fn(void *vctx, const MDB_val *k, const MDB_val *v)
{
	struct best_ctx *ctx = vctx;
	struct ws_pointer p;
	int ret;

	if ((ret = decode_pointer(k, v, &p)))
		return ret;
	/* seq ascends with the keys: keep the first of the highest */
	if (!ctx->found || p.seq > ctx->out->seq) {
		*ctx->out = p;
		ctx->found = 1;
	}
	return 0;
}

int ws_index_get_pointer(ws_index *ix, const uint8_t pk[32], const char *salt,
			 struct ws_pointer *out)
{
	uint8_t kb[32 + WS_SALT_MAX + 1];
	size_t plen = pointer_prefix(kb, pk, salt);
	struct ws_pointer best;
	struct best_ctx ctx = { .out = &best };
	int rc = ix_scan_read(ix, ix->pointers, kb, plen, best_fn, &ctx);

	if (rc)
		return rc;
	if (!ctx.found)
		return WS_ENOTFOUND;
	*out = best;
	return 0;
}

static int plist_fn(void *vctx, const MDB_val *k, const MDB_val *v)
{
	struct ix_list *ctx = vctx;
	struct ws_pointer p, *last = ctx->n ? (struct ws_pointer *)ctx->items + ctx->n - 1 : NULL;
	int ret;

	if ((ret = decode_pointer(k, v, &p)))
		return ret;
	/* keys sort by key, salt, then seq: the last of each run is the highest */
	if (last && !memcmp(last->pk, p.pk, 32) && !strcmp(last->salt, p.salt)) {
		if (p.seq > last->seq)
			*last = p;
		return 0;
	}
	ix_push(ctx, &p, sizeof(p));
	return 0;
}

int ws_index_pointers(ws_index *ix, struct ws_pointer **out, size_t *n)
{
	struct ix_list ctx = {0};
	int rc = ix_scan_read(ix, ix->pointers, NULL, 0, plist_fn, &ctx);

	if (rc) {
		free(ctx.items);
		return rc;
	}
	*out = ctx.items;
	*n = ctx.n;
	return 0;
}

struct nptr_ctx {
	const char *name;
	struct ix_list l;
};

static int nptr_fn(void *vctx, const MDB_val *k, const MDB_val *v)
{
	struct nptr_ctx *ctx = vctx;
	struct ws_pointer p;
	size_t nl = strlen(ctx->name);
	int ret;

	if ((ret = decode_pointer(k, v, &p)))
		return ret;
	/* the prefix also matches longer names ("llama" and "llama-2") */
	if (p.salt[nl] == '\0' || p.salt[nl] == '@')
		ix_push(&ctx->l, &p, sizeof(p));
	return 0;
}

int ws_index_name_pointers(ws_index *ix, const uint8_t pk[32], const char *name,
			   struct ws_pointer **out, size_t *n)
{
	uint8_t kb[32 + WS_SALT_MAX + 1];
	struct nptr_ctx ctx = { .name = name };
	size_t plen = pointer_prefix(kb, pk, name) - 1;  /* without the NUL */
	int rc = ix_scan_read(ix, ix->pointers, kb, plen, nptr_fn, &ctx);

	if (rc) {
		free(ctx.l.items);
		return rc;
	}
	*out = ctx.l.items;
	*n = ctx.l.n;
	return 0;
}

/* ---- follows and trust: keys are name NUL pk(32) ---- */

static size_t trust_key(uint8_t *k, const char *name, const uint8_t pk[32])
{
	size_t n = strlen(name) + 1;
	memcpy(k, name, n);
	memcpy(k + n, pk, 32);
	return n + 32;
}

/* decode_name_pk - a follows or trust key into name and pk; WS_ECORRUPT
 * unless it is a valid name, its NUL and 32 bytes. */
static int decode_name_pk(const MDB_val *k, char name[WS_NAME_MAX + 1], uint8_t pk[32])
{
	size_t nl = strnlen(k->mv_data, k->mv_size);

	if (nl == 0 || nl > WS_NAME_MAX || k->mv_size != nl + 1 + 32)
		return WS_ECORRUPT;
	memcpy(name, k->mv_data, nl);
	name[nl] = '\0';
	memcpy(pk, (const uint8_t *)k->mv_data + nl + 1, 32);
	return 0;
}

int ws_index_follow(ws_index *ix, const char *name, const struct ws_pubkey *key,
		    int on)
{
	uint8_t kb[WS_NAME_MAX + 1 + 32];
	const uint8_t *pk = key->pk;
	MDB_val k = { trust_key(kb, name, pk), kb }, v = { 8, (void *)key->keyid };
	MDB_txn *txn;
	int rc;

	if ((rc = ix_begin(ix, 0, &txn)))
		return rc;
	rc = on ? mdb_put(txn, ix->follows, &k, &v, MDB_NOOVERWRITE)
		: mdb_del(txn, ix->follows, &k, NULL);
	if (rc == MDB_KEYEXIST || rc == MDB_NOTFOUND) {
		mdb_txn_abort(txn);
		return on ? WS_EEXIST : WS_ENOTFOUND;
	}
	if (rc || (rc = ix_log_event(ix, txn, on ? WS_EV_FOLLOW : WS_EV_UNFOLLOW, pk,
				     name, 0, NULL, NULL))) {
		mdb_txn_abort(txn);
		return ix_err(rc);
	}
	return ix_err(mdb_txn_commit(txn));
}

static int flist_fn(void *vctx, const MDB_val *k, const MDB_val *v)
{
	struct ix_list *ctx = vctx;
	struct ws_follow f;

	memset(&f, 0, sizeof(f));
	if (decode_name_pk(k, f.name, f.pk.pk) || v->mv_size != 8)
		return WS_ECORRUPT;
	memcpy(f.pk.keyid, v->mv_data, 8);
	ix_push(ctx, &f, sizeof(f));
	return 0;
}

int ws_index_follows(ws_index *ix, struct ws_follow **out, size_t *n)
{
	struct ix_list ctx = {0};
	int rc = ix_scan_read(ix, ix->follows, NULL, 0, flist_fn, &ctx);

	if (rc) {
		free(ctx.items);
		return rc;
	}
	*out = ctx.items;
	*n = ctx.n;
	return 0;
}

/* ---- trust ---- */

/* get_trec - a trust value; WS_ECORRUPT unless it has struct trec's size */
static int get_trec(const MDB_val *v, struct trec *t)
{
	if (v->mv_size != sizeof(*t))
		return WS_ECORRUPT;
	memcpy(t, v->mv_data, sizeof(*t));
	return 0;
}

int ws_index_trust_add(ws_index *ix, const char *name, const struct ws_pubkey *pk)
{
	uint8_t kb[WS_NAME_MAX + 1 + 32];
	MDB_val k = { trust_key(kb, name, pk->pk), kb }, v;
	struct trec t;
	MDB_txn *txn;
	int rc;

	if (ws_name_check(name))
		return WS_ENAME;
	if ((rc = ix_begin(ix, 0, &txn)))
		return rc;
	rc = mdb_get(txn, ix->trust, &k, &v);
	if (rc == 0 && (rc = get_trec(&v, &t)) == 0 && t.removed == 0)
		rc = WS_EEXIST;
	if (rc && rc != MDB_NOTFOUND)
		goto out;
	t = (struct trec){ .added = ws_now() };
	memcpy(t.keyid, pk->keyid, 8);
	v = (MDB_val){ sizeof(t), &t };
	if ((rc = mdb_put(txn, ix->trust, &k, &v, 0)) ||
	    (rc = ix_log_event(ix, txn, WS_EV_TRUST_ADD, pk->pk, name, 0, NULL, NULL)))
		goto out;
	rc = mdb_txn_commit(txn);
	txn = NULL;
out:
	if (txn)
		mdb_txn_abort(txn);
	return ix_err(rc);
}

int ws_index_trust_remove(ws_index *ix, const char *name, const uint8_t *pk)
{
	uint8_t kb[WS_NAME_MAX + 1 + 32];
	size_t plen = strlen(name) + 1;
	MDB_val k = { plen, kb }, v;
	MDB_cursor *c = NULL;
	MDB_txn *txn;
	int rc, removed = 0;

	if ((rc = ix_begin(ix, 0, &txn)))
		return rc;
	if ((rc = mdb_cursor_open(txn, ix->trust, &c)))
		goto out;
	memcpy(kb, name, plen);
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	/* the cursor writes as it goes, so this is not an ix_scan */
	while (rc == 0 && k.mv_size >= plen && !memcmp(k.mv_data, name, plen)) {
		struct trec t;
		const uint8_t *kpk = (const uint8_t *)k.mv_data + plen;
		if (k.mv_size != plen + 32 || (rc = get_trec(&v, &t))) {
			rc = WS_ECORRUPT;
			goto out;
		}
		if (t.removed == 0 && (!pk || !memcmp(kpk, pk, 32))) {
			uint8_t keypk[32];
			memcpy(keypk, kpk, 32);
			t.removed = ws_now();
			MDB_val nv = { sizeof(t), &t };
			if ((rc = mdb_cursor_put(c, &k, &nv, MDB_CURRENT)) ||
			    (rc = ix_log_event(ix, txn, WS_EV_TRUST_REMOVE, keypk, name,
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
		rc = WS_ENOTFOUND;
		goto out;
	}
	rc = mdb_txn_commit(txn);
	txn = NULL;
out:
	if (c)
		mdb_cursor_close(c);
	if (txn)
		mdb_txn_abort(txn);
	return ix_err(rc);
}

static int tlist_fn(void *vctx, const MDB_val *k, const MDB_val *v)
{
	struct ix_list *ctx = vctx;
	struct ws_trust e;
	struct trec t;

	memset(&e, 0, sizeof(e));
	if (decode_name_pk(k, e.name, e.pk) || get_trec(v, &t))
		return WS_ECORRUPT;
	memcpy(e.keyid, t.keyid, 8);
	e.added = t.added;
	e.removed = t.removed;
	ix_push(ctx, &e, sizeof(e));
	return 0;
}

int ws_index_trust_list(ws_index *ix, struct ws_trust **out, size_t *n)
{
	struct ix_list ctx = {0};
	int rc = ix_scan_read(ix, ix->trust, NULL, 0, tlist_fn, &ctx);

	if (rc) {
		free(ctx.items);
		return rc;
	}
	*out = ctx.items;
	*n = ctx.n;
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
	struct trec t;
	int rc = ix_begin(ix, MDB_RDONLY, &txn);

	if (rc)
		return rc;
	rc = mdb_get(txn, ix->trust, &k, &v);
	if (rc == 0)
		rc = get_trec(&v, &t);
	mdb_txn_abort(txn);
	if (rc == MDB_NOTFOUND || (rc == 0 && t.removed))
		return WS_EUNTRUSTED;
	return ix_err(rc);
}
