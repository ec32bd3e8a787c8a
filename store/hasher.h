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

/*
 * Streaming: the same results as ws_hash_files, for one file whose bytes
 * arrive in order (a download), without reading it back.  The file's size
 * must be known before its first byte (a Hugging Face record gives it): the
 * v2 tree's shape depends on it.
 *
 * ws_hash_stream_new - start hashing a file of size bytes into f, whose
 *   inputs (want_sha256, sha256_only, v1_piece_size, v1_pad_last; path is
 *   not used) are as for ws_hash_files; its outputs are allocated now and
 *   filled by ws_hash_stream_final.  With thread, the hashing runs on a
 *   worker thread of the stream's own (when the file is larger than one
 *   buffer, and the thread could start): ws_hash_stream_update then only
 *   copies into a buffer, and blocks while 3 buffers wait to be hashed.
 *   Returns 0, or WS_EFORMAT for a bad v1_piece_size (f then holds nothing
 *   to release).  Memory: f's outputs, and one buffer of a merkle chunk
 *   (ws_merkle_chunk_size(v1_piece_size), at most 4 MiB; less for a smaller
 *   file), three with a thread.  The stream points at f: f must outlive
 *   it, and f's outputs must not be read before ws_hash_stream_final.
 * ws_hash_stream_update - feed the next len bytes.  More bytes than size in
 *   all sets f->error to WS_EMISMATCH (nothing more is hashed).
 * ws_hash_stream_fed - bytes fed so far.
 * ws_hash_stream_final - finish: f->sha256, root, chunks and v1 as
 *   ws_hash_files would give them for a file of these bytes.  Returns 0, or
 *   WS_EMISMATCH (also in f->error) when the bytes fed were not size.
 *   Call it once; the stream is then only to be freed.
 * ws_hash_stream_free - free the stream (NULL is fine), not f's outputs:
 *   those go with ws_hash_file_release.
 * To start over (a download restarted from its first byte), free the
 * stream, ws_hash_file_release(f), and make a new one.
 */
struct ws_hash_stream;
int ws_hash_stream_new(struct ws_hash_file *f, uint64_t size, int thread,
		       struct ws_hash_stream **out);
void ws_hash_stream_update(struct ws_hash_stream *s, const void *data, size_t len);
uint64_t ws_hash_stream_fed(const struct ws_hash_stream *s);
int ws_hash_stream_final(struct ws_hash_stream *s);
void ws_hash_stream_free(struct ws_hash_stream *s);

#endif
