/* test_hashstream.c - store/hasher.c's stream hasher against its file
 * hasher, a release published from streamed hashes against one published
 * from the files, and store/syncer.c (issue 11: mirror hashes every byte
 * once, and fsyncs off its download loop) */
#include "check.h"
#include "node/torrent.h"
#include "proto/error.h"
#include "proto/merkle.h"
#include "proto/util.h"
#include "store/hasher.h"
#include "store/publish.h"
#include "store/store.h"
#include "store/syncer.h"

#include <fcntl.h>
#include <unistd.h>

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char tmpdir[] = "/tmp/ws-test-hashstream.XXXXXX";

/* deterministic bytes that differ from file to file and block to block */
static uint8_t *make_bytes(uint64_t size, unsigned seed)
{
	uint8_t *b = xmalloc(size ? size : 1);
	uint32_t x = 2463534242u ^ seed;
	for (uint64_t i = 0; i < size; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		b[i] = (uint8_t)x;
	}
	return b;
}

static int write_bytes(const char *path, const uint8_t *b, uint64_t size)
{
	FILE *f = fopen(path, "wb");
	int ok = f && (size == 0 || fwrite(b, 1, size, f) == size);
	return (f && fclose(f) == 0 && ok) ? 0 : -1;
}

/* feed b to a stream in uneven pieces, as a download's callbacks would */
static int stream_bytes(struct ws_hash_file *f, const uint8_t *b, uint64_t size, int thread)
{
	static const size_t steps[] = { 1, 7, 16383, 65536, (1u << 20) + 3, 512u << 10, 5 };
	struct ws_hash_stream *s = NULL;
	uint64_t off = 0;
	size_t k = 0;
	int ret = ws_hash_stream_new(f, size, thread, &s);

	if (ret)
		return ret;
	while (off < size) {
		uint64_t n = steps[k++ % (sizeof(steps) / sizeof(steps[0]))];
		if (n > size - off)
			n = size - off;
		ws_hash_stream_update(s, b + off, (size_t)n);
		off += n;
	}
	ret = ws_hash_stream_final(s);
	ws_hash_stream_free(s);
	return ret;
}

static int same_hashes(const struct ws_hash_file *a, const struct ws_hash_file *b)
{
	return a->error == 0 && b->error == 0 && a->size == b->size &&
	       !memcmp(a->sha256, b->sha256, 32) && !memcmp(a->root, b->root, 32) &&
	       a->chunk_size == b->chunk_size && a->nchunks == b->nchunks &&
	       !memcmp(a->chunks, b->chunks, a->nchunks * 32) && a->nv1 == b->nv1 &&
	       (a->nv1 == 0 || !memcmp(a->v1, b->v1, a->nv1 * 20));
}

/* every size the tree and the pieces have an edge at, for piece size ps */
static void test_sizes(uint64_t ps, int pad)
{
	uint64_t p = ps ? ps : WS_CHUNK_SIZE;
	uint64_t sizes[] = { 0, 1, WS_BLOCK_SIZE - 1, WS_BLOCK_SIZE, WS_BLOCK_SIZE + 1,
			     p - 1, p, p + 1, 3 * p + 7, (9u << 20) + 3 };
	size_t n = sizeof(sizes) / sizeof(sizes[0]);
	struct ws_hash_file files[sizeof(sizes) / sizeof(sizes[0])];
	struct ws_hash_file streamed[sizeof(sizes) / sizeof(sizes[0])];
	struct ws_hash_file threaded[sizeof(sizes) / sizeof(sizes[0])];
	uint8_t *bytes[sizeof(sizes) / sizeof(sizes[0])];
	char label[160];
	int ok = 1;

	memset(files, 0, sizeof(files));
	memset(streamed, 0, sizeof(streamed));
	memset(threaded, 0, sizeof(threaded));
	for (size_t i = 0; i < n; i++) {
		bytes[i] = make_bytes(sizes[i], (unsigned)i);
		files[i].path = xasprintf("%s/f%zu-%llu-%d", tmpdir, i, (unsigned long long)ps, pad);
		if (write_bytes(files[i].path, bytes[i], sizes[i]))
			ok = 0;
		files[i].want_sha256 = streamed[i].want_sha256 = threaded[i].want_sha256 = 1;
		files[i].v1_piece_size = streamed[i].v1_piece_size = threaded[i].v1_piece_size = ps;
		files[i].v1_pad_last = streamed[i].v1_pad_last = threaded[i].v1_pad_last = pad;
	}
	snprintf(label, sizeof(label), "piece size %llu KiB%s: files written",
		 (unsigned long long)(ps >> 10), pad ? ", padded" : "");
	CHECK(ok, label);
	CHECK(ws_hash_files(files, n, 2, NULL, NULL) == 0, "ws_hash_files runs");
	for (size_t i = 0; i < n; i++) {
		int ret = stream_bytes(&streamed[i], bytes[i], sizes[i], 0);
		snprintf(label, sizeof(label), "piece size %llu KiB%s, %llu bytes: streamed "
			 "SHA-256, root, chunk roots and v1 pieces equal ws_hash_files'",
			 (unsigned long long)(ps >> 10), pad ? " padded" : "",
			 (unsigned long long)sizes[i]);
		CHECK(ret == 0 && same_hashes(&files[i], &streamed[i]), label);
		ret = stream_bytes(&threaded[i], bytes[i], sizes[i], 1);
		CHECK(ret == 0 && same_hashes(&files[i], &threaded[i]),
		      "  and so do those hashed on the stream's worker thread");
		ws_hash_file_release(&files[i]);
		ws_hash_file_release(&streamed[i]);
		ws_hash_file_release(&threaded[i]);
		free((char *)files[i].path);
		free(bytes[i]);
	}
}

