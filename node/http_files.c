/* http_files.c - serve the files of complete releases (see http.h) */
#include "http_int.h"
#include "proto/error.h"
#include "proto/util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A complete release as the index holds it: what a request needs, kept
 * across requests (a web seed asks for every piece apart) until the node
 * next hands over its status. */
struct http_release {
	char key[HTTP_KEY_MAX];     /* "PKHEX/NAME@VERSION" or "NAME@VERSION" */
	char *relpath;              /* release folder, relative to the home */
	uint8_t mhash[32];
	char *manifest, *sig;
	size_t mlen, slen;
	struct ws_manifest m;
};

static void release_free(struct http_release *r)
{
	if (!r)
		return;
	free(r->relpath);
	free(r->manifest);
	free(r->sig);
	ws_manifest_release(&r->m);
	free(r);
}

void http_cache_clear(struct ws_http *h)
{
	for (size_t i = 0; i < HTTP_CACHE; i++) {
		release_free(h->cache[i]);
		h->cache[i] = NULL;
	}
}

/*
 * Pick the release NAME@VERSION (of publisher pk when not NULL): accepted,
 * complete, in a folder.  Several publishers may use one name; then the
 * one trusted for it is served, and none when that does not settle it.
 */
static int find_release(struct ws_store *st, const uint8_t *pk, const char *name,
			int64_t version, struct http_release **out)
{
	struct ws_release *rels = NULL;
	size_t n = 0, pick = SIZE_MAX, found = 0, trusted = 0, pick_trusted = SIZE_MAX;
	struct http_release *r;
	char *msg = NULL;
	int ret;

	if ((ret = ws_index_list(st->index, pk, name, &rels, &n)))
		return ret;
	for (size_t i = 0; i < n; i++) {
		if (rels[i].version != version || rels[i].status != WS_REL_ACCEPTED ||
		    !rels[i].complete || !rels[i].path || !rels[i].path[0])
			continue;
		found++;
		pick = i;
		if (ws_index_trust_check(st->index, name, rels[i].pk) == 0) {
			trusted++;
			pick_trusted = i;
		}
	}
	if (found > 1)
		pick = trusted == 1 ? pick_trusted : SIZE_MAX;
	if (pick == SIZE_MAX || (ret = ws_index_load(st->index, &rels[pick]))) {
		ws_releases_free(rels, n);
		return ret ? ret : WS_ENOTFOUND;
	}
	r = xcalloc(1, sizeof(*r));
	ws_manifest_init(&r->m);
	/* the index keeps only manifests whose signature it checked */
	if ((ret = ws_manifest_parse(rels[pick].manifest, rels[pick].manifest_len, &r->m, &msg))) {
		free(msg);
		release_free(r);
		ws_releases_free(rels, n);
		return ret;
	}
	r->relpath = xstrdup(rels[pick].path);
	memcpy(r->mhash, rels[pick].mhash, 32);
	r->manifest = rels[pick].manifest;
	r->mlen = rels[pick].manifest_len;
	r->sig = rels[pick].sig;
	r->slen = rels[pick].sig_len;
	rels[pick].manifest = rels[pick].sig = NULL;
	ws_releases_free(rels, n);
	*out = r;
	return 0;
}

/* The release a key names, from the cache or the index (h->lock held). */
static struct http_release *get_release(struct ws_http *h, const char *key,
					const uint8_t *pk, const char *name,
					int64_t version)
{
	struct http_release *r = NULL;

	for (size_t i = 0; i < HTTP_CACHE; i++)
		if (h->cache[i] && !strcmp(h->cache[i]->key, key))
			return h->cache[i];
	if (find_release(h->st, pk, name, version, &r))
		return NULL;
	snprintf(r->key, sizeof(r->key), "%s", key);
	release_free(h->cache[h->next]);
	h->cache[h->next] = r;
	h->next = (h->next + 1) % HTTP_CACHE;
	return r;
}

