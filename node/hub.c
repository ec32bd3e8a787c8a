/* hub.c - the Hugging Face hub's API and downloads over libcurl (see hub.h) */
#include "hub.h"
#include "proto/error.h"
#include "proto/manifest.h"
#include "proto/merkle.h"
#include "proto/util.h"
#include "store/syncer.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define API_MAX (64u << 20)       /* the largest API answer read */
#define ERRBODY_MAX 1024          /* bytes of an error answer kept for messages */
#define FILES_MAX 1000000
#define RETRIES 3                 /* per file, for transient network errors */
#define USER_AGENT "weightsync/0.1"
/* bytes written between two starts of writeback: the disk works while the
 * network does, and the fsync before a file's rename has little left.
 * Started from the syncer's thread: sync_file_range blocks while the
 * disk's queue is full (about 11 ms a call in bench/hf.sh) */
#define KICK_BYTES (16u << 20)

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

int ws_hub_init(struct ws_hub *h, const char *endpoint, char **msg)
{
	const char *e = endpoint ? endpoint : getenv("HF_ENDPOINT");
	const char *t = getenv("HF_TOKEN");
	size_t n;

	memset(h, 0, sizeof(*h));
	if (!e || !*e)
		e = "https://huggingface.co";
	if (strncmp(e, "http://", 7) && strncmp(e, "https://", 8))
		return ws_seterr(msg, WS_EFORMAT, "the hub endpoint '%s' is not an http(s) URL", e);
	h->endpoint = xstrdup(e);
	n = strlen(h->endpoint);
	while (n && h->endpoint[n - 1] == '/')
		h->endpoint[--n] = '\0';
	if (t && *t)
		h->token = xstrdup(t);
	h->connections = 4;
	h->stall_seconds = 60;
	pthread_once(&curl_once, curl_init_once);
	return 0;
}

void ws_hub_release(struct ws_hub *h)
{
	if (h->token) {
		/* not secret memory, but no reason to leave it around either */
		volatile char *p = h->token;
		while (*p)
			*p++ = 0;
	}
	free(h->token);
	free(h->endpoint);
	memset(h, 0, sizeof(*h));
}

static int repo_part_ok(const char *s, size_t n)
{
	if (n < 1 || n > 96 || s[0] == '.' || s[0] == '-')
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return 0;
		if (i + 1 < n && ((c == '.' && s[i + 1] == '.') || (c == '-' && s[i + 1] == '-')))
			return 0;
	}
	return 1;
}

int ws_hub_parse_ref(const char *ref, char **repo, char **revision, char **msg)
{
	const char *p, *slash, *at;

	if (strncmp(ref, "hf://", 5))
		return ws_seterr(msg, WS_EFORMAT, "'%s' is not an hf://ORG/NAME[@REVISION] "
				 "reference", ref);
	p = ref + 5;
	at = strchr(p, '@');
	slash = strchr(p, '/');
	if (!slash || (at && slash > at) || !repo_part_ok(p, (size_t)(slash - p)) ||
	    !repo_part_ok(slash + 1, at ? (size_t)(at - slash - 1) : strlen(slash + 1)))
		return ws_seterr(msg, WS_EFORMAT, "'%s' is not an hf://ORG/NAME[@REVISION] "
				 "reference (ORG and NAME: letters, digits, '.', '_', '-')", ref);
	if (at && (!at[1] || strlen(at + 1) > 255 || !ws_utf8_printable(at + 1, strlen(at + 1))))
		return ws_seterr(msg, WS_EFORMAT, "'%s': the revision after '@' is empty, too "
				 "long or not printable", ref);
	*repo = at ? xasprintf("%.*s", (int)(at - p), p) : xstrdup(p);
	*revision = xstrdup(at ? at + 1 : "main");
	return 0;
}

/* percent-encode s; '/' kept when keep_slash (paths), encoded otherwise (revisions) */
static char *url_escape(const char *s, int keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	char *out = xmalloc(3 * strlen(s) + 1), *o = out;
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
		    *c == '-' || *c == '_' || *c == '.' || *c == '~' || (keep_slash && *c == '/')) {
			*o++ = (char)*c;
		} else {
			*o++ = '%';
			*o++ = hex[*c >> 4];
			*o++ = hex[*c & 15];
		}
	}
	*o = '\0';
	return out;
}

/* the options every request of ours has */
static struct curl_slist *easy_setup(CURL *e, const struct ws_hub *h, const char *url,
				     char *errbuf)
{
	struct curl_slist *hdrs = NULL;

	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(e, CURLOPT_MAXREDIRS, 10L);
	curl_easy_setopt(e, CURLOPT_USERAGENT, USER_AGENT);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, 30L);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, h->stall_seconds);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
	/* the bytes as stored: a compressed answer could not be ranged */
	hdrs = curl_slist_append(hdrs, "Accept-Encoding: identity");
	if (h->token) {
		/* a custom Authorization header goes to the first host only:
		 * libcurl leaves it off after a redirect elsewhere (the CDN) */
		char *a = xasprintf("Authorization: Bearer %s", h->token);
		hdrs = curl_slist_append(hdrs, a);
		memset(a, 0, strlen(a));
		free(a);
	}
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdrs);
	errbuf[0] = '\0';
	return hdrs;
}

struct membuf {
	char *data;
	size_t len, cap;
	int too_big;
};