static void test_wrong_length(void)
{
	struct ws_hash_file f = { .want_sha256 = 1, .v1_piece_size = 32768, .v1_pad_last = 1 };
	struct ws_hash_stream *s = NULL;
	uint8_t b[100] = { 0 };

	CHECK(ws_hash_stream_new(&f, 99, 0, &s) == 0, "stream of 99 bytes");
	ws_hash_stream_update(s, b, 100);
	CHECK_EQ_INT(ws_hash_stream_final(s), WS_EMISMATCH, "100 bytes into 99: refused");
	ws_hash_stream_free(s);
	ws_hash_file_release(&f);

	memset(&f, 0, sizeof(f));
	f.want_sha256 = 1;
	CHECK(ws_hash_stream_new(&f, 101, 0, &s) == 0, "stream of 101 bytes");
	ws_hash_stream_update(s, b, 100);
	CHECK_EQ_INT(ws_hash_stream_fed(s), 100, "100 bytes fed");
	CHECK_EQ_INT(ws_hash_stream_final(s), WS_EMISMATCH, "100 bytes of 101: refused");
	ws_hash_stream_free(s);
	ws_hash_file_release(&f);

	memset(&f, 0, sizeof(f));
	f.v1_piece_size = 3000;
	CHECK_EQ_INT(ws_hash_stream_new(&f, 10, 0, &s), WS_EFORMAT,
		     "a piece size that is no power of two is refused");
}

/* publish dir as "tiny" version 1 (not committed), hashes given or not;
 * the torrent's info-hashes and the manifest's bytes out */
static int publish_once(struct ws_store *st, const struct ws_seckey *sk, const char *dir,
			const struct ws_hash_file *hashed, size_t nhashed, uint8_t v1[20],
			uint8_t v2[32], char **manifest, size_t *mlen)
{
	struct ws_publish p = { 0 };
	struct ws_release_torrent t = { 0 };
	char *msg = NULL;
	int ret;

	p.dir = dir;
	p.name = "tiny";
	p.sk = sk;
	p.for_swarm = 1;
	p.created = 1700000000;
	p.hashed = hashed;
	p.nhashed = nhashed;
	if ((ret = ws_publish_run(st, &p, &msg)) == 0 &&
	    (ret = ws_torrent_from_publish(st, &p, NULL, 0, &t, &msg)) == 0) {
		memcpy(v1, t.v1, 20);
		memcpy(v2, t.v2, 32);
		*manifest = xmalloc(p.manifest_len);
		memcpy(*manifest, p.manifest, p.manifest_len);
		*mlen = p.manifest_len;
	}
	if (ret)
		printf("# publish: %s\n", msg ? msg : ws_strerror(ret));
	ws_release_torrent_release(&t);
	ws_publish_release(&p);
	free(msg);
	return ret;
}