int http_url_parse(const char *url, char key[HTTP_KEY_MAX], uint8_t pk[32],
		     int *has_pk, char name[WS_NAME_MAX + 1], int64_t *version,
		     const char **path)
{
	const char *p = url + 1, *slash, *at;
	char hex[65], *end;
	size_t n;

	*has_pk = 0;
	slash = strchr(p, '/');
	if (slash && slash - p == 64) {
		memcpy(hex, p, 64);
		hex[64] = '\0';
		if (ws_unhex(hex, pk, 32) == 0) {
			*has_pk = 1;
			p = slash + 1;
			slash = strchr(p, '/');
		}
	}
	n = slash ? (size_t)(slash - p) : strlen(p);
	at = memchr(p, '@', n);
	if (!at || (size_t)(at - p) > WS_NAME_MAX || at == p)
		return WS_ENOTFOUND;
	memcpy(name, p, (size_t)(at - p));
	name[at - p] = '\0';
	if (ws_name_check(name) || at[1] < '1' || at[1] > '9')
		return WS_ENOTFOUND;
	errno = 0;
	*version = strtoll(at + 1, &end, 10);
	if (errno || end != p + n || *version > WS_VERSION_MAX || ws_ref_check(name, *version))
		return WS_ENOTFOUND;
	n = (size_t)(end - url);
	if (n > HTTP_KEY_MAX)
		return WS_ENOTFOUND; /* cannot be: the parts are bounded above */
	memcpy(key, url + 1, n - 1);
	key[n - 1] = '\0';
	*path = slash ? slash + 1 : NULL;
	return 0;
}

/* Open PATH inside the release folder without following any symlink: a
 * link planted in the store must not lead out of it. */
static int open_in_release(const char *home, const char *relpath, const char *path)
{
	char *dir = xasprintf("%s/%s", home, relpath), *rest = xstrdup(path), *comp, *next;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), nfd;

	for (comp = rest; fd >= 0 && (next = strchr(comp, '/')); comp = next + 1) {
		*next = '\0';
		nfd = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(fd);
		fd = nfd;
	}
	if (fd >= 0) {
		nfd = openat(fd, comp, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
		close(fd);
		fd = nfd;
	}
	free(dir);
	free(rest);
	return fd;
}

/* a decimal number at *p (none: *has = 0), moving *p past it; -1 when it
 * does not fit in 64 bits */
static int digits(const char **p, uint64_t *v, int *has)
{
	for (*v = 0, *has = 0; **p >= '0' && **p <= '9'; (*p)++, *has = 1) {
		unsigned d = (unsigned)(**p - '0');
		if (*v > (UINT64_MAX - d) / 10)
			return -1;
		*v = *v * 10 + d;
	}
	return 0;
}

int http_range_parse(const char *h, uint64_t size, uint64_t *start, uint64_t *end)
{
	uint64_t a = 0, b = 0;
	int has_a = 0, has_b = 0;
	const char *p;

	if (!h || strncmp(h, "bytes=", 6) || strchr(h, ','))
		return 0;
	for (p = h + 6; *p == ' '; p++)
		;
	if (digits(&p, &a, &has_a) || *p++ != '-' || digits(&p, &b, &has_b))
		return 0;
	while (*p == ' ')
		p++;
	if (*p || (!has_a && !has_b) || (has_a && has_b && b < a))
		return 0;
	if (!has_a) {              /* the last b bytes */
		if (b == 0 || size == 0)
			return -1;
		*start = b >= size ? 0 : size - b;
		*end = size - 1;
		return 1;
	}
	if (a >= size)
		return -1;
	*start = a;
	*end = has_b && b < size ? b : size - 1;
	return 1;
}

/*
 * Answer with fd (a regular file of size bytes; closed here) or buf, the
 * whole or one range of it.  etag is the content's SHA-256 in hex.
 */
static enum MHD_Result send_content(struct MHD_Connection *c, int fd, const char *buf,
				    uint64_t size, const char *etag_hex)
{
	const char *range = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_RANGE);
	const char *if_range = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "If-Range");
	const char *inm = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						      MHD_HTTP_HEADER_IF_NONE_MATCH);
	struct MHD_Response *r = NULL;
	char etag[67], crange[80];
	uint64_t start = 0, end = size ? size - 1 : 0;
	unsigned code = MHD_HTTP_OK;
	enum MHD_Result ret;
	int rg;

	snprintf(etag, sizeof(etag), "\"%s\"", etag_hex);
	/* a Range meant for another version of the content is ignored */
	rg = if_range && strcmp(if_range, etag) ? 0 : http_range_parse(range, size, &start, &end);
	if (inm && (!strcmp(inm, etag) || !strcmp(inm, "*"))) {
		code = MHD_HTTP_NOT_MODIFIED;
		rg = 0;
		r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	} else if (rg < 0) {
		code = MHD_HTTP_RANGE_NOT_SATISFIABLE;
		snprintf(crange, sizeof(crange), "bytes */%" PRIu64, size);
		r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	} else {
		uint64_t len = size ? end - start + 1 : 0;
		if (rg > 0) {
			code = MHD_HTTP_PARTIAL_CONTENT;
			snprintf(crange, sizeof(crange), "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64,
				 start, end, size);
		}
		if (fd >= 0 && len > 0) {
			r = MHD_create_response_from_fd_at_offset64(len, fd, start);
			if (r)
				fd = -1; /* the response closes it */
		} else {
			r = MHD_create_response_from_buffer((size_t)len,
							    (void *)(buf ? buf + start : ""),
							    MHD_RESPMEM_MUST_COPY);
		}
	}
	if (fd >= 0)
		close(fd);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, etag);
	MHD_add_response_header(r, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/octet-stream");
	/* a release never changes: what was served stays right */
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "public, max-age=31536000, immutable");
	if (code == MHD_HTTP_PARTIAL_CONTENT || code == MHD_HTTP_RANGE_NOT_SATISFIABLE)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_RANGE, crange);
	ret = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return ret;
}