static size_t mem_write(char *p, size_t sz, size_t nm, void *ctx)
{
	struct membuf *b = ctx;
	size_t n = sz * nm;
	if (b->len + n > b->cap) {
		b->too_big = 1;
		return 0;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return n;
}

/* the hub's "error" text from a JSON error answer, printable, or "" */
static char *hub_error_text(const char *body, size_t len)
{
	json_t *j = body && len ? json_loadb(body, len, 0, NULL) : NULL;
	const char *e = j ? json_string_value(json_object_get(j, "error")) : NULL;
	char *out = xstrdup(e && ws_utf8_printable(e, strlen(e)) && strlen(e) < 300 ? e : "");
	json_decref(j);
	return out;
}

static int status_error(long status, const char *what, const char *repo, const char *detail,
			int has_token, char **msg)
{
	const char *sep = *detail ? ": " : "";
	if (status == 401 || status == 403)
		return ws_seterr(msg, -EACCES, "the hub refused %s of '%s' (HTTP %ld%s%s); %s",
				 what, repo, status, sep, detail, has_token ?
				 "HF_TOKEN does not grant access to it" :
				 "a gated or private repository needs HF_TOKEN");
	if (status == 404)
		return ws_seterr(msg, WS_ENOTFOUND, "the hub has no %s of '%s' (HTTP 404%s%s)",
				 what, repo, sep, detail);
	return ws_seterr(msg, WS_ENETWORK, "the hub answered HTTP %ld for %s of '%s'%s%s",
			 status, what, repo, sep, detail);
}

static int hex_field(json_t *o, const char *key, uint8_t *out, size_t len)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s && strlen(s) == 2 * len && ws_unhex(s, out, len) == 0 ? 0 : -1;
}

static int cmp_path(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int ws_hub_parse_record(const char *body, size_t len, const char *repo, struct ws_hub_repo *out,
			char **msg)
{
	json_error_t jerr;
	json_t *j = json_loadb(body, len, 0, &jerr), *sib, *s;
	const char *sha;
	size_t i;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	if (!j || !json_is_object(j)) {
		json_decref(j);
		return ws_seterr(msg, WS_EFORMAT, "the hub's record of '%s' is not JSON", repo);
	}
	sha = json_string_value(json_object_get(j, "sha"));
	sib = json_object_get(j, "siblings");
	if (!sha || strlen(sha) != 40 || !json_is_array(sib) || json_array_size(sib) > FILES_MAX) {
		json_decref(j);
		return ws_seterr(msg, WS_EFORMAT, "the hub's record of '%s' has no commit or "
				 "no file list", repo);
	}
	for (const char *c = sha; *c; c++)
		if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f'))) {
			json_decref(j);
			return ws_seterr(msg, WS_EFORMAT, "the hub's record of '%s' names a commit "
					 "that is not 40 hex digits", repo);
		}
	memcpy(out->commit, sha, 41);
	out->repo = xstrdup(repo);
	out->files = xcalloc(json_array_size(sib) + 1, sizeof(*out->files));
	json_array_foreach(sib, i, s) {
		struct ws_hub_file *f = &out->files[out->nfiles];
		const char *path = json_string_value(json_object_get(s, "rfilename"));
		json_t *size = json_object_get(s, "size"), *lfs = json_object_get(s, "lfs");
		if (!path || ws_path_check(path)) {
			ret = ws_seterr(msg, WS_EPATH, "the hub's record of '%s' lists a file "
					"name that is not a safe relative path", repo);
			break;
		}
		if (!json_is_integer(size) || json_integer_value(size) < 0 ||
		    hex_field(s, "blobId", f->blob_id, 20)) {
			ret = ws_seterr(msg, WS_EFORMAT, "the hub's record of '%s' gives no size or "
					"blob id for '%s'", repo, path);
			break;
		}
		f->size = (uint64_t)json_integer_value(size);
		if (lfs && !json_is_null(lfs)) {
			json_t *ls = json_object_get(lfs, "size");
			if (hex_field(lfs, "sha256", f->sha256, 32) || !json_is_integer(ls) ||
			    (uint64_t)json_integer_value(ls) != f->size) {
				ret = ws_seterr(msg, WS_EFORMAT, "the hub's LFS record of '%s' in '%s' "
						"has no SHA-256 or another size", path, repo);
				break;
			}
			f->lfs = 1;
		}
		f->path = xstrdup(path);
		f->selected = 1;
		out->nfiles++;
	}
	json_decref(j);
	if (!ret && out->nfiles > 1) {
		/* a path listed twice: sorted, duplicates are neighbours (a
		 * pairwise check would be quadratic in a hostile list) */
		const char **v = xcalloc(out->nfiles, sizeof(*v));
		for (i = 0; i < out->nfiles; i++)
			v[i] = out->files[i].path;
		qsort(v, out->nfiles, sizeof(*v), cmp_path);
		for (i = 1; i < out->nfiles && !ret; i++)
			if (!strcmp(v[i - 1], v[i]))
				ret = ws_seterr(msg, WS_EFORMAT, "the hub's record of '%s' lists "
						"'%s' twice", repo, v[i]);
		free(v);
	}
	if (ret)
		ws_hub_repo_release(out);
	return ret;
}

int ws_hub_info(const struct ws_hub *h, const char *repo, const char *revision,
		struct ws_hub_repo *out, char **msg)
{
	char errbuf[CURL_ERROR_SIZE], *rev = url_escape(revision, 0), *url;
	struct membuf b = { xmalloc(API_MAX + 1), 0, API_MAX, 0 };
	struct curl_slist *hdrs;
	CURL *e = curl_easy_init();
	CURLcode rc;
	long status = 0;
	int ret;

	url = xasprintf("%s/api/models/%s/revision/%s?blobs=true", h->endpoint, repo, rev);
	hdrs = easy_setup(e, h, url, errbuf);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, mem_write);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &b);
	/* the whole answer within a bound; a stalled API is a failure too */
	curl_easy_setopt(e, CURLOPT_TIMEOUT, h->stall_seconds * 10);
	rc = curl_easy_perform(e);
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	if (b.too_big) {
		ret = ws_seterr(msg, WS_ETOOBIG, "the hub's record of '%s' is over %u MiB", repo,
				API_MAX >> 20);
	} else if (rc != CURLE_OK && status < 400) {
		ret = ws_seterr(msg, rc == CURLE_OPERATION_TIMEDOUT ? WS_ETIMEOUT : WS_ENETWORK,
				"cannot reach the hub at '%s': %s", h->endpoint,
				*errbuf ? errbuf : curl_easy_strerror(rc));
	} else if (status != 200) {
		char *d = hub_error_text(b.data, b.len);
		char *what = xasprintf("revision '%s'", revision);
		ret = status_error(status, what, repo, d, h->token != NULL, msg);
		free(what);
		free(d);
	} else {
		ret = ws_hub_parse_record(b.data, b.len, repo, out, msg);
	}
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(e);
	free(url);
	free(rev);
	free(b.data);
	return ret;
}

