/* manifest.c - release manifest format (see manifest.h, docs/manifest.md) */
#include "manifest.h"
#include "error.h"
#include "merkle.h"
#include "util.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ws_name_check(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > WS_NAME_MAX)
		return WS_ENAME;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		int alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
		if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-')))
			return WS_ENAME;
	}
	return 0;
}

int ws_ref_check(const char *name, int64_t version)
{
	return snprintf(NULL, 0, "%s@%lld", name, (long long)version) > WS_REF_MAX ?
		WS_ENAME : 0;
}

int ws_path_check(const char *path)
{
	size_t len = strlen(path);
	const char *p = path;

	if (len == 0 || len > WS_PATH_MAX || !ws_utf8_printable(path, len) ||
	    strchr(path, '\\'))
		return WS_EPATH;
	for (;;) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		if (n == 0 || n > 255 || (n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			return WS_EPATH;
		if (p == path && n == strlen(WS_META_DIR) &&
		    !memcmp(p, WS_META_DIR, n))
			return WS_EPATH;
		if (!slash)
			break;
		p = slash + 1;
	}
	return 0;
}

void ws_manifest_init(struct ws_manifest *m)
{
	memset(m, 0, sizeof(*m));
}

void ws_manifest_release(struct ws_manifest *m)
{
	for (size_t i = 0; i < m->nfiles; i++)
		free(m->files[i].path);
	free(m->files);
	free(m->origin);
	free(m->license);
	ws_manifest_init(m);
}

int ws_manifest_add_file(struct ws_manifest *m, const char *path,
			 uint64_t size, const uint8_t sha256[32],
			 const uint8_t root[32])
{
	struct ws_manifest_file *f;

	if (ws_path_check(path))
		return WS_EPATH;
	if (m->nfiles >= WS_MANIFEST_MAX_FILES)
		return WS_ETOOBIG;
	if ((m->nfiles & (m->nfiles - 1)) == 0) /* grow at powers of two */
		m->files = xrealloc(m->files, (m->nfiles ? 2 * m->nfiles : 1) *
					      sizeof(*m->files));
	f = &m->files[m->nfiles++];
	f->path = xstrdup(path);
	f->size = size;
	memcpy(f->sha256, sha256, 32);
	memcpy(f->root, root, 32);
	return 0;
}

static int cmp_file(const void *a, const void *b)
{
	return strcmp(((const struct ws_manifest_file *)a)->path,
		      ((const struct ws_manifest_file *)b)->path);
}

/* With files sorted, a duplicate is a neighbour, and a file that is also a
 * folder ("a" and "a/b") is followed by its children, possibly after
 * siblings such as "a-b" or "a.c" that sort between them. */
static int check_file_set(const struct ws_manifest *m, char **msg)
{
	for (size_t i = 0; i + 1 < m->nfiles; i++) {
		const char *a = m->files[i].path;
		size_t alen = strlen(a);
		if (!strcmp(a, m->files[i + 1].path))
			return ws_seterr(msg, WS_EPATH, "path '%s' appears twice", a);
		for (size_t j = i + 1; j < m->nfiles; j++) {
			const char *b = m->files[j].path;
			if (strncmp(a, b, alen))
				break;
			if (b[alen] == '/')
				return ws_seterr(msg, WS_EPATH,
						 "path '%s' is both a file and a folder", a);
		}
	}
	return 0;
}

static int check_header(const struct ws_manifest *m, char **msg)
{
	if (ws_name_check(m->name))
		return ws_seterr(msg, WS_ENAME, "invalid release name '%s'", m->name);
	if (m->version < 1 || m->version > WS_VERSION_MAX)
		return ws_seterr(msg, WS_EFORMAT, "version must be an integer from 1");
	if (ws_ref_check(m->name, m->version))
		return ws_seterr(msg, WS_ENAME, "'%s@%lld' is longer than %d bytes, the most "
				 "a DHT salt holds", m->name, (long long)m->version, WS_REF_MAX);
	if (m->has_previous != (m->version > 1))
		return ws_seterr(msg, WS_EFORMAT, m->version > 1 ?
				 "version %lld must name its previous manifest" :
				 "version %lld cannot have a previous manifest",
				 (long long)m->version);
	if (m->created < 0)
		return ws_seterr(msg, WS_EFORMAT, "invalid creation time");
	if ((m->origin && !ws_utf8_printable(m->origin, strlen(m->origin))) ||
	    (m->license && !ws_utf8_printable(m->license, strlen(m->license))))
		return ws_seterr(msg, WS_EFORMAT, "origin and license must be printable text");
	return 0;
}

static json_t *hexstr(const uint8_t *b, size_t n)
{
	char hex[65];
	ws_hex(b, n, hex);
	return json_string(hex);
}

int ws_manifest_serialize(struct ws_manifest *m, char **out, size_t *len,
			  char **msg)
{
	json_t *root = NULL, *files = NULL;
	char pk[WS_PUBKEY_B64_LEN + 1], created[21];
	char *text = NULL;
	int ret;

	if (m->nfiles)
		qsort(m->files, m->nfiles, sizeof(*m->files), cmp_file);
	if ((ret = check_header(m, msg)) || (ret = check_file_set(m, msg)))
		return ret;
	ws_pubkey_to_b64(&m->publisher, pk);
	ws_format_time(m->created, created);
	root = json_object();
	json_object_set_new(root, "format", json_string(WS_MANIFEST_FORMAT));
	json_object_set_new(root, "publisher", json_string(pk));
	json_object_set_new(root, "name", json_string(m->name));
	json_object_set_new(root, "version", json_integer(m->version));
	json_object_set_new(root, "created", json_string(created));
	if (m->has_previous)
		json_object_set_new(root, "previous", hexstr(m->previous, 32));
	if (m->origin)
		json_object_set_new(root, "origin", json_string(m->origin));
	if (m->license)
		json_object_set_new(root, "license", json_string(m->license));
	if (m->retracted)
		json_object_set_new(root, "retracted", json_true());
	files = json_array();
	for (size_t i = 0; i < m->nfiles; i++) {
		const struct ws_manifest_file *f = &m->files[i];
		json_t *o = json_object();
		json_object_set_new(o, "path", json_string(f->path));
		json_object_set_new(o, "size", json_integer((json_int_t)f->size));
		json_object_set_new(o, "sha256", hexstr(f->sha256, 32));
		if (f->size)
			json_object_set_new(o, "pieces_root", hexstr(f->root, 32));
		json_array_append_new(files, o);
	}
	json_object_set_new(root, "files", files);
	text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(root);
	if (!text)
		return ws_seterr(msg, WS_EFORMAT, "cannot serialise manifest");
	*len = strlen(text) + 1;
	*out = xmalloc(*len + 1);
	memcpy(*out, text, *len - 1);
	(*out)[*len - 1] = '\n';
	(*out)[*len] = '\0';
	free(text);
	if (*len > WS_MANIFEST_MAX) {
		free(*out);
		return ws_seterr(msg, WS_ETOOBIG, "manifest too large");
	}
	return 0;
}

/* Refuse any key of obj not in allowed (NULL-terminated). */
static int only_keys(json_t *obj, const char *const *allowed, const char *where,
		     char **msg)
{
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v) {
		const char *const *a = allowed;
		while (*a && strcmp(*a, key))
			a++;
		if (!*a)
			return ws_seterr(msg, WS_EFORMAT, "unknown field '%.64s' in %s",
					 ws_utf8_printable(key, strlen(key)) ? key : "?",
					 where);
		(void)v;
	}
	return 0;
}

