/* catalog.c - a publisher's catalog (see catalog.h, docs/trust.md) */
#include "catalog.h"
#include "error.h"
#include "util.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct ws_catalog_entry *)a)->name,
		      ((const struct ws_catalog_entry *)b)->name);
}

/* a text field: absent is "", present must be a string that fits, and a
 * description one line */
static int get_text(json_t *o, const char *key, char *out, int one_line)
{
	json_t *v = json_object_get(o, key);
	const char *s;

	out[0] = '\0';
	if (!v)
		return 0;
	if (!(s = json_string_value(v)) || strlen(s) > WS_CATALOG_TEXT_MAX ||
	    strlen(s) != json_string_length(v) || (one_line && strpbrk(s, "\r\n")))
		return WS_EFORMAT;
	memcpy(out, s, strlen(s) + 1);
	return 0;
}

static int parse_entry(json_t *o, struct ws_catalog_entry *e)
{
	static const char *const known[] = { "name", "version", "bytes", "license",
					     "origin", "description", "manifest_sha256" };
	json_t *name = json_object_get(o, "name"), *ver = json_object_get(o, "version");
	json_t *bytes = json_object_get(o, "bytes"), *mh = json_object_get(o, "manifest_sha256");
	const char *key, *hex;
	json_t *val;

	if (!json_is_object(o))
		return WS_EFORMAT;
	json_object_foreach(o, key, val) {
		size_t i = 0;
		while (i < sizeof(known) / sizeof(known[0]) && strcmp(known[i], key))
			i++;
		if (i == sizeof(known) / sizeof(known[0]))
			return WS_EFORMAT;
	}
	if (!json_is_string(name) || ws_name_check(json_string_value(name)) ||
	    strlen(json_string_value(name)) > WS_NAME_MAX ||
	    !json_is_integer(ver) || json_integer_value(ver) < 1 ||
	    json_integer_value(ver) > WS_VERSION_MAX ||
	    !json_is_integer(bytes) || json_integer_value(bytes) < 0 ||
	    !(hex = json_string_value(mh)) || strlen(hex) != 64 ||
	    ws_unhex(hex, e->mhash, 32))
		return WS_EFORMAT;
	snprintf(e->name, sizeof(e->name), "%s", json_string_value(name));
	e->version = json_integer_value(ver);
	e->bytes = (uint64_t)json_integer_value(bytes);
	if (get_text(o, "license", e->license, 0) || get_text(o, "origin", e->origin, 0) ||
	    get_text(o, "description", e->description, 1))
		return WS_EFORMAT;
	return 0;
}

int ws_catalog_parse(const char *text, size_t len, struct ws_catalog *out,
		     char **msg)
{
	struct ws_catalog c = { 0 };
	json_error_t je;
	json_t *root, *rels;
	int ret = WS_EFORMAT;

	if (len > WS_CATALOG_MAX)
		return ws_seterr(msg, WS_ETOOBIG, "the catalog is over %u bytes", WS_CATALOG_MAX);
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!root)
		return ws_seterr(msg, ret, "the catalog is not JSON: %s", je.text);
	rels = json_object_get(root, "releases");
	if (!json_is_object(root) || json_object_size(root) != 1 || !json_is_array(rels)) {
		ws_seterr(msg, ret, "the catalog must be {\"releases\": [...]}");
		goto out;
	}
	if (json_array_size(rels) > WS_CATALOG_ENTRIES_MAX) {
		ret = ws_seterr(msg, WS_ETOOBIG, "the catalog lists over %d releases",
				WS_CATALOG_ENTRIES_MAX);
		goto out;
	}
	c.e = xcalloc(json_array_size(rels) + 1, sizeof(*c.e));
	for (size_t i = 0; i < json_array_size(rels); i++, c.n++) {
		if (parse_entry(json_array_get(rels, i), &c.e[i])) {
			ws_seterr(msg, ret, "entry %zu of the catalog is malformed", i + 1);
			goto out;
		}
		if (i && strcmp(c.e[i - 1].name, c.e[i].name) >= 0) {
			ws_seterr(msg, ret, "the catalog's entries are not sorted by name "
				  "or name one release twice");
			goto out;
		}
	}
	*out = c;
	c.e = NULL;
	ret = 0;
out:
	free(c.e);
	json_decref(root);
	return ret;
}

void ws_catalog_serialize(const struct ws_catalog *c, char **out, size_t *len)
{
	json_t *rels = json_array(), *root;

	for (size_t i = 0; i < c->n; i++) {
		const struct ws_catalog_entry *e = &c->e[i];
		char hex[65];
		json_t *o;
		ws_hex(e->mhash, 32, hex);
		o = json_pack("{s:s, s:I, s:I, s:s}", "name", e->name,
			      "version", (json_int_t)e->version, "bytes", (json_int_t)e->bytes,
			      "manifest_sha256", hex);
		if (e->license[0])
			json_object_set_new(o, "license", json_string(e->license));
		if (e->origin[0])
			json_object_set_new(o, "origin", json_string(e->origin));
		if (e->description[0])
			json_object_set_new(o, "description", json_string(e->description));
		json_array_append_new(rels, o);
	}
	root = json_pack("{s:o}", "releases", rels);
	*out = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (!*out)
		abort();        /* out of memory: jansson's only failure here */
	*len = strlen(*out);
	json_decref(root);
}

const struct ws_catalog_entry *ws_catalog_find(const struct ws_catalog *c,
					       const char *name)
{
	struct ws_catalog_entry key;

	if (!c->n)
		return NULL;
	snprintf(key.name, sizeof(key.name), "%s", name);
	return bsearch(&key, c->e, c->n, sizeof(*c->e), by_name);
}

int ws_catalog_put(struct ws_catalog *c, const struct ws_catalog_entry *e)
{
	struct ws_catalog_entry *old = (struct ws_catalog_entry *)ws_catalog_find(c, e->name);

	if (!memchr(e->description, '\0', sizeof(e->description)) ||
	    strpbrk(e->description, "\r\n") ||
	    !memchr(e->license, '\0', sizeof(e->license)) ||
	    !memchr(e->origin, '\0', sizeof(e->origin)))
		return WS_EFORMAT;
	if (old) {
		*old = *e;
		return 0;
	}
	if (c->n >= WS_CATALOG_ENTRIES_MAX)
		return WS_ETOOBIG;
	c->e = xrealloc(c->e, (c->n + 1) * sizeof(*c->e));
	c->e[c->n++] = *e;
	qsort(c->e, c->n, sizeof(*c->e), by_name);
	return 0;
}

static int contains(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay; hay++)
		if (!strncasecmp(hay, needle, n))
			return 1;
	return n == 0;
}

int ws_catalog_match(const struct ws_catalog_entry *e, const char *text)
{
	return contains(e->name, text) || contains(e->description, text) ||
	       contains(e->license, text) || contains(e->origin, text);
}

void ws_catalog_release(struct ws_catalog *c)
{
	free(c->e);
	c->e = NULL;
	c->n = 0;
}
