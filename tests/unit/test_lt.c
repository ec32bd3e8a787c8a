/*
 * test_lt.c - node/lt.h against a real libtorrent on loopback.
 *
 * Builds hybrid torrents from hashes computed here (OpenSSL) and by
 * store/hasher.c, lets libtorrent re-verify the files against them, runs a two-node swarm over
 * a magnet link and a five-node DHT with BEP 44 items signed by libsodium.
 * Nothing leaves the machine: every node listens on its own 127.0.0.x, the
 * DHT has no bootstrap routers, UPnP / NAT-PMP / LSD are off.
 *
 * Output is TAP; the exit status is 1 when a test failed.  Set
 * WS_LT_TEST_DUMP=dir to keep a copy of the built torrents and their files
 * there (for comparing with other torrent creators by hand).
 */
#include "node/lt.h"
#include "proto/error.h"
#include "proto/merkle.h"
#include "store/hasher.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/sha.h>
#include <sodium.h>

#define BLOCK 16384
#define WAIT_MS 30000

/* ---------------------------------------------------------------------- */
/* TAP                                                                    */

static int n_tests, n_failed;

static int ok(int cond, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int ok(int cond, const char *fmt, ...)
{
	va_list ap;

	n_tests++;
	if (!cond)
		n_failed++;
	printf("%sok %d - ", cond ? "" : "not ", n_tests);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	return cond;
}

static void diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---------------------------------------------------------------------- */
/* Files                                                                  */

static char tmp_root[] = "/tmp/ws-test-lt-XXXXXX";

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

static void rm_rf(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int mkdir_p(const char *path)
{
	char buf[4096];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(buf, 0755) && errno != EEXIST)
		return -1;
	return 0;
}

static int write_file(const char *path, const uint8_t *data, size_t len)
{
	char dir[4096];
	char *slash;
	FILE *f;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash) {
		*slash = '\0';
		if (mkdir_p(dir))
			return -1;
	}
	f = fopen(path, "wb");
	if (!f)
		return -1;
	if (len && fwrite(data, 1, len, f) != len) {
		fclose(f);
		return -1;
	}
	return fclose(f);
}

static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET))
		goto out;
	buf = malloc(n ? (size_t)n : 1);
	if (!buf)
		goto out;
	if (n && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
		goto out;
	}
	*len = (size_t)n;
out:
	fclose(f);
	return buf;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static void fill_random(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		rng_state ^= rng_state << 13;
		rng_state ^= rng_state >> 7;
		rng_state ^= rng_state << 17;
		p[i] = (uint8_t)(rng_state >> 32);
	}
}

/* ---------------------------------------------------------------------- */
/* Hashing, done here independently of libtorrent                         */

/* One test file: its bytes and the hashes ws_lt_torrent_build wants. */
struct tfile {
	const char *path;
	uint64_t size;
	uint8_t *data;
	uint8_t root[32];
	uint8_t *v2;
	uint8_t *v1;
};

static void h2(const uint8_t a[32], const uint8_t b[32], uint8_t out[32])
{
	uint8_t buf[64];

	memcpy(buf, a, 32);
	memcpy(buf + 32, b, 32);
	SHA256(buf, 64, out);
}

/*
 * Root of a merkle tree `width` leaves wide (a power of two): the n given
 * leaves, then copies of pad.
 */
static void merkle(const uint8_t *leaves, size_t n, size_t width,
		   const uint8_t pad[32], uint8_t out[32])
{
	uint8_t *t = malloc(width * 32);

	for (size_t i = 0; i < width; i++)
		memcpy(t + 32 * i, i < n ? leaves + 32 * i : pad, 32);
	for (; width > 1; width /= 2)
		for (size_t i = 0; i < width / 2; i++)
			h2(t + 64 * i, t + 64 * i + 32, t + 32 * i);
	memcpy(out, t, 32);
	free(t);
}

static size_t pow2_at_least(size_t n)
{
	size_t w = 1;

	while (w < n)
		w *= 2;
	return w;
}

/*
 * v2: SHA-256 of each 16 KiB block (last at its real length); the piece
 * layer is each piece's subtree padded with zero leaves to piece_size /
 * 16 KiB; the root is the tree over all blocks padded to a power of two,
 * computed from the piece layer when there are several pieces.
 * v1: SHA-1 of each piece, the last zero-filled to piece_size unless the
 * torrent has one file only (single).
 */
static void hash_file(struct tfile *f, uint32_t piece_size, int single)
{
	static const uint8_t zero[32];
	size_t nblocks = (f->size + BLOCK - 1) / BLOCK;
	size_t bpp = piece_size / BLOCK;
	size_t npieces = (f->size + piece_size - 1) / piece_size;
	uint8_t *blocks = malloc(nblocks * 32 + 1);
	uint8_t *piece = malloc(piece_size);

	free(f->v2);
	free(f->v1);
	f->v2 = malloc(npieces * 32 + 1);
	f->v1 = malloc(npieces * 20 + 1);
	memset(f->root, 0, 32);
	for (size_t b = 0; b < nblocks; b++) {
		size_t off = b * BLOCK;
		size_t len = f->size - off < BLOCK ? f->size - off : BLOCK;
		SHA256(f->data + off, len, blocks + 32 * b);
	}
	for (size_t k = 0; k < npieces; k++) {
		size_t first = k * bpp;
		size_t n = nblocks - first < bpp ? nblocks - first : bpp;
		size_t off = (size_t)k * piece_size;
		size_t len = f->size - off < piece_size ? f->size - off : piece_size;

		merkle(blocks + 32 * first, n, bpp, zero, f->v2 + 32 * k);
		memset(piece, 0, piece_size);
		memcpy(piece, f->data + off, len);
		SHA1(piece, single ? len : piece_size, f->v1 + 20 * k);
	}
	if (npieces == 1) {
		merkle(blocks, nblocks, pow2_at_least(nblocks), zero, f->root);
	} else if (npieces > 1) {
		uint8_t pad[32];
		merkle(NULL, 0, bpp, zero, pad);
		merkle(f->v2, npieces, pow2_at_least(npieces), pad, f->root);
	}
	free(blocks);
	free(piece);
}