static int get_hex32(json_t *obj, const char *key, uint8_t out[32],
		     const char *where, char **msg)
{
	json_t *v = json_object_get(obj, key);
	const char *s;

	if (!json_is_string(v))
		return ws_seterr(msg, WS_EFORMAT, "%s: '%s' missing or not a string",
				 where, key);
	s = json_string_value(v);
	/* canonical lowercase only, so one value has one spelling */
	for (const char *p = s; *p; p++)
		if (*p >= 'A' && *p <= 'F')
			return ws_seterr(msg, WS_EFORMAT, "%s: '%s' must be lowercase hex",
					 where, key);
	if (ws_unhex(s, out, 32))
		return ws_seterr(msg, WS_EFORMAT, "%s: '%s' is not 64 hex digits",
				 where, key);
	return 0;
}

static const char *const TOP_KEYS[] = { "format", "publisher", "name", "version",
	"created", "previous", "origin", "license", "retracted", "files", NULL };
static const char *const FILE_KEYS[] = { "path", "size", "sha256",
	"pieces_root", NULL };

static int parse_file(json_t *o, size_t idx, struct ws_manifest *m, char **msg)
{
	char where[64];
	json_t *jp, *js;
	uint8_t sha[32], root[32] = {0};
	const char *path;
	json_int_t size;
	int ret;

	snprintf(where, sizeof(where), "file %zu", idx + 1);
	if (!json_is_object(o))
		return ws_seterr(msg, WS_EFORMAT, "%s is not an object", where);
	if ((ret = only_keys(o, FILE_KEYS, where, msg)))
		return ret;
	jp = json_object_get(o, "path");
	js = json_object_get(o, "size");
	if (!json_is_string(jp))
		return ws_seterr(msg, WS_EFORMAT, "%s: 'path' missing", where);
	path = json_string_value(jp);
	if (ws_path_check(path))
		return ws_seterr(msg, WS_EPATH, "%s: unsafe path '%s'", where,
				 ws_utf8_printable(path, strlen(path)) ? path : "(unprintable)");
	if (!json_is_integer(js) || (size = json_integer_value(js)) < 0)
		return ws_seterr(msg, WS_EFORMAT, "%s: 'size' must be a non-negative integer",
				 where);
	if ((ret = get_hex32(o, "sha256", sha, where, msg)))
		return ret;
	if (size > 0 && (ret = get_hex32(o, "pieces_root", root, where, msg)))
		return ret;
	if (size == 0 && json_object_get(o, "pieces_root"))
		return ws_seterr(msg, WS_EFORMAT, "%s: an empty file has no pieces_root",
				 where);
	if (idx > 0 && strcmp(m->files[idx - 1].path, path) >= 0)
		return ws_seterr(msg, WS_EPATH, strcmp(m->files[idx - 1].path, path) ?
				 "%s: files are not sorted by path" :
				 "%s: path '%s' appears twice", where, path);
	return ws_manifest_add_file(m, path, (uint64_t)size, sha, root);
}

