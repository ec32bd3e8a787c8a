/*
 * recover.h - the commit record of a release (publish, fetch, import), and
 * crash recovery of a home.
 *
 * Part of store/.  A publish holds a lock per (publisher key, name) from
 * choosing its version to its last index write, so two publishes of one
 * name on one home take turns and get consecutive versions; a fetch or an
 * import takes the same lock for its commit only.  The steps of a commit,
 * once the release is staged and verified (or hashed and signed), are
 * (docs/index.md):
 *   1. the journal is written (atomically) next to the staging folder,
 *      tmp/stage.PID.XXXXXX.journal (publish, import) or
 *      tmp/fetch-V2HEX.journal (fetch): manifest, signature, torrent,
 *      signed pointers, staging folder and release folder.  This is the
 *      commit point: from here on every step can be redone from the
 *      journal alone, without the secret key, the network or the bundle,
 *      and without reading the model again.
 *   2. the staging folder is renamed into releases/;
 *   3. the release is added to the index (complete);
 *   4. the name is trusted with the key, if no key was trusted for it;
 *   5. the torrent is kept in the index;
 *   6. the two signed pointers are kept in the index;
 *   7. the journal is removed (and, when recovery finished it, the
 *      scratch folder the staging folder was in: tmp/fetch-V2HEX/, or an
 *      import's tmp/stage.PID.XXXXXX/).
 * A crash before step 1 leaves only a staging folder: a publish's or an
 * import's is removed once the process that made it is gone, a fetch's is
 * its resume point.  A crash after step 1 is completed by the next command
 * that opens the home (ws_store_recover from ws_store_open), or by the
 * next publish of that name.  If the index refuses the release when the
 * journal is replayed, the folder is removed again and the journal
 * dropped: nothing half-done stays.
 *
 * Test hooks (proto/util.h, ws_crash_point), in the order they are met;
 * OP is publish, fetch or import for a live commit, and recover when a
 * journal is carried out by recovery:
 *   OP:staged               staged and verified, before the journal
 *   OP:after-journal        journal written, before the rename
 *   OP:after-rename         folder in releases/, before the index entry
 *   OP:after-index          index entry written, before the torrent
 *   OP:after-torrent        torrent kept, before the pointers
 *   OP:after-pointers       pointers kept, before the journal is removed
 * (fetch and import keep no pointers; the last two points are met one
 * after the other).  Points before the commit are in the commands' own
 * code: fetch:after-manifest (node/fetch.c), import:partial
 * (store/bundle.c), export:partial, export:written, export:after-rename
 * (store/bundle.c).
 *
 * Staging folders are named stage.PID.XXXXXX after the process that owns
 * them; one whose process is gone (kill(PID, 0) fails with ESRCH) is
 * stale.  This holds for processes in one PID namespace: a home shared
 * between containers must not be used by two of them at once.
 */
#ifndef WS_STORE_RECOVER_H
#define WS_STORE_RECOVER_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "proto/pointer.h"

/* What a commit writes; every pointer member is borrowed, not owned. */
struct ws_journal {
	const char *op;             /* "publish", "fetch", "import": crash points */
	/* the release folder to move into place: home/tmp/stage.PID.XXXXXX
	 * itself (publish), or a folder NAME@VERSION in it (import) or in
	 * home/tmp/fetch-V2HEX (fetch) */
	const char *stage;
	const char *relpath;        /* release folder, relative to the home */
	const char *manifest;
	size_t mlen;
	const char *sig;
	size_t slen;
	const uint8_t *torrent;     /* bencoded torrent, or NULL for none */
	size_t torrent_len;
	uint8_t v2[32], v1[20];     /* its info-hashes */
	const struct ws_pointer *ptrs; /* signed pointers to keep (may be NULL) */
	size_t nptrs;               /* at most 2 */
	int add_trust;              /* trust the name with the key if untrusted */
	int lock;                   /* take the name's lock for the commit (a
				     * publish holds it already) */
};

