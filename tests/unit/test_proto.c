/* test_proto.c - unit tests for proto/: keys, signatures, manifests, merkle */
#include "check.h"
#include "proto/error.h"
#include "proto/manifest.h"
#include "proto/merkle.h"
#include "proto/minisign.h"
#include "proto/pointer.h"
#include "proto/link.h"
#include "proto/util.h"

#include <errno.h>
#include <openssl/sha.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char tmpdir[] = "/tmp/ws-test-proto.XXXXXX";

static void test_signatures(void)
{
	struct ws_seckey *sk = NULL, *sk2 = NULL, *back = NULL;
	struct ws_pubkey pk, pk2, parsed;
	char b64[WS_PUBKEY_B64_LEN + 1], *sig = NULL, *tc = NULL;
	const char *msg = "weights";
	int enc = -1;

	CHECK(ws_seckey_generate(&sk) == 0 && ws_seckey_generate(&sk2) == 0, "generate keys");
	ws_seckey_public(sk, &pk);
	ws_seckey_public(sk2, &pk2);
	ws_pubkey_to_b64(&pk, b64);
	CHECK(strlen(b64) == WS_PUBKEY_B64_LEN && !strncmp(b64, "RW", 2), "public key base64 starts with RW");
	CHECK(ws_pubkey_parse(b64, &parsed) == 0 && ws_pubkey_equal(&pk, &parsed), "public key round trip");
	CHECK(ws_pubkey_parse("RWQnotakey", &parsed) == WS_EFORMAT, "garbage public key refused");
	CHECK(ws_sig_sign(sk, (const uint8_t *)msg, strlen(msg), "release x@1", &sig) == 0, "sign");
	CHECK(ws_sig_verify(&pk, (const uint8_t *)msg, strlen(msg), sig, strlen(sig), &tc, NULL) == 0,
	      "signature verifies");
	CHECK(tc && !strcmp(tc, "release x@1"), "trusted comment returned");
	CHECK(ws_sig_verify(&pk, (const uint8_t *)"weightS", 7, sig, strlen(sig), NULL, NULL) == WS_EBADSIG,
	      "changed message refused");
	CHECK(ws_sig_verify(&pk2, (const uint8_t *)msg, strlen(msg), sig, strlen(sig), NULL, NULL) == WS_EWRONGKEY,
	      "other key refused");
	char *forged = xstrdup(sig);
	char *tline = strstr(forged, "\ntrusted comment: ") + 18;
	tline[0] = 'R';
	CHECK(ws_sig_verify(&pk, (const uint8_t *)msg, strlen(msg), forged, strlen(forged), NULL, NULL) == WS_EBADSIG,
	      "changed trusted comment refused");
	free(forged);
	forged = xstrdup(sig);
	char *line2 = strchr(forged, '\n') + 1;
	line2[20] = line2[20] == 'A' ? 'B' : 'A';
	CHECK(ws_sig_verify(&pk, (const uint8_t *)msg, strlen(msg), forged, strlen(forged), NULL, NULL) != 0,
	      "forged signature bytes refused");
	free(forged);
	CHECK(ws_sig_verify(&pk, (const uint8_t *)msg, strlen(msg), sig, strlen(sig) / 2, NULL, NULL) == WS_EFORMAT,
	      "truncated signature file refused");

	char *path = xasprintf("%s/plain.key", tmpdir);
	CHECK(ws_seckey_save(sk, path, NULL, NULL) == 0, "save unencrypted key");
	CHECK(ws_seckey_save(sk, path, NULL, NULL) == -EEXIST, "save refuses to replace a key");
	CHECK(ws_seckey_load(path, NULL, &back, &enc, NULL) == 0 && enc == 0 &&
	      !memcmp(back->sk, sk->sk, 64), "load unencrypted key");
	ws_seckey_free(back);
	back = NULL;
	char *pub = xasprintf("%s.pub", path);
	CHECK(ws_pubkey_load(pub, &parsed, NULL) == 0 && ws_pubkey_equal(&pk, &parsed), "load .pub file");
	free(pub);
	free(path);
	path = xasprintf("%s/enc.key", tmpdir);
	CHECK(ws_seckey_save(sk, path, "correct horse", NULL) == 0, "save encrypted key");
	CHECK(ws_seckey_load(path, NULL, &back, &enc, NULL) == WS_EPASSWORD && enc == 1,
	      "encrypted key needs a password");
	CHECK(ws_seckey_load(path, "wrong", &back, &enc, NULL) == WS_EPASSWORD, "wrong password refused");
	CHECK(ws_seckey_load(path, "correct horse", &back, &enc, NULL) == 0 &&
	      !memcmp(back->sk, sk->sk, 64), "right password loads the key");
	ws_seckey_free(back);
	free(path);
	free(sig);
	free(tc);
	ws_seckey_free(sk);
	ws_seckey_free(sk2);
}

