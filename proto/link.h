/*
 * link.h - the links `weightsync fetch` accepts and `publish` prints.
 *
 * Part of proto/: pure formats.  Two kinds (docs/links.md):
 *
 *   release link  magnet:?xt=urn:btih:V1HEX&xt=urn:btmh:1220V2HEX
 *                 &dn=NAME%40VERSION&x.pk=PUBKEY&x.mh=MANIFESTHEX
 *                 An ordinary BitTorrent magnet link (hybrid torrent: both
 *                 info-hashes) that also names the publisher key (x.pk, the
 *                 minisign base64 key, percent-encoded) and the SHA-256 of
 *                 the signed manifest (x.mh), so a fetch knows what it must
 *                 get before it asks anyone.  x.pe=HOST:PORT (BEP 9 peer
 *                 addresses) may follow.
 *   name link     magnet:?xs=urn:btpk:PKHEX&s=SALT (BEP 46): the latest
 *                 release of the name SALT by key PKHEX, through the DHT.
 */
#ifndef WS_PROTO_LINK_H
#define WS_PROTO_LINK_H

#include <stdint.h>

#include "manifest.h"

#define WS_LINK_MAX_PEERS 16

struct ws_link {
	int is_name_link;           /* BEP 46 form */
	int has_v1, has_v2, has_pk, has_mhash;
	uint8_t v1[20];
	uint8_t v2[32];
	struct ws_pubkey pk;        /* x.pk: full minisign key (has_pk) */
	uint8_t pk32[32];           /* raw Ed25519 key (both forms) */
	char name[WS_NAME_MAX + 1]; /* from dn (release) or s (name link) */
	int64_t version;            /* from dn, 0 when absent */
	uint8_t mhash[32];
	char peers[WS_LINK_MAX_PEERS][64];
	int npeers;
};

/* ws_link_format - a release link (malloc'd). */
char *ws_link_format(const uint8_t v1[20], const uint8_t v2[32],
		     const struct ws_pubkey *pk, const char *name,
		     int64_t version, const uint8_t mhash[32]);

/* ws_link_format_name - the BEP 46 link of a name (malloc'd). */
char *ws_link_format_name(const uint8_t pk[32], const char *name);

/*
 * ws_link_parse - parse either kind of link.  Unknown parameters are
 * ignored, as in every magnet reader; malformed known ones are errors
 * (WS_EFORMAT, with *msg).
 */
int ws_link_parse(const char *text, struct ws_link *out, char **msg);

#endif
