/*
 * curator.h - names a newcomer can start from: the lists of the curators
 * this node subscribes to (proto/curator.h, docs/trust.md).
 *
 * Part of node/.  A subscription is a trust entry for the reserved name
 * WS_CURATOR_NAME ("curator" releases by that key are believed), kept,
 * listed and removed like any trust entry (removal recorded, not erased).
 * A curator list is believed only as the store holds it: a complete,
 * accepted release checked against its signed manifest (node/docrel.h);
 * refreshing it is an ordinary fetch, so an old list is refused like any
 * rolled-back release.
 */
#ifndef WS_NODE_CURATOR_H
#define WS_NODE_CURATOR_H

#include <stddef.h>
#include <stdint.h>

#include "proto/curator.h"
#include "store/store.h"

/* ws_curators_subscribed - the curator keys in force (*out malloc'd,
 * free(); *n may be 0).  Returns 0 or the index's error. */
int ws_curators_subscribed(struct ws_store *st, struct ws_pubkey **out, size_t *n);

/*
 * ws_curator_read - curator pk's list: version want (0: the highest the
 * store holds complete) into *out (the caller releases it), its version
 * into *version (may be NULL).  WS_ENOTFOUND when the store has none;
 * WS_EBADHASH, WS_EFORMAT... with *msg otherwise.
 */
int ws_curator_read(struct ws_store *st, const uint8_t pk[32], int64_t want,
		    struct ws_curator_list *out, int64_t *version, char **msg);

/*
 * ws_curator_note - record in the event log what the newest list of
 * curator cur changed since the last list of it this node read: a
 * "curated" event for each name it maps anew (or to another key), an
 * "uncurated" event for each name it dropped (the earlier events stay, so
 * `log NAME` keeps the old mapping), then a "curator-list" event under the
 * name "curator".  Nothing when that version was noted already.  Returns
 * 0, WS_ENOTFOUND (no list in the store) or an error.
 */
int ws_curator_note(struct ws_store *st, const struct ws_pubkey *cur);

/* What one subscribed curator says a name means. */
struct ws_curator_hit {
	struct ws_pubkey curator;
	struct ws_pubkey publisher;
	int64_t list_version;
};

/*
 * ws_curator_lookup - what every subscribed curator whose list the store
 * holds says name means: *out malloc'd (free()), one hit per curator that
 * names it, *n of them (0: none does).  Returns 0 or an index error;
 * a list that cannot be read is skipped and counted in *unreadable (may
 * be NULL).
 */
int ws_curator_lookup(struct ws_store *st, const char *name,
		      struct ws_curator_hit **out, size_t *n, int *unreadable);

#endif
