/* modelfmt.c - structural checks of safetensors and GGUF files */
#include "modelfmt.h"
#include "error.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

const char *ws_modelfmt_kind(const char *path)
{
	if (ends_with(path, ".safetensors"))
		return "safetensors";
	if (ends_with(path, ".gguf"))
		return "gguf";
	return "other";
}

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* pread exactly n bytes at off; -EIO when the file is shorter than that. */
static int read_at(int fd, void *buf, size_t n, uint64_t off)
{
	return ws_pread_full(fd, buf, n, off);
}

static const char *show_name(const char *name, size_t len, size_t index, char *buf)
{
	if (len && len <= 256 && ws_utf8_printable(name, len))
		return name;
	snprintf(buf, 32, "#%zu", index);
	return buf;
}

/* ---- safetensors ------------------------------------------------------ */

static const struct { const char *name; unsigned size; } st_dtypes[] = {
	{ "BOOL", 1 }, { "U8", 1 }, { "I8", 1 }, { "F8_E5M2", 1 }, { "F8_E4M3", 1 },
	{ "I16", 2 }, { "U16", 2 }, { "F16", 2 }, { "BF16", 2 },
	{ "I32", 4 }, { "U32", 4 }, { "F32", 4 },
	{ "F64", 8 }, { "I64", 8 }, { "U64", 8 },
};

struct st_tensor {
	const char *name;
	uint64_t begin, end;
};

static int st_cmp(const void *a, const void *b)
{
	const struct st_tensor *x = a, *y = b;
	if (x->begin != y->begin)
		return x->begin < y->begin ? -1 : 1;
	if (x->end != y->end)
		return x->end < y->end ? -1 : 1;
	return 0;
}

/* A non-negative JSON integer into *v; 0 or -1. */
static int json_u64(const json_t *j, uint64_t *v)
{
	if (!json_is_integer(j) || json_integer_value(j) < 0)
		return -1;
	*v = (uint64_t)json_integer_value(j);
	return 0;
}

/* Check one tensor entry; fills *t.  The header starts at byte 8. */
static int st_tensor_check(const char *key, json_t *v, struct st_tensor *t,
			   char **msg)
{
	json_t *dtype, *shape, *offs, *x;
	const char *dt;
	unsigned esize = 0;
	uint64_t nbytes, d, begin, end;
	size_t i;

	if (!json_is_object(v))
		return ws_seterr(msg, WS_EFORMAT, "tensor '%s': entry is not an object", key);
	dtype = json_object_get(v, "dtype");
	shape = json_object_get(v, "shape");
	offs = json_object_get(v, "data_offsets");
	if (!json_is_string(dtype))
		return ws_seterr(msg, WS_EFORMAT, "tensor '%s': no \"dtype\" string", key);
	dt = json_string_value(dtype);
	for (i = 0; i < sizeof st_dtypes / sizeof st_dtypes[0]; i++)
		if (!strcmp(dt, st_dtypes[i].name))
			esize = st_dtypes[i].size;
	if (!esize)
		return ws_seterr(msg, WS_EFORMAT, "tensor '%s': unknown dtype '%.32s'",
				 key, ws_utf8_printable(dt, strlen(dt)) ? dt : "?");
	if (!json_is_array(shape))
		return ws_seterr(msg, WS_EFORMAT, "tensor '%s': no \"shape\" array", key);
	nbytes = esize;
	json_array_foreach(shape, i, x) {
		if (json_u64(x, &d))
			return ws_seterr(msg, WS_EFORMAT, "tensor '%s': shape[%zu] is not "
					 "a non-negative integer", key, i);
		if (__builtin_mul_overflow(nbytes, d, &nbytes))
			return ws_seterr(msg, WS_EFORMAT, "tensor '%s': shape overflows "
					 "64 bits", key);
	}
	if (!json_is_array(offs) || json_array_size(offs) != 2 ||
	    json_u64(json_array_get(offs, 0), &begin) ||
	    json_u64(json_array_get(offs, 1), &end))
		return ws_seterr(msg, WS_EFORMAT, "tensor '%s': \"data_offsets\" is not "
				 "[begin, end] of non-negative integers", key);
	if (end < begin)
		return ws_seterr(msg, WS_EFORMAT, "tensor '%s': data_offsets [%" PRIu64
				 ", %" PRIu64 "] end before begin", key, begin, end);
	if (end - begin != nbytes)
		return ws_seterr(msg, WS_EFORMAT, "tensor '%s': data_offsets [%" PRIu64
				 ", %" PRIu64 "] hold %" PRIu64 " bytes but %s shape "
				 "needs %" PRIu64, key, begin, end, end - begin, dt, nbytes);
	t->name = key;
	t->begin = begin;
	t->end = end;
	return 0;
}

