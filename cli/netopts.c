/* netopts.c - the network options `seed` and `fetch` share (see cli.h) */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int hostport_ok(const char *s)
{
	const char *colon = strrchr(s, ':');
	char *end;
	long port;

	if (!colon || colon == s || strlen(s) >= 64)
		return 0;
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	return !errno && *end == '\0' && end != colon + 1 && port >= 0 && port <= 65535;
}

static int rate(const char *s, int *out)
{
	char *end;
	long v;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || v < 0 || v > 2000000000L)
		return -1;
	if (*end == 'k' || *end == 'K')
		v *= 1000, end++;
	else if (*end == 'm' || *end == 'M')
		v *= 1000000, end++;
	if (*end || v > 2000000000L)
		return -1;
	*out = (int)v;
	return 0;
}

int net_option(const char *cmd, int opt, const char *arg, struct ws_net_opts *n)
{
	switch (opt) {
	case OPT_LISTEN:
		if (!hostport_ok(arg))
			return usage_error(cmd, "--listen takes ADDR:PORT");
		n->listen = arg;
		return 0;
	case OPT_BOOTSTRAP:
	case OPT_PEER:
		if (!hostport_ok(arg))
			return usage_error(cmd, "'%s' is not ADDR:PORT", arg);
		if (opt == OPT_PEER) {
			if (n->npeers == WS_MAX_ADDRS)
				return usage_error(cmd, "too many --peer");
			n->peers[n->npeers++] = arg;
		} else {
			if (n->nbootstrap == WS_MAX_ADDRS)
				return usage_error(cmd, "too many --bootstrap");
			n->bootstrap[n->nbootstrap++] = arg;
		}
		return 0;
	case OPT_NO_DHT: n->no_dht = 1; return 0;
	case OPT_UPNP: n->upnp = 1; return 0;
	case OPT_NATPMP: n->natpmp = 1; return 0;
	case OPT_LSD: n->lsd = 1; return 0;
	case OPT_UPLOAD_LIMIT:
	case OPT_DOWNLOAD_LIMIT:
		if (rate(arg, opt == OPT_UPLOAD_LIMIT ? &n->upload_limit : &n->download_limit))
			return usage_error(cmd, "a rate limit is bytes per second, e.g. 5M");
		return 0;
	}
	return usage_error(cmd, "invalid arguments");
}
