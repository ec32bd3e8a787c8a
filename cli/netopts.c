/* netopts.c - the network options several commands share (see cli.h) */
#include "cli.h"

#include <arpa/inet.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* a DNS name: labels of letters, digits and '-', not starting or ending
 * with '-', dot-separated; not all digits and dots (that is an address) */
static int hostname_ok(const char *h, size_t n)
{
	size_t label = 0;
	int alpha = 0;

	if (n == 0 || n > 253)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = h[i];
		if (c == '.') {
			if (label == 0 || h[i - 1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-') ||
		    (c == '-' && label == 0) || ++label > 63)
			return 0;
		alpha |= !(c >= '0' && c <= '9');
	}
	return alpha && h[n - 1] != '-' && h[n - 1] != '.';
}

const char *hostport_check(const char *s, int allow_name, int min_port)
{
	char host[64];
	const char *colon, *p;
	unsigned char a[16];
	size_t n;
	long port = 0;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (!close || close[1] != ':')
			return close ? "missing port (expected [IPv6]:PORT)" :
				       "missing ']' after the IPv6 address";
		n = (size_t)(close - s - 1);
		if (n >= sizeof(host))
			return "not an IPv6 address";
		memcpy(host, s + 1, n);
		host[n] = '\0';
		if (inet_pton(AF_INET6, host, a) != 1)
			return "not an IPv6 address";
		colon = close + 1;
	} else {
		if (!(colon = strrchr(s, ':')))
			return "missing port (expected ADDR:PORT)";
		n = (size_t)(colon - s);
		if (n == 0)
			return "missing address";
		if (memchr(s, ':', n))
			return "an IPv6 address goes in brackets: [ADDR]:PORT";
		if (n >= sizeof(host))
			return allow_name ? "not an address or host name" : "not an IPv4 address";
		memcpy(host, s, n);
		host[n] = '\0';
		if (inet_pton(AF_INET, host, a) != 1 && !(allow_name && hostname_ok(host, n)))
			return allow_name ? "not an address or host name" : "not an IPv4 address";
	}
	p = colon + 1;
	if (!*p)
		return "missing port";
	for (const char *q = p; *q; q++)
		if (*q < '0' || *q > '9' || port > 65535)
			return "the port is not a number from 1 to 65535";
		else
			port = port * 10 + (*q - '0');
	if (port < min_port || port > 65535)
		return min_port ? "the port is not a number from 1 to 65535" :
				  "the port is not a number from 0 to 65535";
	return NULL;
}

static int address(const struct opts *o, int allow_name, int min_port)
{
	const char *why = hostport_check(o->arg, allow_name, min_port);

	if (!why)
		return 0;
	return usage_error(o->cmd, "invalid address '%s' for %s: %s", o->arg, o->flagbuf, why);
}

int net_option(const struct opts *o, int id, struct ws_net_opts *n)
{
	uint64_t v;

	switch (id) {
	case OPT_LISTEN:
		if (address(o, 0, 0))
			return EXIT_ERROR;
		n->listen = o->arg;
		return 0;
	case OPT_BOOTSTRAP:
	case OPT_PEER: {
		/* DHT nodes may be host names (libtorrent resolves them); a
		 * peer is dialled as it is, so it must be an address */
		int peer = id == OPT_PEER;
		size_t *count = peer ? &n->npeers : &n->nbootstrap;
		const char **list = peer ? n->peers : n->bootstrap;
		if (address(o, !peer, 1))
			return EXIT_ERROR;
		if (*count == WS_MAX_ADDRS)
			return usage_error(o->cmd, "too many %s (%d at most)", o->flagbuf,
					   WS_MAX_ADDRS);
		list[(*count)++] = o->arg;
		return 0;
	}
	case OPT_NO_DHT: n->no_dht = 1; return 0;
	case OPT_UPNP: n->upnp = 1; return 0;
	case OPT_NATPMP: n->natpmp = 1; return 0;
	case OPT_LSD: n->lsd = 1; return 0;
	case OPT_UPLOAD_LIMIT:
	case OPT_DOWNLOAD_LIMIT:
		if (opt_size(o, 0, INT_MAX, &v))
			return EXIT_ERROR;
		*(id == OPT_UPLOAD_LIMIT ? &n->upload_limit : &n->download_limit) = (int)v;
		return 0;
	}
	return usage_error(o->cmd, "option '%s' is not for this command", o->flagbuf);
}