static int st_check(int fd, uint64_t fsize, char **msg)
{
	uint8_t lenbuf[8];
	uint64_t n, expect;
	char *hdr = NULL;
	json_t *root = NULL, *v;
	json_error_t jerr;
	struct st_tensor *ts = NULL;
	size_t nt = 0;
	const char *key;
	int ret;

	if (fsize < 8)
		return ws_seterr(msg, WS_EFORMAT, "file of %" PRIu64 " bytes is too short "
				 "for the 8-byte header length", fsize);
	if ((ret = read_at(fd, lenbuf, 8, 0)))
		return ws_seterr(msg, ret, "cannot read the header length: %s",
				 ws_strerror(ret));
	n = le64(lenbuf);
	if (n > WS_MODELFMT_HEADER_MAX)
		return ws_seterr(msg, WS_EFORMAT, "header length %" PRIu64 " at byte 0 "
				 "is over the %u-byte limit", n, WS_MODELFMT_HEADER_MAX);
	if (n > fsize - 8)
		return ws_seterr(msg, WS_EFORMAT, "header length %" PRIu64 " at byte 0 "
				 "runs past the end of the file (%" PRIu64 " bytes)", n, fsize);
	hdr = xmalloc(n ? n : 1);
	if ((ret = read_at(fd, hdr, n, 8))) {
		ws_seterr(msg, ret, "cannot read the header: %s", ws_strerror(ret));
		goto out;
	}
	root = json_loadb(hdr, n, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		ret = ws_seterr(msg, WS_EFORMAT, "header is not JSON: %s at byte %" PRIu64,
				jerr.text, (uint64_t)8 + (uint64_t)(jerr.position > 0 ? jerr.position : 0));
		goto out;
	}
	if (!json_is_object(root)) {
		ret = ws_seterr(msg, WS_EFORMAT, "header at byte 8 is not a JSON object");
		goto out;
	}
	ts = xcalloc(json_object_size(root) + 1, sizeof *ts);
	json_object_foreach(root, key, v) {
		if (!strcmp(key, "__metadata__")) {
			const char *mk;
			json_t *mv;
			if (!json_is_object(v)) {
				ret = ws_seterr(msg, WS_EFORMAT, "\"__metadata__\" is not an object");
				goto out;
			}
			json_object_foreach(v, mk, mv)
				if (!json_is_string(mv)) {
					ret = ws_seterr(msg, WS_EFORMAT, "\"__metadata__\" value "
							"'%s' is not a string",
							ws_utf8_printable(mk, strlen(mk)) ? mk : "?");
					goto out;
				}
			continue;
		}
		if (!*key || !ws_utf8_printable(key, strlen(key))) {
			ret = ws_seterr(msg, WS_EFORMAT, "tensor name %zu in the header is "
					"empty or not printable", nt);
			goto out;
		}
		if ((ret = st_tensor_check(key, v, &ts[nt], msg)))
			goto out;
		nt++;
	}
	qsort(ts, nt, sizeof *ts, st_cmp);
	expect = 0;
	for (size_t i = 0; i < nt; i++) {
		if (ts[i].begin > expect) {
			ret = ws_seterr(msg, WS_EFORMAT, "gap in the data: bytes [%" PRIu64
					", %" PRIu64 ") belong to no tensor (before '%s')",
					expect, ts[i].begin, ts[i].name);
			goto out;
		}
		if (ts[i].begin < expect) {
			ret = ws_seterr(msg, WS_EFORMAT, "tensor '%s' at data bytes [%" PRIu64
					", %" PRIu64 ") overlaps '%s'", ts[i].name, ts[i].begin,
					ts[i].end, ts[i - 1].name);
			goto out;
		}
		expect = ts[i].end;
	}
	/* n <= 100 MiB and expect < 2^63, so this cannot wrap */
	if (fsize != 8 + n + expect) {
		ret = ws_seterr(msg, WS_EFORMAT, "file size %" PRIu64 " is not 8 + header "
				"%" PRIu64 " + data %" PRIu64 " = %" PRIu64 " bytes (%s)", fsize,
				n, expect, 8 + n + expect,
				fsize < 8 + n + expect ? "truncated" : "trailing bytes");
		goto out;
	}
	ret = 0;
out:
	free(ts);
	json_decref(root);
	free(hdr);
	return ret;
}