static const char *opt_string(json_t *root, const char *key, int *bad)
{
	json_t *v = json_object_get(root, key);
	if (!v)
		return NULL;
	if (!json_is_string(v)) {
		*bad = 1;
		return NULL;
	}
	return json_string_value(v);
}

int ws_manifest_parse(const char *data, size_t len, struct ws_manifest *m,
		      char **msg)
{
	json_t *root = NULL, *v, *files;
	json_error_t jerr;
	const char *s;
	int ret = WS_EFORMAT, bad = 0;

	ws_manifest_init(m);
	if (len > WS_MANIFEST_MAX)
		return ws_seterr(msg, WS_ETOOBIG, "manifest larger than %u bytes",
				 WS_MANIFEST_MAX);
	root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		ret = ws_seterr(msg, WS_EFORMAT, "manifest is not valid JSON: %s (line %d)",
				jerr.text, jerr.line);
		goto out;
	}
	if (!json_is_object(root)) {
		ws_seterr(msg, ret, "manifest is not a JSON object");
		goto out;
	}
	v = json_object_get(root, "format");
	if (!json_is_string(v)) {
		ws_seterr(msg, ret, "manifest has no 'format'");
		goto out;
	}
	if (strcmp(json_string_value(v), WS_MANIFEST_FORMAT)) {
		ret = ws_seterr(msg, WS_EUNSUPPORTED, "unknown manifest format '%.64s'",
				ws_utf8_printable(json_string_value(v),
						  strlen(json_string_value(v))) ?
				json_string_value(v) : "?");
		goto out;
	}
	if ((ret = only_keys(root, TOP_KEYS, "manifest", msg)))
		goto out;
	ret = WS_EFORMAT;
	v = json_object_get(root, "publisher");
	if (!json_is_string(v) || ws_pubkey_parse(json_string_value(v), &m->publisher) ||
	    strlen(json_string_value(v)) != WS_PUBKEY_B64_LEN) {
		ws_seterr(msg, ret, "manifest 'publisher' is not a minisign public key");
		goto out;
	}
	v = json_object_get(root, "name");
	if (!json_is_string(v) || ws_name_check(json_string_value(v))) {
		ret = ws_seterr(msg, WS_ENAME, "manifest 'name' is missing or invalid");
		goto out;
	}
	strcpy(m->name, json_string_value(v));
	v = json_object_get(root, "version");
	if (!json_is_integer(v)) {
		ws_seterr(msg, ret, "manifest 'version' must be an integer");
		goto out;
	}
	m->version = json_integer_value(v);
	v = json_object_get(root, "created");
	if (!json_is_string(v) || ws_parse_time(json_string_value(v), &m->created)) {
		ws_seterr(msg, ret, "manifest 'created' must be a UTC time like 2026-01-31T12:00:00Z");
		goto out;
	}
	if (json_object_get(root, "previous")) {
		if ((ret = get_hex32(root, "previous", m->previous, "manifest", msg)))
			goto out;
		m->has_previous = 1;
	}
	if ((s = opt_string(root, "origin", &bad)))
		m->origin = xstrdup(s);
	if ((s = opt_string(root, "license", &bad)))
		m->license = xstrdup(s);
	v = json_object_get(root, "retracted");
	if (v && !json_is_boolean(v))
		bad = 1;
	m->retracted = v && json_is_true(v);
	if (bad) {
		ret = ws_seterr(msg, WS_EFORMAT, "manifest 'origin', 'license' or 'retracted' has the wrong type");
		goto out;
	}
	if ((ret = check_header(m, msg)))
		goto out;
	files = json_object_get(root, "files");
	if (!json_is_array(files)) {
		ret = ws_seterr(msg, WS_EFORMAT, "manifest 'files' must be an array");
		goto out;
	}
	if (json_array_size(files) > WS_MANIFEST_MAX_FILES) {
		ret = ws_seterr(msg, WS_ETOOBIG, "manifest lists too many files");
		goto out;
	}
	for (size_t i = 0; i < json_array_size(files); i++)
		if ((ret = parse_file(json_array_get(files, i), i, m, msg)))
			goto out;
	ret = check_file_set(m, msg);
