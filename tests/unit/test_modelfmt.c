/* test_modelfmt.c - unit tests for proto/modelfmt: safetensors and GGUF checks */
#include "check.h"
#include "proto/error.h"
#include "proto/modelfmt.h"
#include "proto/util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char tmpdir[] = "/tmp/ws-test-modelfmt.XXXXXX";

/* A growing byte buffer for building files. */
struct buf {
	uint8_t *p;
	size_t n;
};

static void put(struct buf *b, const void *p, size_t n)
{
	b->p = xrealloc(b->p, b->n + n + 1);
	memcpy(b->p + b->n, p, n);
	b->n += n;
}

static void put_u32(struct buf *b, uint32_t v)
{
	uint8_t x[4];
	for (int i = 0; i < 4; i++)
		x[i] = (uint8_t)(v >> (8 * i));
	put(b, x, 4);
}

static void put_u64(struct buf *b, uint64_t v)
{
	uint8_t x[8];
	for (int i = 0; i < 8; i++)
		x[i] = (uint8_t)(v >> (8 * i));
	put(b, x, 8);
}

static void put_zeros(struct buf *b, size_t n)
{
	b->p = xrealloc(b->p, b->n + n + 1);
	memset(b->p + b->n, 0, n);
	b->n += n;
}

static void put_str(struct buf *b, const char *s)
{
	put_u64(b, strlen(s));
	put(b, s, strlen(s));
}

/* Write b to tmpdir/name; returns the malloc'd path. */
static char *save(const char *name, const struct buf *b)
{
	char *path = xasprintf("%s/%s", tmpdir, name);
	if (ws_write_file_atomic(path, b->p, b->n, 0644, 0))
		abort();
	return path;
}

/*
 * A safetensors file: header length (hdrlen, or the real length when
 * hdrlen is UINT64_MAX), header text, then ndata zero bytes.
 */
static char *safetensors(const char *name, uint64_t hdrlen, const char *header,
			 size_t ndata)
{
	struct buf b = { 0 };
	char *path;
	put_u64(&b, hdrlen == UINT64_MAX ? strlen(header) : hdrlen);
	put(&b, header, strlen(header));
	put_zeros(&b, ndata);
	path = save(name, &b);
	free(b.p);
	return path;
}

/* check path; 1 when the result is want and, for failures, msg holds needle */
static int check_file(const char *path, int want, const char *want_kind,
		      const char *needle)
{
	char kind[16] = "", *msg = NULL;
	int ret = ws_modelfmt_check(path, kind, sizeof kind, &msg);
	int good = ret == want && (!want_kind || !strcmp(kind, want_kind)) &&
		   (!needle || (msg && strstr(msg, needle)));
	if (!good)
		printf("#   %s: got %d (%s), kind '%s', msg '%s'\n", path, ret,
		       ws_strerror(ret), kind, msg ? msg : "(none)");
	else if (msg)
		printf("#   %s\n", msg);
	free(msg);
	return good;
}

#define GOOD_HDR "{\"__metadata__\":{\"format\":\"pt\"}," \
	"\"a\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]}," \
	"\"b\":{\"dtype\":\"BF16\",\"shape\":[4],\"data_offsets\":[24,32]}," \
	"\"c\":{\"dtype\":\"U8\",\"shape\":[0,5],\"data_offsets\":[32,32]}}"