/* ---- GGUF ------------------------------------------------------------- */

/*
 * A GGUF header is a stream of variable-length fields (a vocabulary alone
 * can be 150,000 strings), so it is walked through a buffered stream rather
 * than read whole.  Every length is checked against what is left of the
 * file before anything is read or skipped.
 */
struct rd {
	FILE *f;
	uint64_t pos, size;
	char **msg;
};

static int rd_bytes(struct rd *r, void *buf, uint64_t n, const char *what)
{
	if (n > r->size - r->pos)
		return ws_seterr(r->msg, WS_EFORMAT, "%s at byte %" PRIu64 " (%" PRIu64
				 " bytes) runs past the end of the file (%" PRIu64 " bytes)",
				 what, r->pos, n, r->size);
	if (buf) {
		if (fread(buf, 1, (size_t)n, r->f) != n)
			return ws_seterr(r->msg, -EIO, "cannot read %s at byte %" PRIu64,
					 what, r->pos);
	} else if (fseeko(r->f, (off_t)(r->pos + n), SEEK_SET)) {
		return ws_seterr(r->msg, -errno, "cannot seek past %s at byte %" PRIu64,
				 what, r->pos);
	}
	r->pos += n;
	return 0;
}

static int rd_u32(struct rd *r, uint32_t *v, const char *what)
{
	uint8_t b[4];
	int ret = rd_bytes(r, b, 4, what);
	if (!ret)
		*v = le32(b);
	return ret;
}

static int rd_u64(struct rd *r, uint64_t *v, const char *what)
{
	uint8_t b[8];
	int ret = rd_bytes(r, b, 8, what);
	if (!ret)
		*v = le64(b);
	return ret;
}

/* A GGUF string: u64 length then bytes.  With out set, the string is read
 * into a malloc'd NUL-terminated *out of at most cap bytes; else skipped. */
static int rd_string(struct rd *r, const char *what, char **out, size_t *outlen,
		     uint64_t cap)
{
	uint64_t start = r->pos, n;
	int ret;

	if ((ret = rd_u64(r, &n, what)))
		return ret;
	if (n > r->size - r->pos)
		return ws_seterr(r->msg, WS_EFORMAT, "%s at byte %" PRIu64 " has length %"
				 PRIu64 ", past the end of the file (%" PRIu64 " bytes)",
				 what, start, n, r->size);
	if (!out)
		return rd_bytes(r, NULL, n, what);
	if (n > cap)
		return ws_seterr(r->msg, WS_EFORMAT, "%s at byte %" PRIu64 " has length %"
				 PRIu64 ", over the %" PRIu64 "-byte limit", what, start, n, cap);
	*out = xmalloc((size_t)n + 1);
	if ((ret = rd_bytes(r, *out, n, what))) {
		free(*out);
		*out = NULL;
		return ret;
	}
	(*out)[n] = 0;
	*outlen = (size_t)n;
	return 0;
}

enum {
	GGUF_UINT8, GGUF_INT8, GGUF_UINT16, GGUF_INT16, GGUF_UINT32, GGUF_INT32,
	GGUF_FLOAT32, GGUF_BOOL, GGUF_STRING, GGUF_ARRAY, GGUF_UINT64, GGUF_INT64,
	GGUF_FLOAT64, GGUF_NTYPES
};

