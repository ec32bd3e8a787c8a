/*
 * http.h - the node's read-only HTTP server (`weightsync seed --http`).
 *
 * Part of node/.  Served with libmicrohttpd on threads of its own
 * (docs/http.md):
 *   /NAME@VERSION/PATH   a file of a complete release, exactly the paths
 *                        the signed manifest lists (and the release's
 *                        .weightsync/manifest.json{,.minisig}): GET, HEAD,
 *                        one Range, ETag = the file's SHA-256 (quoted).
 *                        This is the layout libtorrent asks a BEP 19 web
 *                        seed for (the torrent's name is the release
 *                        folder's, NAME@VERSION), so `publish --web-seed
 *                        http://HOST:PORT/` names a weightsync mirror.
 *   /PKHEX/NAME@VERSION/PATH  the same, for one publisher's release when
 *                        several publishers use the name
 *   /                    the status page (HTML, no JavaScript)
 *   /api/status, /api/releases, /api/events, /api/follows   JSON
 * Anything else is 404; methods other than GET and HEAD get 405.
 *
 * Threads: the server reads the index (LMDB read transactions of its own,
 * which MDB_NOTLS allows beside the node's) and the release folders; what
 * the node knows besides (seeded releases, peers, DHT, transfers) comes
 * from the status document the node hands over with ws_http_set_status.
 * The process must ignore SIGPIPE (`seed` does): a client that goes away
 * mid-file would otherwise end it.
 */
#ifndef WS_NODE_HTTP_H
#define WS_NODE_HTTP_H

#include <stddef.h>

#include "store/store.h"

typedef struct ws_http ws_http;

/*
 * ws_http_start - listen on addr ("ADDR:PORT", IPv4 or "[IPv6]:PORT";
 * port 0 picks a free one) and serve st until ws_http_stop.  st must stay
 * open until then.  Returns 0 with *out, or -EINVAL (addr not an address
 * and port), WS_ENETWORK (cannot listen: in use, no such address) with
 * *msg (malloc'd, the caller frees).
 */
int ws_http_start(struct ws_store *st, const char *addr, ws_http **out,
		  char **msg);

/* ws_http_port - the TCP port the server listens on. */
int ws_http_port(const ws_http *h);

/* ws_http_address - "ADDR:PORT" the server listens on (the port picked when
 * 0 was asked for); owned by h. */
const char *ws_http_address(const ws_http *h);

/*
 * ws_http_set_status - the node's status document (JSON text, as written
 * to home/node.json; docs/http.md lists the members the page uses), copied:
 * the caller keeps json.  Any thread; requests after the call see it.
 * Also drops what the server cached from the index, so releases completed
 * since the last call are served.
 */
void ws_http_set_status(ws_http *h, const char *json, size_t len);

/* ws_http_stop - stop serving (requests in flight are cut) and free h.
 * NULL is accepted. */
void ws_http_stop(ws_http *h);

#endif
