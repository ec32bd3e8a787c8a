/*
 * fetch.h - get a signed release from the swarm, verifying before trusting.
 *
 * Part of node/.  The order is the point:
 *   1. the torrent's metadata comes from peers (or from a partial fetch
 *      kept under home/tmp/fetch-V2HEX/, which is how a fetch resumes);
 *   2. only .weightsync/manifest.json and its signature are downloaded;
 *   3. they are checked: signature, trusted publisher, the link's manifest
 *      hash, the index's chain rules, and that the torrent's files, sizes
 *      and v2 pieces roots are exactly the manifest's -- any failure ends
 *      the fetch before any model data is asked for;
 *   4. files whose SHA-256 the store already holds are linked in, not
 *      downloaded;
 *   5. the rest is downloaded, every piece hash-checked by libtorrent on
 *      arrival against the v2 merkle tree (peers sending bad pieces are
 *      banned); resume data is saved as it goes (docs/datapath.md);
 *   6. the release is complete when every piece is in and libtorrent holds
 *      every v2 piece layer, so each piece was checked against the pieces
 *      roots the signed manifest lists: no file is read again (if the
 *      layers do not all come, whole files are SHA-256 checked instead);
 *      files and folders are fsynced, the folder is moved into releases/
 *      and only then is the release marked complete in the index.
 * A fetch that stops (Ctrl-C, kill -9, a stall, a power cut) keeps what it
 * verified and saved, and the next run downloads only what is missing,
 * without reading back what the resume data vouches for.  Two fetches of
 * one release on one home: the second waits for the first.
 */
#ifndef WS_NODE_FETCH_H
#define WS_NODE_FETCH_H

#include <signal.h>
#include <stdint.h>

#include "proto/link.h"
#include "session.h"
#include "store/store.h"

struct ws_fetch_progress {
	const char *phase;          /* "metadata", "manifest", "checking",
				     * "downloading", "verifying", "paused" */
	uint64_t done, total;       /* bytes of the current phase */
	int rate_down;              /* bytes/s */
	int peers;
};

struct ws_fetch_opts {
	struct ws_link link;        /* what to fetch (a release link), or: */
	const uint8_t *torrent;     /* a release .torrent (then link is unused) */
	size_t torrent_len;
	const struct ws_pubkey *publisher; /* --publisher: trust this key */
	struct ws_net_opts net;
	ws_lt_session *session;     /* use this session (not freed), or NULL:
				     * make one from net */
	int manifest_only;          /* stop once the manifest is verified and
				     * in the index (filling a chain) */
	double started;             /* CLOCK_MONOTONIC seconds the command
				     * started (0: now), for first_data_seconds */
	int stall_timeout;          /* seconds without progress before giving
				     * up (0: 60) */
	volatile sig_atomic_t *stop; /* set by a signal handler: stop cleanly */
	volatile sig_atomic_t *pause; /* while set (by another thread), the
				     * torrent exchanges no data and the
				     * stall timeout does not run; NULL:
				     * never paused */
	int origin;                 /* a manifest naming an hf:// origin:
				     * WS_ORIGIN_FALLBACK (0) takes from it the
				     * pieces the swarm does not supply,
				     * WS_ORIGIN_OFF never, WS_ORIGIN_ONLY
				     * every piece (peers give only the
				     * metadata and the manifest) */
	void (*progress)(void *ctx, const struct ws_fetch_progress *p);
	void *progress_ctx;
	/* what peers told (fetch by name, node/evidence.h): called with final
	 * 0 once the torrent's manifest has come from peers, before it is
	 * checked, then on every wait slice of the data phase, where it must
	 * not block; and with final 1 once after the last piece, before the
	 * commit, where it may wait (bounded) for peers not heard from yet.
	 * A nonzero return ends the fetch with that error and *msg, as the
	 * verdict's does.  May be NULL. */
	int (*peers_hook)(void *ctx, ws_lt_torrent *t, int final, char **msg);
	void *peers_ctx;
	/* the verdict of what is still being checked beside the download (a
	 * fetch by name goes on listening in the DHT for a conflicting
	 * pointer, node/names.h): called on every wait slice with final 0,
	 * where it must not block, and once with final 1 just before the
	 * release is committed, where it may wait for the checks to end.  A
	 * nonzero return ends the fetch with that error and *msg: nothing is
	 * committed, and with WS_EEQUIVOCATION or WS_ESTALE the staging
	 * folder is removed.  May be NULL. */
	int (*verdict)(void *ctx, int final, char **msg);
	void *verdict_ctx;
};