static void test_names_paths(void)
{
	CHECK(ws_name_check("deepseek-r1") == 0, "name deepseek-r1");
	CHECK(ws_name_check("qwen2.5-7b_instruct") == 0, "name with dot and underscore");
	CHECK(ws_name_check("") == WS_ENAME, "empty name refused");
	CHECK(ws_name_check("DeepSeek") == WS_ENAME, "uppercase name refused");
	CHECK(ws_name_check("-x") == WS_ENAME, "leading dash refused");
	CHECK(ws_name_check("a/b") == WS_ENAME, "slash in name refused");
	char longname[80];
	memset(longname, 'a', 49);
	longname[49] = 0;
	CHECK(ws_name_check(longname) == WS_ENAME, "49-character name refused");
	longname[48] = 0;
	CHECK(ws_name_check(longname) == 0, "48-character name accepted");

	CHECK(ws_path_check("model-00001-of-00002.safetensors") == 0, "plain path");
	CHECK(ws_path_check("sub/dir/tokenizer.json") == 0, "nested path");
	CHECK(ws_path_check("caf\xc3\xa9.txt") == 0, "UTF-8 path");
	const char *bad[] = { "", "/etc/passwd", "../x", "a/../b", "a/..", "./a", "a/./b",
			      "a//b", "a/", "a\\b", "a\nb", "a\x01", "\xff\xfe", "\xc0\xaf",
			      ".weightsync/manifest.json", ".weightsync", NULL };
	for (int i = 0; bad[i]; i++) {
		char what[64];
		snprintf(what, sizeof(what), "unsafe path #%d refused", i);
		CHECK(ws_path_check(bad[i]) == WS_EPATH, what);
	}
	CHECK(ws_path_check("a/.weightsync") == 0, ".weightsync below the top is a plain name");
}

static void fill_manifest(struct ws_manifest *m, const struct ws_pubkey *pk)
{
	uint8_t h[32];
	ws_manifest_init(m);
	m->publisher = *pk;
	strcpy(m->name, "demo");
	m->version = 2;
	m->created = 1700000000;
	m->has_previous = 1;
	memset(m->previous, 0xab, 32);
	m->origin = xstrdup("hf://org/demo@abc");
	memset(h, 1, 32);
	ws_manifest_add_file(m, "z.safetensors", 100, h, h);
	ws_manifest_add_file(m, "config.json", 10, h, h);
	ws_manifest_add_file(m, "empty", 0, h, h);
}

/* Parse text and expect code. */
static void expect_parse(const char *text, int code, const char *what)
{
	struct ws_manifest m;
	char *msg = NULL;
	int ret = ws_manifest_parse(text, strlen(text), &m, &msg);
	CHECK_EQ_INT(ret, code, what);
	if (ret == 0)
		ws_manifest_release(&m);
	else if (!msg)
		printf("#   no message for: %s\n", what);
	free(msg);
}

/* Replace the first occurrence of from with to in text (malloc'd). */
static char *replace(const char *text, const char *from, const char *to)
{
	const char *p = strstr(text, from);
	if (!p)
		return xstrdup(text);
	return xasprintf("%.*s%s%s", (int)(p - text), text, to, p + strlen(from));
}