static const unsigned gguf_vsize[GGUF_NTYPES] = {
	1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8,
};

/* Skip one metadata value of type t (arrays may nest, a little). */
static int gguf_skip_value(struct rd *r, uint32_t t, const char *key, int depth)
{
	uint64_t start = r->pos;
	int ret;

	if (t >= GGUF_NTYPES)
		return ws_seterr(r->msg, WS_EFORMAT, "metadata '%s': unknown value type %"
				 PRIu32 " at byte %" PRIu64, key, t, start);
	if (t == GGUF_STRING)
		return rd_string(r, "metadata string", NULL, NULL, 0);
	if (t != GGUF_ARRAY)
		return rd_bytes(r, NULL, gguf_vsize[t], "metadata value");
	uint32_t et;
	uint64_t count;
	if (depth >= 4)
		return ws_seterr(r->msg, WS_EFORMAT, "metadata '%s': arrays nested too "
				 "deep at byte %" PRIu64, key, start);
	if ((ret = rd_u32(r, &et, "array type")) || (ret = rd_u64(r, &count, "array length")))
		return ret;
	if (et >= GGUF_NTYPES)
		return ws_seterr(r->msg, WS_EFORMAT, "metadata '%s': unknown array item "
				 "type %" PRIu32 " at byte %" PRIu64, key, et, start);
	if (et != GGUF_STRING && et != GGUF_ARRAY) {
		if (count > (r->size - r->pos) / gguf_vsize[et])
			return ws_seterr(r->msg, WS_EFORMAT, "metadata '%s': array at byte %"
					 PRIu64 " of %" PRIu64 " items runs past the end of "
					 "the file", key, start, count);
		return rd_bytes(r, NULL, count * gguf_vsize[et], "array");
	}
	/* every string or array item takes at least 8 bytes */
	if (count > (r->size - r->pos) / 8)
		return ws_seterr(r->msg, WS_EFORMAT, "metadata '%s': array at byte %" PRIu64
				 " of %" PRIu64 " items runs past the end of the file",
				 key, start, count);
	for (uint64_t i = 0; i < count; i++)
		if ((ret = gguf_skip_value(r, et, key, depth + 1)))
			return ret;
	return 0;
}

/* ggml tensor types: elements per block and bytes per block (ggml.h,
 * ggml.c type_traits).  0 marks types this check does not size. */
static const struct { unsigned blck, bytes; const char *name; } ggml_types[] = {
	[0] = { 1, 4, "F32" },      [1] = { 1, 2, "F16" },
	[2] = { 32, 18, "Q4_0" },   [3] = { 32, 20, "Q4_1" },
	[6] = { 32, 22, "Q5_0" },   [7] = { 32, 24, "Q5_1" },
	[8] = { 32, 34, "Q8_0" },   [9] = { 32, 36, "Q8_1" },
	[10] = { 256, 84, "Q2_K" }, [11] = { 256, 110, "Q3_K" },
	[12] = { 256, 144, "Q4_K" }, [13] = { 256, 176, "Q5_K" },
	[14] = { 256, 210, "Q6_K" }, [15] = { 256, 292, "Q8_K" },
	[24] = { 1, 1, "I8" },      [25] = { 1, 2, "I16" },
	[26] = { 1, 4, "I32" },     [27] = { 1, 8, "I64" },
	[28] = { 1, 8, "F64" },     [30] = { 1, 2, "BF16" },
};
#define GGML_NTYPES (sizeof ggml_types / sizeof ggml_types[0])