enum { WS_ORIGIN_FALLBACK = 0, WS_ORIGIN_OFF = 1, WS_ORIGIN_ONLY = 2 };

struct ws_fetch_result {
	struct ws_manifest m;       /* the verified manifest */
	char *relpath;              /* release folder, relative to the home */
	uint64_t downloaded;        /* payload bytes received this run */
	uint64_t reused;            /* bytes linked from the store, not fetched */
	uint64_t total;             /* bytes of model files */
	int already_complete;       /* the store had it: nothing fetched */
	int hash_failures;          /* bad pieces received (and refused) */
	int ignored_pointers;       /* DHT items refused (bad signature...) */
	double resolve_seconds;     /* time to resolve the name */
	double first_data_seconds;  /* from start to the first model byte, 0
				     * when none was downloaded */
	uint64_t resumed;           /* bytes this run started with, vouched
				     * for by the fetch's own resume data */
	uint64_t rechecked;         /* bytes libtorrent read back from disk to
				     * check them (no usable resume data, or
				     * files linked in from the store) */
	int distrusted_files;       /* files changed on disk (or gone) while
				     * the fetch was stopped that had pieces
				     * in the resume data: those come again */
	int resume_saves;           /* resume data saved this run */
	uint64_t from_origin;       /* bytes of pieces the origin supplied that
				     * passed libtorrent's check */
	int whole_file_check;       /* the v2 piece layers did not all come:
				     * whole files were SHA-256 checked */
	uint64_t whole_file_bytes;  /* bytes that check read: the files
				     * without their whole layer only */
	int64_t stale_offered;      /* fetch by name: the DHT offered this
				     * version while a peer showed a newer
				     * one signed by the publisher, which was
				     * fetched instead (0: no such thing) */
};

/*
 * ws_fetch_run - fetch o->link into st.  Returns 0 with *res filled, or:
 * WS_EUNTRUSTED, WS_EBADSIG, WS_EWRONGKEY, WS_EMISMATCH (manifest or
 * torrent disagree), WS_EROLLBACK/WS_EFORK/WS_EGAP/WS_EEQUIVOCATION (the
 * chain), WS_EBADHASH (data failed verification and no peer had good
 * data), WS_ETIMEOUT (no progress), WS_EINTERRUPTED (stopped), or an I/O
 * or network error; *msg says what.  Release *res with
 * ws_fetch_result_release.
 */
int ws_fetch_run(struct ws_store *st, const struct ws_fetch_opts *o,
		 struct ws_fetch_result *res, char **msg);

void ws_fetch_result_release(struct ws_fetch_result *r);

/* ws_fetch_now - CLOCK_MONOTONIC in seconds, the clock of o->started. */
double ws_fetch_now(void);

/*
 * ws_fetch_name - fetch NAME (version 0: the latest) of publisher pk
 * through the DHT: resolve its signed pointer (node/names.h), fill any gap
 * between what the index knows and the version wanted by fetching the
 * missing manifests (through their own "NAME@V" pointers), then fetch the
 * release as ws_fetch_run does.  o->link is ignored; resolve_timeout_ms
 * bounds each DHT lookup.  Errors as ws_fetch_run and ws_names_resolve.
 */
int ws_fetch_name(struct ws_store *st, const struct ws_fetch_opts *o,
		  const struct ws_pubkey *pk, const char *name, int64_t version,
		  int resolve_timeout_ms, struct ws_fetch_result *res, char **msg);

#endif
