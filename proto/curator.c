/* curator.c - a curator's name list (see curator.h, docs/trust.md) */
#include "curator.h"
#include "error.h"
#include "util.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct ws_curated *)a)->name,
		      ((const struct ws_curated *)b)->name);
}

int ws_curator_parse(const char *text, size_t len, struct ws_curator_list *out,
		     char **msg)
{
	struct ws_curator_list l = { 0 };
	json_error_t je;
	json_t *root = NULL, *names;
	const char *key;
	json_t *val;
	size_t i = 0;
	int ret = WS_EFORMAT;

	if (len > WS_CURATOR_MAX)
		return ws_seterr(msg, WS_ETOOBIG, "the curator list is over %u bytes",
				 WS_CURATOR_MAX);
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		ws_seterr(msg, ret, "the curator list is not JSON: %s", je.text);
		goto out;
	}
	names = json_object_get(root, "names");
	if (!json_is_object(root) || json_object_size(root) != 1 || !json_is_object(names)) {
		ws_seterr(msg, ret, "the curator list must be {\"names\": {...}}");
		goto out;
	}
	if (json_object_size(names) > WS_CURATOR_NAMES_MAX) {
		ret = ws_seterr(msg, WS_ETOOBIG, "the curator list names over %d names",
				WS_CURATOR_NAMES_MAX);
		goto out;
	}
	l.n = json_object_size(names);
	l.e = xcalloc(l.n ? l.n : 1, sizeof(*l.e));
	json_object_foreach(names, key, val) {
		const char *b64 = json_string_value(val);
		if (ws_name_check(key) || strlen(key) > WS_NAME_MAX) {
			ws_seterr(msg, ret, "the curator list holds an invalid name");
			goto out;
		}
		if (!b64 || ws_pubkey_parse(b64, &l.e[i].pk)) {
			ws_seterr(msg, ret, "the curator list gives '%s' an invalid key", key);
			goto out;
		}
		snprintf(l.e[i].name, sizeof(l.e[i].name), "%s", key);
		i++;
	}
	qsort(l.e, l.n, sizeof(*l.e), by_name);
	*out = l;
	l.e = NULL;
	ret = 0;
out:
	free(l.e);
	json_decref(root);
	return ret;
}

void ws_curator_serialize(const struct ws_curator_list *l, char **out, size_t *len)
{
	json_t *names = json_object(), *root;

	for (size_t i = 0; i < l->n; i++) {
		char b64[WS_PUBKEY_B64_LEN + 1];
		ws_pubkey_to_b64(&l->e[i].pk, b64);
		json_object_set_new(names, l->e[i].name, json_string(b64));
	}
	root = json_pack("{s:o}", "names", names);
	*out = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (!*out)
		abort();        /* out of memory: jansson's only failure here */
	*len = strlen(*out);
	json_decref(root);
}

const struct ws_curated *ws_curator_find(const struct ws_curator_list *l,
					 const char *name)
{
	struct ws_curated key;

	if (!l->n)
		return NULL;
	snprintf(key.name, sizeof(key.name), "%s", name);
	return bsearch(&key, l->e, l->n, sizeof(*l->e), by_name);
}

int ws_curator_set(struct ws_curator_list *l, const char *name,
		   const struct ws_pubkey *pk)
{
	struct ws_curated *e = (struct ws_curated *)ws_curator_find(l, name);

	if (e) {
		if (ws_pubkey_equal(&e->pk, pk))
			return 0;
		e->pk = *pk;
		return 1;
	}
	if (l->n >= WS_CURATOR_NAMES_MAX)
		return WS_ETOOBIG;
	l->e = xrealloc(l->e, (l->n + 1) * sizeof(*l->e));
	memset(&l->e[l->n], 0, sizeof(*l->e));
	snprintf(l->e[l->n].name, sizeof(l->e[l->n].name), "%s", name);
	l->e[l->n].pk = *pk;
	l->n++;
	qsort(l->e, l->n, sizeof(*l->e), by_name);
	return 1;
}

int ws_curator_drop(struct ws_curator_list *l, const char *name)
{
	const struct ws_curated *e = ws_curator_find(l, name);
	size_t i;

	if (!e)
		return 0;
	i = (size_t)(e - l->e);
	memmove(&l->e[i], &l->e[i + 1], (l->n - i - 1) * sizeof(*l->e));
	l->n--;
	return 1;
}

void ws_curator_list_release(struct ws_curator_list *l)
{
	free(l->e);
	l->e = NULL;
	l->n = 0;
}
