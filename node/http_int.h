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
