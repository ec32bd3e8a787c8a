/*
 * merkle.h - SHA-256, SHA-1 and the BitTorrent v2 (BEP 52) merkle tree.
 *
 * A file's v2 "pieces root" is the root of a binary SHA-256 tree whose
 * leaves are the hashes of the file's 16 KiB blocks (the last block hashed
 * at its real length), padded with all-zero leaves up to a power of two.
 * It equals the file's plain SHA-256 only for files of at most 16 KiB.
 * Empty files have no root (all zero here).
 *
 * Files are hashed in "chunks" of WS_CHUNK_BLOCKS blocks (4 MiB): each
 * chunk's subtree root can be computed independently (on any thread), and
 * the file's root and its piece layer for any piece size >= 16 KiB follow
 * from the chunk roots.  Memory: 32 bytes per 4 MiB.
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
 * ws_merkle_chunk_root - root of the subtree over one chunk of a file.
 *
 * data/len   the chunk's bytes (len <= WS_CHUNK_SIZE; shorter only for the
 *            file's last chunk)
 * width      leaves of the subtree: min(WS_CHUNK_BLOCKS,
 *            ws_merkle_leaves_for(file size)); missing leaves are zero
 */
void ws_merkle_chunk_root(const uint8_t *data, size_t len, uint64_t width,
			  uint8_t out[32]);

/*
 * ws_merkle_root_from_chunks - the file's pieces root from its nchunks
 * chunk roots (as ws_merkle_chunk_root made them) and its size.
 */
void ws_merkle_root_from_chunks(const uint8_t (*chunks)[32], uint64_t nchunks,
				uint64_t size, uint8_t out[32]);

/*
 * ws_merkle_piece_layer - the v2 piece layer of a file larger than one piece:
 * ceil(size / piece_size) hashes into out.  piece_size is a power of two
 * and at least WS_CHUNK_SIZE.  Returns 0 or WS_EFORMAT when the piece size
 * is not one of those, or the file fits in one piece (it has no layer: its
 * pieces root stands for it).
 */
int ws_merkle_piece_layer(const uint8_t (*chunks)[32], uint64_t nchunks,
			  uint64_t size, uint64_t piece_size,
			  uint8_t (*out)[32]);

/*
 * ws_piece_size_for - the torrent piece size for a release of total bytes:
 * a power of two from WS_CHUNK_SIZE (4 MiB) to 64 MiB aiming at no more
 * than about 10,000 pieces, so a 700 GB release keeps a small info dict
 * (its v1 piece hashes are 20 bytes each) and piece layers can be derived
 * from chunk roots.
 */
uint64_t ws_piece_size_for(uint64_t total);

/* ws_merkle_pad_hash - root of a subtree of `leaves` zero leaves. */
void ws_merkle_pad_hash(uint64_t leaves, uint8_t out[32]);

#endif
