/*
 * hf_audit.h - check what the Hugging Face hub's own client left on disk,
 * with no weightsync release: every blob against its own name.
 *
 * Part of store/.  A Hugging Face cache (hf.h) names each blob by its hash:
 * 64 hex digits are the SHA-256 of the content (LFS files), 40 the git blob
 * SHA-1 (SHA-1 of "blob <size>\0" + content).  So a cache can be checked
 * offline: hash each blob, compare with its name, and resolve each snapshot
 * link to the blob it names.  The hub's client writes a download in
 * progress as blobs/<id>.incomplete; those are reported, not checked.
 */
#ifndef WS_STORE_HF_AUDIT_H
#define WS_STORE_HF_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "hasher.h"

enum ws_hf_kind {
	WS_HF_NONE = 0,             /* not a Hugging Face folder */
	WS_HF_CACHE,                /* a hub cache: models--ORG--NAME folders */
	WS_HF_REPO,                 /* one models--ORG--NAME (blobs/, snapshots/) */
	WS_HF_SNAPSHOT,             /* one snapshots/COMMIT folder of a repo */
};

enum ws_hf_state {
	WS_HF_OK = 0,
	WS_HF_MODIFIED,             /* content does not match the blob's name */
	WS_HF_DANGLING,             /* a snapshot link whose blob is missing */
	WS_HF_INCOMPLETE,           /* a download in progress (.incomplete) */
	WS_HF_UNCHECKED,            /* nothing to check against: a plain file in
				     * a snapshot, a blob name that is no hash */
	WS_HF_UNREADABLE,           /* could not be read (error holds -errno) */
	WS_HF_NSTATES
};

struct ws_hf_audit_entry {
	char *repo;                 /* "ORG/NAME" (datasets and spaces:
				     * "datasets/ORG/NAME", "spaces/ORG/NAME") */
	char *path;                 /* relative to the repo folder:
				     * "snapshots/COMMIT/PATH", or "blobs/ID"
				     * for a blob no checked snapshot names */
	char *blob;                 /* the blob's name (the link's target's
				     * last part), or NULL for a plain file */
	int state;                  /* enum ws_hf_state */
	int error;                  /* -errno, for WS_HF_UNREADABLE */
	uint64_t size;              /* bytes on disk (0 when missing) */
};

struct ws_hf_audit {
	struct ws_hf_audit_entry *entries; /* repo by repo (sorted), each repo's
					    * snapshot files, then its other blobs */
	size_t n;
	size_t count[WS_HF_NSTATES];
	size_t nrepos;
	uint64_t bytes_hashed;
};

/* ws_hf_kind - what kind of Hugging Face folder dir is (enum ws_hf_kind). */
int ws_hf_kind(const char *dir);

/* ws_hf_state_name - "ok", "modified", "dangling", "incomplete",
 * "unchecked", "unreadable". */
const char *ws_hf_state_name(int state);

/*
 * ws_hf_audit - audit dir, a folder of one of the kinds above: a snapshot
 * alone checks the blobs its links name; a repo checks every snapshot and
 * every blob; a cache every repo in it.  Large blobs are hashed on every
 * core (hasher.h; progress may be NULL).  Returns 0 when the audit ran,
 * whatever it found (see out->count), WS_EFORMAT when dir is no Hugging
 * Face folder, or -errno when a folder cannot be read.  Release out with
 * ws_hf_audit_release.
 */
int ws_hf_audit(const char *dir, ws_hash_progress_fn progress, void *ctx,
		struct ws_hf_audit *out, char **msg);

/* ws_hf_audit_intact - 1 when nothing is modified, dangling or unreadable. */
int ws_hf_audit_intact(const struct ws_hf_audit *a);

void ws_hf_audit_release(struct ws_hf_audit *a);

#endif
