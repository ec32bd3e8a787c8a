/*
 * session.h - how a weightsync process joins the swarm.
 *
 * Part of node/.  Turns the command line's network options into a
 * libtorrent session (lt.h) the same way for `seed` and `fetch`.
 */
#ifndef WS_NODE_SESSION_H
#define WS_NODE_SESSION_H

#include <stddef.h>

#include "lt.h"

#define WS_MAX_ADDRS 64

struct ws_net_opts {
	const char *listen;             /* "ADDR:PORT"; NULL: 0.0.0.0:0 (fetch) */
	const char *bootstrap[WS_MAX_ADDRS]; /* DHT nodes, "ADDR:PORT" */
	size_t nbootstrap;
	const char *peers[WS_MAX_ADDRS]; /* peers to dial for every torrent */
	size_t npeers;
	int no_dht;                     /* do not run a DHT node */
	int upnp, natpmp, lsd;          /* opt-in port mapping and discovery */
	int upload_limit, download_limit; /* bytes/s, 0: none */
};

/*
 * ws_net_is_private - 1 when every address given (listen, bootstrap,
 * peers) is loopback or private (RFC 1918): a private swarm, where the
 * DHT's one-node-per-/24 Sybil limits would only get in the way and the
 * public bootstrap routers are not used.
 */
int ws_net_is_private(const struct ws_net_opts *o);

/*
 * ws_net_session - start a session for o: the DHT with o's bootstrap nodes
 * (and the public routers only when none is given and the swarm is not
 * private), uTP off in a private swarm, UPnP / NAT-PMP / LSD off unless asked.
 */
int ws_net_session(const struct ws_net_opts *o, ws_lt_session **out, char **msg);

/*
 * ws_net_session_for_fetch - ws_net_session for one fetch: the network
 * starts when the fetch adds its torrent, with o's peers and
 * peers[0..npeers) already in it, so they are dialled at libtorrent's
 * first connection round (~0.1 s) rather than up to a second later
 * (ws_lt_config.defer_start).  A listen failure is reported by that add.
 * peers may be NULL when npeers is 0.
 */
int ws_net_session_for_fetch(const struct ws_net_opts *o, const char *const *peers,
			     size_t npeers, ws_lt_session **out, char **msg);

/* ws_net_dial - connect t to every peer of o. */
void ws_net_dial(const struct ws_net_opts *o, ws_lt_torrent *t);

#endif
