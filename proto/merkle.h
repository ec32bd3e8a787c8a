/*
 * merkle.h - SHA-256, SHA-1 and the BitTorrent v2 (BEP 52) merkle tree.
 *
 * A file's v2 "pieces root" is the root of a binary SHA-256 tree whose
 * leaves are the hashes of the file's 16 KiB blocks (the last block hashed
 * at its real length), padded with all-zero leaves up to a power of two.
 * It equals the file's plain SHA-256 only for files of at most 16 KiB.
 * Empty files have no root (all zero here).
 *
 * Files are hashed in "chunks" of a power-of-two size from 16 KiB to
 * WS_CHUNK_SIZE (4 MiB; ws_merkle_chunk_size): each chunk's subtree root can
 * be computed independently (on any thread), and the file's root and its
 * piece layer for any piece size that is a multiple of the chunk size
 * follow from the chunk roots.  Memory: 32 bytes per chunk.
 *
 * SHA-256 and SHA-1 come from OpenSSL's libcrypto, which uses the CPU's SHA
 * extensions (about 6x libsodium's portable SHA-256 here).
 */
#ifndef WS_PROTO_MERKLE_H
#define WS_PROTO_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#define WS_BLOCK_SIZE 16384u
#define WS_CHUNK_BLOCKS 256u
#define WS_CHUNK_SIZE ((uint64_t)WS_BLOCK_SIZE * WS_CHUNK_BLOCKS)

/* Streaming SHA-256 and SHA-1 over OpenSSL EVP; opaque handles. */
typedef struct ws_sha ws_sha;
ws_sha *ws_sha256_new(void);
ws_sha *ws_sha1_new(void);
void ws_sha_update(ws_sha *h, const void *data, size_t len);
/* ws_sha_final - write the digest (32 or 20 bytes) and reset h for reuse. */
void ws_sha_final(ws_sha *h, uint8_t *out);
void ws_sha_free(ws_sha *h);

/* ws_sha256 - one-shot SHA-256 of data. */
void ws_sha256(const void *data, size_t len, uint8_t out[32]);

/* ws_merkle_leaves_for - the number of leaves (a power of two, >= 1) of the
 * tree of a file of size bytes (size > 0). */
uint64_t ws_merkle_leaves_for(uint64_t size);

/*
 * ws_merkle_chunk_size - the chunk size for hashing a file that goes into a
 * torrent of piece_size bytes per piece (0: no torrent):
 * min(WS_CHUNK_SIZE, piece_size), so that a chunk never spans two pieces
 * and a piece is a whole number of chunks.
 */
uint64_t ws_merkle_chunk_size(uint64_t piece_size);

/*
 * ws_merkle_chunk_width - the leaves of each chunk's subtree in a file of
 * size bytes hashed in chunks of chunk_size: min(chunk_size / 16 KiB,
 * ws_merkle_leaves_for(size)).  Only a file of one chunk has a narrower
 * subtree: its chunk root is its pieces root.
 */
uint64_t ws_merkle_chunk_width(uint64_t chunk_size, uint64_t size);

/*
 * ws_merkle_chunk_root - root of the subtree over one chunk of a file.
 *
 * data/len   the chunk's bytes (len <= the chunk size, at most
 *            WS_CHUNK_SIZE; shorter only for the file's last chunk)
 * width      leaves of the subtree: ws_merkle_chunk_width(chunk size,
 *            file size); missing leaves are zero
 */
void ws_merkle_chunk_root(const uint8_t *data, size_t len, uint64_t width,
			  uint8_t out[32]);

/*
 * ws_merkle_root_from_chunks - the file's pieces root from its nchunks
 * chunk roots (as ws_merkle_chunk_root made them, chunks of chunk_size
 * bytes) and its size.
 */
void ws_merkle_root_from_chunks(const uint8_t (*chunks)[32], uint64_t nchunks,
				uint64_t chunk_size, uint64_t size,
				uint8_t out[32]);

/*
 * ws_merkle_root - the pieces root of a file held in memory (len bytes;
 * all zero for an empty one).
 */
void ws_merkle_root(const uint8_t *data, size_t len, uint8_t out[32]);

/*
 * ws_merkle_piece_layer - the v2 piece layer of a file larger than one piece:
 * ceil(size / piece_size) hashes into out, from the file's nchunks chunk
 * roots (chunks of chunk_size bytes).  piece_size is a power of two and a
 * multiple of chunk_size (when they are equal the chunk roots are the
 * layer).  Returns 0, or WS_EFORMAT when the sizes are not such, or the
 * file fits in one piece (it has no layer: its pieces root stands for it).
 */
int ws_merkle_piece_layer(const uint8_t (*chunks)[32], uint64_t nchunks,
			  uint64_t chunk_size, uint64_t size,
			  uint64_t piece_size, uint8_t (*out)[32]);

#define WS_PIECE_MIN (32u << 10)
#define WS_PIECE_LARGE (4u << 20)   /* where the search starts */
#define WS_PIECE_MAX (64u << 20)

/*
 * ws_piece_size_for_files - the torrent piece size for a release whose
 * files have sizes[0..n) bytes (empty files count for nothing).
 *
 * In a hybrid torrent every file starts a new piece and its last piece is
 * padded with zeros (BEP 47), and those zeros are SHA-1 hashed at publish
 * and by every fetcher: with 4 MiB pieces, 3000 files of a few KiB cost
 * 12 GB of hashing.  So the piece size follows the file sizes:
 *
 *  1. the smallest power of two P from WS_PIECE_MIN (32 KiB) up to
 *     WS_PIECE_MAX (64 MiB) for which the pieces beyond each file's first,
 *     sum(ceil(size_i / P)) - (non-empty files), are at most 10,000: the
 *     v1 hashes in the info dict (20 bytes a piece) and the piece layers
 *     (32 bytes a piece) stay small next to what the file list costs
 *     anyway, and a 700 GB model gets 64 MiB pieces;
 *  2. then, while the padding, sum(roundup(size_i, P) - size_i), is more
 *     than 3% of the total bytes, halve P, as long as P stays >=
 *     WS_PIECE_MIN and the pieces beyond each file's first stay <= 40,000.
 *
 * Step 1 starts at WS_PIECE_LARGE (4 MiB), not at the floor: pieces shrink
 * only where padding calls for it (many small files).  A large file in
 * small pieces is costly with libtorrent 2.0.8: until a piece-layer hash
 * is known, each piece's block hashes wait in the merkle tree, and checking
 * them costs about the file's leaves per piece (measured: 1 GiB in 4 files
 * with 128 KiB pieces took 28 s of fetcher CPU and a 28 s tail, against
 * about 5 s and 2 s with 4 MiB pieces).
 *
 * 32 KiB, not BEP 52's 16 KiB, is the floor: libtorrent 2.0.8 runs pieces
 * of one 16 KiB block through separate code (its merkle trees keep them in
 * "block layer" mode and its hash picker tests block bits instead of
 * piece-layer nodes), and 16 KiB would at most halve a padding that 32 KiB
 * already keeps under 32 KiB a file.
 */
uint64_t ws_piece_size_for_files(const uint64_t *sizes, size_t n);

/* ws_merkle_pad_hash - root of a subtree of `leaves` zero leaves. */
void ws_merkle_pad_hash(uint64_t leaves, uint8_t out[32]);

#endif