static void test_manifest(void)
{
	struct ws_seckey *sk;
	struct ws_pubkey pk;
	struct ws_manifest m, back;
	char *text = NULL, *t2, *t3, *msg = NULL;
	size_t len;

	ws_seckey_generate(&sk);
	ws_seckey_public(sk, &pk);
	fill_manifest(&m, &pk);
	CHECK(ws_manifest_serialize(&m, &text, &len, &msg) == 0, "serialize");
	CHECK(ws_manifest_parse(text, len, &back, &msg) == 0, "parse what we wrote");
	CHECK(back.nfiles == 3 && !strcmp(back.files[0].path, "config.json") &&
	      !strcmp(back.files[2].path, "z.safetensors"), "files sorted by path");
	CHECK(back.version == 2 && back.has_previous && back.previous[0] == 0xab &&
	      back.created == 1700000000 && !strcmp(back.origin, "hf://org/demo@abc") &&
	      ws_pubkey_equal(&back.publisher, &pk), "fields round trip");
	CHECK(ws_manifest_find(&back, "empty") && ws_manifest_find(&back, "empty")->size == 0,
	      "find a file");
	CHECK(!ws_manifest_find(&back, "nope"), "find a missing file");
	ws_manifest_release(&back);

	uint8_t h[32];
	char tc[WS_TRUSTED_COMMENT_MAX], *sig = NULL;
	ws_manifest_hash(text, len, h);
	ws_manifest_trusted_comment(&m, h, tc);
	ws_sig_sign(sk, (const uint8_t *)text, len, tc, &sig);
	CHECK(ws_manifest_verify(text, len, sig, strlen(sig), &pk, &back, NULL) == 0, "verify signed manifest");
	ws_manifest_release(&back);
	t2 = xstrdup(text);
	t2[len / 2] ^= 1;
	CHECK(ws_manifest_verify(t2, len, sig, strlen(sig), NULL, &back, NULL) != 0,
	      "one flipped byte refused");
	free(t2);
	free(sig);
	ws_sig_sign(sk, (const uint8_t *)text, len, "some other comment", &sig);
	CHECK(ws_manifest_verify(text, len, sig, strlen(sig), NULL, &back, NULL) == WS_EBADSIG,
	      "trusted comment must name the release");
	free(sig);

	expect_parse("[]", WS_EFORMAT, "not an object");
	expect_parse("{\"format\":", WS_EFORMAT, "truncated JSON");
	expect_parse(text + 1, WS_EFORMAT, "missing first byte");
	t2 = replace(text, WS_MANIFEST_FORMAT, "weightsync-manifest-9");
	expect_parse(t2, WS_EUNSUPPORTED, "unknown format");
	free(t2);
	t2 = replace(text, "\"name\": \"demo\",", "\"name\": \"demo\", \"name\": \"demo\",");
	expect_parse(t2, WS_EFORMAT, "duplicate key");
	free(t2);
	t2 = replace(text, "\"name\": \"demo\",", "\"name\": \"demo\", \"extra\": 1,");
	expect_parse(t2, WS_EFORMAT, "unknown key");
	free(t2);
	t2 = replace(text, "\"version\": 2", "\"version\": 0");
	expect_parse(t2, WS_EFORMAT, "version 0");
	free(t2);
	t2 = replace(text, "\"version\": 2", "\"version\": 1");
	expect_parse(t2, WS_EFORMAT, "version 1 with a previous");
	free(t2);
	t2 = replace(text, "\"version\": 2", "\"version\": \"2\"");
	expect_parse(t2, WS_EFORMAT, "version as a string");
	free(t2);
	t2 = replace(text, "\"config.json\"", "\"../config.json\"");
	expect_parse(t2, WS_EPATH, "path with ..");
	free(t2);
	t2 = replace(text, "\"config.json\"", "\"/etc/passwd\"");
	expect_parse(t2, WS_EPATH, "absolute path");
	free(t2);
	t2 = replace(text, "\"config.json\"", "\"empty\"");
	expect_parse(t2, WS_EPATH, "duplicate path");
	free(t2);
	t2 = replace(text, "\"config.json\"", "\"empty/x\"");
	expect_parse(t2, WS_EPATH, "a path both file and folder");
	free(t2);
	t2 = replace(text, "\"config.json\"", "\"zz\"");
	expect_parse(t2, WS_EPATH, "unsorted files");
	free(t2);
	t2 = replace(text, "\"size\": 10", "\"size\": -10");
	expect_parse(t2, WS_EFORMAT, "negative size");
	free(t2);
	t2 = replace(text, "\"sha256\": \"01", "\"sha256\": \"0A");
	expect_parse(t2, WS_EFORMAT, "uppercase hex");
	free(t2);
	t2 = replace(text, "\"config.json\"", "\"a\\u0000b\"");
	expect_parse(t2, WS_EFORMAT, "NUL in a path");
	free(t2);
	t2 = replace(text, "\"config.json\"", "\"a\\nb\"");
	expect_parse(t2, WS_EPATH, "newline in a path");
	free(t2);
	/* created: one spelling of a real UTC time */
	const char *bad_times[] = { "2026-02-31T00:00:00Z", "2025-02-29T00:00:00Z",
				    "2026-04-31T00:00:00Z", "2026-01-01T24:00:00Z",
				    "2026-01-01T00:60:00Z", "2026-01-01T00:00:60Z",
				    "2026-13-01T00:00:00Z", "2026-00-10T00:00:00Z",
				    "2026-01-00T00:00:00Z", "2026-1-01T00:00:00Z",
				    "2026-01-01 00:00:00Z", "2026-01-01T00:00:00+00",
				    "+026-01-01T00:00:00Z", "2026-01-01T0 :00:00Z", NULL };
	for (int i = 0; bad_times[i]; i++) {
		char what[80];
		snprintf(what, sizeof(what), "created %s refused", bad_times[i]);
		t2 = replace(text, "2023-11-14T22:13:20Z", bad_times[i]);
		expect_parse(t2, WS_EFORMAT, what);
		free(t2);
	}
	/* a manifest whose NAME@VERSION would not fit a DHT salt */
	t2 = replace(text, "\"name\": \"demo\"",
		     "\"name\": \"demo-4567890123456789012345678901234567890123456\"");
	t3 = replace(t2, "\"version\": 2", "\"version\": 1000000000000000");
	expect_parse(t3, WS_ENAME, "48-character name at a 16-digit version refused");
	free(t3);
	t3 = replace(t2, "\"version\": 2", "\"version\": 999999999999999");
	expect_parse(t3, 0, "48-character name at a 15-digit version accepted");
	free(t3);
	free(t2);
	t2 = replace(text, "2023-11-14T22:13:20Z", "2024-02-29T23:59:59Z");
	expect_parse(t2, 0, "created on a leap day accepted");
	free(t2);
	char *huge = xmalloc(WS_MANIFEST_MAX + 2);
	memset(huge, ' ', WS_MANIFEST_MAX + 1);
	huge[WS_MANIFEST_MAX + 1] = 0;
	expect_parse(huge, WS_ETOOBIG, "manifest over the size cap");
	free(huge);
	char *deep = xmalloc(100001);
	memset(deep, '[', 100000);
	deep[100000] = 0;
	expect_parse(deep, WS_EFORMAT, "deeply nested JSON");
	free(deep);
	free(text);
	free(msg);
	ws_manifest_release(&m);
	ws_seckey_free(sk);
}