static void tfiles_make(struct tfile *fs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		fs[i].data = malloc(fs[i].size + 1);
		fill_random(fs[i].data, fs[i].size);
		fs[i].v1 = fs[i].v2 = NULL;
	}
}

static void tfiles_free(struct tfile *fs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(fs[i].data);
		free(fs[i].v1);
		free(fs[i].v2);
	}
}

static int tfiles_write(const struct tfile *fs, size_t n, const char *dir)
{
	char path[4096];

	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, fs[i].path);
		if (write_file(path, fs[i].data, fs[i].size))
			return -1;
	}
	return 0;
}

static void to_lt_files(const struct tfile *fs, size_t n,
			struct ws_lt_file *out)
{
	for (size_t i = 0; i < n; i++) {
		out[i].path = fs[i].path;
		out[i].size = fs[i].size;
		out[i].pieces_root = fs[i].root;
		out[i].v2_pieces = fs[i].v2;
		out[i].v1_pieces = fs[i].v1;
	}
}

/* ---------------------------------------------------------------------- */
/* Bencode: find the info dict inside a .torrent                          */

/* Skip one bencoded value at p; NULL when malformed. */
static const uint8_t *bskip(const uint8_t *p, const uint8_t *end)
{
	if (p >= end)
		return NULL;
	if (*p == 'i') {
		while (p < end && *p != 'e')
			p++;
		return p < end ? p + 1 : NULL;
	}
	if (*p == 'l' || *p == 'd') {
		p++;
		while (p && p < end && *p != 'e')
			p = bskip(p, end);
		return p && p < end ? p + 1 : NULL;
	}
	if (*p >= '0' && *p <= '9') {
		size_t n = 0;
		while (p < end && *p >= '0' && *p <= '9')
			n = n * 10 + (size_t)(*p++ - '0');
		if (p >= end || *p != ':' || (size_t)(end - p - 1) < n)
			return NULL;
		return p + 1 + n;
	}
	return NULL;
}

/* The top-level value for key (a bencoded string such as "4:info"). */
static const uint8_t *bfind(const uint8_t *t, size_t len, const char *key,
			    size_t *vlen)
{
	const uint8_t *p = t + 1, *end = t + len;
	size_t klen = strlen(key);

	if (len < 2 || t[0] != 'd')
		return NULL;
	while (p && p < end && *p != 'e') {
		const uint8_t *v = bskip(p, end);
		const uint8_t *next;
		if (!v)
			return NULL;
		next = bskip(v, end);
		if (!next)
			return NULL;
		if ((size_t)(v - p) == klen && !memcmp(p, key, klen)) {
			*vlen = (size_t)(next - v);
			return v;
		}
		p = next;
	}
	return NULL;
}

/* Do SHA-256 / SHA-1 of the torrent's info dict give these info-hashes? */
static int info_hashes_match(const uint8_t *t, size_t len,
			     const uint8_t v2[32], const uint8_t v1[20])
{
	size_t ilen;
	const uint8_t *info = bfind(t, len, "4:info", &ilen);
	uint8_t a[32], b[20];

	if (!info)
		return 0;
	SHA256(info, ilen, a);
	SHA1(info, ilen, b);
	return !memcmp(a, v2, 32) && !memcmp(b, v1, 20);
}

/* ---------------------------------------------------------------------- */
/* Session helpers                                                        */

static ws_lt_session *new_session(const char *listen, int dht)
{
	struct ws_lt_config cfg;
	ws_lt_session *s = NULL;
	char *msg = NULL;
	int ret;

	memset(&cfg, 0, sizeof(cfg));
	cfg.listen = listen;
	cfg.enable_dht = dht;
	cfg.private_network = 1;
	ret = ws_lt_session_new(&cfg, &s, &msg);
	if (ret) {
		diag("session on %s: %s (%s)", listen, ws_strerror(ret),
		     msg ? msg : "");
		free(msg);
		return NULL;
	}
	return s;
}

static const char *state_name(enum ws_lt_state st)
{
	switch (st) {
	case WS_LT_CHECKING: return "checking";
	case WS_LT_CHECKING_RESUME: return "checking resume data";
	case WS_LT_METADATA: return "metadata";
	case WS_LT_DOWNLOADING: return "downloading";
	case WS_LT_FINISHED: return "finished";
	case WS_LT_SEEDING: return "seeding";
	case WS_LT_ERROR: return "error";
	}
	return "?";
}

/*
 * Wait (at most ms) until t is seeding or finished with everything wanted
 * (and `want` bytes wanted, when want is not 0: priorities apply
 * asynchronously, so right after setting them nothing may be wanted yet),
 * or in error.  Pumps alerts of every session given.
 */
static int wait_done(ws_lt_session **ss, size_t nss, ws_lt_torrent *t,
		     uint64_t want, int ms, struct ws_lt_status *st)
{
	long long deadline = now_ms() + ms;

	for (;;) {
		if (ws_lt_status(t, st))
			return -1;
		if (st->state == WS_LT_ERROR)
			return -1;
		if ((st->state == WS_LT_SEEDING || st->state == WS_LT_FINISHED) &&
		    st->total_wanted_done == st->total_wanted &&
		    (!want || st->total_wanted == want))
			return 0;
		if (now_ms() > deadline)
			return -1;
		for (size_t i = 0; i < nss; i++)
			ws_lt_wait(ss[i], nss > 1 ? 20 : 100);
	}
}