static void test_safetensors(void)
{
	char *p;
	const char *bad;

	p = safetensors("good.safetensors", UINT64_MAX, GOOD_HDR, 32);
	CHECK(check_file(p, 0, "safetensors", NULL), "safetensors: valid file");
	free(p);

	p = safetensors("empty.safetensors", UINT64_MAX, "{}", 0);
	CHECK(check_file(p, 0, "safetensors", NULL), "safetensors: no tensors");
	free(p);

	p = safetensors("biglen.safetensors", 1000, GOOD_HDR, 32);
	CHECK(check_file(p, WS_EFORMAT, "safetensors", "header length 1000 at byte 0 runs past"),
	      "safetensors: header length past the end of the file");
	free(p);

	p = safetensors("hugelen.safetensors", (uint64_t)1 << 40, GOOD_HDR, 32);
	CHECK(check_file(p, WS_EFORMAT, "safetensors", "over the"),
	      "safetensors: header length over the limit");
	free(p);

	p = safetensors("short.safetensors", UINT64_MAX, "", 0);
	CHECK(check_file(p, WS_EFORMAT, "safetensors", "header is not JSON"),
	      "safetensors: empty header refused");
	free(p);

	p = safetensors("notjson.safetensors", UINT64_MAX, "{\"a\": [1, 2", 0);
	CHECK(check_file(p, WS_EFORMAT, "safetensors", "header is not JSON"),
	      "safetensors: header not JSON");
	free(p);

	p = safetensors("dup.safetensors", UINT64_MAX,
			"{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},"
			"\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]}}", 2);
	CHECK(check_file(p, WS_EFORMAT, "safetensors", "header is not JSON"),
	      "safetensors: duplicate key refused");
	free(p);

	p = safetensors("array.safetensors", UINT64_MAX, "[1]", 0);
	CHECK(check_file(p, WS_EFORMAT, "safetensors", "not a JSON object"),
	      "safetensors: header not an object");
	free(p);

	p = safetensors("meta.safetensors", UINT64_MAX, "{\"__metadata__\":{\"x\":1}}", 0);
	CHECK(check_file(p, WS_EFORMAT, "safetensors", "'x' is not a string"),
	      "safetensors: metadata value not a string");
	free(p);

	p = safetensors("dtype.safetensors", UINT64_MAX,
			"{\"w\":{\"dtype\":\"F128\",\"shape\":[1],\"data_offsets\":[0,16]}}", 16);
	CHECK(check_file(p, WS_EFORMAT, "safetensors", "tensor 'w': unknown dtype 'F128'"),
	      "safetensors: unknown dtype");
	free(p);

	p = safetensors("shape.safetensors", UINT64_MAX,
			"{\"w\":{\"dtype\":\"F16\",\"shape\":[3,3],\"data_offsets\":[0,16]}}", 16);
	CHECK(check_file(p, WS_EFORMAT, "safetensors", "tensor 'w': data_offsets [0, 16] hold 16 bytes but F16 shape needs 18"),
	      "safetensors: shape and size disagree");
	free(p);

	p = safetensors("negshape.safetensors", UINT64_MAX,
			"{\"w\":{\"dtype\":\"F16\",\"shape\":[-1],\"data_offsets\":[0,0]}}", 0);
	CHECK(check_file(p, WS_EFORMAT, "safetensors", "shape[0] is not a non-negative"),
	      "safetensors: negative dimension");
	free(p);

	p = safetensors("overflow.safetensors", UINT64_MAX,
			"{\"w\":{\"dtype\":\"F64\",\"shape\":[4294967296,4294967296],"
			"\"data_offsets\":[0,0]}}", 0);
	CHECK(check_file(p, WS_EFORMAT, "safetensors", "overflows"),
	      "safetensors: shape product overflow");
	free(p);

	p = safetensors("gap.safetensors", UINT64_MAX,
			"{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]},"
			"\"b\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[8,12]}}", 12);
	CHECK(check_file(p, WS_EFORMAT, "safetensors", "gap in the data: bytes [4, 8) belong to no tensor (before 'b')"),
	      "safetensors: gap between tensors");
	free(p);

	p = safetensors("lead.safetensors", UINT64_MAX,
			"{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[4,8]}}", 8);
	CHECK(check_file(p, WS_EFORMAT, "safetensors", "gap in the data: bytes [0, 4)"),
	      "safetensors: data not starting at 0");
	free(p);

	p = safetensors("overlap.safetensors", UINT64_MAX,
			"{\"a\":{\"dtype\":\"U8\",\"shape\":[8],\"data_offsets\":[0,8]},"
			"\"b\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[4,8]}}", 8);
	CHECK(check_file(p, WS_EFORMAT, "safetensors", "overlaps"),
	      "safetensors: overlapping tensors");
	free(p);

	bad = "file size";
	p = safetensors("trunc.safetensors", UINT64_MAX, GOOD_HDR, 31);
	CHECK(check_file(p, WS_EFORMAT, "safetensors", bad) &&
	      check_file(p, WS_EFORMAT, NULL, "truncated"), "safetensors: truncated data");
	free(p);

	p = safetensors("extra.safetensors", UINT64_MAX, GOOD_HDR, 33);
	CHECK(check_file(p, WS_EFORMAT, "safetensors", bad) &&
	      check_file(p, WS_EFORMAT, NULL, "trailing bytes"), "safetensors: trailing bytes");
	free(p);

	p = xasprintf("%s/tiny.safetensors", tmpdir);
	CHECK(ws_write_file_atomic(p, "abc", 3, 0644, 0) == 0 &&
	      check_file(p, WS_EFORMAT, "safetensors", "too short"),
	      "safetensors: shorter than the length field");
	free(p);
}