/* The BEP 52 tree the slow, obvious way. */
static void naive_root(const uint8_t *data, uint64_t size, uint64_t leaves_min,
		       uint8_t out[32])
{
	uint64_t nblocks = (size + WS_BLOCK_SIZE - 1) / WS_BLOCK_SIZE, w = 1;
	while (w < nblocks || w < leaves_min)
		w <<= 1;
	uint8_t (*t)[32] = xcalloc(w, 32);
	for (uint64_t i = 0; i < nblocks; i++) {
		uint64_t n = size - i * WS_BLOCK_SIZE < WS_BLOCK_SIZE ? size - i * WS_BLOCK_SIZE : WS_BLOCK_SIZE;
		SHA256(data + i * WS_BLOCK_SIZE, n, t[i]);
	}
	for (; w > 1; w /= 2)
		for (uint64_t i = 0; i < w / 2; i++) {
			uint8_t buf[64];
			memcpy(buf, t[2 * i], 32);
			memcpy(buf + 32, t[2 * i + 1], 32);
			SHA256(buf, 64, t[i]);
		}
	memcpy(out, t[0], 32);
	free(t);
}

static void test_merkle(void)
{
	static const uint64_t sizes[] = { 1, 100, 16384, 16385, 3 * 16384 + 7,
		65536, 65537, 4u << 20, (4u << 20) + 1, (9u << 20) + 123, 17u << 20 };
	/* 4 MiB: no torrent or pieces >= 4 MiB; smaller: one chunk a piece */
	static const uint64_t chunk_sizes[] = { 16384, 32768, 65536, WS_CHUNK_SIZE };
	uint8_t *data = xmalloc(17u << 20);
	randombytes_buf(data, 17u << 20);

	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++)
	for (size_t c = 0; c < sizeof(chunk_sizes) / sizeof(chunk_sizes[0]); c++) {
		uint64_t size = sizes[s], cs = chunk_sizes[c];
		uint64_t nch = (size + cs - 1) / cs;
		uint64_t width = ws_merkle_chunk_width(cs, size);
		uint8_t (*chunks)[32] = xcalloc(nch, 32), root[32], want[32];
		char what[128];
		for (uint64_t k = 0; k < nch; k++) {
			uint64_t off = k * cs;
			uint64_t n = size - off < cs ? size - off : cs;
			ws_merkle_chunk_root(data + off, n, width, chunks[k]);
		}
		ws_merkle_root_from_chunks((const uint8_t (*)[32])chunks, nch, cs, size, root);
		naive_root(data, size, 1, want);
		snprintf(what, sizeof(what), "pieces root of %llu bytes, %llu-byte chunks",
			 (unsigned long long)size, (unsigned long long)cs);
		CHECK(!memcmp(root, want, 32), what);
		if (c == 0) {
			ws_merkle_root(data, (size_t)size, root);
			snprintf(what, sizeof(what), "ws_merkle_root of %llu bytes in memory",
				 (unsigned long long)size);
			CHECK(!memcmp(root, want, 32), what);
		}
		if (size <= WS_BLOCK_SIZE && cs == WS_CHUNK_SIZE) {
			SHA256(data, size, want);
			CHECK(!memcmp(root, want, 32), "root of a file <= 16 KiB is its SHA-256");
		}
		for (uint64_t ps = cs; ps <= 8u << 20; ps *= 2) {
			/* a few piece sizes per chunk size keep this quick */
			if (size <= ps || (ps > 4 * cs && ps < 4u << 20))
				continue;
			uint64_t np = (size + ps - 1) / ps;
			uint8_t (*layer)[32] = xcalloc(np, 32);
			int ok = ws_merkle_piece_layer((const uint8_t (*)[32])chunks, nch, cs,
						       size, ps, layer) == 0;
			for (uint64_t p = 0; p < np && ok; p++) {
				uint64_t off = p * ps, n = size - off < ps ? size - off : ps;
				naive_root(data + off, n, ps / WS_BLOCK_SIZE, want);
				ok = !memcmp(layer[p], want, 32);
			}
			snprintf(what, sizeof(what), "piece layer of %llu bytes, %llu-byte pieces, "
				 "%llu-byte chunks", (unsigned long long)size,
				 (unsigned long long)ps, (unsigned long long)cs);
			CHECK(ok, what);
			free(layer);
		}
		if (size > 2 * cs) {
			uint8_t (*layer)[32] = xcalloc(size, 32);
			CHECK(ws_merkle_piece_layer((const uint8_t (*)[32])chunks, nch, cs, size,
						    cs / 2, layer) == WS_EFORMAT &&
			      ws_merkle_piece_layer((const uint8_t (*)[32])chunks, nch, cs, size,
						    3 * cs, layer) == WS_EFORMAT,
			      "pieces smaller than a chunk or not a power of two are refused");
			free(layer);
		}
		free(chunks);
	}
	free(data);
}

