/*
 * docrel.h - signed document releases: a curator's name list and a
 * publisher's catalog, each an ordinary weightsync release of one small
 * file under a reserved name (proto/curator.h, proto/catalog.h).
 *
 * Part of node/.  Being releases, they get everything releases have: a
 * manifest signed by the one key that may make them, versions chained by
 * manifest hash, rollback and equivocation refused by the index, signed
 * "NAME" and "NAME@V" pointers in the DHT that every node keeping them
 * re-puts, and a torrent every node holding them seeds.
 */
#ifndef WS_NODE_DOCREL_H
#define WS_NODE_DOCREL_H

#include <stddef.h>
#include <stdint.h>

#include "lt.h"
#include "session.h"
#include "store/store.h"

/*
 * ws_docrel_publish - publish text (len bytes) as file in the next
 * version of (sk's key, name): staged from a folder under HOME/tmp that is
 * removed afterwards, hashed, signed, its torrent built and its two
 * pointers signed, all committed at once (store/publish.h).  The trust
 * store is not touched.  *version (may be NULL) is the version made.
 * Returns 0 or the error, with *msg.
 */
int ws_docrel_publish(struct ws_store *st, const struct ws_seckey *sk,
		      const char *name, const char *file, const char *text,
		      size_t len, int64_t *version, char **msg);

/*
 * ws_docrel_read - the file of version want (0: the highest complete
 * accepted version) of (pk, name) in the store, checked against its signed manifest (size and
 * SHA-256) before it is returned: *text malloc'd and NUL-terminated (the
 * caller frees), *len its length, *version (may be NULL) the version.
 * WS_ENOTFOUND when the store has no such complete version; WS_EBADHASH when
 * the file on disk is not the signed one; WS_ETOOBIG over cap.
 */
int ws_docrel_read(struct ws_store *st, const uint8_t pk[32], const char *name,
		   int64_t want, const char *file, size_t cap, char **text, size_t *len,
		   int64_t *version, char **msg);

/*
 * ws_docrel_refresh - fetch the latest version of (pk, name) through the
 * DHT and the swarm into st, as `fetch NAME --publisher KEY` does (so an
 * old pointer, a fork or an equivocation is refused and recorded), using
 * session s (not freed).  resolve_ms bounds each DHT lookup, stall_s the
 * download.  *version (may be NULL) is the version now complete.  Returns
 * 0 or the fetch's error, with *msg.
 */
int ws_docrel_refresh(struct ws_store *st, ws_lt_session *s,
		      const struct ws_pubkey *pk, const char *name,
		      int resolve_ms, int stall_s, int64_t *version, char **msg);

#endif
