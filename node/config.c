/* config.c - HOME/node.conf (see config.h) */
#include "config.h"
#include "proto/error.h"
#include "proto/util.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONFIG_MAX (64u << 10)
#define SECONDS_MAX 604800

static char *trim(char *s)
{
	char *e;
	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int yes_no(const char *v, int *out)
{
	if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "on") || !strcmp(v, "1"))
		*out = 1;
	else if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "off") || !strcmp(v, "0"))
		*out = 0;
	else
		return -1;
	return 0;
}

/* A whole number from min to max, with a k/M/G suffix (powers of 1000)
 * when sized; -1 when it is not one. */
static int number(const char *v, int sized, int64_t min, int64_t max, int64_t *out)
{
	char *end;
	unsigned long long n;
	int64_t mul = 1;

	if (!isdigit((unsigned char)*v))
		return -1;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno || n > (unsigned long long)INT64_MAX)
		return -1;
	if (sized && *end && !end[1] && strchr("kKmMgG", *end)) {
		mul = strchr("kK", *end) ? 1000 : strchr("mM", *end) ? 1000000 : 1000000000;
		end++;
	}
	if (*end || (int64_t)n > max / mul || (int64_t)n * mul < min)
		return -1;
	*out = (int64_t)n * mul;
	return 0;
}

/* Addresses separated by spaces or commas, appended to list. */
static int addresses(char *v, char **list, size_t *n)
{
	char *save = NULL;

	for (char *a = strtok_r(v, " ,\t", &save); a; a = strtok_r(NULL, " ,\t", &save)) {
		if (*n == WS_MAX_ADDRS)
			return -1;
		list[(*n)++] = xstrdup(a);
	}
	return 0;
}

static int set(struct ws_node_config *cf, const char *key, char *v)
{
	int64_t n;
	int b;

	if (!strcmp(key, "listen") || !strcmp(key, "http")) {
		char **dst = !strcmp(key, "listen") ? &cf->listen : &cf->http;
		if (!*v || strchr(v, ' '))
			return -1;
		free(*dst);
		*dst = xstrdup(v);
	} else if (!strcmp(key, "bootstrap")) {
		return addresses(v, cf->bootstrap, &cf->nbootstrap);
	} else if (!strcmp(key, "peer")) {
		return addresses(v, cf->peers, &cf->npeers);
	} else if (!strcmp(key, "dht") || !strcmp(key, "upnp") || !strcmp(key, "natpmp") ||
		   !strcmp(key, "lsd")) {
		if (yes_no(v, &b))
			return -1;
		*(!strcmp(key, "dht") ? &cf->dht : !strcmp(key, "upnp") ? &cf->upnp :
		  !strcmp(key, "natpmp") ? &cf->natpmp : &cf->lsd) = b;
	} else if (!strcmp(key, "upload_limit") || !strcmp(key, "download_limit")) {
		if (number(v, 1, 0, 2147483647, &n))
			return -1;
		*(!strcmp(key, "upload_limit") ? &cf->upload_limit : &cf->download_limit) = n;
	} else if (!strcmp(key, "follow_interval") || !strcmp(key, "reput_interval")) {
		if (number(v, 0, 1, SECONDS_MAX, &n))
			return -1;
		*(!strcmp(key, "follow_interval") ? &cf->follow_interval :
		  &cf->reput_interval) = (int)n;
	} else if (!strcmp(key, "max_transfers")) {
		if (number(v, 0, 1, 64, &n))
			return -1;
		cf->max_transfers = (int)n;
	} else {
		return -2;
	}
	return 0;
}

int ws_node_config_load(const char *home, struct ws_node_config *cf, char **msg)
{
	char *path = xasprintf("%s/" WS_NODE_CONFIG_FILE, home), *text = NULL, *line, *next;
	size_t len;
	int ret, lineno = 0;

	memset(cf, 0, sizeof(*cf));
	cf->dht = cf->upnp = cf->natpmp = cf->lsd = -1;
	cf->upload_limit = cf->download_limit = -1;
	ret = ws_read_file(path, CONFIG_MAX, &text, &len);
	if (ret == -ENOENT) {
		free(path);
		return 0;
	}
	if (ret) {
		ret = ws_seterr(msg, ret, "cannot read '%s': %s", path, ws_strerror(ret));
		free(path);
		return ret;
	}
	cf->path = path;
	if (memchr(text, '\0', len)) {
		free(text);
		return ws_seterr(msg, WS_EFORMAT, "'%s' is not a text file", path);
	}
	for (line = text; line && !ret; line = next) {
		char *eq, *key, *v, *hash;
		int r;

		lineno++;
		if ((next = strchr(line, '\n')))
			*next++ = '\0';
		if ((hash = strchr(line, '#')))
			*hash = '\0';
		if (!*trim(line))
			continue;
		if (!(eq = strchr(line, '='))) {
			ret = ws_seterr(msg, WS_EFORMAT, "'%s' line %d: expected key = value",
					path, lineno);
			break;
		}
		*eq = '\0';
		key = trim(line);
		v = trim(eq + 1);
		if ((r = set(cf, key, v)) == -2)
			ret = ws_seterr(msg, WS_EFORMAT, "'%s' line %d: unknown key '%.40s'",
					path, lineno, key);
		else if (r)
			ret = ws_seterr(msg, WS_EFORMAT, "'%s' line %d: bad value for '%s'",
					path, lineno, key);
	}
	free(text);
	return ret;
}

void ws_node_config_apply(const struct ws_node_config *cf, struct ws_seed_opts *o)
{
	struct ws_net_opts *n = &o->net;

	o->config_file = cf->path;
	if (cf->listen)
		n->listen = cf->listen;
	if (cf->http)
		o->http_listen = cf->http;
	for (size_t i = 0; i < cf->nbootstrap; i++)
		n->bootstrap[i] = cf->bootstrap[i];
	if (cf->nbootstrap)
		n->nbootstrap = cf->nbootstrap;
	for (size_t i = 0; i < cf->npeers; i++)
		n->peers[i] = cf->peers[i];
	if (cf->npeers)
		n->npeers = cf->npeers;
	if (cf->dht >= 0)
		n->no_dht = !cf->dht;
	if (cf->upnp >= 0)
		n->upnp = cf->upnp;
	if (cf->natpmp >= 0)
		n->natpmp = cf->natpmp;
	if (cf->lsd >= 0)
		n->lsd = cf->lsd;
	if (cf->upload_limit >= 0)
		n->upload_limit = (int)cf->upload_limit;
	if (cf->download_limit >= 0)
		n->download_limit = (int)cf->download_limit;
	if (cf->follow_interval)
		o->follow_s = cf->follow_interval;
	if (cf->reput_interval)
		o->reput_s = cf->reput_interval;
	if (cf->max_transfers)
		o->max_active = cf->max_transfers;
}

void ws_node_config_release(struct ws_node_config *cf)
{
	free(cf->path);
	free(cf->listen);
	free(cf->http);
	for (size_t i = 0; i < cf->nbootstrap; i++)
		free(cf->bootstrap[i]);
	for (size_t i = 0; i < cf->npeers; i++)
		free(cf->peers[i]);
	memset(cf, 0, sizeof(*cf));
}
