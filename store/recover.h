/*
 * recover.h - a publish's commit record, and crash recovery of a home.
 *
 * Part of store/.  A publish holds a lock per (publisher key, name) from
 * choosing its version to its last index write, so two publishes of one
 * name on one home take turns and get consecutive versions.  Its steps
 * after the release is staged, hashed and signed are (docs/index.md):
 *   1. the journal tmp/stage.PID.XXXXXX.journal is written (atomically):
 *      manifest, signature, torrent, signed pointers, staging folder and
 *      release folder.  This is the commit point: from here on every
 *      step can be redone from the journal alone, without the secret key
 *      and without reading the model again.
 *   2. the staging folder is renamed into releases/;
 *   3. the release is added to the index (complete);
 *   4. the name is trusted with the key, if no key was trusted for it;
 *   5. the torrent is kept in the index;
 *   6. the two signed pointers are kept in the index;
 *   7. the journal is removed.
 * A crash before step 1 leaves only a staging folder: it is removed once
 * the process that made it is gone.  A crash after step 1 is completed by
 * the next command that opens the home (ws_store_recover from
 * ws_store_open), or by the next publish of that name.  If the index
 * refuses the release when the journal is replayed, the folder is removed
 * again and the journal dropped: nothing half-done stays.
 *
 * Test hooks (proto/util.h, ws_crash_point), in the order they are met:
 *   publish:staged          staged and signed, before the journal
 *   publish:after-journal   journal written, before the rename
 *   publish:after-rename    folder in releases/, before the index entry
 *   publish:after-index     index entry written, before the torrent
 *   publish:after-torrent   torrent kept, before the pointers
 *   publish:after-pointers  pointers kept, before the journal is removed
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

/* What a publish commits; every pointer member is borrowed, not owned. */
struct ws_journal {
	const char *stage;          /* staging folder (absolute, in home/tmp) */
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
};

/*
 * ws_journal_commit - write j's journal next to its staging folder, then
 * carry out steps 2-7 above.  Returns 0, or the index's refusal (the
 * release folder removed again, journal dropped), or an I/O error.  An
 * I/O error before the index entry is written undoes the commit (journal
 * dropped; the staging folder, if still there, is the caller's to
 * remove); after it, *kept is set to 1: the journal stays behind for
 * recovery to finish, and the staging folder belongs to it.
 */
int ws_journal_commit(struct ws_store *st, const struct ws_journal *j,
		      int *kept, char **msg);

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
 * ws_store_recover - finish the publishes that a crash interrupted after
 * their commit point, and remove staging folders no live process owns.
 * With pk and name set, only that name's journals (the caller holds its
 * lock, and no staging folder is swept); with both NULL, every journal
 * whose lock is free, then every stale staging folder.  Best effort:
 * what cannot be done now (a read-only home) is left for a later run and
 * reported by ws_store_strays.  Returns how many publishes were finished.
 */
int ws_store_recover(struct ws_store *st, const uint8_t *pk, const char *name);

enum ws_stray_kind {
	WS_STRAY_RELEASE = 1,       /* under releases/, named by no index entry */
	WS_STRAY_STAGE,             /* staging folder no live process owns */
	WS_STRAY_JOURNAL,           /* publish journal not yet finished */
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