/* GGUF pieces */
enum { T_U32 = 4, T_STRING = 8, T_ARRAY = 9 };

static void gguf_head(struct buf *b, uint32_t version, uint64_t ntensors, uint64_t nkv)
{
	put(b, "GGUF", 4);
	put_u32(b, version);
	put_u64(b, ntensors);
	put_u64(b, nkv);
}

static void gguf_tensor(struct buf *b, const char *name, uint32_t ndims,
			const uint64_t *dims, uint32_t type, uint64_t off)
{
	put_str(b, name);
	put_u32(b, ndims);
	for (uint32_t i = 0; i < ndims; i++)
		put_u64(b, dims[i]);
	put_u32(b, type);
	put_u64(b, off);
}

static void gguf_pad(struct buf *b, size_t align)
{
	put_zeros(b, (align - b->n % align) % align);
}

/*
 * The valid GGUF v3 file, with changes: version, the second tensor's
 * offset, and how many data bytes to drop from the end.
 */
static char *gguf_file(const char *name, uint32_t version, uint64_t off2, size_t cut)
{
	struct buf b = { 0 };
	uint64_t d1[2] = { 4, 2 }, d2[1] = { 64 };
	char *path;

	gguf_head(&b, version, 2, 3);
	put_str(&b, "general.architecture");
	put_u32(&b, T_STRING);
	put_str(&b, "llama");
	put_str(&b, "tokenizer.ggml.tokens");
	put_u32(&b, T_ARRAY);
	put_u32(&b, T_STRING);
	put_u64(&b, 3);
	put_str(&b, "<s>");
	put_str(&b, "</s>");
	put_str(&b, "hello");
	put_str(&b, "general.alignment");
	put_u32(&b, T_U32);
	put_u32(&b, 32);
	gguf_tensor(&b, "tok.weight", 2, d1, 0, 0);     /* F32: 32 bytes */
	gguf_tensor(&b, "out.weight", 1, d2, 8, off2);  /* Q8_0: 2 blocks, 68 bytes */
	gguf_pad(&b, 32);
	put_zeros(&b, 32 + 68 - cut);
	path = save(name, &b);
	free(b.p);
	return path;
}

