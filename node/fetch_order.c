/*
 * fetch_order.c - which files of a release libtorrent fetches first: the
 * big ones a few at a time.
 *
 * Part of node/ (fetch_impl.h).  libtorrent 2.0.8 gives a v2 file a full
 * merkle tree in memory (aux::merkle_tree::allocate_full) as soon as one
 * of its blocks arrives, and keeps it until the last one has (then only
 * the block layer).  The tree has a node for every 16 KiB block of the
 * file rounded up to a power of two, twice: 33.5 MB for a 4.3 GB shard.
 * libtorrent picks pieces across the whole torrent, so a fetch of 163
 * such shards would hold every tree at once, about 5.5 GB
 * (docs/datapath.md).  Here the FILES_AT_ONCE first unfinished big files
 * get the top priority, the one after them a low one (so that a
 * connection has something to ask for while the last pieces of those
 * come), and the other big files none yet.  Priorities are preferences to
 * libtorrent (a peer's "allowed fast" pieces are asked for whatever their
 * priority, as long as it is not 0), so files after the window get 0.  A
 * file leaves the window once it is verified and written.  Files up to
 * BIG_FILE keep the normal priority: their trees are small, and a release
 * of thousands of small files would pay a priority change per file.
 */
#include "fetch_impl.h"
#include "proto/util.h"

#define FILES_AT_ONCE 4
#define BIG_FILE (16ull << 20)   /* a full tree of 2048 nodes: 64 KiB */
#define PRIO_NOW 7
#define PRIO_NEXT 1
#define PRIO_NOT_YET 0
#define PRIO_NORMAL 4
#define DONE (-1)                /* f->prio: verified and written */

void ws_fetch_order_files(struct fetch *f)
{
	size_t open = 0;

	if (!f->prio) {
		/* every file starts at 0 (WS_LT_NO_FILES) */
		f->prio = xcalloc((size_t)f->nlt, sizeof(*f->prio));
	}
	for (size_t i = 0; i < f->nfiles; i++) {
		int idx = f->files[i].index, want;

		if (f->prio[idx] == DONE)
			continue;
		if (f->files[i].size <= BIG_FILE) {
			want = PRIO_NORMAL;
		} else if (f->progress && f->progress[idx] == f->files[i].size &&
			   ws_lt_file_written(f->t, idx) == 1) {
			f->prio[idx] = DONE;
			continue;
		} else {
			want = open < FILES_AT_ONCE ? PRIO_NOW :
			       open == FILES_AT_ONCE ? PRIO_NEXT : PRIO_NOT_YET;
			open++;
		}
		if (f->prio[idx] != want && ws_lt_set_file_priority(f->t, idx, want) == 0)
			f->prio[idx] = want;
	}
}
