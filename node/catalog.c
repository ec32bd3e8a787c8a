/* catalog.c - publishers' catalogs (see catalog.h) */
#include "catalog.h"
#include "curator.h"
#include "docrel.h"
#include "proto/error.h"
#include "proto/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ws_catalog_read(struct ws_store *st, const uint8_t pk[32],
		    struct ws_catalog *out, int64_t *version, char **msg)
{
	char *text = NULL;
	size_t len = 0;
	int ret = ws_docrel_read(st, pk, WS_CATALOG_NAME, 0, WS_CATALOG_FILE,
				 WS_CATALOG_MAX, &text, &len, version, msg);

	if (ret)
		return ret;
	ret = ws_catalog_parse(text, len, out, msg);
	free(text);
	return ret;
}

/* the catalog entry of (pk, name)'s highest accepted version */
static int entry_of(struct ws_store *st, const uint8_t pk[32], const char *name,
		    struct ws_catalog_entry *e)
{
	struct ws_release r;
	struct ws_manifest m;
	int ret = ws_index_get(st->index, pk, name, 0, &r);

	if (ret)
		return ret;
	if ((ret = ws_manifest_parse(r.manifest, r.manifest_len, &m, NULL)) == 0) {
		memset(e, 0, sizeof(*e));
		snprintf(e->name, sizeof(e->name), "%s", name);
		e->version = m.version;
		e->bytes = ws_manifest_total_size(&m);
		snprintf(e->license, sizeof(e->license), "%s", m.license ? m.license : "");
		snprintf(e->origin, sizeof(e->origin), "%s", m.origin ? m.origin : "");
		memcpy(e->mhash, r.mhash, 32);
		ws_manifest_release(&m);
	}
	ws_release_release(&r);
	return ret;
}

int ws_catalog_update(struct ws_store *st, const struct ws_seckey *sk,
		      const char *name, const char *description, int64_t *version,
		      char **msg)
{
	struct ws_catalog old = { 0 }, cat = { 0 };
	struct ws_release *rels = NULL;
	struct ws_pubkey pk;
	char *before = NULL, *after = NULL;
	size_t n = 0, blen = 0, alen = 0;
	int64_t v = 0;
	int ret;

	if (description && (strlen(description) > WS_CATALOG_TEXT_MAX ||
			    strpbrk(description, "\r\n")))
		return ws_seterr(msg, WS_EFORMAT, "a description is one line of at most %d "
				 "bytes", WS_CATALOG_TEXT_MAX);
	ws_seckey_public(sk, &pk);
	ret = ws_catalog_read(st, pk.pk, &old, &v, msg);
	if (ret && ret != WS_ENOTFOUND)
		return ret;
	if ((ret = ws_index_list(st->index, pk.pk, NULL, &rels, &n))) {
		ws_seterr(msg, ret, "cannot read the index: %s", ws_strerror(ret));
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct ws_catalog_entry e;
		const struct ws_catalog_entry *prev;
		if ((i && !strcmp(rels[i].name, rels[i - 1].name)) ||
		    !strcmp(rels[i].name, WS_CATALOG_NAME) ||
		    !strcmp(rels[i].name, WS_CURATOR_NAME))
			continue;
		if ((ret = entry_of(st, pk.pk, rels[i].name, &e))) {
			ws_seterr(msg, ret, "cannot read '%s' from the index: %s",
				  rels[i].name, ws_strerror(ret));
			goto out;
		}
		if (description && !strcmp(rels[i].name, name))
			snprintf(e.description, sizeof(e.description), "%s", description);
		else if ((prev = ws_catalog_find(&old, rels[i].name)))
			memcpy(e.description, prev->description, sizeof(e.description));
		if ((ret = ws_catalog_put(&cat, &e))) {
			ws_seterr(msg, ret, "cannot list '%s' in the catalog", rels[i].name);
			goto out;
		}
	}
	ws_catalog_serialize(&old, &before, &blen);
	ws_catalog_serialize(&cat, &after, &alen);
	if (v && blen == alen && !memcmp(before, after, alen))
		goto done;
	if ((ret = ws_docrel_publish(st, sk, WS_CATALOG_NAME, WS_CATALOG_FILE, after,
				     alen, &v, msg)))
		goto out;
done:
	if (version)
		*version = v;
out:
	free(before);
	free(after);
	ws_releases_free(rels, n);
	ws_catalog_release(&old);
	ws_catalog_release(&cat);
	return ret;
}

static void add_key(struct ws_pubkey **keys, size_t *n, const struct ws_pubkey *k)
{
	for (size_t i = 0; i < *n; i++)
		if (!memcmp((*keys)[i].pk, k->pk, 32))
			return;
	*keys = xrealloc(*keys, (*n + 1) * sizeof(**keys));
	(*keys)[(*n)++] = *k;
}

int ws_catalog_keys(struct ws_store *st, struct ws_pubkey **out, size_t *n)
{
	struct ws_trust *tl = NULL;
	struct ws_release *rels = NULL;
	struct ws_pubkey *keys = NULL, *subs = NULL;
	size_t nt = 0, nr = 0, ns = 0, k = 0;
	int ret;

	if ((ret = ws_index_trust_list(st->index, &tl, &nt)))
		return ret;
	for (size_t i = 0; i < nt; i++) {
		struct ws_pubkey pk;
		if (tl[i].removed)
			continue;
		memcpy(pk.pk, tl[i].pk, 32);
		memcpy(pk.keyid, tl[i].keyid, 8);
		add_key(&keys, &k, &pk);
	}
	free(tl);
	if ((ret = ws_index_list(st->index, NULL, NULL, &rels, &nr)))
		goto out;
	for (size_t i = 0; i < nr; i++) {
		struct ws_release r;
		struct ws_manifest m;
		if (i && !memcmp(rels[i].pk, rels[i - 1].pk, 32))
			continue;
		/* the full key (with its key id) is in the signed manifest */
		if (ws_index_get(st->index, rels[i].pk, rels[i].name, 0, &r))
			continue;
		if (ws_manifest_parse(r.manifest, r.manifest_len, &m, NULL) == 0) {
			add_key(&keys, &k, &m.publisher);
			ws_manifest_release(&m);
		}
		ws_release_release(&r);
	}
	if ((ret = ws_curators_subscribed(st, &subs, &ns)))
		goto out;
	for (size_t i = 0; i < ns; i++) {
		struct ws_curator_list l = { 0 };
		if (ws_curator_read(st, subs[i].pk, 0, &l, NULL, NULL))
			continue;
		for (size_t j = 0; j < l.n; j++)
			add_key(&keys, &k, &l.e[j].pk);
		ws_curator_list_release(&l);
	}
out:
	free(subs);
	ws_releases_free(rels, nr);
	if (ret) {
		free(keys);
		return ret;
	}
	*out = keys;
	*n = k;
	return 0;
}