static void test_gguf(void)
{
	struct buf b = { 0 };
	char *p;

	p = gguf_file("good.gguf", 3, 32, 0);
	CHECK(check_file(p, 0, "gguf", NULL), "gguf: valid v3 file");
	free(p);

	p = gguf_file("good2.bin", 2, 32, 0);
	CHECK(check_file(p, 0, "gguf", NULL), "gguf: valid v2 file found by its magic");
	free(p);

	p = gguf_file("magic.gguf", 3, 32, 0);
	{
		FILE *f = fopen(p, "r+b");
		fputs("GGML", f);
		fclose(f);
	}
	CHECK(check_file(p, WS_EFORMAT, "gguf", "bad magic at byte 0"), "gguf: bad magic");
	free(p);

	p = gguf_file("v1.gguf", 1, 32, 0);
	CHECK(check_file(p, WS_EFORMAT, "gguf", "unsupported GGUF version 1 at byte 4"),
	      "gguf: unsupported version");
	free(p);

	p = gguf_file("v4.gguf", 4, 32, 0);
	CHECK(check_file(p, WS_EFORMAT, "gguf", "unsupported GGUF version 4"),
	      "gguf: future version");
	free(p);

	p = gguf_file("unaligned.gguf", 3, 36, 0);
	CHECK(check_file(p, WS_EFORMAT, "gguf", "tensor 'out.weight' at byte"),
	      "gguf: tensor offset not aligned (names the tensor)");
	CHECK(check_file(p, WS_EFORMAT, "gguf", "offset 36 is not a multiple of the alignment 32"),
	      "gguf: tensor offset not aligned (says why)");
	free(p);

	p = gguf_file("past.gguf", 3, 64, 0);
	CHECK(check_file(p, WS_EFORMAT, "gguf", "tensor 'out.weight': data at byte"),
	      "gguf: tensor data past the end of the file");
	free(p);

	p = gguf_file("cut.gguf", 3, 32, 1);
	CHECK(check_file(p, WS_EFORMAT, "gguf", "runs past the end of the file"),
	      "gguf: file one byte short");
	free(p);

	/* a huge string length in the first metadata key */
	gguf_head(&b, 3, 0, 1);
	put_u64(&b, UINT64_C(0xffffffffffff));
	put(&b, "general.x", 9);
	put_u32(&b, T_U32);
	put_u32(&b, 1);
	p = save("hugestr.gguf", &b);
	CHECK(check_file(p, WS_EFORMAT, "gguf", "metadata key at byte 24 has length 281474976710655, past the end"),
	      "gguf: huge string length");
	free(p);

	/* a huge array length */
	b.n = 0;
	gguf_head(&b, 3, 0, 1);
	put_str(&b, "a");
	put_u32(&b, T_ARRAY);
	put_u32(&b, T_U32);
	put_u64(&b, UINT64_C(1) << 62);
	p = save("hugearr.gguf", &b);
	CHECK(check_file(p, WS_EFORMAT, "gguf", "metadata 'a': array at byte"),
	      "gguf: huge array length");
	free(p);

	/* counts beyond what the file can hold */
	b.n = 0;
	gguf_head(&b, 3, UINT64_C(1) << 40, 0);
	p = save("hugecount.gguf", &b);
	CHECK(check_file(p, WS_EFORMAT, "gguf", "tensor count"), "gguf: huge tensor count");
	free(p);

	/* a bad alignment, and too many dimensions */
	b.n = 0;
	gguf_head(&b, 3, 0, 1);
	put_str(&b, "general.alignment");
	put_u32(&b, T_U32);
	put_u32(&b, 24);
	p = save("align.gguf", &b);
	CHECK(check_file(p, WS_EFORMAT, "gguf", "not a power of two"), "gguf: alignment not a power of two");
	free(p);

	b.n = 0;
	{
		uint64_t d[5] = { 1, 1, 1, 1, 1 };
		gguf_head(&b, 3, 1, 0);
		gguf_tensor(&b, "t", 5, d, 0, 0);
		gguf_pad(&b, 32);
		put_zeros(&b, 4);
	}
	p = save("dims.gguf", &b);
	CHECK(check_file(p, WS_EFORMAT, "gguf", "has 5 dimensions"), "gguf: too many dimensions");
	free(p);

	/* an unknown tensor type: no size check, offset still checked */
	b.n = 0;
	{
		uint64_t d[1] = { 256 };
		gguf_head(&b, 3, 1, 0);
		gguf_tensor(&b, "t", 1, d, 99, 0);
		gguf_pad(&b, 32);
		put_zeros(&b, 1);
	}
	p = save("unknowntype.gguf", &b);
	CHECK(check_file(p, 0, "gguf", NULL), "gguf: unknown tensor type passes");
	free(p);
	free(b.p);
}

static void test_other(void)
{
	char *p = xasprintf("%s/config.json", tmpdir);
	char *missing = xasprintf("%s/nope.safetensors", tmpdir);
	char kind[16] = "", *msg = NULL;

	CHECK(ws_write_file_atomic(p, "{}", 2, 0644, 0) == 0 &&
	      check_file(p, 0, "other", NULL), "other files pass unchecked");
	CHECK(ws_modelfmt_check(missing, kind, sizeof kind, &msg) < 0 && !kind[0] &&
	      msg && strstr(msg, "cannot open"), "a missing file is an I/O error");
	free(msg);
	CHECK(!strcmp(ws_modelfmt_kind("a/b.gguf"), "gguf") &&
	      !strcmp(ws_modelfmt_kind("x.safetensors"), "safetensors") &&
	      !strcmp(ws_modelfmt_kind("x.bin"), "other"), "kind from the extension");
	free(p);
	free(missing);
}

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 2;
	}
	test_safetensors();
	test_gguf();
	test_other();
	ws_rm_rf(tmpdir);
	return check_done();
}