/* Wait until the initial check is over: any state but checking, held for
 * half a second (the torrent may pass through "downloading" briefly while
 * the check is queued). */
static void wait_checked(ws_lt_session *s, ws_lt_torrent *t, int ms,
			 struct ws_lt_status *st)
{
	long long deadline = now_ms() + ms, stable_since = 0;

	while (now_ms() < deadline) {
		ws_lt_wait(s, 100);
		ws_lt_status(t, st);
		if (st->state == WS_LT_SEEDING || st->state == WS_LT_ERROR)
			return;
		if (st->state == WS_LT_CHECKING || st->state == WS_LT_CHECKING_RESUME)
			stable_since = 0;
		else if (!stable_since)
			stable_since = now_ms();
		else if (now_ms() - stable_since > 1000)
			return;
	}
}

static void dump(const char *what, const uint8_t *t, size_t len,
		 const char *files_dir)
{
	const char *d = getenv("WS_LT_TEST_DUMP");
	char path[4096], cmd[8192];

	if (!d)
		return;
	snprintf(path, sizeof(path), "%s/%s.torrent", d, what);
	write_file(path, t, len);
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s/%s' && cp -r '%s'/. '%s/%s'/",
		 d, what, files_dir, d, what);
	if (system(cmd))
		diag("dump of %s failed", what);
}

/* ---------------------------------------------------------------------- */
/* Tests: order                                                           */

static void test_order(void)
{
	/* given in a shuffled order */
	const char *paths[] = { "a.bin", "\xc3\xa9", "a/z", "B", "a-b",
				"a/b/c", "0e" };
	const char *want[] = { "0e", "B", "a/b/c", "a/z", "a-b", "a.bin",
			       "\xc3\xa9" };
	size_t n = sizeof(paths) / sizeof(paths[0]);
	size_t order[7];
	int good = 1;
	const char *bad[] = { "/abs", "a//b", "a/../b", "x/", ".", "a\\b", "" };
	int refused = 1;

	ok(ws_lt_torrent_order(paths, n, order) == 0, "torrent_order succeeds");
	for (size_t k = 0; k < n; k++)
		if (strcmp(paths[order[k]], want[k]))
			good = 0;
	ok(good, "torrent_order sorts component-wise, bytewise");
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++)
		if (ws_lt_torrent_order(&bad[k], 1, order) != WS_EPATH) {
			diag("path '%s' accepted", bad[k]);
			refused = 0;
		}
	ok(refused, "torrent_order refuses unsafe paths");
}

/*
 * Build a torrent from these files in a shuffled order, add it in seed
 * mode, and check that libtorrent's file indices are the ones the rule in
 * lt.h predicts: sorted order, a pad file after each non-empty file that
 * does not end on a piece boundary (the last one too) when there are two
 * or more files.
 */
static void test_layout(ws_lt_session *s, const char *dir)
{
	struct tfile fs[] = {
		{ "a.bin", 300000, 0, {0}, 0, 0 },
		{ "\xc3\xa9", 5, 0, {0}, 0, 0 },
		{ "a/z", 262144, 0, {0}, 0, 0 },
		{ "B", 1, 0, {0}, 0, 0 },
		{ "a-b", 0, 0, {0}, 0, 0 },
		{ "a/b/c", 20000, 0, {0}, 0, 0 },
		{ "0e", 0, 0, {0}, 0, 0 },
	};
	size_t n = sizeof(fs) / sizeof(fs[0]);
	struct ws_lt_file lf[7];
	const char *paths[7];
	size_t order[7];
	uint8_t *tor = NULL, v2[32], v1[20];
	size_t len;
	char *msg = NULL;
	ws_lt_torrent *t = NULL;
	int ret, good = 1, next = 0;

	tfiles_make(fs, n);
	for (size_t i = 0; i < n; i++) {
		hash_file(&fs[i], 262144, 0);
		paths[i] = fs[i].path;
	}
	to_lt_files(fs, n, lf);
	ret = ws_lt_torrent_build(lf, n, 262144, "layout", NULL, 0, &tor, &len,
				  v2, v1, &msg);
	if (!ok(ret == 0, "build layout torrent")) {
		diag("%s: %s", ws_strerror(ret), msg ? msg : "");
		goto out;
	}
	ret = ws_lt_add(s, tor, len, dir, NULL, 0, WS_LT_SEED_MODE | WS_LT_PAUSED,
			&t, &msg);
	if (!ok(ret == 0, "add layout torrent")) {
		diag("%s: %s", ws_strerror(ret), msg ? msg : "");
		goto out;
	}
	ws_lt_torrent_order(paths, n, order);
	for (size_t k = 0; k < n; k++) {
		const struct tfile *f = &fs[order[k]];
		int idx = -1;
		ws_lt_file_index(t, f->path, &idx);
		if (idx != next) {
			diag("'%s': libtorrent index %d, predicted %d", f->path,
			     idx, next);
			good = 0;
		}
		next++;
		if (f->size && f->size % 262144)
			next++;
	}
	ok(good, "file indices follow the documented order and pad rule");
	ok(ws_lt_set_file_priority(t, next, 1) == -EINVAL,
	   "file index past the end is refused");
	ok(ws_lt_remove(t) == 0, "remove layout torrent");
out:
	free(msg);
	free(tor);
	tfiles_free(fs, n);
}

/* ---------------------------------------------------------------------- */
/* Tests: build, then libtorrent re-verifies the files                    */