/* "/NAME@VERSION" names the release's folder: send the client there */
static enum MHD_Result redirect(struct MHD_Connection *c, const char *url)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(0, (void *)"",
								MHD_RESPMEM_PERSISTENT);
	char *to = xasprintf("%s/", url); /* a checked name and version: no escapes */
	enum MHD_Result ret = MHD_NO;

	if (r) {
		MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, to);
		ret = MHD_queue_response(c, MHD_HTTP_MOVED_PERMANENTLY, r);
		MHD_destroy_response(r);
	}
	free(to);
	return ret;
}

enum MHD_Result http_serve_release(struct ws_http *h, struct MHD_Connection *c,
				   const char *url)
{
	char key[HTTP_KEY_MAX], name[WS_NAME_MAX + 1], hex[65], *relpath = NULL;
	char *buf = NULL, *page = NULL;
	const char *path;
	uint8_t pk[32];
	int has_pk, fd;
	int64_t version;
	uint64_t size = 0;
	size_t plen = 0;
	struct http_release *r;
	enum MHD_Result ret;

	if (http_url_parse(url, key, pk, &has_pk, name, &version, &path))
		return http_not_found(c, "no such release or file");
	/* copy out what the answer needs: the cache may change once the lock
	 * is let go */
	pthread_mutex_lock(&h->lock);
	r = get_release(h, key, has_pk ? pk : NULL, name, version);
	if (!r || !path) {
		/* no such release, or "/NAME@VERSION" without its '/' */
	} else if (!*path) {
		char *prefix = xasprintf("/%s/", key);
		page = http_page_release(&r->m, prefix, &plen);
		free(prefix);
	} else if (!strcmp(path, WS_MANIFEST_FILE) || !strcmp(path, WS_SIG_FILE)) {
		int is_sig = path[strlen(path) - 1] == 'g';
		uint8_t sum[32];
		size = is_sig ? r->slen : r->mlen;
		buf = xmalloc(size + 1);
		memcpy(buf, is_sig ? r->sig : r->manifest, size);
		if (is_sig)
			ws_manifest_hash(r->sig, r->slen, sum);
		ws_hex(is_sig ? sum : r->mhash, 32, hex);
	} else {
		const struct ws_manifest_file *f = ws_manifest_find(&r->m, path);
		if (f) {
			relpath = xstrdup(r->relpath);
			size = f->size;
			ws_hex(f->sha256, 32, hex);
		}
	}
	pthread_mutex_unlock(&h->lock);
	if (!r)
		return http_not_found(c, "no such release");
	if (!path)
		return redirect(c, url);
	if (page) {
		ret = http_respond(c, MHD_HTTP_OK, "text/html; charset=utf-8", page, plen);
		free(page);
		return ret;
	}
	if (buf) {
		ret = send_content(c, -1, buf, size, hex);
		free(buf);
		return ret;
	}
	if (!relpath)
		return http_not_found(c, "no such file in the release");
	fd = open_in_release(h->st->home, relpath, path);
	free(relpath);
	if (fd >= 0) {
		struct stat sb;
		/* what the manifest lists, or nothing: a file replaced or cut
		 * short on disk is not served as the release's */
		if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) || (uint64_t)sb.st_size != size) {
			close(fd);
			fd = -1;
		}
	}
	if (fd < 0)
		return http_not_found(c, "the file is not in the store as the manifest lists it");
	return send_content(c, fd, NULL, size, hex);
}