void ws_hub_repo_release(struct ws_hub_repo *r)
{
	for (size_t i = 0; i < r->nfiles; i++)
		free(r->files[i].path);
	free(r->files);
	free(r->repo);
	memset(r, 0, sizeof(*r));
}

static int glob_match(const char *pat, const char *path)
{
	size_t n = strlen(pat);
	int r;
	if (n && pat[n - 1] == '/') {
		/* "folder/" means everything under it */
		char *p = xasprintf("%s*", pat);
		r = fnmatch(p, path, 0) == 0;
		free(p);
		return r;
	}
	return fnmatch(pat, path, 0) == 0;
}

size_t ws_hub_select(struct ws_hub_repo *r, const char *const *include, size_t ninc,
		     const char *const *exclude, size_t nexc)
{
	size_t n = 0;
	for (size_t i = 0; i < r->nfiles; i++) {
		struct ws_hub_file *f = &r->files[i];
		f->selected = ninc == 0;
		for (size_t k = 0; k < ninc && !f->selected; k++)
			f->selected = glob_match(include[k], f->path);
		for (size_t k = 0; k < nexc && f->selected; k++)
			f->selected = !glob_match(exclude[k], f->path);
		n += (size_t)f->selected;
	}
	return n;
}

/* ---- downloads ---- */

/* One file's transfer.  Its partial file always holds exactly `got`
 * bytes, all of them already fed to the hash. */
struct xfer {
	const struct ws_hub_file *f;
	const struct ws_hub_repo *r;
	CURL *e;
	struct curl_slist *hdrs;
	char errbuf[CURL_ERROR_SIZE];
	char *part, *final, *url;
	int fd;
	/* every byte goes, as it arrives, into hs: the SHA-256 (an LFS
	 * file's check) and, when the caller publishes, the v2 merkle tree
	 * and v1 pieces, into *hf; a small file also goes into blob, its git
	 * blob id (its check) */
	struct ws_hash_file *hf;    /* the caller's entry, or own */
	struct ws_hash_file own;
	struct ws_hash_stream *hs;
	ws_sha *blob;
	uint64_t piece_size;
	struct ws_syncer *sync;     /* fsyncs and renames finished files */
	uint64_t got;               /* bytes in the partial file */
	uint64_t asked;             /* where the current request starts */
	uint64_t kicked;            /* bytes sent to writeback */
	int tries;
	int ok;                     /* verified and in place */
	int resumed;                /* started from a partial file on disk */
	/* the current response */
	long status;
	int body_started;
	char commit_hdr[64], linked_etag[80], etag[80], content_range[96];
	char errbody[ERRBODY_MAX + 1];
	size_t errlen;
	/* set when a check fails inside a callback (the transfer is aborted) */
	int fail;
	char *fail_msg;
};

/* start the hashes over, for a file whose bytes come from its first one
 * (the piece size was checked by ws_hub_download: this cannot fail) */
static void hash_restart(struct xfer *x)
{
	ws_hash_stream_free(x->hs);
	x->hs = NULL;
	ws_hash_file_release(x->hf);
	memset(x->hf, 0, sizeof(*x->hf));
	x->hf->want_sha256 = 1;
	x->hf->sha256_only = x->piece_size == 0;
	x->hf->v1_piece_size = x->piece_size;
	/* as publish hashes a release's files: each is padded to a piece */
	x->hf->v1_pad_last = 1;
	/* the hashing on a thread of the file's own: the download loop
	 * only copies, and the other core hashes */
	ws_hash_stream_new(x->hf, x->f->size, 1, &x->hs);
	ws_sha_free(x->blob);
	x->blob = NULL;
	if (!x->f->lfs) {
		/* git's blob id: SHA-1 of "blob <size>\0" and the content */
		char head[32];
		int n = snprintf(head, sizeof(head), "blob %llu", (unsigned long long)x->f->size);
		x->blob = ws_sha1_new();
		ws_sha_update(x->blob, head, (size_t)n + 1);
	}
}

static void hash_feed(struct xfer *x, const void *data, size_t n)
{
	ws_hash_stream_update(x->hs, data, n);
	if (x->blob)
		ws_sha_update(x->blob, data, n);
}

static int x_fail(struct xfer *x, int code, const char *fmt, const char *a, const char *b)
{
	if (!x->fail) {
		x->fail = code;
		x->fail_msg = xasprintf(fmt, a, b);
	}
	return code;
}

/* "Name: value" -> value copied into out (trimmed, quotes and W/ kept off) */
static int header_value(const char *line, size_t len, const char *name, char *out, size_t cap)
{
	size_t n = strlen(name), i, j;
	if (len <= n || strncasecmp(line, name, n) || line[n] != ':')
		return 0;
	i = n + 1;
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	j = len;
	while (j > i && (line[j - 1] == '\r' || line[j - 1] == '\n' || line[j - 1] == ' '))
		j--;
	if (j - i > 2 && !strncmp(line + i, "W/", 2))
		i += 2;
	if (j - i >= 2 && line[i] == '"' && line[j - 1] == '"') {
		i++;
		j--;
	}
	if (j - i >= cap)
		j = i + cap - 1;
	memcpy(out, line + i, j - i);
	out[j - i] = '\0';
	return 1;
}