static void test_piece_size(void)
{
	uint64_t *sizes = xcalloc(3000, sizeof(*sizes));
	uint64_t total = 0, pad = 0, ps;

	/* 3000 files of 1 B - 64 KiB: the smallest pieces */
	for (size_t i = 0; i < 3000; i++)
		sizes[i] = 1 + (uint64_t)i * 7919 % 65536;
	CHECK(ws_piece_size_for_files(sizes, 3000) == WS_PIECE_MIN,
	      "many small files get 32 KiB pieces");
	/* a 700 GB model of 163 shards and a few small files: 64 MiB */
	for (size_t i = 0; i < 163; i++)
		sizes[i] = 4294967296ull + i;
	sizes[163] = 1000;
	sizes[164] = 0;
	CHECK(ws_piece_size_for_files(sizes, 165) == WS_PIECE_MAX,
	      "a 700 GB model gets 64 MiB pieces");
	/* 1 GiB in 4 shards: large pieces, little padding */
	for (size_t i = 0; i < 4; i++)
		sizes[i] = 268435456ull + 1000 * i;
	CHECK(ws_piece_size_for_files(sizes, 4) == WS_PIECE_LARGE,
	      "1 GiB in 4 files gets 4 MiB pieces");
	/* a 10 GB model with 20 config files of 20 KiB: padding stays small */
	for (size_t i = 0; i < 24; i++)
		sizes[i] = i < 4 ? 2500000000ull : 20000;
	ps = ws_piece_size_for_files(sizes, 24);
	for (size_t i = 0; i < 24; i++) {
		total += sizes[i];
		pad += (ps - sizes[i] % ps) % ps;
	}
	CHECK(ps == WS_PIECE_LARGE && pad * 100 <= 3 * total,
	      "10 GB in 4 shards and 20 small files: 4 MiB pieces, padding <= 3%");
	/* 3000 files of 1 MiB + 1 byte: 512 KiB pieces would pad by 50%;
	 * halved while the pieces stay <= 40,000 beyond each file's first */
	for (size_t i = 0; i < 3000; i++)
		sizes[i] = (1u << 20) + 1;
	CHECK(ws_piece_size_for_files(sizes, 3000) == 131072,
	      "3000 files of 1 MiB + 1: 128 KiB pieces (24,000 beyond the first)");
	CHECK(ws_piece_size_for_files(sizes, 0) == WS_PIECE_LARGE &&
	      ws_piece_size_for_files((const uint64_t[]){ 0, 0 }, 2) == WS_PIECE_LARGE,
	      "no bytes: no padding to avoid, 4 MiB pieces");
	free(sizes);
}

