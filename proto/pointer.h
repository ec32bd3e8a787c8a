/*
 * pointer.h - signed name pointers: BEP 44 mutable items naming a release.
 *
 * Part of proto/: pure formats and cryptography.  A publisher signs, for
 * every release, two items with its Ed25519 key (the minisign key's raw
 * 32 bytes are the item's public key):
 *   salt "NAME"           seq = VERSION   the name's latest release
 *   salt "NAME@VERSION"   seq = VERSION   that version, for ever
 * The DHT keeps only the highest seq per (key, salt), so the per-version
 * item is how `fetch NAME@3` finds version 3 after version 4 is out.
 *
 * The value is a bencoded dictionary (docs/names.md), far under BEP 44's
 * 1000 bytes:
 *   d3:ih120:<v1 info-hash>3:ih232:<v2 info-hash>2:mh32:<manifest sha256>
 *    3:veri<VERSION>ee
 * The signature covers BEP 44's "4:salt<n>:<salt>3:seqi<seq>e1:v<value>",
 * so any DHT node checks it and any node can re-put the item without the key.
 */
#ifndef WS_PROTO_POINTER_H
#define WS_PROTO_POINTER_H

#include <stddef.h>
#include <stdint.h>

#include "minisign.h"

#define WS_POINTER_VMAX 1000
#define WS_SALT_MAX 64

struct ws_pointer {
	uint8_t pk[32];
	char salt[WS_SALT_MAX + 1];
	int64_t seq;
	uint8_t v[WS_POINTER_VMAX];
	size_t vlen;
	uint8_t sig[64];
	/* decoded from v */
	int64_t version;
	uint8_t ih1[20], ih2[32], mhash[32];
};

/*
 * ws_pointer_salt - "NAME" (version 0) or "NAME@VERSION" into out.  The
 * caller makes sure the salt fits: ws_ref_check(name, version) is 0 (every
 * manifest passes it; a version asked for on the command line is checked).
 */
void ws_pointer_salt(const char *name, int64_t version, char out[WS_SALT_MAX + 1]);

/*
 * ws_pointer_make - build and sign the pointer with salt (from
 * ws_pointer_salt) for a release.  Returns 0 or WS_ECRYPTO.
 */
int ws_pointer_make(const struct ws_seckey *sk, const char *salt,
		    int64_t version, const uint8_t ih1[20], const uint8_t ih2[32],
		    const uint8_t mhash[32], struct ws_pointer *out);

/*
 * ws_pointer_signable - BEP 44's signed buffer for (salt, seq, v) into buf
 * (at least WS_POINTER_VMAX + 128 bytes); returns its length.
 */
size_t ws_pointer_signable(const char *salt, int64_t seq, const uint8_t *v,
			   size_t vlen, uint8_t *buf);

/*
 * ws_pointer_check - verify p->sig over (p->salt, p->seq, p->v) with p->pk,
 * then decode p->v strictly into the decoded fields; the version must equal
 * seq and, for a "NAME@VERSION" salt, the salt's version.  Returns 0,
 * WS_EBADSIG or WS_EFORMAT.
 */
int ws_pointer_check(struct ws_pointer *p);

#endif
