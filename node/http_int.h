/*
 * http_int.h - what the files of the HTTP server share (node/http*.c only).
 *
 * Not part of the library's interface: callers use http.h.  http.c runs
 * the server and routes requests, http_files.c serves release files,
 * http_page.c renders the status page and the JSON API.
 */
#ifndef WS_NODE_HTTP_INT_H
#define WS_NODE_HTTP_INT_H

#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>

#include "http.h"

#define HTTP_CACHE 16          /* releases whose parsed manifest is kept */
/* "PKHEX/NAME@VERSION": a hex key, '/', a BEP 44 salt (ws_ref_check), NUL */
#define HTTP_KEY_MAX (64 + 1 + WS_REF_MAX + 1)

struct http_release;           /* http_files.c */

struct ws_http {
	struct MHD_Daemon *d;
	struct ws_store *st;
	int port;
	char *address;             /* "ADDR:PORT", the port as bound */
	pthread_mutex_t lock;      /* guards what follows */
	char *status;              /* the node's last status document, or NULL */
	struct http_release *cache[HTTP_CACHE];
	unsigned next;             /* the cache slot to fill next */
};

/* http_respond - queue a response of status code with body (copied; len
 * bytes) of the given Content-Type.  For errors and rendered pages. */
enum MHD_Result http_respond(struct MHD_Connection *c, unsigned code,
			     const char *type, const char *body, size_t len);

/* http_not_found - 404 with a one-line text body saying why. */
enum MHD_Result http_not_found(struct MHD_Connection *c, const char *why);

/*
 * http_serve_release - answer GET or HEAD of url (percent-decoded by
 * libmicrohttpd) when it names a release file or folder; 404 otherwise.
 */
enum MHD_Result http_serve_release(struct ws_http *h, struct MHD_Connection *c,
				   const char *url);

/*
 * http_url_parse - split a decoded request path "/[PKHEX/]NAME@VERSION[/PATH]":
 * key gets "[PKHEX/]NAME@VERSION", pk and *has_pk the key when given, name
 * and *version the release (a valid name, a version from 1 with no leading
 * zero, "NAME@VERSION" a valid BEP 44 salt), *path points into url at PATH
 * ("" for the folder, NULL when the folder is named without its trailing
 * '/').  PATH is not checked: only an exact match with a manifest path is
 * ever served.  Returns 0 or WS_ENOTFOUND; outputs may be written either way.
 */
int http_url_parse(const char *url, char key[HTTP_KEY_MAX], uint8_t pk[32],
		   int *has_pk, char name[WS_NAME_MAX + 1], int64_t *version,
		   const char **path);

/*
 * http_range_parse - the one range of a Range header value h (NULL: none)
 * for content of size bytes, RFC 9110 14.1.2: "bytes=A-B", "A-" or "-N".
 * Returns 1 with [*start, *end] (inclusive, clipped to the content) for a
 * satisfiable range; 0 to send the whole content (no header, several
 * ranges, or one that does not parse: a server may ignore those); -1 when
 * it cannot be satisfied (416).
 */
int http_range_parse(const char *h, uint64_t size, uint64_t *start, uint64_t *end);

/* http_cache_clear - drop the cached releases (h->lock held, or h no
 * longer shared). */
void http_cache_clear(struct ws_http *h);

/*
 * http_page_status - the status page: HTML rendered from the node's status
 * document status (may be NULL: not reported yet) and the index of st.
 * Returns malloc'd text (*len bytes).
 */
char *http_page_status(struct ws_store *st, const char *status, size_t *len);

/*
 * http_page_release - the HTML listing of a release's files (links,
 * sizes, SHA-256).  prefix is the release's URL ("/NAME@VERSION/").
 * Returns malloc'd text (*len bytes).
 */
char *http_page_release(const struct ws_manifest *m, const char *prefix,
			size_t *len);

/*
 * http_api - the JSON document of /api/WHAT (status, releases, events,
 * follows; "" lists them), or NULL when there is no such document.  The
 * caller decrefs.
 */
json_t *http_api(struct ws_store *st, const char *status, const char *what);

#endif
