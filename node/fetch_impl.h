/*
 * fetch_impl.h - the state one fetch shares between node/fetch*.c.
 * Internal to node/fetch*.c: nothing else includes it.
 *
 *   fetch.c         the phases: metadata, manifest, data, the final word
 *   fetch_check.c   the manifest against the link, the index and the torrent
 *   fetch_resume.c  resume data saved while downloading, and trusted again
 *                   only for files nobody touched while the fetch was stopped
 *   fetch_name.c    NAME[@V]: resolve the pointer, fill the chain, fetch
 *   fetch_order.c   which files libtorrent fetches first
 */
#ifndef WS_NODE_FETCH_IMPL_H
#define WS_NODE_FETCH_IMPL_H

#include "fetch.h"

struct fetch {
	struct ws_store *st;
	const struct ws_fetch_opts *o;
	struct ws_fetch_result *res;
	ws_lt_session *ses;
	ws_lt_torrent *t;
	char *staging;              /* home/tmp/fetch-HEX */
	char *tfile;                /* staging/.torrent */
	char top[WS_NAME_MAX + 32]; /* the torrent's top folder: NAME@VERSION */
	char *data;                 /* staging/top */
	struct ws_lt_file_info *files; /* real files, torrent order */
	size_t nfiles;
	int nlt;                    /* libtorrent's file count (pad files too) */
	uint64_t *progress;         /* nlt entries: verified bytes per file */
	uint64_t *synced;           /* nlt entries: bytes fsynced per file */
	uint64_t *kicked;           /* nlt entries: bytes sent to writeback */
	double last_kick;           /* when writeback was last started */
	int torrent_kept;           /* .torrent rewritten with its layers */
	char *manifest, *sig;
	size_t mlen, slen;
	uint8_t mhash[32];
	char **msg;
	double started;
	uint64_t data_base;         /* payload bytes before the data phase */
	int resumed;                /* added with resume data */
	int checking_seen;          /* libtorrent re-read files from disk */
	double last_save;           /* when resume data was last saved */
	double save_cost;           /* seconds that save took */
	size_t files_done_saved;    /* complete files at the last save */
	double last_beat;
	double all_in_at;           /* when every piece was in, or 0 */
	struct fetch_origin *origin; /* fetch_origin.c, or NULL */
	int peers_again;            /* the data phase: ask peers_hook each slice */
	int *prio;                  /* nlt entries: the priority last set */
	unsigned char *proven;      /* manifest order: vouched for by its v2
				     * piece layer, no whole-file check */
};

/* Fill f->progress from libtorrent (one call for every file). */
int ws_fetch_poll_files(struct fetch *f);

/*
 * ws_fetch_read_manifest - read the manifest and its signature from the
 * staging folder into f->manifest and f->sig (replacing what they held),
 * once libtorrent has them (verified and written, ws_lt_file_written).
 * Returns 1 when they are the bytes the torrent lists (size and v2 pieces
 * root; the torrent is the one the link's info-hash names); 0, with
 * f->manifest NULL, when a file is missing, unreadable, cut short or holds
 * other bytes: a copy on this disk gone wrong (a restart whose resume data
 * vouched for pieces the disk lost), to fetch again, never a verdict on
 * the release.
 */
int ws_fetch_read_manifest(struct fetch *f);

/*
 * ws_fetch_check_manifest - everything about the downloaded manifest,
 * before any model data: signature, trust, the link's manifest hash, name
 * and version, the torrent's folder, and that the torrent's files, sizes
 * and v2 pieces roots are exactly the manifest's; then the chain rules
 * (the manifest enters the index as not complete).  Fills f->res->m,
 * f->manifest/sig (read from the staging folder unless already read),
 * f->mhash.  Errors as ws_fetch_run.
 */
int ws_fetch_check_manifest(struct fetch *f);

/*
 * ws_fetch_resume_open - the resume data a stopped fetch saved under
 * f->staging, and the libtorrent indices of the files changed on disk
 * since the fetch stopped (their pieces are downloaded again, never
 * trusted): *resume (malloc'd) and *distrust (malloc'd, *ndistrust
 * entries) for ws_lt_add_resumed.  WS_ENOTFOUND when there is none (or it
 * cannot be read: then the files are checked from disk, as without it).
 */
int ws_fetch_resume_open(struct fetch *f, uint8_t **resume, size_t *rlen,
			 int **distrust, size_t *ndistrust);

/*
 * ws_fetch_resume_tick - during the data phase: every few seconds, and
 * each time a file completes, make what is verified durable (fsync the
 * files that grew) and save resume data, once every v2 piece layer is in
 * (see fetch_resume.c).  force saves now.  A
 * failed save is reported in *f->msg only when force is set; otherwise
 * the next tick tries again.
 */
int ws_fetch_resume_tick(struct fetch *f, int force);

/* Touch the heartbeat (five times a second at most): it tells a restart, and a
 * second fetch waiting for this one, that this one is alive. */
void ws_fetch_heartbeat(struct fetch *f);

/*
 * ws_fetch_origin_open - once the manifest is verified: when it names an
 * hf:// origin and f->o->origin allows it, get ready to take pieces from
 * the hub by range (node/hub.h); with WS_ORIGIN_ONLY, peers are asked for
 * no piece from now on.  Returns 0 (also when there is no origin to use)
 * or an error.
 */
int ws_fetch_origin_open(struct fetch *f);
/*
 * ws_fetch_origin_tick - during the data phase: hand the pieces read from
 * the origin to libtorrent, which checks them like any piece, and start
 * reading the pieces the swarm does not supply (all of them with
 * WS_ORIGIN_ONLY; else once the swarm brought nothing for a few seconds).
 * Returns 0 or an error that ends the fetch.
 */
int ws_fetch_origin_tick(struct fetch *f);

/*
 * ws_fetch_order_files - set the files' priorities for the data phase:
 * the first few unfinished big files first (fetch_order.c says why), the
 * others after them, small files as usual.  Call it when the data phase
 * starts and whenever f->progress was polled; it changes a priority only
 * when the answer changed.  Errors are not fatal: a priority libtorrent
 * refused is asked for again next time.
 */
void ws_fetch_order_files(struct fetch *f);
void ws_fetch_origin_close(struct fetch *f);
/* Remove the resume state (the release is complete or refused). */
void ws_fetch_resume_drop(struct fetch *f);

#endif