/* a response's headers are complete: check what the hub says against its record */
static int check_headers(struct xfer *x)
{
	const struct ws_hub_file *f = x->f;
	char hex[65];

	if (x->commit_hdr[0] && strcmp(x->commit_hdr, x->r->commit))
		return x_fail(x, WS_EMISMATCH, "'%s': the hub answered for commit %s, not the "
			      "one asked for", f->path, x->commit_hdr);
	if (f->lfs && x->linked_etag[0]) {
		ws_hex(f->sha256, 32, hex);
		if (strcmp(x->linked_etag, hex))
			return x_fail(x, WS_EBADHASH, "'%s': the hub's X-Linked-Etag %s differs "
				      "from its own record", f->path, x->linked_etag);
	}
	if (!f->lfs && x->commit_hdr[0] && x->etag[0] && x->status / 100 == 2) {
		ws_hex(f->blob_id, 20, hex);
		if (strcmp(x->etag, hex))
			return x_fail(x, WS_EBADHASH, "'%s': the hub's ETag %s differs from its "
				      "own record", f->path, x->etag);
	}
	if (x->status == 206) {
		unsigned long long a, b, t;
		char want[64];
		snprintf(want, sizeof(want), "%llu", (unsigned long long)x->asked);
		if (sscanf(x->content_range, "bytes %llu-%llu/%llu", &a, &b, &t) != 3 ||
		    a != x->asked || t != f->size)
			return x_fail(x, WS_EMISMATCH, "'%s': the origin answered a range request "
				      "from byte %s with another range", f->path, want);
	}
	return 0;
}

static size_t on_header(char *line, size_t sz, size_t nm, void *ctx)
{
	struct xfer *x = ctx;
	size_t len = sz * nm;

	if (len >= 5 && !strncmp(line, "HTTP/", 5)) {
		/* a new response (the first, or one after a redirect) */
		x->status = 0;
		x->commit_hdr[0] = x->linked_etag[0] = x->etag[0] = x->content_range[0] = '\0';
		curl_easy_getinfo(x->e, CURLINFO_RESPONSE_CODE, &x->status);
		return len;
	}
	if (len <= 2 && (line[0] == '\r' || line[0] == '\n')) {
		curl_easy_getinfo(x->e, CURLINFO_RESPONSE_CODE, &x->status);
		return check_headers(x) ? 0 : len;
	}
	(void)(header_value(line, len, "X-Repo-Commit", x->commit_hdr, sizeof(x->commit_hdr)) ||
	header_value(line, len, "X-Linked-Etag", x->linked_etag, sizeof(x->linked_etag)) ||
	header_value(line, len, "ETag", x->etag, sizeof(x->etag)) ||
	header_value(line, len, "Content-Range", x->content_range, sizeof(x->content_range)));
	return len;
}

static size_t on_body(char *data, size_t sz, size_t nm, void *ctx)
{
	struct xfer *x = ctx;
	size_t n = sz * nm, done = 0;

	if (x->status / 100 != 2) {
		/* an error answer: keep its start for the message */
		size_t k = n < ERRBODY_MAX - x->errlen ? n : ERRBODY_MAX - x->errlen;
		memcpy(x->errbody + x->errlen, data, k);
		x->errlen += k;
		return n;
	}
	if (!x->body_started) {
		x->body_started = 1;
		if (x->status == 200 && x->asked > 0) {
			/* the range was ignored: the whole file comes again */
			if (ftruncate(x->fd, 0) < 0 || lseek(x->fd, 0, SEEK_SET) < 0)
				return x_fail(x, -errno, "'%s': cannot restart '%s'", x->f->path,
					      x->part), 0;
			x->got = x->kicked = 0;
			hash_restart(x);
		}
	}
	if (x->got + n > x->f->size) {
		char sz_s[32];
		snprintf(sz_s, sizeof(sz_s), "%llu", (unsigned long long)x->f->size);
		x_fail(x, WS_EMISMATCH, "'%s': the origin sent more than the %s bytes the hub "
		       "records", x->f->path, sz_s);
		return 0;
	}
	while (done < n) {
		ssize_t w = write(x->fd, data + done, n - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			x_fail(x, w < 0 ? -errno : -EIO, "'%s': cannot write '%s'", x->f->path, x->part);
			return 0;
		}
		done += (size_t)w;
	}
	hash_feed(x, data, n);
	x->got += n;
	if (x->got - x->kicked >= KICK_BYTES) {
		ws_syncer_writeback(x->sync, x->fd, x->kicked, x->got - x->kicked);
		x->kicked = x->got;
	}
	return n;
}

static void xfer_close(struct xfer *x)
{
	if (x->e)
		curl_easy_cleanup(x->e);
	curl_slist_free_all(x->hdrs);
	x->e = NULL;
	x->hdrs = NULL;
	if (x->fd >= 0)
		close(x->fd);
	x->fd = -1;
	ws_hash_stream_free(x->hs);
	x->hs = NULL;
	ws_sha_free(x->blob);
	x->blob = NULL;
}

/* a file that did not make it: what was hashed of it is no result */
static void xfer_drop_hashes(struct xfer *x)
{
	ws_hash_file_release(x->hf);
	x->hf->path = NULL;
}

static void xfer_free(struct xfer *x)
{
	xfer_close(x);
	if (!x->ok)
		xfer_drop_hashes(x);
	ws_hash_file_release(&x->own);
	free(x->part);
	free(x->final);
	free(x->url);
	free(x->fail_msg);
	free(x);
}

