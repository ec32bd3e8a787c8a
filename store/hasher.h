/*
 * hasher.h - hash many files at once, on every core, reading each byte once
 * from storage.
 *
 * Work is cut into tasks: a file's plain SHA-256 (sequential by nature) and
 * runs of its merkle chunks and v1 pieces, 4 MiB or one piece at a time
 * (independent, so one huge file still keeps every core busy).  Worker threads take tasks from one queue,
 * SHA-256 tasks first, largest first, so a single big file hashes its
 * SHA-256 on one core while the others build its merkle tree and v1 pieces.
 *
 * Files are read with pread, not mmap, so a file truncated under us is an
 * error (-EIO with "changed while hashing"), never a SIGBUS.
 */
#ifndef WS_STORE_HASHER_H
#define WS_STORE_HASHER_H

#include <stddef.h>
#include <stdint.h>

struct ws_hash_file {
	/* in */
	const char *path;           /* opened with O_RDONLY, symlinks followed */
	int want_sha256;            /* compute the plain SHA-256 */
	int sha256_only;            /* and nothing else: no merkle tree, no v1
				     * pieces (root stays zero) */
	uint64_t v1_piece_size;     /* compute v1 SHA-1 pieces of this size (a
				     * power of two >= 16 KiB; WS_EFORMAT
				     * otherwise), 0 for none; chunk roots are
				     * then per piece when pieces are < 4 MiB */
	int v1_pad_last;            /* hash the last v1 piece padded with zero
				     * bytes up to v1_piece_size */
	/* out */
	int error;                  /* 0, or -errno for this file */
	uint64_t size;              /* size when opened */
	uint8_t sha256[32];         /* when want_sha256 */
	uint8_t root[32];           /* v2 pieces root (zero for empty files) */
	uint8_t (*chunks)[32];      /* chunk roots, for piece layers (malloc'd) */
	uint64_t nchunks;
	uint64_t chunk_size;        /* bytes per chunk root:
				     * ws_merkle_chunk_size(v1_piece_size) */
	uint8_t (*v1)[20];          /* v1 piece hashes (malloc'd) */
	uint64_t nv1;
};

/* Called on the calling thread about ten times a second while hashing:
 * done and total are bytes of task work. */
typedef void (*ws_hash_progress_fn)(void *ctx, uint64_t done, uint64_t total);

/*
 * ws_hash_files - hash files[0..n) with `threads` workers (0: one per
 * online core).  Per-file failures go to files[i].error and do not stop the
 * others; the return value is 0 unless the whole run failed (a thread could
 * not start).  progress may be NULL.  Release each entry with
 * ws_hash_file_release.
 */
int ws_hash_files(struct ws_hash_file *files, size_t n, int threads,
		  ws_hash_progress_fn progress, void *ctx);

/* ws_hash_file_release - free chunks and v1 of one entry (inputs kept). */
void ws_hash_file_release(struct ws_hash_file *f);

#endif