static int gguf_check(FILE *f, uint64_t fsize, char **msg)
{
	struct rd r = { f, 0, fsize, msg };
	uint8_t magic[4];
	uint32_t version, alignment = 32;
	uint64_t ntensors, nkv, data_start;
	char *name = NULL, nbuf[32];
	size_t nlen;
	int ret;
	struct { uint64_t off, size; int sized; size_t idx; char *name; } *ti = NULL;
	uint64_t nti = 0;

	if ((ret = rd_bytes(&r, magic, 4, "magic")))
		return ret;
	if (memcmp(magic, "GGUF", 4))
		return ws_seterr(msg, WS_EFORMAT, "bad magic at byte 0: not \"GGUF\"");
	if ((ret = rd_u32(&r, &version, "version")))
		return ret;
	if (version != 2 && version != 3)
		return ws_seterr(msg, WS_EFORMAT, "unsupported GGUF version %" PRIu32
				 " at byte 4 (2 and 3 are known)", version);
	if ((ret = rd_u64(&r, &ntensors, "tensor count")) ||
	    (ret = rd_u64(&r, &nkv, "metadata count")))
		return ret;
	/* a key-value takes at least 13 bytes, a tensor info at least 24 */
	if (nkv > WS_MODELFMT_GGUF_MAX_COUNT || nkv > (fsize - r.pos) / 13)
		return ws_seterr(msg, WS_EFORMAT, "metadata count %" PRIu64 " at byte 16 is "
				 "more than the file can hold", nkv);
	if (ntensors > WS_MODELFMT_GGUF_MAX_COUNT || ntensors > (fsize - r.pos) / 24)
		return ws_seterr(msg, WS_EFORMAT, "tensor count %" PRIu64 " at byte 8 is "
				 "more than the file can hold", ntensors);

	for (uint64_t i = 0; i < nkv; i++) {
		uint64_t at = r.pos;
		uint32_t t;
		if ((ret = rd_string(&r, "metadata key", &name, &nlen,
				     WS_MODELFMT_GGUF_NAME_MAX)))
			goto out;
		const char *shown = show_name(name, nlen, (size_t)i, nbuf);
		if ((ret = rd_u32(&r, &t, "metadata value type")))
			goto out;
		if (!strcmp(name, "general.alignment")) {
			if (t != GGUF_UINT32) {
				ret = ws_seterr(msg, WS_EFORMAT, "general.alignment at byte %"
						PRIu64 " is of type %" PRIu32 ", not UINT32",
						at, t);
				goto out;
			}
			if ((ret = rd_u32(&r, &alignment, "general.alignment")))
				goto out;
			if (!alignment || (alignment & (alignment - 1))) {
				ret = ws_seterr(msg, WS_EFORMAT, "general.alignment %" PRIu32
						" at byte %" PRIu64 " is not a power of two",
						alignment, at);
				goto out;
			}
		} else if ((ret = gguf_skip_value(&r, t, shown, 0))) {
			goto out;
		}
		free(name);
		name = NULL;
	}

	ti = xcalloc(ntensors + 1, sizeof *ti);
	for (uint64_t i = 0; i < ntensors; i++, nti++) {
		uint64_t at = r.pos, nelem = 1, dims[WS_MODELFMT_GGUF_MAX_DIMS];
		uint32_t ndims, type;
		if ((ret = rd_string(&r, "tensor name", &ti[i].name, &nlen,
				     WS_MODELFMT_GGUF_NAME_MAX)))
			goto out;
		ti[i].idx = (size_t)i;
		const char *shown = show_name(ti[i].name, nlen, (size_t)i, nbuf);
		if ((ret = rd_u32(&r, &ndims, "tensor dimension count")))
			goto out;
		if (ndims > WS_MODELFMT_GGUF_MAX_DIMS) {
			ret = ws_seterr(msg, WS_EFORMAT, "tensor '%s' at byte %" PRIu64 " has %"
					PRIu32 " dimensions (at most %d)", shown, at, ndims,
					WS_MODELFMT_GGUF_MAX_DIMS);
			goto out;
		}
		for (uint32_t d = 0; d < ndims; d++) {
			if ((ret = rd_u64(&r, &dims[d], "tensor dimension")))
				goto out;
			if (dims[d] > INT64_MAX ||
			    __builtin_mul_overflow(nelem, dims[d], &nelem)) {
				ret = ws_seterr(msg, WS_EFORMAT, "tensor '%s' at byte %" PRIu64
						": dimensions overflow 64 bits", shown, at);
				goto out;
			}
		}
		if ((ret = rd_u32(&r, &type, "tensor type")) ||
		    (ret = rd_u64(&r, &ti[i].off, "tensor offset")))
			goto out;
		if (ti[i].off % alignment) {
			ret = ws_seterr(msg, WS_EFORMAT, "tensor '%s' at byte %" PRIu64 ": offset %"
					PRIu64 " is not a multiple of the alignment %" PRIu32,
					shown, at, ti[i].off, alignment);
			goto out;
		}
		if (type < GGML_NTYPES && ggml_types[type].blck) {
			unsigned blck = ggml_types[type].blck;
			if (ndims && dims[0] % blck) {
				ret = ws_seterr(msg, WS_EFORMAT, "tensor '%s' at byte %" PRIu64
						": first dimension %" PRIu64 " is not a multiple "
						"of the %s block size %u", shown, at, dims[0],
						ggml_types[type].name, blck);
				goto out;
			}
			if (__builtin_mul_overflow(nelem / blck, (uint64_t)ggml_types[type].bytes,
						   &ti[i].size)) {
				ret = ws_seterr(msg, WS_EFORMAT, "tensor '%s' at byte %" PRIu64
						": size overflows 64 bits", shown, at);
				goto out;
			}
			ti[i].sized = 1;
		}
	}

	data_start = r.pos + (alignment - r.pos % alignment) % alignment;
	for (uint64_t i = 0; i < nti; i++) {
		const char *shown = show_name(ti[i].name, strlen(ti[i].name), ti[i].idx, nbuf);
		uint64_t size = ti[i].size;
		if (ti[i].off > fsize || data_start > fsize - ti[i].off ||
		    size > fsize - ti[i].off - data_start) {
			ret = ws_seterr(msg, WS_EFORMAT, "tensor '%s': data at byte %" PRIu64
					"%s%" PRIu64 " bytes) runs past the end of the file "
					"(%" PRIu64 " bytes)", shown,
					ti[i].off > UINT64_MAX - data_start ? UINT64_MAX :
					data_start + ti[i].off,
					ti[i].sized ? " (" : " (unknown type, ", size, fsize);
			goto out;
		}
	}
	ret = 0;
out:
	if (ti)
		for (uint64_t i = 0; i <= nti && i < ntensors; i++)
			free(ti[i].name);
	free(ti);
	free(name);
	return ret;
}

