/*
 * publish.h - make a signed release of a model folder and place it in the
 * store.
 *
 * Part of store/.  The source folder is never moved or modified: its files
 * are cloned (or hard-linked, or copied; see ws_store_link_file) into a
 * staging folder, the staged files are hashed once on every core (SHA-256,
 * v2 merkle, and v1 pieces when asked), the manifest is written and signed.
 * Then the caller builds what else the release needs (its torrent, its
 * signed name pointers: node/) and commits it all with ws_publish_commit.
 *
 * Publishing is one transaction (recover.h): the version is chosen under a
 * lock on (publisher key, name) that is held until the commit is done, so
 * two publishes of one name on one home get consecutive versions; and once
 * the commit is written, a crash is finished by the next command that
 * opens the home.  On any failure before that, the staging folder is
 * removed and the index is left as it was.
 */
#ifndef WS_STORE_PUBLISH_H
#define WS_STORE_PUBLISH_H

#include <stdint.h>

#include "hasher.h"
#include "recover.h"
#include "store.h"

struct ws_publish {
	/* in */
	const char *dir;            /* the model folder */
	const char *name;           /* release name (ws_name_check) */
	int64_t version;            /* 0: one above the highest known */
	const char *origin;         /* optional */
	const char *license;        /* optional */
	int retracted;              /* mark this version retracted */
	int copy;                   /* copy files, never hard-link them */
	const struct ws_seckey *sk;
	int for_swarm;              /* also hash v1 pieces for a hybrid torrent,
				     * with ws_piece_size_for_files(the
				     * files' sizes) */
	uint64_t piece_size;        /* out: that piece size, when for_swarm */
	int64_t created;            /* the manifest's creation time; 0: now */
	/*
	 * Optional: hashes already made of some files of dir, so that publish
	 * does not read them again (weightsync mirror hashes each file as it
	 * downloads it, ws_hash_stream).  Entry k stands for the file whose
	 * path relative to dir is hashed[k].path (entries with a NULL path are
	 * skipped); it is used only when it was made with want_sha256, without
	 * sha256_only, with v1_piece_size equal to the piece size publish
	 * chooses (0 unless for_swarm), with v1_pad_last, no error, and its
	 * size equals the staged file's: otherwise that file is hashed as any
	 * other.  The caller vouches that the file's bytes are the ones that
	 * were hashed (it wrote them and has not let them out of its hands);
	 * a file verified by an earlier process must not be passed here.
	 * Borrowed: the entries are copied, the caller keeps them.
	 */
	const struct ws_hash_file *hashed;
	size_t nhashed;
	ws_hash_progress_fn progress; /* may be NULL */
	void *progress_ctx;
	/* held from ws_publish_run to the end of ws_publish_commit */
	struct ws_name_lock *lock;
	char *stage;                /* staging folder, until committed */
	/* out, valid after success until ws_publish_release */
	struct ws_manifest m;
	char *manifest;
	size_t manifest_len;
	char *sig;
	size_t sig_len;
	char *relpath;              /* release folder, relative to the home
				     * (there once committed) */
	struct ws_hash_file *hashes; /* one per manifest file, manifest order
				      * (their paths named staging files,
				      * gone after the commit) */
	size_t nhashes;
};

/*
 * ws_publish_run - stage, hash and sign p->dir as the next version of
 * p->name in st (see the top of this file), holding the name's publish
 * lock.  Nothing is in the index or under releases/ until
 * ws_publish_commit; ws_publish_release without a commit undoes it.
 */
int ws_publish_run(struct ws_store *st, struct ws_publish *p, char **msg);

/*
 * ws_publish_commit - commit a release staged by ws_publish_run, with its
 * torrent (NULL for none: torrent_len, v2 and v1 are then ignored) and
 * nptrs (0 to 2) signed pointers, all kept in the index; with add_trust,
 * p->name is trusted with the publisher key if no key was.  Returns 0, or
 * the index's refusal (nothing kept), or an I/O error (the commit is then
 * finished by the next command that opens the home, if it can be).  The
 * publish lock is let go in every case.
 */
int ws_publish_commit(struct ws_store *st, struct ws_publish *p,
		      const uint8_t *torrent, size_t torrent_len,
		      const uint8_t v2[32], const uint8_t v1[20],
		      const struct ws_pointer *ptrs, size_t nptrs, int add_trust,
		      char **msg);

/* ws_publish_release - free the outputs of p; remove the staging folder
 * and let go of the lock if ws_publish_commit was not called. */
void ws_publish_release(struct ws_publish *p);

#endif
