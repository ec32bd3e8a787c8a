/*
 * publish.h - make a signed release of a model folder and place it in the
 * store.
 *
 * Part of store/.  The source folder is never moved or modified: its files
 * are cloned (or hard-linked, or copied; see ws_store_link_file) into a
 * staging folder, the staged files are hashed once on every core (SHA-256,
 * v2 merkle, and v1 pieces when asked), the manifest is written and signed,
 * and the staging folder is committed.  On any failure the staging folder
 * is removed and the index is left as it was.
 */
#ifndef WS_STORE_PUBLISH_H
#define WS_STORE_PUBLISH_H

#include <stdint.h>

#include "hasher.h"
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
				     * with ws_piece_size_for(release size) */
	uint64_t piece_size;        /* out: that piece size, when for_swarm */
	ws_hash_progress_fn progress; /* may be NULL */
	void *progress_ctx;
	/* out, valid after success until ws_publish_release */
	struct ws_manifest m;
	char *manifest;
	size_t manifest_len;
	char *sig;
	size_t sig_len;
	char *relpath;              /* release folder, relative to the home */
	struct ws_hash_file *hashes; /* one per manifest file, manifest order
				      * (their paths named staging files,
				      * gone after the commit) */
	size_t nhashes;
};

/* ws_publish_run - publish p->dir into st.  See the top of this file. */
int ws_publish_run(struct ws_store *st, struct ws_publish *p, char **msg);

/* ws_publish_release - free the outputs of p. */
void ws_publish_release(struct ws_publish *p);

#endif