/* open the partial file and feed what it holds to the hash */
static int xfer_open(struct xfer *x, char **msg)
{
	char buf[1 << 16];
	struct stat st;
	ssize_t r;
	int ret;

	if ((ret = ws_mkdir_parent(x->part)))
		return ws_seterr(msg, ret, "cannot create the folder of '%s': %s", x->part,
				 ws_strerror(ret));
	x->fd = open(x->part, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (x->fd < 0 || fstat(x->fd, &st) < 0)
		return ws_seterr(msg, -errno, "cannot open '%s': %s", x->part, strerror(errno));
	hash_restart(x);
	x->got = 0;
	if ((uint64_t)st.st_size > x->f->size && ftruncate(x->fd, 0) < 0)
		return ws_seterr(msg, -errno, "cannot truncate '%s': %s", x->part, strerror(errno));
	while ((uint64_t)st.st_size <= x->f->size && (r = read(x->fd, buf, sizeof(buf))) > 0) {
		hash_feed(x, buf, (size_t)r);
		x->got += (uint64_t)r;
	}
	if (lseek(x->fd, (off_t)x->got, SEEK_SET) < 0)
		return ws_seterr(msg, -errno, "cannot seek '%s': %s", x->part, strerror(errno));
	x->resumed = x->got > 0;
	x->kicked = 0;
	return 0;
}

/* (re)start the request for what the partial file lacks */
static void xfer_start(struct xfer *x, const struct ws_hub *h, CURLM *m)
{
	char range[48];

	if (x->e)
		curl_easy_cleanup(x->e);
	curl_slist_free_all(x->hdrs);
	x->e = curl_easy_init();
	x->hdrs = easy_setup(x->e, h, x->url, x->errbuf);
	curl_easy_setopt(x->e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(x->e, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(x->e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(x->e, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(x->e, CURLOPT_PRIVATE, x);
	curl_easy_setopt(x->e, CURLOPT_BUFFERSIZE, 512L * 1024);
	x->asked = x->got;
	if (x->got > 0) {
		snprintf(range, sizeof(range), "%llu-", (unsigned long long)x->got);
		curl_easy_setopt(x->e, CURLOPT_RANGE, range);
	}
	x->status = 0;
	x->body_started = 0;
	x->errlen = 0;
	curl_multi_add_handle(m, x->e);
}

static int transient(CURLcode rc)
{
	return rc == CURLE_RECV_ERROR || rc == CURLE_SEND_ERROR || rc == CURLE_PARTIAL_FILE ||
	       rc == CURLE_GOT_NOTHING || rc == CURLE_COULDNT_CONNECT;
}

/* every byte is in: check size and hash against the record, then hand
 * the file to the syncer, which moves it into place once it is on disk
 * (its failure fails the download).  WS_EMISMATCH / WS_EBADHASH when it
 * does not match (the caller removes it), -errno for local I/O. */
static int xfer_finish(struct xfer *x, char **msg)
{
	const struct ws_hub_file *f = x->f;
	uint8_t got[32], hex_src[32];
	char hex[65], ghex[65];
	int ret;

	if (x->got != f->size) {
		ret = ws_seterr(msg, WS_EMISMATCH, "'%s': the origin sent %llu bytes, the hub "
				"records %llu", f->path, (unsigned long long)x->got,
				(unsigned long long)f->size);
		return ret;
	}
	if (ws_hash_stream_final(x->hs)) {
		return ws_seterr(msg, WS_EMISMATCH, "'%s': the origin sent more than the hub "
				 "records", f->path);
	}
	if (f->lfs)
		memcpy(got, x->hf->sha256, 32);
	else
		ws_sha_final(x->blob, got);
	if (memcmp(got, f->lfs ? f->sha256 : f->blob_id, f->lfs ? 32 : 20)) {
		memcpy(hex_src, f->lfs ? f->sha256 : f->blob_id, f->lfs ? 32 : 20);
		ws_hex(hex_src, f->lfs ? 32 : 20, hex);
		ws_hex(got, f->lfs ? 32 : 20, ghex);
		ret = ws_seterr(msg, WS_EBADHASH, "'%s': the content does not match the hub's %s "
				"%.16s... (got %.16s...)", f->path, f->lfs ? "SHA-256" : "git blob id",
				hex, ghex);
		return ret;
	}
	ret = ws_syncer_put(x->sync, x->fd, x->part, x->final, msg);
	x->fd = -1;
	if (ret)
		return ret;
	x->ok = 1;
	x->hf->path = f->path;
	return 0;
}

/*
 * A transfer ended.  Returns 0 when the file is verified and in place,
 * 1 when it was restarted (a transient failure), or the error.
 */
static int xfer_done(struct xfer *x, CURLcode rc, const struct ws_hub *h, CURLM *m, char **msg)
{
	const struct ws_hub_file *f = x->f;
	char *detail;
	int ret;

	curl_multi_remove_handle(m, x->e);
	if (x->fail) {
		ret = ws_seterr(msg, x->fail, "%s", x->fail_msg);
		goto bad;
	}
	if (rc == CURLE_UNSUPPORTED_PROTOCOL || rc == CURLE_TOO_MANY_REDIRECTS) {
		ret = ws_seterr(msg, WS_EPATH, "'%s': the origin redirected to a URL that is not "
				"http(s) (%s)", f->path, *x->errbuf ? x->errbuf : curl_easy_strerror(rc));
		goto bad;
	}
	if (rc == CURLE_OPERATION_TIMEDOUT) {
		ret = ws_seterr(msg, WS_ETIMEOUT, "'%s': the origin sent nothing for %ld s; "
				"given up (run again to resume)", f->path, h->stall_seconds);
		goto keep;
	}
	if (rc != CURLE_OK && transient(rc) && ++x->tries <= RETRIES) {
		xfer_start(x, h, m);
		return 1;
	}
	if (rc != CURLE_OK) {
		ret = ws_seterr(msg, WS_ENETWORK, "'%s': %s", f->path,
				*x->errbuf ? x->errbuf : curl_easy_strerror(rc));
		goto keep;
	}
	if (x->status / 100 != 2) {
		detail = hub_error_text(x->errbody, x->errlen);
		char *what = xasprintf("'%s'", f->path);
		ret = status_error(x->status, what, x->r->repo, detail, h->token != NULL, msg);
		free(what);
		free(detail);
		if (x->status >= 500 && ++x->tries <= RETRIES) {
			free(*msg);
			*msg = NULL;
			xfer_start(x, h, m);
			return 1;
		}
		goto keep;
	}
	if ((ret = xfer_finish(x, msg)) == WS_EBADHASH && x->resumed) {
		/* the bytes kept from an earlier run were not what it received
		 * (a power cut, a hand): once more, from the first byte */
		x->resumed = 0;
		free(*msg);
		*msg = NULL;
		if (ftruncate(x->fd, 0) == 0 && lseek(x->fd, 0, SEEK_SET) == 0) {
			x->got = x->kicked = 0;
			hash_restart(x);
			xfer_start(x, h, m);
			return 1;
		}
		ret = ws_seterr(msg, -errno, "cannot restart '%s': %s", x->part, strerror(errno));
		goto keep;
	}
	if (ret == WS_EMISMATCH || ret == WS_EBADHASH)
		goto bad;
	if (ret)
		goto keep;
	xfer_close(x);
	return 0;
bad:
	/* nothing that failed a check is kept */
	unlink(x->part);
keep:
	xfer_close(x);
	return ret;
}

/*
 * The download runs in lanes: each lane is a thread with its own curl
 * multi handle and a share of the connections, taking the next file from
 * one queue.  curl's receiving and the write into the page cache take a
 * core's worth of time by themselves (curl --parallel alone is bound by
 * its one thread in bench/hf.sh); in two lanes they share both cores with
 * the hashing threads.  Lane 0 runs on the caller's thread and reports
 * progress.
 */
#define LANES_MAX 2

struct lanes {
	const struct ws_hub *h;
	struct xfer **q;
	size_t nq;
	struct ws_syncer *sync;
	struct lane *lane;          /* nlanes */
	int nlanes;
	uint64_t total;             /* bytes of the selected files */
	pthread_mutex_t lock;       /* guards what follows, and lane[].inflight */
	size_t next;                /* the next file in q to start */
	uint64_t done_bytes;        /* files verified, or kept from a run */
	int ret;                    /* the first failure */
	char *msg;                  /* ... its message */
	int active;                 /* lanes still running */
};

struct lane {
	struct lanes *ls;
	int id;
	int conns;                  /* at most this many files at once */
	uint64_t inflight;          /* bytes of its files under way (lock) */
};

/* the first failure wins; later ones are dropped */
static void lanes_fail(struct lanes *ls, int ret, char *msg)
{
	pthread_mutex_lock(&ls->lock);
	if (!ls->ret) {
		ls->ret = ret;
		ls->msg = msg;
		msg = NULL;
	}
	pthread_mutex_unlock(&ls->lock);
	free(msg);
}

/* the next file for a lane, or NULL when none is left or a lane failed */
static struct xfer *lanes_take(struct lanes *ls)
{
	struct xfer *x = NULL;
	pthread_mutex_lock(&ls->lock);
	if (!ls->ret && ls->next < ls->nq)
		x = ls->q[ls->next++];
	pthread_mutex_unlock(&ls->lock);
	return x;
}

static void lanes_done(struct lanes *ls, uint64_t bytes)
{
	pthread_mutex_lock(&ls->lock);
	ls->done_bytes += bytes;
	pthread_mutex_unlock(&ls->lock);
}

/* done and under-way bytes of every lane, to h->progress (lane 0 only) */
static void report_progress(struct lane *l)
{
	struct lanes *ls = l->ls;
	uint64_t all;

	pthread_mutex_lock(&ls->lock);
	all = ls->done_bytes;
	for (int i = 0; i < ls->nlanes; i++)
		all += ls->lane[i].inflight;
	pthread_mutex_unlock(&ls->lock);
	ls->h->progress(ls->h->progress_ctx, all, ls->total);
}

static void *lane_run(void *arg)
{
	struct lane *l = arg;
	struct lanes *ls = l->ls;
	const struct ws_hub *h = ls->h;
	CURLM *m = curl_multi_init();
	struct xfer **mine = xcalloc(ls->nq + 1, sizeof(*mine));
	size_t nmine = 0, running = 0;
	int more = 1, ret = 0, stop = 0, others = 0;
	char *msg = NULL;

	curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, (long)l->conns);
	for (;;) {
		CURLMsg *cm;
		int still = 0, left;
		uint64_t inflight = 0;
		struct xfer *x;

		pthread_mutex_lock(&ls->lock);
		stop = ls->ret != 0;        /* another lane failed */
		others = ls->active - 1;
		pthread_mutex_unlock(&ls->lock);
		if (ret || stop || ws_syncer_error(ls->sync))
			break;
		while (more && running < (size_t)l->conns) {
			if (!(x = lanes_take(ls))) {
				more = 0;
				break;
			}
			mine[nmine++] = x;
			if ((ret = xfer_open(x, &msg)))
				break;
			if (x->got == x->f->size) {
				/* complete before a crash, not yet moved into place */
				if ((ret = xfer_finish(x, &msg)) == WS_EMISMATCH ||
				    ret == WS_EBADHASH)
					unlink(x->part);
				xfer_close(x);
				if (ret)
					break;
				lanes_done(ls, x->f->size);
				continue;
			}
			xfer_start(x, h, m);
			running++;
		}
		if (ret)
			break;
		if (!more && !running) {
			if (l->id != 0 || !h->progress || !others)
				break;
			/* lane 0 reports for the others until they end */
			report_progress(l);
			usleep(100 * 1000);
			continue;
		}
		curl_multi_perform(m, &still);
		while (!ret && (cm = curl_multi_info_read(m, &left))) {
			if (cm->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(cm->easy_handle, CURLINFO_PRIVATE, (char **)&x);
			int d = xfer_done(x, cm->data.result, h, m, &msg);
			if (d == 0) {
				lanes_done(ls, x->f->size);
				running--;
			} else if (d < 0) {
				ret = d;
				running--;
			}
		}
		for (size_t i = 0; i < nmine; i++)
			if (mine[i]->fd >= 0)
				inflight += mine[i]->got;
		pthread_mutex_lock(&ls->lock);
		l->inflight = inflight;
		pthread_mutex_unlock(&ls->lock);
		if (l->id == 0 && h->progress)
			report_progress(l);
		if (!ret && running)
			curl_multi_poll(m, NULL, 0, 100, NULL);
	}
	if (ret)
		lanes_fail(ls, ret, msg);
	else
		free(msg);
	/* a lane that stopped for another's failure leaves its files
	 * partial, for the next run */
	for (size_t i = 0; i < nmine; i++)
		if (mine[i]->e)
			curl_multi_remove_handle(m, mine[i]->e);
	free(mine);
	curl_multi_cleanup(m);
	pthread_mutex_lock(&ls->lock);
	l->inflight = 0;
	ls->active--;
	pthread_mutex_unlock(&ls->lock);
	return NULL;
}

int ws_hub_download(const struct ws_hub *h, const struct ws_hub_repo *r, const char *dir,
		    uint64_t piece_size, struct ws_hash_file *hashes, char **msg)
{
	struct xfer **q = xcalloc(r->nfiles + 1, sizeof(*q));
	struct lanes ls;
	struct lane lane[LANES_MAX];
	pthread_t tid[LANES_MAX];
	int started[LANES_MAX] = { 0 };
	size_t nq = 0;
	uint64_t total = 0, kept = 0;
	char *rev = url_escape(r->commit, 0);
	int ret = 0;

	if (piece_size && (piece_size < WS_BLOCK_SIZE || (piece_size & (piece_size - 1)))) {
		free(q);
		free(rev);
		return ws_seterr(msg, WS_EFORMAT, "piece size %llu is not a power of two >= 16 KiB",
				 (unsigned long long)piece_size);
	}
	for (size_t i = 0; hashes && i < r->nfiles; i++)
		memset(&hashes[i], 0, sizeof(hashes[i]));
	memset(&ls, 0, sizeof(ls));
	ls.h = h;
	ls.q = q;
	pthread_mutex_init(&ls.lock, NULL);
	/* the fsync of a finished file takes the disk's time, not the
	 * lanes': the other transfers go on meanwhile (NULL: done inline) */
	ls.sync = ws_syncer_new();
	for (size_t i = 0; i < r->nfiles; i++) {
		const struct ws_hub_file *f = &r->files[i];
		struct stat st;
		char *final;
		if (!f->selected)
			continue;
		total += f->size;
		final = xasprintf("%s/files/%s", dir, f->path);
		if (lstat(final, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size == f->size) {
			/* verified by an earlier run (only a verified file is
			 * renamed here); the caller checks it again */
			kept += f->size;
			free(final);
			continue;
		}
		struct xfer *x = xcalloc(1, sizeof(*x));
		char *p = url_escape(f->path, 1);
		x->f = f;
		x->r = r;
		x->fd = -1;
		x->hf = hashes ? &hashes[i] : &x->own;
		x->piece_size = piece_size;
		x->final = final;
		x->sync = ls.sync;
		x->part = xasprintf("%s/partial/%s", dir, f->path);
		x->url = xasprintf("%s/%s/resolve/%s/%s", h->endpoint, r->repo, rev, p);
		free(p);
		q[nq++] = x;
	}
	ls.nq = nq;
	ls.done_bytes = kept;
	ls.total = total;
	ls.lane = lane;
	/* two lanes only when there are two connections and two files */
	ls.nlanes = h->connections >= 2 && nq >= 2 ? LANES_MAX : 1;
	for (int i = 0; i < ls.nlanes; i++) {
		lane[i].ls = &ls;
		lane[i].id = i;
		lane[i].inflight = 0;
		/* the connections shared out, the first lane taking the odd one */
		lane[i].conns = (h->connections + ls.nlanes - 1 - i) / ls.nlanes;
	}
	ls.active = ls.nlanes;
	for (int i = 1; i < ls.nlanes; i++)
		if (!(started[i] = pthread_create(&tid[i], NULL, lane_run, &lane[i]) == 0)) {
			/* no thread: lane 0 takes its files from the queue */
			pthread_mutex_lock(&ls.lock);
			ls.active--;
			pthread_mutex_unlock(&ls.lock);
		}
	lane_run(&lane[0]);
	for (int i = 1; i < ls.nlanes; i++)
		if (started[i])
			pthread_join(tid[i], NULL);
	ret = ls.ret;
	if (ret && msg) {
		free(*msg);
		*msg = ls.msg;
		ls.msg = NULL;
	}
	free(ls.msg);
	{
		/* every file handed over is in place (or the first failure) */
		int sret = ws_syncer_finish(ls.sync, ret ? NULL : msg);
		if (!ret)
			ret = sret;
	}
	for (size_t i = 0; i < nq; i++)
		xfer_free(q[i]);
	pthread_mutex_destroy(&ls.lock);
	free(q);
	free(rev);
	return ret;
}

/* ---- ranged reads for a fetch falling back to the origin ---- */

struct range {
	struct range *next;
	struct ws_hub_ranges *rs;
	CURL *e;
	struct curl_slist *hdrs;
	char errbuf[CURL_ERROR_SIZE];
	char *url;
	uint64_t off;
	size_t len, got;
	uint8_t *buf;
	void *tag;
	long status;
	char content_range[96];
	int whole_ok;               /* a 200 from offset 0: keep the first len bytes */
	int too_long;
};

struct ws_hub_ranges {
	const struct ws_hub *h;
	char *base;                 /* endpoint/repo/resolve/commit */
	CURLM *m;
	size_t active;
	struct range *list;         /* running requests */
};

int ws_hub_ranges_new(const struct ws_hub *h, const char *repo, const char *commit,
		      struct ws_hub_ranges **out)
{
	struct ws_hub_ranges *r = xcalloc(1, sizeof(*r));
	char *c = url_escape(commit, 0);
	r->h = h;
	r->base = xasprintf("%s/%s/resolve/%s", h->endpoint, repo, c);
	free(c);
	r->m = curl_multi_init();
	curl_multi_setopt(r->m, CURLMOPT_MAX_HOST_CONNECTIONS, (long)h->connections);
	*out = r;
	return 0;
}

static size_t range_header(char *line, size_t sz, size_t nm, void *ctx)
{
	struct range *g = ctx;
	size_t len = sz * nm;
	if (len >= 5 && !strncmp(line, "HTTP/", 5)) {
		g->content_range[0] = '\0';
		return len;
	}
	header_value(line, len, "Content-Range", g->content_range, sizeof(g->content_range));
	return len;
}

static size_t range_body(char *data, size_t sz, size_t nm, void *ctx)
{
	struct range *g = ctx;
	size_t n = sz * nm, k;

	if (!g->status)
		curl_easy_getinfo(g->e, CURLINFO_RESPONSE_CODE, &g->status);
	if (g->status != 206 && !(g->status == 200 && g->off == 0))
		return n;           /* an error answer: its body is not kept */
	k = n < g->len - g->got ? n : g->len - g->got;
	memcpy(g->buf + g->got, data, k);
	g->got += k;
	if (k < n) {
		/* more than asked for: a 200 of the whole file stops here, a
		 * 206 that overruns its range is refused */
		g->too_long = g->status == 206;
		g->whole_ok = g->status == 200;
		return 0;
	}
	return n;
}

void ws_hub_range_start(struct ws_hub_ranges *rs, const char *path, uint64_t off, size_t len,
			uint8_t *buf, void *tag)
{
	struct range *g = xcalloc(1, sizeof(*g));
	char *p = url_escape(path, 1), rng[64];

	g->rs = rs;
	g->url = xasprintf("%s/%s", rs->base, p);
	free(p);
	g->off = off;
	g->len = len;
	g->buf = buf;
	g->tag = tag;
	g->e = curl_easy_init();
	g->hdrs = easy_setup(g->e, rs->h, g->url, g->errbuf);
	snprintf(rng, sizeof(rng), "%llu-%llu", (unsigned long long)off,
		 (unsigned long long)(off + len - 1));
	curl_easy_setopt(g->e, CURLOPT_RANGE, rng);
	curl_easy_setopt(g->e, CURLOPT_HEADERFUNCTION, range_header);
	curl_easy_setopt(g->e, CURLOPT_HEADERDATA, g);
	curl_easy_setopt(g->e, CURLOPT_WRITEFUNCTION, range_body);
	curl_easy_setopt(g->e, CURLOPT_WRITEDATA, g);
	curl_easy_setopt(g->e, CURLOPT_PRIVATE, g);
	curl_multi_add_handle(rs->m, g->e);
	g->next = rs->list;
	rs->list = g;
	rs->active++;
}

static void range_free(struct ws_hub_ranges *rs, struct range *g)
{
	for (struct range **pp = &rs->list; *pp; pp = &(*pp)->next)
		if (*pp == g) {
			*pp = g->next;
			break;
		}
	curl_multi_remove_handle(rs->m, g->e);
	curl_easy_cleanup(g->e);
	curl_slist_free_all(g->hdrs);
	free(g->url);
	free(g);
	rs->active--;
}

static int range_result(struct range *g, CURLcode rc, char **msg)
{
	unsigned long long a, b, t;
	long status = 0;

	curl_easy_getinfo(g->e, CURLINFO_RESPONSE_CODE, &status);
	if (rc == CURLE_UNSUPPORTED_PROTOCOL || rc == CURLE_TOO_MANY_REDIRECTS)
		return ws_seterr(msg, WS_EPATH, "the origin redirected to a URL that is not "
				 "http(s) (%s)", *g->errbuf ? g->errbuf : curl_easy_strerror(rc));
	if (g->too_long)
		return ws_seterr(msg, WS_EMISMATCH, "the origin sent more than the range asked for");
	if (rc == CURLE_WRITE_ERROR && g->whole_ok && g->got == g->len)
		return 0;
	if (rc == CURLE_OPERATION_TIMEDOUT)
		return ws_seterr(msg, WS_ETIMEOUT, "the origin sent nothing for %ld s",
				 g->rs->h->stall_seconds);
	if (rc != CURLE_OK)
		return ws_seterr(msg, WS_ENETWORK, "%s", *g->errbuf ? g->errbuf :
				 curl_easy_strerror(rc));
	if (status != 206 && !(status == 200 && g->off == 0))
		return ws_seterr(msg, status == 401 || status == 403 ? -EACCES : WS_ENETWORK,
				 "the origin answered HTTP %ld to a range request", status);
	if (status == 206 && (sscanf(g->content_range, "bytes %llu-%llu/%llu", &a, &b, &t) != 3 ||
			      a != g->off))
		return ws_seterr(msg, WS_EMISMATCH, "the origin answered another range than "
				 "the one asked for");
	if (g->got != g->len)
		return ws_seterr(msg, WS_EMISMATCH, "the origin sent %zu bytes of a range of %zu",
				 g->got, g->len);
	return 0;
}

int ws_hub_ranges_poll(struct ws_hub_ranges *rs, int timeout_ms, void **tag, int *result,
		       char **msg)
{
	CURLMsg *cm;
	int still, left;

	curl_multi_perform(rs->m, &still);
	while ((cm = curl_multi_info_read(rs->m, &left))) {
		struct range *g;
		if (cm->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(cm->easy_handle, CURLINFO_PRIVATE, (char **)&g);
		*result = range_result(g, cm->data.result, msg);
		*tag = g->tag;
		range_free(rs, g);
		return 1;
	}
	if (rs->active && timeout_ms > 0)
		curl_multi_poll(rs->m, NULL, 0, timeout_ms, NULL);
	return 0;
}

size_t ws_hub_ranges_active(const struct ws_hub_ranges *rs)
{
	return rs->active;
}

void ws_hub_ranges_free(struct ws_hub_ranges *rs)
{
	if (!rs)
		return;
	/* what is still running is dropped: its buffers are the caller's */
	while (rs->list)
		range_free(rs, rs->list);
	curl_multi_cleanup(rs->m);
	free(rs->base);
	free(rs);
}