static int build_and_check(ws_lt_session *s, struct tfile *fs, size_t n,
			   uint32_t piece_size, const char *label,
			   int expect_ok)
{
	char dir[2048], rel[4096];
	struct ws_lt_file lf[16];
	uint8_t *tor = NULL, v2[32], v1[20];
	size_t len = 0;
	char *msg = NULL;
	ws_lt_torrent *t = NULL;
	struct ws_lt_status st;
	uint64_t total = 0;
	int ret, passed = 0;

	snprintf(dir, sizeof(dir), "%s/%s", tmp_root, label);
	snprintf(rel, sizeof(rel), "%s/rel", dir);
	if (tfiles_write(fs, n, rel)) {
		ok(0, "%s: write files", label);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		total += fs[i].size;
	to_lt_files(fs, n, lf);
	ret = ws_lt_torrent_build(lf, n, piece_size, "rel", NULL, 0, &tor, &len,
				  v2, v1, &msg);
	if (!ok(ret == 0, "%s: build torrent (%zu files, piece %u)", label, n,
		piece_size)) {
		diag("%s: %s", ws_strerror(ret), msg ? msg : "");
		goto out;
	}
	ok(info_hashes_match(tor, len, v2, v1),
	   "%s: info-hashes are SHA-256 / SHA-1 of the info dict", label);
	dump(label, tor, len, rel);

	/* no resume data, not seed mode: libtorrent hashes every file */
	ret = ws_lt_add(s, tor, len, dir, NULL, 0, 0, &t, &msg);
	if (!ok(ret == 0, "%s: add torrent", label)) {
		diag("%s: %s", ws_strerror(ret), msg ? msg : "");
		goto out;
	}
	if (expect_ok) {
		ret = wait_done(&s, 1, t, total, WAIT_MS, &st);
		passed = ok(ret == 0 && st.state == WS_LT_SEEDING &&
			    st.total_wanted == total && st.hash_failures == 0,
			    "%s: libtorrent verifies every piece (state %s, "
			    "%" PRIu64 "/%" PRIu64 ")", label,
			    state_name(st.state), st.total_wanted_done,
			    st.total_wanted);
		if (st.state == WS_LT_ERROR)
			diag("error: %s", st.error);
	} else {
		wait_checked(s, t, WAIT_MS, &st);
		passed = ok(st.state != WS_LT_SEEDING &&
			    st.total_wanted_done < st.total_wanted,
			    "%s: a wrong v1 hash is caught (state %s, "
			    "%" PRIu64 "/%" PRIu64 ")", label,
			    state_name(st.state), st.total_wanted_done,
			    st.total_wanted);
	}
	ws_lt_remove(t);
out:
	free(msg);
	free(tor);
	return passed ? 0 : -1;
}

static void test_build(ws_lt_session *s)
{
	static const uint32_t piece_sizes[] = { 262144, 1048576 };
	struct tfile fs[] = {
		{ "sub/deep/big.bin", 3 * 1048576 + 12345, 0, {0}, 0, 0 },
		{ "empty", 0, 0, {0}, 0, 0 },
		{ "small.txt", 100, 0, {0}, 0, 0 },
		{ "sub/mib5.bin", 1048576 + 5, 0, {0}, 0, 0 },
		{ "block.bin", 16384, 0, {0}, 0, 0 },
		{ "exact.bin", 1048576, 0, {0}, 0, 0 },
	};
	size_t n = sizeof(fs) / sizeof(fs[0]);
	char label[64];

	tfiles_make(fs, n);
	for (size_t p = 0; p < 2; p++) {
		for (size_t i = 0; i < n; i++)
			hash_file(&fs[i], piece_sizes[p], 0);
		snprintf(label, sizeof(label), "multi-%u", piece_sizes[p] / 1024);
		build_and_check(s, fs, n, piece_sizes[p], label, 1);
	}

	/* single-file torrents: the last v1 piece is not padded */
	for (size_t i = 0; i < n; i++) {
		if (fs[i].size == 0)
			continue;
		hash_file(&fs[i], 262144, 1);
		snprintf(label, sizeof(label), "single-%zu", i);
		build_and_check(s, &fs[i], 1, 262144, label, 1);
	}

	/* an empty file makes two: the 100-byte file's piece is padded */
	{
		struct tfile two[2] = { fs[2], fs[1] };
		hash_file(&two[0], 262144, 0);
		hash_file(&two[1], 262144, 0);
		build_and_check(s, two, 2, 262144, "two-with-empty", 1);
		fs[2].v1 = two[0].v1;
		fs[2].v2 = two[0].v2;
		fs[1].v1 = two[1].v1;
		fs[1].v2 = two[1].v2;
	}

	/* a wrong v1 hash builds, but the files do not verify */
	for (size_t i = 0; i < n; i++)
		hash_file(&fs[i], 262144, 0);
	fs[0].v1[20 + 3] ^= 1;
	build_and_check(s, fs, n, 262144, "bad-v1", 0);
	fs[0].v1[20 + 3] ^= 1;

	/* a pieces root that disagrees with its piece layer is refused */
	{
		struct ws_lt_file lf[8];
		uint8_t *tor = NULL, v2[32], v1[20];
		size_t len;
		char *msg = NULL;
		int ret;

		fs[3].root[0] ^= 1;
		to_lt_files(fs, n, lf);
		ret = ws_lt_torrent_build(lf, n, 262144, "rel", NULL, 0, &tor,
					  &len, v2, v1, &msg);
		ok(ret == WS_EBADHASH, "inconsistent pieces root is refused (%s)",
		   msg ? msg : ws_strerror(ret));
		fs[3].root[0] ^= 1;
		free(tor);
		free(msg);
		msg = NULL;

		/* web seeds land in url-list; duplicates and all-empty refused */
		const char *ws[] = { "http://127.0.0.1:8080/models/" };
		to_lt_files(fs, n, lf);
		ret = ws_lt_torrent_build(lf, n, 262144, "rel", ws, 1, &tor,
					  &len, v2, v1, &msg);
		size_t ulen = 0;
		ok(ret == 0 && bfind(tor, len, "8:url-list", &ulen) != NULL,
		   "web seed is written to url-list");
		free(tor);
		tor = NULL;

		lf[1].path = lf[0].path;
		ret = ws_lt_torrent_build(lf, n, 262144, "rel", NULL, 0, &tor,
					  &len, v2, v1, &msg);
		ok(ret == WS_EEXIST, "duplicate path is refused");
		to_lt_files(fs, n, lf);
		ret = ws_lt_torrent_build(&lf[1], 1, 262144, "rel", NULL, 0,
					  &tor, &len, v2, v1, &msg);
		ok(ret == WS_EFORMAT, "torrent of only empty files is refused");
		ret = ws_lt_torrent_build(lf, n, 100000, "rel", NULL, 0,
					  &tor, &len, v2, v1, &msg);
		ok(ret == -EINVAL, "piece size not a power of two is refused");
		lf[0].path = "x";
		lf[3].path = "x/y";
		ret = ws_lt_torrent_build(lf, n, 262144, "rel", NULL, 0,
					  &tor, &len, v2, v1, &msg);
		ok(ret == WS_EFORMAT, "a file and a directory of one name are "
		   "refused (%s)", msg ? msg : ws_strerror(ret));
		free(msg);
	}
	tfiles_free(fs, n);
}

/* ---------------------------------------------------------------------- */
/* Tests: swarm over a magnet link                                        */

static void test_swarm(void)
{
	struct tfile fs[] = {
		{ "a.bin", 1048576 + 7, 0, {0}, 0, 0 },
		{ "dir/b.bin", 2 * 1048576, 0, {0}, 0, 0 },
		{ "dir/c.bin", 300000, 0, {0}, 0, 0 },
	};
	size_t n = sizeof(fs) / sizeof(fs[0]);
	struct ws_lt_file lf[3];
	char dir_a[2048], dir_b[2048], rel_a[4096], hp[64], path[4096];
	uint8_t *tor = NULL, *meta = NULL, *resume = NULL, v2[32], v1[20];
	size_t len = 0, mlen = 0, rlen = 0;
	char *msg = NULL;
	ws_lt_session *a = NULL, *b = NULL, *both[2];
	ws_lt_torrent *ta = NULL, *tb = NULL;
	struct ws_lt_status st;
	long long deadline;
	uint64_t total = 0;
	int ret, same = 1;

	snprintf(dir_a, sizeof(dir_a), "%s/swarm-a", tmp_root);
	snprintf(dir_b, sizeof(dir_b), "%s/swarm-b", tmp_root);
	snprintf(rel_a, sizeof(rel_a), "%s/rel", dir_a);
	mkdir_p(dir_b);
	tfiles_make(fs, n);
	for (size_t i = 0; i < n; i++)
		hash_file(&fs[i], 262144, 0);
	to_lt_files(fs, n, lf);
	if (tfiles_write(fs, n, rel_a) ||
	    ws_lt_torrent_build(lf, n, 262144, "rel", NULL, 0, &tor, &len, v2,
				v1, &msg)) {
		ok(0, "swarm: set up torrent (%s)", msg ? msg : "");
		goto out;
	}

	a = new_session("127.0.0.2:0", 0);
	b = new_session("127.0.0.3:0", 0);
	if (!ok(a && b, "swarm: two sessions on 127.0.0.2 / 127.0.0.3"))
		goto out;
	both[0] = a;
	both[1] = b;
	ok(ws_lt_listen_port(a) > 0, "swarm: listen port is known (%d)",
	   ws_lt_listen_port(a));

	ret = ws_lt_add(a, tor, len, dir_a, NULL, 0, WS_LT_SEED_MODE, &ta, &msg);
	if (!ok(ret == 0, "swarm: A seeds in seed mode"))
		goto out;
	ok(ws_lt_add(a, tor, len, dir_a, NULL, 0, WS_LT_SEED_MODE, &tb, &msg)
	   == WS_EEXIST, "swarm: adding it twice gives WS_EEXIST");
	tb = NULL;
	ret = wait_done(&a, 1, ta, 0, 5000, &st);
	ok(ret == 0 && st.state == WS_LT_SEEDING, "swarm: A is seeding (%s)",
	   state_name(st.state));

	ret = ws_lt_add_magnet(b, v2, v1, "rel", dir_b, &tb, &msg);
	if (!ok(ret == 0, "swarm: B adds the magnet (both info-hashes)"))
		goto out;
	ok(ws_lt_metadata(tb, &meta, &mlen) == WS_ENOTFOUND,
	   "swarm: no metadata before a peer");
	snprintf(hp, sizeof(hp), "127.0.0.2:%d", ws_lt_listen_port(a));
	ok(ws_lt_connect_peer(tb, hp) == 0, "swarm: B dials A at %s", hp);
	ok(ws_lt_connect_peer(tb, "localhost:1") == -EINVAL,
	   "swarm: connect_peer wants a numeric address");

	deadline = now_ms() + WAIT_MS;
	while ((ret = ws_lt_metadata(tb, &meta, &mlen)) == WS_ENOTFOUND &&
	       now_ms() < deadline) {
		ws_lt_wait(a, 20);
		ws_lt_wait(b, 20);
	}
	if (!ok(ret == 0, "swarm: B gets the metadata from A"))
		goto out;
	ok(info_hashes_match(meta, mlen, v2, v1),
	   "swarm: received info dict hashes to both info-hashes");
	free(meta);
	meta = NULL;

	ws_lt_status(tb, &st);
	ok(st.total_wanted == 0, "swarm: nothing wanted before priorities "
	   "(%" PRIu64 ")", st.total_wanted);
	for (size_t i = 0; i < n; i++) {
		int idx = -1;
		ret = ws_lt_file_index(tb, fs[i].path, &idx);
		if (ret == 0)
			ret = ws_lt_set_file_priority(tb, idx, 4);
		if (ret)
			same = 0;
	}
	ok(same, "swarm: priorities set by path");

	for (size_t i = 0; i < n; i++)
		total += fs[i].size;
	ret = wait_done(both, 2, tb, total, WAIT_MS, &st);
	ok(ret == 0, "swarm: B downloads everything (state %s, %" PRIu64 "/%"
	   PRIu64 ")", state_name(st.state), st.total_wanted_done,
	   st.total_wanted);
	ok(st.hash_failures == 0 && st.payload_down >= 1048576 * 3,
	   "swarm: no hash failures, %" PRIu64 " payload bytes in",
	   st.payload_down);

	/* the torrent's totals can run ahead of per-file progress on a busy
	 * machine: give the alerts a bounded moment to catch up */
	for (int tries = 0; tries < 50; tries++) {
		uint64_t sum = 0;
		for (size_t i = 0; i < n; i++) {
			uint64_t d = 0;
			int idx = -1;
			ws_lt_file_index(tb, fs[i].path, &idx);
			ws_lt_file_progress(tb, idx, &d);
			sum += d;
		}
		if (sum == total)
			break;
		ws_lt_wait(b, 100);
	}
	same = 1;
	for (size_t i = 0; i < n; i++) {
		size_t flen = 0;
		uint8_t *got;
		uint64_t done = 0;
		int idx = -1;

		snprintf(path, sizeof(path), "%s/rel/%s", dir_b, fs[i].path);
		got = read_file(path, &flen);
		if (!got || flen != fs[i].size || memcmp(got, fs[i].data, flen)) {
			diag("'%s' differs", fs[i].path);
			same = 0;
		}
		free(got);
		ws_lt_file_index(tb, fs[i].path, &idx);
		if (ws_lt_file_progress(tb, idx, &done) || done != fs[i].size) {
			diag("'%s' progress %" PRIu64, fs[i].path, done);
			same = 0;
		}
	}
	ok(same, "swarm: B's files are byte-identical, progress complete");
	{
		/* each file of the complete torrent proven through its layer
		 * (or as a file of one piece); an entry past the file count 0 */
		unsigned char pv[64];
		int all = 1, past = 0;
		memset(pv, 0xff, sizeof(pv));
		ret = ws_lt_files_v2_proven(tb, pv, sizeof(pv));
		for (size_t i = 0; i < n; i++) {
			int idx = -1;
			ws_lt_file_index(tb, fs[i].path, &idx);
			all &= idx >= 0 && idx < (int)sizeof(pv) && pv[idx] == 1;
		}
		for (size_t k = 0; k < sizeof(pv); k++)
			past += pv[k] == 0;
		ok(ret == 0 && all && past > 0 && ws_lt_pieces_v2_proven(tb) == 1,
		   "swarm: every file of B's torrent is v2-proven");
		ok(ws_lt_files_v2_proven(tb, NULL, 1) == -EINVAL,
		   "swarm: files_v2_proven refuses a NULL array");
	}

	ret = ws_lt_metadata(tb, &meta, &mlen);
	ok(ret == 0 && mlen == len && !memcmp(meta, tor, len),
	   "swarm: B's .torrent (with piece layers) equals the built one");

	ret = ws_lt_save_resume(tb, &resume, &rlen);
	ok(ret == 0 && rlen > 0, "swarm: resume data saved (%zu bytes)", rlen);
	ok(ws_lt_remove(tb) == 0, "swarm: B removes the torrent");
	tb = NULL;
	ret = ws_lt_add(b, meta, mlen, dir_b, resume, rlen, 0, &tb, &msg);
	ok(ret == 0, "swarm: B re-adds with resume data");
	if (ret == 0) {
		ret = wait_done(&b, 1, tb, total, 30000, &st);
		ok(ret == 0 && st.state == WS_LT_SEEDING,
		   "swarm: resumed torrent is seeding (%s)", state_name(st.state));
	}
	ret = ws_lt_add(b, tor, len, dir_b, (const uint8_t *)"d4:infoi1ee", 11,
			0, &ta, &msg);
	ok(ret != 0, "swarm: mismatched or bad resume data is refused (%s)",
	   ws_strerror(ret));
	{
		struct ws_lt_session_stats ss;
		ret = ws_lt_session_stats(b, &ss);
		ok(ret == 0 && ss.bytes_down >= 1048576 * 3,
		   "swarm: session stats count payload (%" PRIu64 " down)",
		   ss.bytes_down);
	}
out:
	free(msg);
	free(tor);
	free(meta);
	free(resume);
	ws_lt_session_free(a);
	ws_lt_session_free(b);
	tfiles_free(fs, n);
}

/* ---------------------------------------------------------------------- */
/* Tests: DHT mutable items                                               */

#define NDHT 5

static int sign_cb(void *ctx, const uint8_t *m, size_t mlen, uint8_t sig[64])
{
	return crypto_sign_detached(sig, NULL, m, mlen, ctx);
}

static size_t bep44_buf(uint8_t *out, const char *salt, int64_t seq,
			const char *v)
{
	int n = 0;

	if (*salt)
		n += sprintf((char *)out, "4:salt%zu:%s", strlen(salt), salt);
	n += sprintf((char *)out + n, "3:seqi%" PRId64 "e1:v%s", seq, v);
	return (size_t)n;
}

/* Get from s until an item with seq `want` is the highest, or time out.
 * Returns the number of items in items. */
static size_t get_until(ws_lt_session *s, const uint8_t pk[32],
			const char *salt, int64_t want,
			struct ws_lt_dht_item *items, size_t max)
{
	long long deadline = now_ms() + WAIT_MS;
	size_t n = 0;

	while (now_ms() < deadline) {
		int ret = ws_lt_dht_get(s, pk, salt, 5000, 0, items, max, &n);
		if (ret == 0 && n > 0 && items[0].seq == want)
			return n;
		usleep(200 * 1000);
	}
	return n;
}

static void test_dht(void)
{
	ws_lt_session *s[NDHT] = { 0 };
	char listen[64], hp[64];
	unsigned char seed[32], pk[32], sk[64], msgbuf[1200];
	const char *salt = "weightsync/test-model";
	const char *v1 = "d4:name10:test-model7:versioni1ee";
	const char *v2 = "d4:name10:test-model7:versioni2ee";
	struct ws_lt_dht_item items[8];
	size_t n = 0, mlen;
	long long deadline;
	int ret, up = 1;

	for (int i = 0; i < NDHT; i++) {
		snprintf(listen, sizeof(listen), "127.0.0.%d:0", 10 + i);
		s[i] = new_session(listen, 1);
		if (!s[i])
			up = 0;
	}
	if (!ok(up, "dht: %d sessions on 127.0.0.10..%d", NDHT, 9 + NDHT))
		goto out;
	for (int i = 0; i < NDHT; i++)
		for (int j = 0; j < NDHT; j++) {
			if (i == j)
				continue;
			snprintf(hp, sizeof(hp), "127.0.0.%d:%d", 10 + j,
				 ws_lt_listen_port(s[j]));
			if (ws_lt_add_dht_node(s[i], hp))
				up = 0;
		}
	ok(up, "dht: every node knows the others");
	ok(ws_lt_add_dht_node(s[0], "no-port") == -EINVAL,
	   "dht: malformed node is refused");

	deadline = now_ms() + WAIT_MS;
	for (;;) {
		int ready = 1;
		for (int i = 0; i < NDHT; i++) {
			struct ws_lt_session_stats st;
			if (ws_lt_session_stats(s[i], &st) || st.dht_nodes < 2)
				ready = 0;
		}
		if (ready || now_ms() > deadline) {
			ok(ready, "dht: routing tables filled");
			break;
		}
		usleep(200 * 1000);
	}

	memset(seed, 0x42, sizeof(seed));
	crypto_sign_seed_keypair(pk, sk, seed);

	ret = ws_lt_dht_put(s[0], pk, salt, 1, (const uint8_t *)v1, strlen(v1),
			    sign_cb, sk, NULL);
	ok(ret == 0, "dht: put seq 1 from node 0");
	ok(ws_lt_dht_put(s[0], pk, salt, 1, (const uint8_t *)"d1:bi1e1:ai1ee",
			 14, sign_cb, sk, NULL) == WS_EFORMAT,
	   "dht: non-canonical value is refused");

	n = get_until(s[2], pk, salt, 1, items, 8);
	if (ok(n > 0 && items[0].seq == 1, "dht: node 2 gets seq 1")) {
		ok(items[0].vlen == strlen(v1) && !memcmp(items[0].v, v1, strlen(v1))
		   && !strcmp(items[0].salt, salt) && !memcmp(items[0].pk, pk, 32),
		   "dht: value, salt and key are the ones put");
		mlen = bep44_buf(msgbuf, salt, 1, v1);
		ok(crypto_sign_verify_detached(items[0].sig, msgbuf, mlen, pk) == 0,
		   "dht: signature verifies with libsodium over the BEP 44 buffer");
	}

	/* a mirror without the key re-puts the item as it got it ... */
	if (n > 0) {
		struct ws_lt_dht_item got = items[0];
		ret = ws_lt_dht_put(s[3], pk, salt, got.seq, got.v, got.vlen,
				    NULL, NULL, got.sig);
		ok(ret == 0, "dht: node 3 re-puts without the key");
		/* ... but cannot change the value under the old signature */
		ret = ws_lt_dht_put(s[3], pk, salt, 1, (const uint8_t *)v2,
				    strlen(v2), NULL, NULL, got.sig);
		ok(ret == 0, "dht: forged re-put is sent");
		usleep(1000 * 1000);
		for (int i = 0; i < NDHT; i++)
			ws_lt_wait(s[i], 10);
		ret = ws_lt_dht_get(s[4], pk, salt, 5000, 0, items, 8, &n);
		int forged = 0;
		for (size_t k = 0; ret == 0 && k < n; k++)
			if (items[k].vlen == strlen(v2) &&
			    !memcmp(items[k].v, v2, strlen(v2)))
				forged = 1;
		ok(ret == 0 && n > 0 && items[0].seq == 1 && !forged,
		   "dht: node 4 sees the original item, never the forgery");
	}

	/* a higher seq replaces a lower one */
	ret = ws_lt_dht_put(s[1], pk, salt, 2, (const uint8_t *)v2, strlen(v2),
			    sign_cb, sk, NULL);
	ok(ret == 0, "dht: put seq 2 from node 1");
	n = get_until(s[2], pk, salt, 2, items, 8);
	ok(n > 0 && items[0].seq == 2 && items[0].vlen == strlen(v2) &&
	   !memcmp(items[0].v, v2, strlen(v2)), "dht: node 2 gets seq 2");

	/* re-putting the old seq 1 does not bring it back */
	if (n > 0) {
		mlen = bep44_buf(msgbuf, salt, 1, v1);
		uint8_t oldsig[64];
		crypto_sign_detached(oldsig, NULL, msgbuf, mlen, sk);
		ws_lt_dht_put(s[3], pk, salt, 1, (const uint8_t *)v1, strlen(v1),
			      NULL, NULL, oldsig);
		usleep(1000 * 1000);
		ret = ws_lt_dht_get(s[4], pk, salt, 5000, 0, items, 8, &n);
		ok(ret == 0 && n > 0 && items[0].seq == 2,
		   "dht: a lower seq does not overwrite a higher one");
		ret = ws_lt_dht_get(s[4], pk, salt, 5000, 1, items, 8, &n);
		ok(ret == 0 && n >= 1, "dht: first_only returns at once");
	}

	/* unknown key: bounded miss */
	{
		long long t0 = now_ms();
		ret = ws_lt_dht_get(s[4], pk, "no-such-salt", 3000, 0, items, 8, &n);
		ok((ret == WS_ENOTFOUND || ret == WS_ETIMEOUT) && n == 0 &&
		   now_ms() - t0 < 4000, "dht: missing item is a bounded miss (%s)",
		   ws_strerror(ret));
	}
out:
	for (int i = 0; i < NDHT; i++)
		ws_lt_session_free(s[i]);
}

/*
 * The hashes publish makes (store/hasher.c, chunk roots turned into piece
 * layers by ws_merkle_piece_layer) for pieces of 16 KiB to 8 MiB, with
 * files smaller than, equal to and larger than a piece, empty files and
 * files of several 4 MiB reads: equal to the ones computed here, and
 * libtorrent verifies the files against the torrent built from them.
 */
static void test_hasher_pieces(ws_lt_session *s)
{
	static const uint32_t piece_sizes[] = { 16384, 32768, 65536, 8u << 20 };

	for (size_t p = 0; p < sizeof(piece_sizes) / sizeof(piece_sizes[0]); p++) {
		uint32_t ps = piece_sizes[p];
		struct tfile fs[] = {
			{ "empty", 0, 0, {0}, 0, 0 },
			{ "one", 1, 0, {0}, 0, 0 },
			{ "small.txt", 100, 0, {0}, 0, 0 },
			{ "under", ps - 1, 0, {0}, 0, 0 },
			{ "exact", ps, 0, {0}, 0, 0 },
			{ "over", ps + 1, 0, {0}, 0, 0 },
			{ "sub/three", 3 * (uint64_t)ps + 7, 0, {0}, 0, 0 },
			{ "sub/deep/big", (9u << 20) + 3, 0, {0}, 0, 0 },
		};
		size_t n = sizeof(fs) / sizeof(fs[0]);
		struct ws_hash_file h[sizeof(fs) / sizeof(fs[0])];
		char src[2048], label[64];
		int same = 1, ret;

		snprintf(label, sizeof(label), "hasher-%u", ps / 1024);
		snprintf(src, sizeof(src), "%s/%s-src", tmp_root, label);
		tfiles_make(fs, n);
		memset(h, 0, sizeof(h));
		if (!ok(tfiles_write(fs, n, src) == 0, "%s: write files", label))
			goto next;
		for (size_t i = 0; i < n; i++) {
			char *path = malloc(strlen(src) + strlen(fs[i].path) + 2);
			sprintf(path, "%s/%s", src, fs[i].path);
			h[i].path = path;
			h[i].v1_piece_size = ps;
			h[i].v1_pad_last = 1;
		}
		ret = ws_hash_files(h, n, 2, NULL, NULL);
		if (!ok(ret == 0, "%s: hash files", label))
			goto next;
		for (size_t i = 0; i < n; i++) {
			uint64_t np = (fs[i].size + ps - 1) / ps;
			uint8_t *layer = calloc(np + 1, 32);

			hash_file(&fs[i], ps, 0);
			if (h[i].error || h[i].size != fs[i].size ||
			    memcmp(h[i].root, fs[i].root, 32) ||
			    h[i].nv1 != np || memcmp(h[i].v1, fs[i].v1, 20 * np) ||
			    (fs[i].size > ps &&
			     (ws_merkle_piece_layer((const uint8_t (*)[32])h[i].chunks,
						    h[i].nchunks, h[i].chunk_size,
						    fs[i].size, ps, (uint8_t (*)[32])layer) ||
			      memcmp(layer, fs[i].v2, 32 * np)))) {
				diag("%s: '%s' differs", label, fs[i].path);
				same = 0;
			}
			/* build from the hasher's own output */
			memcpy(fs[i].root, h[i].root, 32);
			memcpy(fs[i].v1, h[i].v1, 20 * np);
			if (fs[i].size > ps)
				memcpy(fs[i].v2, layer, 32 * np);
			free(layer);
		}
		ok(same, "%s: hasher's roots, v1 pieces and piece layers are the "
		   "ones computed here", label);
		build_and_check(s, fs, n, ps, label, 1);
next:
		for (size_t i = 0; i < n; i++) {
			ws_hash_file_release(&h[i]);
			free((char *)h[i].path);
		}
		tfiles_free(fs, n);
	}
}

/* ---------------------------------------------------------------------- */

int main(void)
{
	ws_lt_session *s;
	char dir[4096];

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (sodium_init() < 0) {
		printf("Bail out! sodium_init failed\n");
		return 1;
	}
	if (!mkdtemp(tmp_root)) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}

	test_order();
	s = new_session("127.0.0.4:0", 0);
	if (ok(s != NULL, "session on 127.0.0.4")) {
		snprintf(dir, sizeof(dir), "%s/layout", tmp_root);
		test_layout(s, dir);
		test_build(s);
		test_hasher_pieces(s);
		ws_lt_session_free(s);
	}
	test_swarm();
	test_dht();

	rm_rf(tmp_root);
	printf("1..%d\n", n_tests);
	if (n_failed)
		printf("# failed %d of %d\n", n_failed, n_tests);
	return n_failed ? 1 : 0;
}