static void test_times(void)
{
	int64_t t = 7;

	CHECK(ws_parse_time("1970-01-01T00:00:00Z", &t) == 0 && t == 0, "the epoch");
	CHECK(ws_parse_time("2023-11-14T22:13:20Z", &t) == 0 && t == 1700000000, "a known time");
	CHECK(ws_parse_time("2000-02-29T12:00:00Z", &t) == 0 && t == 951825600,
	      "Feb 29 of a year divisible by 400");
	CHECK(ws_parse_time("2100-02-29T00:00:00Z", &t) == WS_EFORMAT,
	      "Feb 29 of a century year refused");
	CHECK(ws_parse_time("2026-12-31T23:59:59Z", &t) == 0 && t == 1798761599,
	      "the last second of a year");
	t = 7;
	CHECK(ws_parse_time("2026-02-31T00:00:00Z", &t) == WS_EFORMAT && t == 7,
	      "February 31 refused, out-parameter untouched");
	CHECK(ws_parse_time("2026-06-30T23:59:60Z", &t) == WS_EFORMAT, "leap second refused");
	CHECK(ws_parse_time("2026-06-30T24:00:00Z", &t) == WS_EFORMAT, "24:00 refused");
	CHECK(ws_parse_time("2026-06-30T23:59:59Z ", &t) == WS_EFORMAT, "trailing byte refused");
	CHECK(ws_parse_time("2026-06-30T23:59:59z", &t) == WS_EFORMAT, "lowercase z refused");
	for (int64_t x = 0; x < 4102444800LL; x += 86400 * 37 + 3671) {
		char buf[21];
		ws_format_time(x, buf);
		if (ws_parse_time(buf, &t) || t != x) {
			CHECK(0, "format and parse round trip");
			return;
		}
	}
	CHECK(1, "format and parse round trip, 1970 to 2100");
}

