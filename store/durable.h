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
 * Above this many files, one syncfs(2) of the filesystem replaces an fsync
 * per file: every fsync of a new or newly linked file commits the ext4
 * journal (3000 small files: 6,000 fsyncs, 1.2 s of a 1.6 s publish, over
 * 20 s on a busy disk), while syncfs writes back every dirty file and
 * folder of the filesystem and commits once.  Below it, fsyncs touch only
 * our own files, whatever else the machine has left unwritten.
 */
#define WS_SYNCFS_FILES 16

/*
 * ws_sync_tree - make everything under dir durable: fsync every regular
 * file, then every folder, deepest first, ending with dir itself; or, when
 * the tree holds more than WS_SYNCFS_FILES regular files, one syncfs of
 * the filesystem holding dir.  Symbolic links are not followed.
 * Returns 0, or the first -errno met (the walk goes on past it, so that
 * as much as possible is synced); *msg (optional, malloc'd) names the
 * path that failed.
 */
int ws_sync_tree(const char *dir, char **msg);

/* ws_sync_fs - syncfs(2) of the filesystem holding path: 0 or -errno
 * (since Linux 5.8, a write-back error of any file there since the last
 * syncfs). */
int ws_sync_fs(const char *path);

/* ws_sync_dir - fsync the folder at path (after a rename into it). */
int ws_sync_dir(const char *path);

#endif
