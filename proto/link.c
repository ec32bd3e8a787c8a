/* link.c - release and name links (see link.h) */
#include "link.h"
#include "error.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

static char *pct_encode(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	char *out = xmalloc(3 * strlen(s) + 1), *o = out;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '~') {
			*o++ = (char)c;
		} else {
			*o++ = '%';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
		}
	}
	*o = '\0';
	return out;
}

/* Decode in place; 0 or WS_EFORMAT.  '+' is a space in query strings. */
static int pct_decode(char *s)
{
	char *o = s;
	for (; *s; s++) {
		if (*s == '%') {
			uint8_t b;
			char h[3] = { s[1], s[1] ? s[2] : 0, 0 };
			if (!s[1] || !s[2] || ws_unhex(h, &b, 1))
				return WS_EFORMAT;
			if (b == 0)
				return WS_EFORMAT;
			*o++ = (char)b;
			s += 2;
		} else {
			*o++ = *s == '+' ? ' ' : *s;
		}
	}
	*o = '\0';
	return 0;
}

char *ws_link_format(const uint8_t v1[20], const uint8_t v2[32],
		     const struct ws_pubkey *pk, const char *name,
		     int64_t version, const uint8_t mhash[32])
{
	char h1[41], h2[65], hm[65], b64[WS_PUBKEY_B64_LEN + 1];
	char *pkenc, *dn, *dnenc, *out;

	ws_hex(v1, 20, h1);
	ws_hex(v2, 32, h2);
	ws_hex(mhash, 32, hm);
	ws_pubkey_to_b64(pk, b64);
	pkenc = pct_encode(b64);
	dn = xasprintf("%s@%lld", name, (long long)version);
	dnenc = pct_encode(dn);
	out = xasprintf("magnet:?xt=urn:btih:%s&xt=urn:btmh:1220%s&dn=%s&x.pk=%s&x.mh=%s",
			h1, h2, dnenc, pkenc, hm);
	free(pkenc);
	free(dn);
	free(dnenc);
	return out;
}

char *ws_link_format_name(const uint8_t pk[32], const char *name)
{
	char hex[65];
	ws_hex(pk, 32, hex);
	return xasprintf("magnet:?xs=urn:btpk:%s&s=%s", hex, name);
}

static int parse_dn(const char *v, struct ws_link *l)
{
	const char *at = strrchr(v, '@');
	size_t n = at ? (size_t)(at - v) : strlen(v);
	char *end;

	if (n == 0 || n > WS_NAME_MAX)
		return WS_EFORMAT;
	memcpy(l->name, v, n);
	l->name[n] = '\0';
	if (ws_name_check(l->name))
		return WS_EFORMAT;
	if (at) {
		long long ver = strtoll(at + 1, &end, 10);
		if (*end || end == at + 1 || ver < 1)
			return WS_EFORMAT;
		l->version = ver;
	}
	return 0;
}

static int parse_param(struct ws_link *l, const char *key, char *val, char **msg)
{
	if (!strcmp(key, "xt")) {
		if (!strncmp(val, "urn:btih:", 9)) {
			if (ws_unhex(val + 9, l->v1, 20))
				return ws_seterr(msg, WS_EFORMAT, "bad v1 info-hash in link");
			l->has_v1 = 1;
		} else if (!strncmp(val, "urn:btmh:1220", 13)) {
			if (ws_unhex(val + 13, l->v2, 32))
				return ws_seterr(msg, WS_EFORMAT, "bad v2 info-hash in link");
			l->has_v2 = 1;
		}
	} else if (!strcmp(key, "xs")) {
		if (!strncmp(val, "urn:btpk:", 9)) {
			if (ws_unhex(val + 9, l->pk32, 32))
				return ws_seterr(msg, WS_EFORMAT, "bad public key in link");
			l->is_name_link = 1;
		}
	} else if (!strcmp(key, "s")) {
		if (ws_name_check(val))
			return ws_seterr(msg, WS_EFORMAT, "link names an invalid release name");
		strcpy(l->name, val);
	} else if (!strcmp(key, "dn")) {
		/* a plain magnet's display name is free text: only ours parse */
		struct ws_link tmp = *l;
		if (parse_dn(val, &tmp) == 0) {
			memcpy(l->name, tmp.name, sizeof(l->name));
			l->version = tmp.version;
		}
	} else if (!strcmp(key, "x.pk")) {
		if (ws_pubkey_parse(val, &l->pk))
			return ws_seterr(msg, WS_EFORMAT, "bad publisher key in link");
		memcpy(l->pk32, l->pk.pk, 32);
		l->has_pk = 1;
	} else if (!strcmp(key, "x.mh")) {
		if (ws_unhex(val, l->mhash, 32))
			return ws_seterr(msg, WS_EFORMAT, "bad manifest hash in link");
		l->has_mhash = 1;
	} else if (!strcmp(key, "x.pe")) {
		if (l->npeers < WS_LINK_MAX_PEERS && strlen(val) < 64)
			strcpy(l->peers[l->npeers++], val);
	}
	return 0;
}

int ws_link_parse(const char *text, struct ws_link *out, char **msg)
{
	struct ws_link l;
	char *copy, *p, *save = NULL;
	int ret = 0;

	memset(&l, 0, sizeof(l));
	if (strncmp(text, "magnet:?", 8) || strlen(text) > 8192)
		return ws_seterr(msg, WS_EFORMAT, "not a magnet link");
	copy = xstrdup(text + 8);
	for (p = strtok_r(copy, "&", &save); p && !ret; p = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(p, '=');
		if (!eq)
			continue;
		*eq = '\0';
		if (pct_decode(eq + 1)) {
			ret = ws_seterr(msg, WS_EFORMAT, "bad percent-encoding in link");
			break;
		}
		ret = parse_param(&l, p, eq + 1, msg);
	}
	free(copy);
	if (ret)
		return ret;
	if (l.is_name_link) {
		if (!l.name[0])
			return ws_seterr(msg, WS_EFORMAT, "name link without a name (s=)");
	} else if (!l.has_v1 && !l.has_v2) {
		return ws_seterr(msg, WS_EFORMAT, "link has no info-hash");
	}
	*out = l;
	return 0;
}