static void test_escape(void)
{
	static const struct { const char *in, *out; } cases[] = {
		{ "deepseek-r1", "deepseek-r1" },
		{ "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80" },
		{ "a\x1b[31mred", "a\\x1b[31mred" },
		{ "\x1b]0;title\x07", "\\x1b]0;title\\x07" },
		{ "tab\tnl\ncr\r", "tab\\x09nl\\x0acr\\x0d" },
		{ "del\x7f", "del\\x7f" },
		{ "\xff\xfe", "\\xff\\xfe" },
		{ "cut\xc3", "cut\\xc3" },
		{ "\xc0\xaf", "\\xc0\\xaf" },                 /* overlong '/' */
		{ "\xc2\x9b" "31m", "\\xc2\\x9b" "31m" },       /* C1 CSI */
		{ "\xed\xa0\x80", "\\xed\\xa0\\x80" },         /* a surrogate */
		{ "", "" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char what[80], *got = ws_escape(cases[i].in);
		snprintf(what, sizeof(what), "ws_escape case %zu", i);
		CHECK(!strcmp(got, cases[i].out), what);
		if (strcmp(got, cases[i].out))
			printf("#   got '%s', want '%s'\n", got, cases[i].out);
		free(got);
	}
}

/* Sign value v under salt and seq into p, as a hostile publisher could. */
static void sign_raw(const struct ws_seckey *sk, const char *salt, int64_t seq,
		     const uint8_t *v, size_t vlen, struct ws_pointer *p)
{
	uint8_t buf[WS_POINTER_VMAX + 128];
	size_t n;

	memset(p, 0, sizeof(*p));
	memcpy(p->pk, sk->sk + 32, 32);
	snprintf(p->salt, sizeof(p->salt), "%s", salt);
	p->seq = seq;
	memcpy(p->v, v, vlen);
	p->vlen = vlen;
	n = ws_pointer_signable(salt, seq, v, vlen, buf);
	crypto_sign_detached(p->sig, NULL, buf, n, sk->sk);
}

static void test_pointer_values(void)
{
	struct ws_seckey *sk;
	struct ws_pointer p, q;
	uint8_t ih1[20], ih2[32], mh[32], v[WS_POINTER_VMAX];
	char salt[WS_SALT_MAX + 1], name[WS_NAME_MAX + 1], what[80];
	int short_ok = 1;

	ws_seckey_generate(&sk);
	memset(ih1, 1, 20);
	memset(ih2, 2, 32);
	memset(mh, 3, 32);
	CHECK(ws_pointer_make(sk, "m@12", 12, ih1, ih2, mh, &p) == 0, "make a pointer");
	/* every prefix of a good value, signed: refused, never read past */
	for (size_t n = 0; n < p.vlen; n++) {
		memset(v, '9', sizeof(v));
		memcpy(v, p.v, n);
		sign_raw(sk, "m@12", 12, v, n, &q);
		memset(q.v + n, '9', sizeof(q.v) - n);  /* bytes past the value */
		if (ws_pointer_check(&q) != WS_EFORMAT)
			short_ok = 0;
	}
	CHECK(short_ok, "every short value refused");
	/* a version running to the end of the value, with no "ee" */
	memcpy(v, p.v, 114);
	memset(v + 114, '1', sizeof(v) - 114);
	sign_raw(sk, "m", 12, v, sizeof(v), &q);
	CHECK_EQ_INT(ws_pointer_check(&q), WS_EFORMAT, "a value without its end refused");
	memcpy(v, p.v, p.vlen);
	memcpy(v + 114, "0012ee", 6);
	sign_raw(sk, "m@12", 12, v, 120, &q);
	CHECK_EQ_INT(ws_pointer_check(&q), WS_EFORMAT, "a version with leading zeros refused");
	memcpy(v + 114, "99999999999999999999ee", 22);
	sign_raw(sk, "m", 12, v, 136, &q);
	CHECK_EQ_INT(ws_pointer_check(&q), WS_EFORMAT, "an overflowing version refused");
	/* the salt spells the version one way too */
	sign_raw(sk, "m@012", 12, p.v, p.vlen, &q);
	CHECK_EQ_INT(ws_pointer_check(&q), WS_EFORMAT, "salt version with a leading zero refused");
	sign_raw(sk, "m@ 12", 12, p.v, p.vlen, &q);
	CHECK_EQ_INT(ws_pointer_check(&q), WS_EFORMAT, "salt version with a space refused");
	sign_raw(sk, "m@+12", 12, p.v, p.vlen, &q);
	CHECK_EQ_INT(ws_pointer_check(&q), WS_EFORMAT, "salt version with a sign refused");
	sign_raw(sk, "m@12", 12, p.v, p.vlen, &q);
	CHECK_EQ_INT(ws_pointer_check(&q), 0, "the same value, signed raw, accepted");

	/* NAME@VERSION must fit BEP 44's 64-byte salt */
	memset(name, 'n', WS_NAME_MAX);
	name[WS_NAME_MAX] = 0;
	CHECK(ws_name_check(name) == 0, "a name of WS_NAME_MAX characters is valid");
	CHECK_EQ_INT(ws_ref_check(name, WS_VERSION_MAX), WS_ENAME,
		     "a 48-character name at version 2^53-1 makes a 65-byte salt: refused");
	CHECK_EQ_INT(ws_ref_check(name, 1000000000000000LL), WS_ENAME,
		     "a 48-character name at a 16-digit version: refused");
	CHECK_EQ_INT(ws_ref_check(name, 999999999999999LL), 0,
		     "a 48-character name at a 15-digit version: accepted");
	ws_pointer_salt(name, 999999999999999LL, salt);
	snprintf(what, sizeof(what), "the longest salt is %zu bytes", strlen(salt));
	CHECK(strlen(salt) == 64 && !strcmp(salt + WS_NAME_MAX, "@999999999999999"), what);
	CHECK(ws_pointer_make(sk, salt, 999999999999999LL, ih1, ih2, mh, &q) == 0 &&
	      ws_pointer_check(&q) == 0 && q.version == 999999999999999LL,
	      "pointer with the longest salt round trip");
	CHECK_EQ_INT(ws_ref_check("m", WS_VERSION_MAX), 0, "a short name at version 2^53-1");
	ws_seckey_free(sk);
}

static void test_pointers(void)
{
	struct ws_seckey *sk;
	struct ws_pointer p, q;
	uint8_t ih1[20], ih2[32], mh[32];
	char salt[WS_SALT_MAX + 1];

	ws_seckey_generate(&sk);
	memset(ih1, 1, 20);
	memset(ih2, 2, 32);
	memset(mh, 3, 32);
	ws_pointer_salt("deepseek-r1", 0, salt);
	CHECK(!strcmp(salt, "deepseek-r1"), "latest pointer salt is the name");
	ws_pointer_salt("deepseek-r1", 12, salt);
	CHECK(!strcmp(salt, "deepseek-r1@12"), "version pointer salt is NAME@V");
	CHECK(ws_pointer_make(sk, salt, 12, ih1, ih2, mh, &p) == 0 && p.vlen < 1000, "make a pointer");
	q = p;
	CHECK(ws_pointer_check(&q) == 0 && q.version == 12 && !memcmp(q.ih2, ih2, 32) &&
	      !memcmp(q.mhash, mh, 32), "check decodes it");
	q = p;
	q.v[40] ^= 1;
	CHECK_EQ_INT(ws_pointer_check(&q), WS_EBADSIG, "a changed value fails its signature");
	q = p;
	q.sig[0] ^= 1;
	CHECK_EQ_INT(ws_pointer_check(&q), WS_EBADSIG, "a forged signature is refused");
	q = p;
	q.seq = 13;
	CHECK_EQ_INT(ws_pointer_check(&q), WS_EBADSIG, "another seq is refused");
	q = p;
	strcpy(q.salt, "other@12");
	CHECK_EQ_INT(ws_pointer_check(&q), WS_EBADSIG, "another salt is refused");
	CHECK(ws_pointer_make(sk, "deepseek-r1@11", 12, ih1, ih2, mh, &q) == 0 &&
	      ws_pointer_check(&q) == WS_EFORMAT, "a version pointer must name its version");
	/* the BEP 44 buffer, as the spec spells it */
	uint8_t buf[WS_POINTER_VMAX + 128];
	size_t n = ws_pointer_signable("ab", 7, (const uint8_t *)"i1e", 3, buf);
	CHECK(n == strlen("4:salt2:ab3:seqi7e1:vi1e") && !memcmp(buf, "4:salt2:ab3:seqi7e1:vi1e", n),
	      "BEP 44 signed buffer");

	struct ws_link l;
	char *link = ws_link_format_name(p.pk, "deepseek-r1");
	CHECK(ws_link_parse(link, &l, NULL) == 0 && l.is_name_link && !memcmp(l.pk32, p.pk, 32) &&
	      !strcmp(l.name, "deepseek-r1"), "BEP 46 link round trip");
	free(link);
	struct ws_pubkey pk;
	ws_seckey_public(sk, &pk);
	link = ws_link_format(ih1, ih2, &pk, "deepseek-r1", 3, mh);
	CHECK(ws_link_parse(link, &l, NULL) == 0 && l.has_v1 && l.has_v2 && l.has_pk &&
	      l.has_mhash && l.version == 3 && ws_pubkey_equal(&l.pk, &pk) &&
	      !memcmp(l.v2, ih2, 32), "release link round trip");
	free(link);
	CHECK(ws_link_parse("magnet:?dn=x", &l, NULL) == WS_EFORMAT, "a link without a hash is refused");
	CHECK(ws_link_parse("magnet:?xt=urn:btih:zz", &l, NULL) == WS_EFORMAT, "a bad info-hash is refused");
	ws_seckey_free(sk);
}

int main(void)
{
	if (sodium_init() < 0 || !mkdtemp(tmpdir))
		return 2;
	test_signatures();
	test_names_paths();
	test_manifest();
	test_merkle();
	test_piece_size();
	test_pointers();
	test_times();
	test_escape();
	test_pointer_values();
	ws_rm_rf(tmpdir);
	return check_done();
}
