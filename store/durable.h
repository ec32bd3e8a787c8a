/*
 * durable.h - putting a tree on stable storage before the index names it.
 *
 * Part of store/.  The order a release becomes durable in (docs/index.md):
 * its files' data, then its folders (their entries), then the rename into
 * releases/ and the parent folder, and only then the index entry, which
 * LMDB commits with its own fsync.  A crash at any point leaves either no
 * index entry or an index entry whose files are all on disk.
 */
#ifndef WS_STORE_DURABLE_H
#define WS_STORE_DURABLE_H

/*
 * ws_sync_tree - fsync every regular file under dir, then every folder,
 * deepest first, ending with dir itself.  Symbolic links are not followed.
 * Returns 0, or the first -errno met (the walk goes on past it, so that
 * as much as possible is synced); *msg (optional, malloc'd) names the
 * path that failed.
 */
int ws_sync_tree(const char *dir, char **msg);

/* ws_sync_dir - fsync the folder at path (after a rename into it). */
int ws_sync_dir(const char *path);

#endif
