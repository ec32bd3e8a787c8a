/*
 * names.h - release names in the DHT: signed pointers (proto/pointer.h)
 * put, re-put and resolved through libtorrent's BEP 44 support.
 *
 * Part of node/.  Publishing signs the pointers and keeps them in the
 * index; a running node puts every pointer it keeps (its own and those of
 * releases it mirrors) at start, whenever new ones appear, and about
 * hourly, so a name stays resolvable after its publisher is gone for good.
 */
#ifndef WS_NODE_NAMES_H
#define WS_NODE_NAMES_H

#include <stdint.h>

#include "lt.h"
#include "proto/pointer.h"
#include "store/store.h"

/*
 * ws_names_sign - sign the "NAME" (out[0]) and "NAME@VERSION" (out[1])
 * pointers of a release being published.  ws_publish_commit keeps them
 * in the index with the release, so none is kept for a release that
 * never was.
 */
int ws_names_sign(const struct ws_seckey *sk, const struct ws_manifest *m,
		  const uint8_t mhash[32], const uint8_t ih1[20],
		  const uint8_t ih2[32], struct ws_pointer out[2], char **msg);

/* ws_names_put_all - put every pointer the index keeps into the DHT (no
 * key needed: they are already signed).  Returns how many were put. */
int ws_names_put_all(struct ws_store *st, ws_lt_session *s);

/*
 * ws_names_announce - put the kept pointers of name ("NAME" and every
 * "NAME@V") into the DHT from a short-lived session made from net: waits
 * (at most timeout_ms) for the routing table to have nodes, puts, and
 * gives libtorrent a moment to send the puts out.  *nodes is the routing
 * table size seen.  WS_ETIMEOUT when no DHT node answered.
 */
struct ws_net_opts;
int ws_names_announce(struct ws_store *st, const struct ws_net_opts *net,
		      const char *name, int timeout_ms, int *nodes, char **msg);

/*
 * ws_names_resolve - the pointer of (pk, name) for version (0: latest).
 *
 * Asks the DHT (waiting at most timeout_ms), checks every item received,
 * keeps the valid ones in the index, and compares with what the index
 * already holds:
 *   - two different valid pointers for one version: WS_EEQUIVOCATION;
 *   - a latest pointer below a version this node already knows (an old
 *     pointer replayed): WS_EROLLBACK;
 *   - nothing valid in the DHT: the index's own pointer if it has one,
 *     else WS_ENOTFOUND.
 * Items that fail their signature or format are ignored (counted in
 * *ignored when not NULL).
 */
int ws_names_resolve(struct ws_store *st, ws_lt_session *s, const uint8_t pk[32],
		     const char *name, int64_t version, int timeout_ms,
		     struct ws_pointer *out, int *ignored, char **msg);

/*
 * ws_names_resolve_watch - ws_names_resolve without the wait on the path:
 * returns the pointer as soon as the first valid item is in (checked
 * against the index as ws_names_resolve checks it: rollback, equivocation
 * with what the index holds), and leaves a watch (*watch, on a thread of
 * its own) that goes on listening in the DHT meanwhile:
 *   - first the window ws_names_resolve waits for (a lookup until it is
 *     complete, 500 ms at most), every item checked and kept as above;
 *   - at the same time, when per_version_ms > 0, the "NAME@V" pointer of
 *     the version found (ws_names_resolve, bounded by per_version_ms), so
 *     the index keeps it; a conflict there counts as one for this version
 *     when it is heard within 5 s (the final verdict waits that long for
 *     it at most; past that, what it finds is kept but decides nothing);
 *   - then another lookup every second until the verdict is asked for.
 * Two different valid pointers for one version heard at any of these
 * steps are the watch's verdict: WS_EEQUIVOCATION (both kept as evidence,
 * the name flagged).  The caller must not commit anything the pointer
 * names before ws_names_watch_verdict(final) said 0, and must free the
 * watch before s.  Errors as ws_names_resolve; no watch is left then.
 */
struct ws_names_watch;
int ws_names_resolve_watch(struct ws_store *st, ws_lt_session *s, const uint8_t pk[32],
			   const char *name, int64_t version, int timeout_ms,
			   int per_version_ms, struct ws_pointer *out, int *ignored,
			   struct ws_names_watch **watch, char **msg);

/*
 * ws_names_watch_verdict - what the watch heard so far: 0, or the error
 * that refuses the release (with *msg).  With final set it first waits for
 * the first window and the per-version lookup to be over, then stops the
 * watch (waiting at most for its lookup under way, 300 ms): nothing heard
 * after that counts.  (ws_names_watch_free then waits for a per-version
 * lookup still under way, up to its bound.)  Without final it never waits (call it as often as
 * wanted from the thread that owns the watch).  *newest (when not NULL) is
 * the highest valid pointer heard (the one acted on, or a newer version).
 */
int ws_names_watch_verdict(struct ws_names_watch *w, int final,
			   struct ws_pointer *newest, char **msg);

/* ws_names_watch_free - stop the watch (as a final verdict) and free it.
 * NULL is a no-op. */
void ws_names_watch_free(struct ws_names_watch *w);

#endif
