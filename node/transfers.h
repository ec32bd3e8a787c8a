/*
 * transfers.h - the node's fetches, each on a worker thread beside the
 * node's loop, all in the node's one libtorrent session.
 *
 * Part of node/.  A transfer is one verified fetch (node/fetch.h) of a
 * release link, a .torrent or a NAME[@V], asked for by a client over the
 * control socket or by the node itself when it follows a name.  It is
 * queued until one of max_active slots is free, then runs ws_fetch_run /
 * ws_fetch_name on its own thread with the node's session (one listen
 * port, the node's DHT).  The loop never waits for a transfer: it reads
 * snapshots (ws_transfers_json) and collects the finished ones
 * (ws_transfers_reap).
 *
 * pause: the transfer's torrent exchanges no data (a queued one does not
 * start; one resolving a name finishes its lookup, then starts nothing;
 * one waiting behind another fetch of the same release does not take over
 * when that one ends) until resume; the stall timeout stands still
 * meanwhile.
 * cancel: the fetch stops as an interrupted fetch does: nothing enters
 * releases/ and the index never marks the release complete (its manifest
 * may already be in the index as not complete, as after Ctrl-C); what was
 * verified stays under home/tmp/fetch-HASH/ as resumable partial data, so
 * fetching the same release again later resumes from it.
 *
 * Every function is safe to call from the loop while transfers run; the
 * worker threads touch nothing of the caller's.
 */
#ifndef WS_NODE_TRANSFERS_H
#define WS_NODE_TRANSFERS_H

#include <jansson.h>
#include <stdint.h>

#include "fetch.h"

enum ws_xfer_kind { WS_XFER_LINK, WS_XFER_TORRENT, WS_XFER_NAME };

/* What to fetch.  Given to ws_transfers_add, which takes ownership of
 * torrent and peers[]. */
struct ws_xfer_req {
	enum ws_xfer_kind kind;
	struct ws_link link;        /* WS_XFER_LINK: a release link */
	uint8_t *torrent;           /* WS_XFER_TORRENT (malloc'd) */
	size_t torrent_len;
	struct ws_pubkey named;     /* WS_XFER_NAME: the key the name means */
	char name[WS_NAME_MAX + 1];
	int64_t version;            /* 0: the latest */
	struct ws_pubkey publisher; /* --publisher, when has_publisher */
	int has_publisher;
	char *peers[WS_MAX_ADDRS];  /* extra peers to dial (malloc'd each) */
	size_t npeers;
	int stall_timeout;          /* seconds (0: 60) */
	int origin;                 /* WS_ORIGIN_* (fetch.h): what an hf://
				     * origin the manifest names may supply */
	int resolve_ms;             /* WS_XFER_NAME: per lookup (0: 15000) */
	int follow;                 /* started by the node for a followed name */
	double started;             /* CLOCK_MONOTONIC seconds the client's
				     * command started (same machine, same
				     * clock), for first_data_seconds; 0: when
				     * added */
};

struct ws_transfers;

/*
 * ws_transfers_new - an empty table for st's node.  ses (not owned) is
 * the node's session and net its network options (not owned; both must
 * outlive the table); max_active transfers run at once (0: 4).
 */
struct ws_transfers *ws_transfers_new(struct ws_store *st, ws_lt_session *ses,
				      const struct ws_net_opts *net, int max_active);

/*
 * ws_transfers_add - queue req (consumed: its memory belongs to the table
 * afterwards, whatever the result) and start its thread.  *id is the new
 * transfer's number (1, 2, ...).  Errors: -errno when no thread could be
 * made (with *msg).
 */
int ws_transfers_add(struct ws_transfers *xs, struct ws_xfer_req *req, int *id,
		     char **msg);

/*
 * ws_transfers_pause - pause (on) or resume (!on) transfer id.
 * ws_transfers_cancel - stop it (see above).
 * Both: 0; WS_ENOTFOUND for no such transfer; WS_EEXIST when it has
 * already finished.
 */
int ws_transfers_pause(struct ws_transfers *xs, int id, int on);
int ws_transfers_cancel(struct ws_transfers *xs, int id);

/*
 * ws_transfers_json - a snapshot: every transfer (id 0) or transfer id, as
 * docs/control.md describes a transfer object (with "result" once done).
 * A new array (id 0) or object, or NULL for an unknown id.
 */
json_t *ws_transfers_json(struct ws_transfers *xs, int id);

/*
 * ws_transfers_set_wake - fd (not owned; -1: none) gets one byte, written
 * without blocking (dropped when the pipe is full), whenever a transfer
 * changes phase or finishes, so a loop that polls fd serves its clients
 * at once rather than on its next timeout.  Setting it waits for any
 * write under way: after ws_transfers_set_wake(xs, -1) the old fd is
 * never written again and may be closed.
 */
void ws_transfers_set_wake(struct ws_transfers *xs, int fd);

/* ws_transfers_finished - 1 when transfer id has finished (or is
 * unknown), 0 while queued or running. */
int ws_transfers_finished(struct ws_transfers *xs, int id);

/* ws_transfers_following - 1 when a follow transfer of (pk, name) is
 * queued or running. */
int ws_transfers_following(struct ws_transfers *xs, const uint8_t pk[32],
			   const char *name);

/*
 * ws_transfers_reap - join the threads of transfers that finished since
 * the last call and call fn once for each (its snapshot, borrowed for the
 * call); forget the oldest finished ones beyond a few dozen.
 */
void ws_transfers_reap(struct ws_transfers *xs,
		       void (*fn)(void *ctx, const json_t *t), void *ctx);

/*
 * ws_transfers_free - cancel every transfer, wait for their threads (each
 * stops within a fraction of a second, keeping what it verified) and free
 * the table.  NULL is a no-op.
 */
void ws_transfers_free(struct ws_transfers *xs);

/* ws_xfer_req_release - free what a request owns (torrent, peers). */
void ws_xfer_req_release(struct ws_xfer_req *req);

#endif