/*
 * ws_journal_commit - write j's journal next to its staging folder, then
 * carry out steps 2-7 above.  Returns 0, or the index's refusal (the
 * release folder removed again, journal dropped), or an I/O error.  An
 * I/O error before the index entry is written undoes the commit (journal
 * dropped; the staging folder, if still there, is the caller's to
 * remove); after it, *kept is set to 1: the journal stays behind for
 * recovery to finish, and the staging folder belongs to it.  Before the
 * journal is written: WS_EEXIST when the index already names the release
 * complete in its folder (nothing done; the staging folder is the
 * caller's), -EEXIST when a folder no complete index entry names is in
 * the way (left for the operator; audit reports it as a stray).
 */
int ws_journal_commit(struct ws_store *st, const struct ws_journal *j,
		      int *kept, char **msg);

/*
 * ws_release_commit - the commit of a release fetch or import verified:
 * ws_journal_commit with the name's lock taken, j->relpath set from m
 * (the caller's is ignored) and j->lock set.  Returns 0 (also when the
 * release was already complete: WS_EEXIST is success here), a refusal,
 * or an error whose *msg says whether the next command finishes it.  On
 * success *relpath (if not NULL) is the release folder relative to the
 * home (malloc'd), and *already (if not NULL) is 1 when the release was
 * complete before this commit (another fetch or import of it got to the
 * lock first: nothing of this one was kept), else 0.  The staging folder
 * is the caller's to remove afterwards in every case; the release folder
 * is no longer in it.
 */
int ws_release_commit(struct ws_store *st, const struct ws_journal *j,
		      const struct ws_manifest *m, char **relpath, int *already,
		      char **msg);

/* A held publish lock of one (publisher key, name). */
struct ws_name_lock;

/*
 * ws_name_lock - take the publish lock of (pk, name) in home/tmp, waiting
 * for it.  The lock is an flock(2), so a process that dies lets go of it.
 * Returns 0 or -errno.  Let go with ws_name_unlock (NULL is ignored).
 */
int ws_name_lock(struct ws_store *st, const uint8_t pk[32], const char *name,
		 struct ws_name_lock **out);
void ws_name_unlock(struct ws_name_lock *l);

/*
 * ws_store_recover - finish the commits that a crash interrupted after
 * their commit point, and remove staging folders no live process owns.
 * With pk and name set, only that name's journals (the caller holds its
 * lock, and no staging folder is swept); with both NULL, every journal
 * whose lock is free, then every stale staging folder.  Best effort:
 * what cannot be done now (a read-only home) is left for a later run and
 * reported by ws_store_strays.  Returns how many publishes were finished.
 */
int ws_store_recover(struct ws_store *st, const uint8_t *pk, const char *name);

/*
 * ws_store_finish_journals - as ws_store_recover(st, NULL, NULL) without
 * the sweep of staging folders and locks: safe at any time in a process
 * that may have staging folders of its own (a fetch that waited for the
 * lock of a fetch that died calls it).  Returns how many were finished.
 */
int ws_store_finish_journals(struct ws_store *st);

enum ws_stray_kind {
	WS_STRAY_RELEASE = 1,       /* under releases/, named by no index entry */
	WS_STRAY_STAGE,             /* staging folder no live process owns */
	WS_STRAY_JOURNAL,           /* commit journal not yet finished */
};

struct ws_stray {
	char *path;                 /* relative to the home */
	int kind;                   /* enum ws_stray_kind */
};

/* ws_stray_kind_name - "stray", "stale", "unfinished". */
const char *ws_stray_kind_name(int kind);

/*
 * ws_store_strays - what a crash or a hand left in the home that no index
 * entry or live process accounts for.  *out is an array of *n entries,
 * sorted by path (free with ws_strays_free).  Returns 0 or an error
 * reading the index or the folders.
 */
int ws_store_strays(struct ws_store *st, struct ws_stray **out, size_t *n);
void ws_strays_free(struct ws_stray *s, size_t n);

#endif
