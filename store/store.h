/*
 * store.h - a node's home: the index and the release folders.
 *
 * Part of store/.  Layout of a home (docs/index.md):
 *   index/                      LMDB environment (index.h)
 *   releases/PKHEX/NAME@VERSION/ release folders: the files, and
 *                               .weightsync/manifest.json{,.minisig}
 *   keys/publisher.key{,.pub}   the default publisher key
 *   resume/V2HEX.resume         libtorrent resume data of seeded releases
 *   tmp/                        staging (stage.PID.XXXXXX/), publish journals
 *                               and locks (recover.h), partial fetches
 *                               (fetch-V2HEX/)
 * Release folders are only ever created by renaming a complete staging
 * folder into place, after a journal that lets the next command finish
 * the commit (recover.h), so a folder under releases/ is never
 * half-written and never left without its index entry.
 */
#ifndef WS_STORE_STORE_H
#define WS_STORE_STORE_H

#include <stdint.h>

#include "index.h"
#include "proto/manifest.h"

#define WS_MANIFEST_FILE WS_META_DIR "/manifest.json"
#define WS_SIG_FILE WS_META_DIR "/manifest.json.minisig"

struct ws_store {
	char *home;                 /* absolute or as given */
	ws_index *index;
};

/*
 * ws_store_home - the home directory to use: override if not NULL, else
 * $WEIGHTSYNC_HOME, else $XDG_DATA_HOME/weightsync, else
 * $HOME/.local/share/weightsync.  *out is malloc'd.
 */
int ws_store_home(const char *override, char **out);

/* ws_store_open - open (creating) the home and its index, and finish or
 * undo what a crash cut short (ws_store_recover, recover.h). */
int ws_store_open(const char *home, struct ws_store **out, char **msg);
void ws_store_free(struct ws_store *st);

/* ws_store_release_relpath - "releases/PKHEX/NAME@VERSION" (malloc'd).
 * The folder name is also the release torrent's name, so the folder's
 * parent is the save path the swarm uses. */
char *ws_store_release_relpath(const uint8_t pk[32], const char *name,
			       int64_t version);

/* ws_store_path - home/rel (malloc'd). */
char *ws_store_path(const struct ws_store *st, const char *rel);

/* ws_store_default_key - home/keys/publisher.key (malloc'd). */
char *ws_store_default_key(const struct ws_store *st);

/*
 * ws_store_stage - make a fresh staging folder home/tmp/stage.PID.XXXXXX
 * (malloc'd path in *dir).  Remove it with ws_rm_rf when not committed;
 * once this process is gone, the next ws_store_open removes it.
 */
int ws_store_stage(const struct ws_store *st, char **dir, char **msg);

/*
 * ws_store_link_file - make dst a copy of src that costs no disk when it
 * can: a reflink (copy-on-write clone), else a hard link, else a copy.
 * Parent folders of dst are created.  With copy_only, never a hard link.
 * A copy is not synced: the caller makes the tree durable
 * (ws_sync_tree) before the index names it.
 */
int ws_store_link_file(const char *src, const char *dst, int copy_only,
		       char **msg);

/*
 * ws_store_write_meta - write .weightsync/manifest.json and its .minisig
 * into release folder dir.
 */
int ws_store_write_meta(const char *dir, const char *manifest, size_t mlen,
			const char *sig, size_t slen, char **msg);

/*
 * ws_store_read_meta - read a release folder's manifest and signature
 * (bounded).  Buffers are malloc'd and NUL-terminated.
 */
int ws_store_read_meta(const char *dir, char **manifest, size_t *mlen,
		       char **sig, size_t *slen, char **msg);

/* Committing a staged release into releases/ and the index is
 * ws_journal_commit and ws_release_commit (recover.h). */

#endif
