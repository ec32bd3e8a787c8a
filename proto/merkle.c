/* merkle.c - SHA-256/SHA-1 and BEP 52 merkle trees (see merkle.h) */
#include "merkle.h"
#include "error.h"
#include "util.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ws_sha {
	EVP_MD_CTX *ctx;
	const EVP_MD *md;
};

static ws_sha *sha_new(const EVP_MD *md)
{
	ws_sha *h = xmalloc(sizeof(*h));
	h->ctx = EVP_MD_CTX_new();
	h->md = md;
	if (!h->ctx || !EVP_DigestInit_ex(h->ctx, md, NULL)) {
		fputs("weightsync: cannot initialise OpenSSL digest\n", stderr);
		abort();
	}
	return h;
}

ws_sha *ws_sha256_new(void) { return sha_new(EVP_sha256()); }
ws_sha *ws_sha1_new(void) { return sha_new(EVP_sha1()); }

void ws_sha_update(ws_sha *h, const void *data, size_t len)
{
	EVP_DigestUpdate(h->ctx, data, len);
}

void ws_sha_final(ws_sha *h, uint8_t *out)
{
	EVP_DigestFinal_ex(h->ctx, out, NULL);
	EVP_DigestInit_ex(h->ctx, h->md, NULL);
}

void ws_sha_free(ws_sha *h)
{
	if (!h)
		return;
	EVP_MD_CTX_free(h->ctx);
	free(h);
}

/*
 * One-shot SHA-256 is called for every 16 KiB block and every tree node (a
 * 64-byte message): EVP_Digest() with EVP_sha256() looks the algorithm up
 * in the provider store (a read lock shared by all threads) and allocates a
 * context on every call, three times the cost of hashing 64 bytes.  Fetch
 * the algorithm once and keep one context per thread, freed when the
 * thread ends.
 */
static EVP_MD *sha256_md;
static pthread_key_t sha256_key;
static int sha256_key_ok;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void sha256_ctx_free(void *p) { EVP_MD_CTX_free(p); }

static void sha256_init_once(void)
{
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
	sha256_key_ok = sha256_md && pthread_key_create(&sha256_key, sha256_ctx_free) == 0;
}

void ws_sha256(const void *data, size_t len, uint8_t out[32])
{
	EVP_MD_CTX *c = NULL;

	pthread_once(&sha256_once, sha256_init_once);
	if (sha256_key_ok && !(c = pthread_getspecific(sha256_key)) &&
	    (c = EVP_MD_CTX_new()) && pthread_setspecific(sha256_key, c)) {
		EVP_MD_CTX_free(c);
		c = NULL;
	}
	if (c && EVP_DigestInit_ex2(c, sha256_md, NULL) &&
	    EVP_DigestUpdate(c, data, len) && EVP_DigestFinal_ex(c, out, NULL))
		return;
	EVP_Digest(data, len, out, NULL, EVP_sha256(), NULL);
}

static void hash_pair(const uint8_t a[32], const uint8_t b[32], uint8_t out[32])
{
	uint8_t buf[64];
	memcpy(buf, a, 32);
	memcpy(buf + 32, b, 32);
	ws_sha256(buf, 64, out);
}

static uint64_t next_pow2(uint64_t n)
{
	uint64_t p = 1;
	while (p < n)
		p <<= 1;
	return p;
}

uint64_t ws_merkle_leaves_for(uint64_t size)
{
	return next_pow2((size + WS_BLOCK_SIZE - 1) / WS_BLOCK_SIZE);
}

void ws_merkle_pad_hash(uint64_t leaves, uint8_t out[32])
{
	uint8_t h[32] = {0};
	for (uint64_t w = 1; w < leaves; w <<= 1)
		hash_pair(h, h, h);
	memcpy(out, h, 32);
}

/* Reduce n nodes (n <= width, width a power of two) in place to the root
 * of a tree of width nodes whose missing right-hand nodes are pad-subtree
 * roots of pad_leaves leaves each. */
static void reduce(uint8_t (*nodes)[32], uint64_t n, uint64_t width,
		   uint64_t pad_leaves, uint8_t out[32])
{
	uint8_t pad[32];

	ws_merkle_pad_hash(pad_leaves, pad);
	while (width > 1) {
		uint64_t m = 0;
		for (uint64_t i = 0; i < width; i += 2) {
			if (i >= n)
				break;
			hash_pair(nodes[i], i + 1 < n ? nodes[i + 1] : pad, nodes[m]);
			m++;
		}
		hash_pair(pad, pad, pad);
		n = m;
		width >>= 1;
	}
	memcpy(out, n ? nodes[0] : pad, 32);
}

uint64_t ws_merkle_chunk_size(uint64_t piece_size)
{
	return piece_size && piece_size < WS_CHUNK_SIZE ? piece_size : WS_CHUNK_SIZE;
}