static void test_publish(void)
{
	static const char *names[] = { "a.safetensors", "b.safetensors", "sub/config.json",
				       "empty.txt", "tokenizer.json" };
	uint64_t sizes[] = { (5u << 20) + 123, 4u << 20, 300, 0, WS_BLOCK_SIZE + 1 };
	size_t n = sizeof(sizes) / sizeof(sizes[0]);
	struct ws_hash_file hashed[sizeof(sizes) / sizeof(sizes[0])];
	struct ws_store *st = NULL;
	struct ws_seckey *sk = NULL;
	char *home = xasprintf("%s/home", tmpdir), *src = xasprintf("%s/model", tmpdir);
	char *m1 = NULL, *m2 = NULL, *m3 = NULL;
	size_t l1 = 0, l2 = 0, l3 = 0;
	uint8_t a1[20], a2[32], b1[20], b2[32], c1[20], c2[32];
	uint64_t ps = ws_piece_size_for_files(sizes, n);
	int ok = 1;

	memset(hashed, 0, sizeof(hashed));
	ws_seckey_generate(&sk);
	ws_mkdir_p(src);
	{
		char *d = xasprintf("%s/sub", src);
		ws_mkdir_p(d);
		free(d);
	}
	for (size_t i = 0; i < n; i++) {
		uint8_t *b = make_bytes(sizes[i], 100 + (unsigned)i);
		char *path = xasprintf("%s/%s", src, names[i]);
		if (write_bytes(path, b, sizes[i]))
			ok = 0;
		/* as mirror fills them: relative path, publish's piece size */
		hashed[i].want_sha256 = 1;
		hashed[i].v1_piece_size = ps;
		hashed[i].v1_pad_last = 1;
		if (stream_bytes(&hashed[i], b, sizes[i], 1))
			ok = 0;
		hashed[i].path = names[i];
		free(path);
		free(b);
	}
	CHECK(ok, "release files written and streamed");
	CHECK(ws_store_open(home, &st, NULL) == 0, "open store");
	CHECK(publish_once(st, sk, src, hashed, n, a1, a2, &m1, &l1) == 0,
	      "publish with streamed hashes");
	CHECK(publish_once(st, sk, src, NULL, 0, b1, b2, &m2, &l2) == 0,
	      "publish hashing the files");
	CHECK(m1 && m2 && l1 == l2 && !memcmp(m1, m2, l1), "the same manifest bytes");
	CHECK(!memcmp(a1, b1, 20) && !memcmp(a2, b2, 32),
	      "the same torrent: v1 and v2 info-hashes equal");

	/* the hashes given are taken, not checked against the file: proof
	 * that publish does not read it again (the caller vouches for them) */
	hashed[0].sha256[0] ^= 1;
	CHECK(publish_once(st, sk, src, hashed, n, c1, c2, &m3, &l3) == 0 &&
	      !(l3 == l1 && !memcmp(m3, m1, l1)),
	      "publish takes the given hashes without reading the file again");
	hashed[0].sha256[0] ^= 1;
	free(m3);
	m3 = NULL;
	/* hashes made for another piece size are not used */
	hashed[1].v1_piece_size = ps * 2;
	hashed[1].sha256[0] ^= 1;
	CHECK(publish_once(st, sk, src, hashed, n, c1, c2, &m3, &l3) == 0 && l3 == l1 &&
	      !memcmp(m3, m1, l1) && !memcmp(c1, a1, 20),
	      "hashes made for another piece size are ignored (the file is hashed)");

	for (size_t i = 0; i < n; i++) {
		hashed[i].path = NULL;
		ws_hash_file_release(&hashed[i]);
	}
	free(m1);
	free(m2);
	free(m3);
	ws_store_free(st);
	ws_seckey_free(sk);
	free(home);
	free(src);
}

/* files handed over arrive at their destination (folders made); one
 * that cannot is reported by ws_syncer_finish, and the others still go */
static void test_syncer(void)
{
	struct ws_syncer *s = ws_syncer_new();
	char *from[3], *to[3], *msg = NULL;
	struct stat st;
	int ok = 1, ret;

	CHECK(s != NULL, "syncer thread starts");
	{
		char *b = xasprintf("%s/blocker", tmpdir);
		if (write_bytes(b, (const uint8_t *)"x", 1))
			ok = 0;
		free(b);
	}
	for (int i = 0; i < 3; i++) {
		from[i] = xasprintf("%s/part%d", tmpdir, i);
		/* the second goes under a regular file: no folder can be made */
		to[i] = xasprintf(i == 1 ? "%s/blocker/x/y%d" : "%s/done/sub/f%d", tmpdir, i);
		int fd = open(from[i], O_RDWR | O_CREAT | O_TRUNC, 0644);
		if (fd < 0 || write(fd, "abc", 3) != 3)
			ok = 0;
		/* a writeback start first, as a download asks every 16 MiB */
		ws_syncer_writeback(s, fd, 0, 3);
		if (ws_syncer_put(s, fd, from[i], to[i], NULL))
			ok = 0;
	}
	CHECK(ok, "three files handed over");
	ret = ws_syncer_finish(s, &msg);
	CHECK(ret == -ENOTDIR && msg && strstr(msg, "part1"),
	      "the file that cannot be moved is reported, by name");
	if (msg)
		printf("# %s\n", msg);
	CHECK(stat(to[0], &st) == 0 && st.st_size == 3 && stat(to[2], &st) == 0 &&
	      stat(from[0], &st) < 0 && stat(from[2], &st) < 0,
	      "the others are moved into place, folders made, before and after it");
	CHECK(stat(from[1], &st) == 0, "the one that failed stays where it was");
	CHECK_EQ_INT(ws_syncer_finish(NULL, NULL), 0, "finishing no syncer is fine");
	for (int i = 0; i < 3; i++) {
		free(from[i]);
		free(to[i]);
	}
	free(msg);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (sodium_init() < 0 || !mkdtemp(tmpdir)) {
		printf("Bail out! cannot set up\n");
		return 1;
	}
	test_sizes(0, 0);
	test_sizes(32u << 10, 1);
	test_sizes(32u << 10, 0);
	test_sizes(4u << 20, 1);
	test_sizes(8u << 20, 1);
	test_wrong_length();
	test_publish();
	test_syncer();
	ws_rm_rf(tmpdir);
	return check_done();
}
