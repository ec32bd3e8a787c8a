/*
 * bundle.h - offline bundles: a release as one tar (or tar.zst) file.
 *
 * Part of store/ (libarchive).  A bundle holds, in this order:
 *   NAME@V/.weightsync/manifest.json
 *   NAME@V/.weightsync/manifest.json.minisig
 *   NAME@V/.weightsync/publisher.pub       the publisher's minisign key
 *   NAME@V/<path>                          every file, in manifest order
 * Both directions stream: no temporary copy of the model is made.
 */
#ifndef WS_STORE_BUNDLE_H
#define WS_STORE_BUNDLE_H

#include <stdint.h>

#include "store.h"

/*
 * ws_bundle_export - write the complete release r (manifest and signature
 * loaded) to path: tar, or tar.zst when path ends in ".zst" or ".tzst"
 * (the CLI refuses other names).  Written to
 * a temporary file renamed into place, so a failure leaves nothing.
 */
int ws_bundle_export(struct ws_store *st, const struct ws_release *r,
		     const char *path, uint64_t *bytes, char **msg);

/* Called once the manifest is read and verified: return 0 to go on, or an
 * error (untrusted publisher...) to stop before any file is written. */
typedef int (*ws_bundle_accept_fn)(void *ctx, const struct ws_manifest *m,
				   char **msg);

struct ws_bundle_import {
	struct ws_manifest m;       /* the verified manifest */
	char *relpath;              /* release folder, relative to the home */
	int already;                /* the store had it: nothing written */
	uint64_t bytes;             /* model bytes read and verified */
};

/*
 * ws_bundle_import - read a bundle, verifying as it streams: the manifest's
 * signature (by the key it names, which accept() must approve), then every
 * entry: a regular file the manifest lists, once, of the listed size, with
 * the listed SHA-256.  Refused: absolute paths, "..", links, devices,
 * duplicates, unlisted files, wrong sizes, missing files.  The release is
 * committed to the index (chain rules apply) only when all is verified; on
 * any failure the staging folder is removed and the index is unchanged.
 * Release out with ws_bundle_import_release.
 */
int ws_bundle_import(struct ws_store *st, const char *path,
		     ws_bundle_accept_fn accept, void *ctx,
		     struct ws_bundle_import *out, char **msg);
void ws_bundle_import_release(struct ws_bundle_import *b);

#endif
