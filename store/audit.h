/*
 * audit.h - check a folder against a signed manifest, file by file.
 *
 * Part of store/.  Each listed file is checked for presence, size and then
 * content.  Content is checked through the v2 pieces root, a SHA-256
 * merkle root that the signed manifest also carries: it is as binding as
 * the plain SHA-256 and, unlike it, can be computed on every core for a
 * single huge file.  Files not in the manifest are reported as extra (the
 * folder's own .weightsync/ excepted).  Works through symbolic links to
 * files (Hugging Face snapshots).
 */
#ifndef WS_STORE_AUDIT_H
#define WS_STORE_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "hasher.h"
#include "proto/manifest.h"

enum ws_audit_state {
	WS_AUDIT_OK = 0,
	WS_AUDIT_MODIFIED,          /* size right, content wrong */
	WS_AUDIT_MISSING,
	WS_AUDIT_WRONG_SIZE,        /* truncated or grown */
	WS_AUDIT_EXTRA,             /* present but not in the manifest */
	WS_AUDIT_UNREADABLE,        /* could not be read (error holds -errno) */
	WS_AUDIT_NSTATES
};

struct ws_audit_entry {
	char *path;
	int state;                  /* enum ws_audit_state */
	uint64_t expected_size;     /* from the manifest (0 for extra files) */
	uint64_t actual_size;       /* on disk (0 when missing) */
	int error;                  /* for WS_AUDIT_UNREADABLE */
};

struct ws_audit {
	struct ws_audit_entry *entries; /* manifest files in order, then extras */
	size_t n;
	size_t count[WS_AUDIT_NSTATES];
	uint64_t bytes_hashed;
};

/* ws_audit_state_name - "ok", "modified", "missing", "wrong size",
 * "extra", "unreadable". */
const char *ws_audit_state_name(int state);

/*
 * ws_audit_dir - audit dir against m.  Returns 0 when the audit ran
 * (whatever it found: see out->count), or an error when it could not (the
 * folder cannot be read).  Release out with ws_audit_release.
 */
int ws_audit_dir(const char *dir, const struct ws_manifest *m,
		 ws_hash_progress_fn progress, void *ctx, struct ws_audit *out,
		 char **msg);

/* ws_audit_intact - 1 when every file is ok and none is extra. */
int ws_audit_intact(const struct ws_audit *a);

void ws_audit_release(struct ws_audit *a);

#endif