int ws_modelfmt_check(const char *path, char *kind_out, size_t kind_len,
		      char **msg)
{
	const char *kind = ws_modelfmt_kind(path);
	struct stat st;
	FILE *f = NULL;
	int fd = -1, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		ret = -errno;
		ws_seterr(msg, ret, "cannot open '%s': %s", path, ws_strerror(ret));
		goto out;
	}
	if (!strcmp(kind, "other") && S_ISREG(st.st_mode) && st.st_size >= 4) {
		char magic[4];
		if ((ret = read_at(fd, magic, 4, 0))) {
			ws_seterr(msg, ret, "cannot read '%s': %s", path, ws_strerror(ret));
			goto out;
		}
		if (!memcmp(magic, "GGUF", 4))
			kind = "gguf";
	}
	if (kind_out && kind_len) {
		strncpy(kind_out, kind, kind_len - 1);
		kind_out[kind_len - 1] = 0;
	}
	if (!strcmp(kind, "other")) {
		ret = 0;
	} else if (!S_ISREG(st.st_mode)) {
		ret = ws_seterr(msg, WS_EFORMAT, "not a regular file");
	} else if (!strcmp(kind, "safetensors")) {
		ret = st_check(fd, (uint64_t)st.st_size, msg);
	} else {
		if (!(f = fdopen(fd, "rb"))) {
			ret = -errno;
			ws_seterr(msg, ret, "cannot read '%s': %s", path, ws_strerror(ret));
			goto out;
		}
		fd = -1;
		ret = gguf_check(f, (uint64_t)st.st_size, msg);
	}
out:
	if (f)
		fclose(f);
	if (fd >= 0)
		close(fd);
	return ret;
}