out:
	json_decref(root);
	if (ret)
		ws_manifest_release(m);
	return ret;
}

void ws_manifest_hash(const char *data, size_t len, uint8_t out[32])
{
	ws_sha256(data, len, out);
}

uint64_t ws_manifest_total_size(const struct ws_manifest *m)
{
	uint64_t t = 0;
	for (size_t i = 0; i < m->nfiles; i++)
		t += m->files[i].size;
	return t;
}

const struct ws_manifest_file *ws_manifest_find(const struct ws_manifest *m,
						const char *path)
{
	struct ws_manifest_file key = { .path = (char *)path };
	return m->nfiles ? bsearch(&key, m->files, m->nfiles, sizeof(key), cmp_file)
			 : NULL;
}

void ws_manifest_trusted_comment(const struct ws_manifest *m,
				 const uint8_t hash[32], char *out)
{
	char hex[65];
	ws_hex(hash, 32, hex);
	snprintf(out, WS_TRUSTED_COMMENT_MAX, "weightsync release %s@%lld manifest sha256:%s",
		 m->name, (long long)m->version, hex);
}

int ws_manifest_verify(const char *data, size_t len, const char *sig,
		       size_t siglen, const struct ws_pubkey *expected,
		       struct ws_manifest *m, char **msg)
{
	char *tc = NULL;
	char want[WS_TRUSTED_COMMENT_MAX];
	uint8_t hash[32];
	int ret;

	if ((ret = ws_manifest_parse(data, len, m, msg)))
		return ret;
	if (expected && !ws_pubkey_equal(expected, &m->publisher)) {
		ret = ws_seterr(msg, WS_EWRONGKEY,
				"manifest names a different publisher key");
		goto out;
	}
	ret = ws_sig_verify(&m->publisher, (const uint8_t *)data, len, sig, siglen,
			    &tc, msg);
	if (ret)
		goto out;
	ws_manifest_hash(data, len, hash);
	ws_manifest_trusted_comment(m, hash, want);
	if (strcmp(tc, want))
		ret = ws_seterr(msg, WS_EBADSIG,
				"trusted comment does not match the manifest");
out:
	free(tc);
	if (ret)
		ws_manifest_release(m);
	return ret;
}