uint64_t ws_merkle_chunk_width(uint64_t chunk_size, uint64_t size)
{
	uint64_t w = ws_merkle_leaves_for(size), cw = chunk_size / WS_BLOCK_SIZE;
	return w < cw ? w : cw;
}

static int chunk_size_ok(uint64_t chunk_size)
{
	return chunk_size >= WS_BLOCK_SIZE && chunk_size <= WS_CHUNK_SIZE &&
	       !(chunk_size & (chunk_size - 1));
}

void ws_merkle_chunk_root(const uint8_t *data, size_t len, uint64_t width,
			  uint8_t out[32])
{
	uint8_t leaves[WS_CHUNK_BLOCKS][32];
	uint64_t n = 0;

	for (size_t off = 0; off < len; off += WS_BLOCK_SIZE, n++) {
		size_t b = len - off < WS_BLOCK_SIZE ? len - off : WS_BLOCK_SIZE;
		ws_sha256(data + off, b, leaves[n]);
	}
	reduce(leaves, n, width, 1, out);
}

void ws_merkle_root_from_chunks(const uint8_t (*chunks)[32], uint64_t nchunks,
				uint64_t chunk_size, uint64_t size,
				uint8_t out[32])
{
	uint8_t (*nodes)[32];

	if (size == 0) {
		memset(out, 0, 32);
		return;
	}
	if (nchunks == 1) {
		memcpy(out, chunks[0], 32);
		return;
	}
	nodes = xmalloc(nchunks * 32);
	memcpy(nodes, chunks, nchunks * 32);
	reduce(nodes, nchunks, next_pow2(nchunks), chunk_size / WS_BLOCK_SIZE, out);
	free(nodes);
}

void ws_merkle_root(const uint8_t *data, size_t len, uint8_t out[32])
{
	uint64_t nchunks = (len + WS_CHUNK_SIZE - 1) / WS_CHUNK_SIZE;
	uint64_t width = ws_merkle_chunk_width(WS_CHUNK_SIZE, len);
	uint8_t (*chunks)[32];

	if (len == 0) {
		memset(out, 0, 32);
		return;
	}
	chunks = xmalloc(nchunks * 32);
	for (uint64_t i = 0; i < nchunks; i++) {
		size_t off = (size_t)(i * WS_CHUNK_SIZE);
		size_t n = len - off < WS_CHUNK_SIZE ? len - off : (size_t)WS_CHUNK_SIZE;
		ws_merkle_chunk_root(data + off, n, width, chunks[i]);
	}
	ws_merkle_root_from_chunks((const uint8_t (*)[32])chunks, nchunks, WS_CHUNK_SIZE,
				   len, out);
	free(chunks);
}

int ws_merkle_piece_layer(const uint8_t (*chunks)[32], uint64_t nchunks,
			  uint64_t chunk_size, uint64_t size,
			  uint64_t piece_size, uint8_t (*out)[32])
{
	uint64_t per, npieces;
	uint8_t (*nodes)[32];

	if (!chunk_size_ok(chunk_size) || piece_size < chunk_size ||
	    (piece_size & (piece_size - 1)) || size <= piece_size ||
	    nchunks != (size + chunk_size - 1) / chunk_size)
		return WS_EFORMAT;
	per = piece_size / chunk_size;
	npieces = (size + piece_size - 1) / piece_size;
	nodes = xmalloc(per * 32);
	for (uint64_t p = 0; p < npieces; p++) {
		uint64_t first = p * per;
		uint64_t n = nchunks - first < per ? nchunks - first : per;
		memcpy(nodes, chunks[first], n * 32);
		reduce(nodes, n, per, chunk_size / WS_BLOCK_SIZE, out[p]);
	}
	free(nodes);
	return 0;
}

/* Pieces of a release in pieces of ps bytes, beyond each file's first. */
static uint64_t extra_pieces(const uint64_t *sizes, size_t n, uint64_t ps)
{
	uint64_t extra = 0;
	for (size_t i = 0; i < n; i++)
		if (sizes[i])
			extra += (sizes[i] - 1) / ps;
	return extra;
}

static uint64_t padding(const uint64_t *sizes, size_t n, uint64_t ps)
{
	uint64_t pad = 0;
	for (size_t i = 0; i < n; i++)
		pad += (ps - sizes[i] % ps) % ps;
	return pad;
}

uint64_t ws_piece_size_for_files(const uint64_t *sizes, size_t n)
{
	uint64_t ps = WS_PIECE_LARGE, total = 0;

	for (size_t i = 0; i < n; i++)
		total += sizes[i];
	while (ps < WS_PIECE_MAX && extra_pieces(sizes, n, ps) > 10000)
		ps <<= 1;
	/* 3% in integers: padding * 100 cannot overflow below 2^57 bytes */
	while (ps > WS_PIECE_MIN && padding(sizes, n, ps) * 100 > 3 * total &&
	       extra_pieces(sizes, n, ps / 2) <= 40000)
		ps >>= 1;
	return ps;
}
