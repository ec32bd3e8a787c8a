/* curator.c - the lists of subscribed curators (see curator.h) */
#include "curator.h"
#include "docrel.h"
#include "proto/error.h"
#include "proto/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ws_curators_subscribed(struct ws_store *st, struct ws_pubkey **out, size_t *n)
{
	struct ws_trust *list = NULL;
	struct ws_pubkey *keys;
	size_t nl = 0, k = 0;
	int ret = ws_index_trust_list(st->index, &list, &nl);

	if (ret)
		return ret;
	keys = xcalloc(nl + 1, sizeof(*keys));
	for (size_t i = 0; i < nl; i++)
		if (!list[i].removed && !strcmp(list[i].name, WS_CURATOR_NAME)) {
			memcpy(keys[k].pk, list[i].pk, 32);
			memcpy(keys[k].keyid, list[i].keyid, 8);
			k++;
		}
	free(list);
	*out = keys;
	*n = k;
	return 0;
}

int ws_curator_read(struct ws_store *st, const uint8_t pk[32], int64_t want,
		    struct ws_curator_list *out, int64_t *version, char **msg)
{
	char *text = NULL;
	size_t len = 0;
	int ret = ws_docrel_read(st, pk, WS_CURATOR_NAME, want, WS_CURATOR_FILE,
				 WS_CURATOR_MAX, &text, &len, version, msg);

	if (ret)
		return ret;
	ret = ws_curator_parse(text, len, out, msg);
	free(text);
	return ret;
}

/* the highest list version of cur already noted, 0 for none */
static int last_noted(struct ws_store *st, const uint8_t cur[32], int64_t *last)
{
	struct ws_event *ev = NULL;
	size_t n = 0;
	int ret = ws_index_events(st->index, WS_CURATOR_NAME, &ev, &n);

	if (ret)
		return ret;
	*last = 0;
	for (size_t i = 0; i < n; i++)
		if (ev[i].kind == WS_EV_CURATOR_LIST && !memcmp(ev[i].pk, cur, 32) &&
		    ev[i].version > *last)
			*last = ev[i].version;
	free(ev);
	return 0;
}

int ws_curator_note(struct ws_store *st, const struct ws_pubkey *cur)
{
	struct ws_curator_list now = { 0 }, before = { 0 };
	char cb64[WS_PUBKEY_B64_LEN + 1], pb64[WS_PUBKEY_B64_LEN + 1], detail[256];
	int64_t v = 0, last = 0;
	int ret;

	if ((ret = ws_curator_read(st, cur->pk, 0, &now, &v, NULL)))
		return ret;
	if ((ret = last_noted(st, cur->pk, &last)) || v <= last)
		goto out;
	/* the list noted last is complete in the store (it was read from
	 * there); if it is gone, every mapping is noted again */
	if (last)
		ws_curator_read(st, cur->pk, last, &before, NULL, NULL);
	ws_pubkey_to_b64(cur, cb64);
	for (size_t i = 0; i < now.n && !ret; i++) {
		const struct ws_curated *o = ws_curator_find(&before, now.e[i].name);
		if (o && ws_pubkey_equal(&o->pk, &now.e[i].pk))
			continue;
		ws_pubkey_to_b64(&now.e[i].pk, pb64);
		snprintf(detail, sizeof(detail), "curator %s (list version %lld) maps "
			 "it to %s", cb64, (long long)v, pb64);
		ret = ws_index_log(st->index, WS_EV_CURATED, now.e[i].pk.pk, now.e[i].name,
				   0, detail);
	}
	for (size_t i = 0; i < before.n && !ret; i++) {
		if (ws_curator_find(&now, before.e[i].name))
			continue;
		ws_pubkey_to_b64(&before.e[i].pk, pb64);
		snprintf(detail, sizeof(detail), "curator %s (list version %lld) no longer "
			 "maps it to %s", cb64, (long long)v, pb64);
		ret = ws_index_log(st->index, WS_EV_UNCURATED, before.e[i].pk.pk,
				   before.e[i].name, 0, detail);
	}
	if (!ret)
		ret = ws_index_log(st->index, WS_EV_CURATOR_LIST, cur->pk, WS_CURATOR_NAME,
				   v, "curator list read");
out:
	ws_curator_list_release(&before);
	ws_curator_list_release(&now);
	return ret;
}

int ws_curator_lookup(struct ws_store *st, const char *name,
		      struct ws_curator_hit **out, size_t *n, int *unreadable)
{
	struct ws_pubkey *subs = NULL;
	struct ws_curator_hit *hits;
	size_t ns = 0, k = 0;
	int ret = ws_curators_subscribed(st, &subs, &ns), bad = 0;

	if (ret)
		return ret;
	hits = xcalloc(ns + 1, sizeof(*hits));
	for (size_t i = 0; i < ns; i++) {
		struct ws_curator_list l = { 0 };
		const struct ws_curated *e;
		int64_t v = 0;
		int r = ws_curator_read(st, subs[i].pk, 0, &l, &v, NULL);
		if (r) {
			bad += r != WS_ENOTFOUND;
			continue;
		}
		if ((e = ws_curator_find(&l, name))) {
			hits[k].curator = subs[i];
			hits[k].publisher = e->pk;
			hits[k].list_version = v;
			k++;
		}
		ws_curator_list_release(&l);
	}
	free(subs);
	if (unreadable)
		*unreadable = bad;
	*out = hits;
	*n = k;
	return 0;
}
