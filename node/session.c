/* session.c - network options to a libtorrent session (see session.h) */
#include "session.h"
#include "proto/error.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* loopback, RFC 1918, or unspecified (listen on all) */
static int private_addr(const char *hostport)
{
	char host[64];
	const char *colon = strrchr(hostport, ':');
	size_t n = colon ? (size_t)(colon - hostport) : strlen(hostport);
	struct in_addr a;
	uint32_t v;

	if (n == 0 || n >= sizeof(host))
		return 0;
	memcpy(host, hostport, n);
	host[n] = '\0';
	if (!strcmp(host, "localhost") || !strcmp(host, "[::1]"))
		return 1;
	if (inet_pton(AF_INET, host, &a) != 1)
		return 0;
	v = ntohl(a.s_addr);
	return (v >> 24) == 127 || (v >> 24) == 10 || (v >> 16) == 0xc0a8 ||
	       (v >> 20) == 0xac1;
}

int ws_net_is_private(const struct ws_net_opts *o)
{
	int any = 0;

	if (o->listen) {
		if (!private_addr(o->listen))
			return 0;
		any = 1;
	}
	for (size_t i = 0; i < o->nbootstrap; i++, any = 1)
		if (!private_addr(o->bootstrap[i]))
			return 0;
	for (size_t i = 0; i < o->npeers; i++, any = 1)
		if (!private_addr(o->peers[i]))
			return 0;
	return any;
}

static int open_session(const struct ws_net_opts *o, int defer, const char *const *peers,
			size_t npeers, ws_lt_session **out, char **msg)
{
	struct ws_lt_config cfg;
	int priv = ws_net_is_private(o);
	int ret;

	memset(&cfg, 0, sizeof(cfg));
	cfg.listen = o->listen;
	cfg.enable_dht = !o->no_dht;
	cfg.bootstrap = o->bootstrap;
	cfg.n_bootstrap = o->nbootstrap;
	cfg.public_bootstrap = !o->no_dht && o->nbootstrap == 0 && !priv;
	cfg.private_network = priv;
	cfg.enable_upnp = o->upnp;
	cfg.enable_natpmp = o->natpmp;
	cfg.enable_lsd = o->lsd;
	cfg.upload_rate_limit = o->upload_limit;
	cfg.download_rate_limit = o->download_limit;
	/* for bench/datapath.sh's back-end comparison (docs/datapath.md) */
	const char *dio = getenv("WS_DISK_IO");
	cfg.disk_io = dio && !strcmp(dio, "posix") ? WS_LT_DISK_POSIX :
		      dio && !strcmp(dio, "mmap") ? WS_LT_DISK_MMAP : WS_LT_DISK_SPLIT;
	const char *plog = getenv("WEIGHTSYNC_PEER_LOG");
	cfg.peer_log = plog && *plog ? plog : NULL;
	if (defer) {
		/* o's peers and the link's, dialled at libtorrent's first
		 * connection round (ws_lt_config.defer_start) */
		size_t n = o->npeers + npeers;
		const char **all = calloc(n ? n : 1, sizeof(*all));
		if (!all)
			return -ENOMEM;
		for (size_t i = 0; i < o->npeers; i++)
			all[i] = o->peers[i];
		for (size_t i = 0; i < npeers; i++)
			all[o->npeers + i] = peers[i];
		cfg.defer_start = 1;
		cfg.first_peers = all;
		cfg.n_first_peers = n;
		ret = ws_lt_session_new(&cfg, out, msg);
		free(all);
		return ret;
	}
	if ((ret = ws_lt_session_new(&cfg, out, msg)))
		return ret;
	return 0;
}

int ws_net_session(const struct ws_net_opts *o, ws_lt_session **out, char **msg)
{
	return open_session(o, 0, NULL, 0, out, msg);
}

int ws_net_session_for_fetch(const struct ws_net_opts *o, const char *const *peers,
			     size_t npeers, ws_lt_session **out, char **msg)
{
	return open_session(o, 1, peers, npeers, out, msg);
}

void ws_net_dial(const struct ws_net_opts *o, ws_lt_torrent *t)
{
	for (size_t i = 0; i < o->npeers; i++)
		ws_lt_connect_peer(t, o->peers[i]);
}
