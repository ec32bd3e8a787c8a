/*
 * evidence.h - what nodes tell each other about a release's name: the
 * highest signed "NAME" pointer they know and every pointer they keep as
 * proof that the publisher equivocated (two values signed for one
 * version).  It travels in the BitTorrent extension handshake of the
 * release's swarm (node/lt.h, key "ws_evidence"), so any peer a node meets
 * while fetching or seeding a release tells it; nothing in it is believed
 * without the publisher's signature (docs/trust.md, "Evidence").
 *
 * Part of node/.  Wire format, all integers big-endian:
 *   "WSE1", then up to WS_EVIDENCE_ITEMS items of
 *   pk(32) salt_len(1) salt seq(8) v_len(2) v sig(64)
 * each one a BEP 44 item exactly as the DHT carries it (proto/pointer.h).
 */
#ifndef WS_NODE_EVIDENCE_H
#define WS_NODE_EVIDENCE_H

#include <stddef.h>
#include <stdint.h>

#include "lt.h"
#include "proto/pointer.h"
#include "store/store.h"

#define WS_EVIDENCE_ITEMS 16

/*
 * ws_evidence_encode - the items of ps (at most WS_EVIDENCE_ITEMS of n)
 * into buf (at least WS_LT_EVIDENCE_MAX bytes); returns the length.
 */
size_t ws_evidence_encode(const struct ws_pointer *ps, size_t n, uint8_t *buf);

/*
 * ws_evidence_decode - the items of data (len bytes, untrusted) into out
 * (room for WS_EVIDENCE_ITEMS), *n of them.  Only the framing is checked:
 * each item must still pass ws_pointer_check.  WS_EFORMAT when the bytes
 * are not this format.
 */
int ws_evidence_decode(const uint8_t *data, size_t len, struct ws_pointer *out,
		       size_t *n);

/*
 * ws_evidence_offer - tell every peer this session meets in t's swarm
 * what this node knows of (pk, name): the kept "NAME" pointers of the
 * highest version, and every pointer kept as equivocation evidence.
 * Returns 0 or an error (the index, libtorrent).
 */
int ws_evidence_offer(struct ws_store *st, ws_lt_torrent *t, const uint8_t pk[32],
		      const char *name);

/* What peers showed, once checked. */
struct ws_evidence_seen {
	struct ws_pointer newest;   /* the highest "NAME" pointer shown */
	int have_newest;
	int equivocations;          /* items that proved an equivocation */
	int64_t equivocated_version; /* the version of the last such item */
	int kept;                   /* items new to the index */
	int refused;                /* bad signature, format, key or name */
};

/*
 * ws_evidence_take - take what peers of t sent and keep, in the index,
 * every item that is a pointer of (pk, name) with a good signature
 * (ws_index_put_pointer: an item that conflicts with a kept one flags the
 * name and logs the equivocation there).  Fills *seen.  Returns 0 or an
 * index error that kept an item from being recorded.
 */
int ws_evidence_take(struct ws_store *st, ws_lt_torrent *t, const uint8_t pk[32],
		     const char *name, struct ws_evidence_seen *seen);

/*
 * ws_evidence_exchange - for a node seeding release mhash as t: take what
 * its peers told, then offer what it now knows.  Errors are dropped: the
 * next call tries again.
 */
void ws_evidence_exchange(struct ws_store *st, ws_lt_torrent *t,
			  const uint8_t mhash[32]);

#endif
