/*
 * server.h - the node's side of the control socket: accept clients, read
 * their requests, answer them (docs/control.md).
 *
 * Part of node/.  Runs on the node's loop: ws_server_poll waits (bounded)
 * for socket activity, handles every complete request and pushes progress
 * to clients waiting for a fetch.  Nothing here waits for a transfer or a
 * DHT lookup: fetches are transfers (transfers.h), a resolve runs on a
 * thread of its own, and the loop only looks at their state.
 */
#ifndef WS_NODE_SERVER_H
#define WS_NODE_SERVER_H

#include <jansson.h>

#include "session.h"
#include "store/store.h"
#include "transfers.h"

/* What the server asks of the node that runs it. */
struct ws_server_hooks {
	void *ctx;
	/* the node's status object, as node.json holds it (a new reference) */
	json_t *(*status)(void *ctx);
	/* a followed name was added: look at the follow list now */
	void (*follows_changed)(void *ctx);
	/* one line for the node's log */
	void (*log)(void *ctx, const char *line);
};

struct ws_server;

/*
 * ws_server_start - listen on home/node.sock (control.h) for st's node.
 * ses, xs, net and hooks are not owned and must outlive the server.
 * Errors of ws_ctl_listen, with *msg.
 */
int ws_server_start(struct ws_store *st, ws_lt_session *ses, struct ws_transfers *xs,
		    const struct ws_net_opts *net, const struct ws_server_hooks *hooks,
		    struct ws_server **out, char **msg);

/* ws_server_poll - wait at most timeout_ms for clients (a transfer that
 * changes phase or ends, or a resolve that ends, wakes it too), and serve
 * them. */
void ws_server_poll(struct ws_server *sv, int timeout_ms);

/*
 * ws_server_free - stop listening, remove the socket and drop every
 * client (one waiting for a fetch is told the node stopped).  Resolves
 * still running are waited for (each is bounded by its timeout).  NULL is
 * a no-op.
 */
void ws_server_free(struct ws_server *sv);

#endif
