/*
 * hf.h - Hugging Face folders: snapshot detection and blob-name checks.
 *
 * Part of store/.  A Hugging Face cache snapshot is
 *   .../models--ORG--NAME/snapshots/COMMIT/<path> -> ../../blobs/<blob>
 * where <blob> is the file's SHA-256 for LFS files and its git blob SHA-1
 * (SHA-1 of "blob <size>\0" + content) for the others.  A folder made by
 * `hf download --local-dir` keeps .cache/huggingface/download/<path>.metadata
 * whose first line is the commit and second the etag (the SHA-256 for LFS
 * files).  Publishing checks every such name against the content it signs.
 */
#ifndef WS_STORE_HF_H
#define WS_STORE_HF_H

#include <stddef.h>
#include <stdint.h>

/*
 * ws_hf_origin - "hf://ORG/NAME@COMMIT" when dir is a cache snapshot
 * folder (malloc'd), NULL otherwise.
 */
char *ws_hf_origin(const char *dir);

/*
 * ws_hf_check_file - check what Hugging Face says of dir/path against its
 * content (sha256 computed by the caller; the git blob SHA-1 is computed
 * here when the blob name needs it).  Returns 0 (matches, or nothing is
 * said), or WS_EBADHASH with *msg naming the file.
 */
int ws_hf_check_file(const char *dir, const char *path, uint64_t size,
		     const uint8_t sha256[32], char **msg);

/*
 * ws_hf_layout - lay the complete release at folder (its files described
 * by m) out as a Hugging Face cache repository under hub (a "hub" folder,
 * e.g. ~/.cache/huggingface/hub):
 *   models--ORG--NAME/blobs/<id>           links (or clones) of the files
 *   models--ORG--NAME/snapshots/COMMIT/<path> -> ../../blobs/<id>
 *   models--ORG--NAME/refs/main            COMMIT
 * ORG/NAME and COMMIT come from an "hf://ORG/NAME@COMMIT" origin, else
 * "weightsync/NAME" and the first 40 hex digits of the manifest hash.
 * <id> is the SHA-256 for LFS-style files (weights: by extension, or 10 MiB
 * and more) and the git blob SHA-1 for the others, as the hub names them.
 * *snapshot (malloc'd) is the snapshot folder, for HF_HUB_OFFLINE=1 use.
 */
struct ws_manifest;
int ws_hf_layout(const char *folder, const struct ws_manifest *m,
		 const uint8_t mhash[32], const char *hub, char **snapshot,
		 char **msg);

/* ws_hf_is_hex - 1 when s is exactly n lowercase hex digits (how the hub
 * writes blob names and commits). */
int ws_hf_is_hex(const char *s, size_t n);

/*
 * ws_hf_git_blob_id - git's blob id of the file at path: SHA-1 of
 * "blob <size>\0" and the content (the hub's name for a non-LFS file).
 * size is what the header says; a file of another length gives another id.
 * Returns 0 or -errno.
 */
int ws_hf_git_blob_id(const char *path, uint64_t size, uint8_t out[20]);

/* ws_hf_default_hub - $HF_HUB_CACHE, $HF_HOME/hub or
 * ~/.cache/huggingface/hub (malloc'd), NULL without a home. */
char *ws_hf_default_hub(void);

#endif
