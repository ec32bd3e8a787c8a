/* pointer.c - signed name pointers (see pointer.h, docs/names.md) */
#include "pointer.h"
#include "error.h"
#include "manifest.h"
#include "util.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Offsets in the one spelling of a value (pointer.h): the version's digits
 * start at VALUE_VER; the shortest value has one digit. */
#define VALUE_VER 114
#define VALUE_MIN (VALUE_VER + 1 + 2)

_Static_assert(WS_REF_MAX <= WS_SALT_MAX, "NAME@VERSION must fit a BEP 44 salt");

void ws_pointer_salt(const char *name, int64_t version, char out[WS_SALT_MAX + 1])
{
	if (version)
		snprintf(out, WS_SALT_MAX + 1, "%s@%lld", name, (long long)version);
	else
		snprintf(out, WS_SALT_MAX + 1, "%s", name);
}

static size_t put_str(uint8_t *o, const char *key, const uint8_t *val, size_t n)
{
	int k = sprintf((char *)o, "%zu:%s%zu:", strlen(key), key, n);
	memcpy(o + k, val, n);
	return (size_t)k + n;
}

static size_t encode(int64_t version, const uint8_t ih1[20], const uint8_t ih2[32],
		     const uint8_t mhash[32], uint8_t *o)
{
	size_t n = 0;
	o[n++] = 'd';
	n += put_str(o + n, "ih1", ih1, 20);
	n += put_str(o + n, "ih2", ih2, 32);
	n += put_str(o + n, "mh", mhash, 32);
	n += (size_t)sprintf((char *)o + n, "3:veri%llde", (long long)version);
	o[n++] = 'e';
	return n;
}

size_t ws_pointer_signable(const char *salt, int64_t seq, const uint8_t *v,
			   size_t vlen, uint8_t *buf)
{
	size_t n = 0, slen = strlen(salt);
	if (slen)
		n += (size_t)sprintf((char *)buf, "4:salt%zu:", slen);
	memcpy(buf + n, salt, slen);
	n += slen;
	n += (size_t)sprintf((char *)buf + n, "3:seqi%llde1:v", (long long)seq);
	memcpy(buf + n, v, vlen);
	return n + vlen;
}

int ws_pointer_make(const struct ws_seckey *sk, const char *salt,
		    int64_t version, const uint8_t ih1[20], const uint8_t ih2[32],
		    const uint8_t mhash[32], struct ws_pointer *out)
{
	uint8_t buf[WS_POINTER_VMAX + 128];
	size_t n;

	memset(out, 0, sizeof(*out));
	memcpy(out->pk, sk->sk + 32, 32);
	snprintf(out->salt, sizeof(out->salt), "%s", salt);
	out->seq = version;
	out->vlen = encode(version, ih1, ih2, mhash, out->v);
	n = ws_pointer_signable(salt, version, out->v, out->vlen, buf);
	if (crypto_sign_detached(out->sig, NULL, buf, n, sk->sk) != 0)
		return WS_ECRYPTO;
	out->version = version;
	memcpy(out->ih1, ih1, 20);
	memcpy(out->ih2, ih2, 32);
	memcpy(out->mhash, mhash, 32);
	return 0;
}

int ws_pointer_check(struct ws_pointer *p)
{
	uint8_t buf[WS_POINTER_VMAX + 128], want[WS_POINTER_VMAX];
	size_t n, slen = strnlen(p->salt, sizeof(p->salt));
	const char *at;
	char digits[24];
	const char *v = (const char *)p->v;
	int64_t ver;

	if (p->vlen > WS_POINTER_VMAX || slen > WS_SALT_MAX || p->seq < 1)
		return WS_EFORMAT;
	n = ws_pointer_signable(p->salt, p->seq, p->v, p->vlen, buf);
	if (crypto_sign_verify_detached(p->sig, buf, n, p->pk) != 0)
		return WS_EBADSIG;
	/* Decode by re-encoding: the value has exactly one valid spelling,
	 * so anything else (extra keys, other order, leading zeros) fails.
	 * The value is not NUL-terminated and may be short: every read below
	 * stays inside [0, vlen). */
	if (p->vlen < VALUE_MIN || memcmp(v, "d3:ih120:", 9) ||
	    memcmp(v + 29, "3:ih232:", 8) || memcmp(v + 69, "2:mh32:", 7) ||
	    memcmp(v + 108, "3:veri", 6) || memcmp(v + p->vlen - 2, "ee", 2))
		return WS_EFORMAT;
	ver = 0;
	for (size_t i = VALUE_VER; i < p->vlen - 2; i++) {
		if (v[i] < '0' || v[i] > '9' || ver > (WS_VERSION_MAX - (v[i] - '0')) / 10)
			return WS_EFORMAT;
		ver = ver * 10 + (v[i] - '0');
	}
	if (ver < 1)
		return WS_EFORMAT;
	if (encode(ver, p->v + 9, p->v + 37, p->v + 76, want) != p->vlen ||
	    memcmp(want, p->v, p->vlen))
		return WS_EFORMAT;
	if (ver != p->seq)
		return WS_EFORMAT;
	/* a version pointer's salt spells its version the one way */
	if ((at = strchr(p->salt, '@'))) {
		snprintf(digits, sizeof(digits), "%lld", (long long)ver);
		if (strcmp(at + 1, digits))
			return WS_EFORMAT;
	}
	p->version = ver;
	memcpy(p->ih1, p->v + 9, 20);
	memcpy(p->ih2, p->v + 37, 32);
	memcpy(p->mhash, p->v + 76, 32);
	return 0;
}
