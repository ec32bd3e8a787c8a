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

static void pointer_from(const MDB_val *k, const MDB_val *v, struct ws_pointer *p)
{
	const uint8_t *kb = k->mv_data;
	size_t slen = strnlen((const char *)kb + 32, WS_SALT_MAX + 1);

	memset(p, 0, sizeof(*p));
	memcpy(p->pk, kb, 32);
	memcpy(p->salt, kb + 32, slen);
	p->seq = (int64_t)ix_get_be64(kb + 32 + slen + 1);
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

	ix_put_be64(kb + plen, (uint64_t)p->seq);
	if ((rc = mdb_txn_begin(ix->env, NULL, 0, &txn)))
		return ix_err(rc);
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
	return ix_err(rc);
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
		return ix_err(rc);
	if ((rc = mdb_cursor_open(txn, ix->pointers, &c))) {
		mdb_txn_abort(txn);
		return ix_err(rc);
	}
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	while (rc == 0 && k.mv_size == plen + 40 && !memcmp(k.mv_data, kb, plen)) {
		int64_t seq = (int64_t)ix_get_be64((const uint8_t *)k.mv_data + plen);
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
		return ix_err(rc);
	if ((rc = mdb_cursor_open(txn, ix->pointers, &c))) {
		mdb_txn_abort(txn);
		return ix_err(rc);
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
		return ix_err(rc);
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

int ws_index_follows(ws_index *ix, struct ws_follow **out, size_t *n)
{
	MDB_val k, v;
	MDB_cursor *c;
	MDB_txn *txn;
	struct ws_follow *list = NULL;
	size_t cnt = 0, cap = 0;
	int rc;

	if ((rc = mdb_txn_begin(ix->env, NULL, MDB_RDONLY, &txn)))
		return ix_err(rc);
	if ((rc = mdb_cursor_open(txn, ix->follows, &c))) {
		mdb_txn_abort(txn);
		return ix_err(rc);
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
		return ix_err(rc);
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
	    (rc = ix_log_event(ix, txn, WS_EV_TRUST_ADD, pk->pk, name, 0, NULL, NULL))) {
		mdb_txn_abort(txn);
		return ix_err(rc);
	}
	return ix_err(mdb_txn_commit(txn));
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
		return ix_err(rc);
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
		mdb_txn_abort(txn);
		return WS_ENOTFOUND;
	}
	rc = mdb_txn_commit(txn);
	return ix_err(rc);
out:
	if (c)
		mdb_cursor_close(c);
	mdb_txn_abort(txn);
	return ix_err(rc);
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
		return ix_err(rc);
	if ((rc = mdb_cursor_open(txn, ix->trust, &c))) {
		mdb_txn_abort(txn);
		return ix_err(rc);
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
		return ix_err(rc);
	if (mdb_get(txn, ix->trust, &k, &v) == 0 && v.mv_size == sizeof(struct trec)) {
		struct trec t;
		memcpy(&t, v.mv_data, sizeof(t));
		ok = t.removed == 0;
	}
	mdb_txn_abort(txn);
	return ok ? 0 : WS_EUNTRUSTED;
}

