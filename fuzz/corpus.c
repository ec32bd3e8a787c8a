/* corpus.c - write the seed corpora: corpus OUTDIR makes OUTDIR/NAME/ for
 * every harness fuzz/fuzz_NAME.c, each seed a valid example of what that
 * harness reads (the shapes the unit tests use), made from fuzz/fixture.h
 * so that signatures verify with the harnesses' fixed key.  Run by
 * fuzz/make-corpus.sh; the output is committed under fuzz/corpus/. */
#include "fixture.h"
#include "node/lt.h"
#include "proto/link.h"
#include "proto/pointer.h"

#include <archive.h>
#include <archive_entry.h>

static const char *outdir;

/* seed HARNESS NAME - write tag byte (when >= 0) and data as a seed */
static void seed(const char *harness, const char *name, int tag,
		 const void *data, size_t len)
{
	char *d = xasprintf("%s/%s", outdir, harness);
	char *p = xasprintf("%s/%s", d, name);
	uint8_t *buf = xmalloc(len + 1);
	size_t off = 0;

	mkdir(d, 0755);
	if (tag >= 0)
		buf[off++] = (uint8_t)tag;
	memcpy(buf + off, data, len);
	fx_write(p, buf, off + len);
	free(buf);
	free(p);
	free(d);
}

struct buf { uint8_t *p; size_t n; };

static void put(struct buf *b, const void *d, size_t n)
{
	b->p = xrealloc(b->p, b->n + n);
	memcpy(b->p + b->n, d, n);
	b->n += n;
}
static void put_u32(struct buf *b, uint32_t v) { put(b, &v, 4); }  /* LE host */
static void put_u64(struct buf *b, uint64_t v) { put(b, &v, 8); }
static void put_str(struct buf *b, const char *s)
{
	put_u64(b, strlen(s));
	put(b, s, strlen(s));
}

/* the unit tests' valid GGUF v3 file */
static void gguf(struct buf *b)
{
	static const uint8_t zero[128];
	uint64_t d1[2] = { 4, 2 };

	put(b, "GGUF", 4);
	put_u32(b, 3);
	put_u64(b, 2);
	put_u64(b, 3);
	put_str(b, "general.architecture");
	put_u32(b, 8);
	put_str(b, "llama");
	put_str(b, "tokenizer.ggml.tokens");
	put_u32(b, 9);
	put_u32(b, 8);
	put_u64(b, 3);
	put_str(b, "<s>");
	put_str(b, "</s>");
	put_str(b, "hello");
	put_str(b, "general.alignment");
	put_u32(b, 4);
	put_u32(b, 32);
	put_str(b, "tok.weight");
	put_u32(b, 2);
	put_u64(b, d1[0]);
	put_u64(b, d1[1]);
	put_u32(b, 0);
	put_u64(b, 0);
	put_str(b, "out.weight");
	put_u32(b, 1);
	put_u64(b, 64);
	put_u32(b, 8);
	put_u64(b, 32);
	put(b, zero, (32 - b->n % 32) % 32);
	put(b, zero, 32 + 68);
}

/* a bundle of the fixture release, as ws_bundle_export lays it out */
static void bundle(const char *rel, const char *name, int zstd)
{
	static const char *const meta[] = { WS_MANIFEST_FILE, WS_SIG_FILE,
					     WS_META_DIR "/publisher.pub" };
	char *path = xasprintf("%s/bundle.tmp", rel), *text;
	struct archive *a = archive_write_new();
	size_t len;

	archive_write_set_format_pax_restricted(a);
	if (zstd)
		archive_write_add_filter_zstd(a);
	archive_write_set_bytes_in_last_block(a, 1);
	if (archive_write_open_filename(a, path) != ARCHIVE_OK)
		fx_die(archive_error_string(a));
	for (size_t i = 0; i < 3 + FX_NFILES; i++) {
		const char *p = i < 3 ? meta[i] : fx_files[i - 3].path;
		char *full = xasprintf("%s/%s", rel, p), *ename;
		struct archive_entry *e = archive_entry_new();

		if (ws_read_file(full, 1 << 20, &text, &len))
			fx_die(full);
		ename = xasprintf(FX_NAME "@%d/%s", FX_VERSION, p);
		archive_entry_set_pathname(e, ename);
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		archive_entry_set_size(e, (la_int64_t)len);
		archive_entry_set_mtime(e, FX_CREATED, 0);
		archive_write_header(a, e);
		archive_write_data(a, text, len);
		archive_entry_free(e);
		free(ename);
		free(text);
		free(full);
	}
	archive_write_close(a);
	archive_write_free(a);
	if (ws_read_file(path, 1 << 20, &text, &len))
		fx_die(path);
	seed("bundle", name, -1, text, len);
	unlink(path);
	free(text);
	free(path);
}

/* the fixture release's hybrid torrent, as ws_torrent_from_publish builds it */
static void torrent(const char *rel, struct ws_hash_file *h)
{
	struct ws_lt_file files[FX_NFILES + 2];
	struct ws_hash_file meta[2];
	uint8_t *t = NULL, v2[32], v1[20];
	size_t len;
	char *msg = NULL;

	memset(meta, 0, sizeof(meta));
	meta[0].path = xasprintf("%s/" WS_MANIFEST_FILE, rel);
	meta[1].path = xasprintf("%s/" WS_SIG_FILE, rel);
	for (int i = 0; i < 2; i++) {
		meta[i].v1_piece_size = FX_PIECE;
		meta[i].v1_pad_last = 1;
	}
	if (ws_hash_files(meta, 2, 1, NULL, NULL) || meta[0].error || meta[1].error)
		fx_die("hash meta");
	for (size_t i = 0; i < FX_NFILES; i++) {
		files[i] = (struct ws_lt_file){ fx_files[i].path, h[i].size, h[i].root,
						NULL, (const uint8_t *)h[i].v1 };
	}
	for (int i = 0; i < 2; i++)
		files[FX_NFILES + i] = (struct ws_lt_file){ i ? WS_SIG_FILE : WS_MANIFEST_FILE,
			meta[i].size, meta[i].root, NULL, (const uint8_t *)meta[i].v1 };
	if (ws_lt_torrent_build(files, FX_NFILES + 2, FX_PIECE, FX_NAME "@1", NULL, 0,
				&t, &len, v2, v1, &msg))
		fx_die(msg ? msg : "torrent build");
	seed("torrent", "release.torrent", -1, t, len);
	free(t);
	/* and one that lacks a file of the manifest (refused) */
	if (ws_lt_torrent_build(files + 1, FX_NFILES + 1, FX_PIECE, FX_NAME "@1", NULL, 0,
				&t, &len, v2, v1, &msg))
		fx_die(msg ? msg : "torrent build");
	seed("torrent", "missing-file.torrent", -1, t, len);
	free(t);
	for (int i = 0; i < 2; i++) {
		ws_hash_file_release(&meta[i]);
		free((char *)meta[i].path);
	}
}

int main(int argc, char **argv)
{
	struct ws_hash_file h[FX_NFILES];
	struct ws_seckey *sk;
	struct ws_pubkey pk;
	struct ws_pointer p;
	struct buf b = { 0 };
	char *rel, *manifest, *sig, *text, *msg = NULL, b64[WS_PUBKEY_B64_LEN + 1];
	char salt[WS_SALT_MAX + 1], hex[65];
	uint8_t ih1[20], ih2[32], mh[32];
	size_t mlen, len;

	if (argc != 2) {
		fprintf(stderr, "usage: corpus OUTDIR\n");
		return 2;
	}
	outdir = argv[1];
	mkdir(outdir, 0755);
	sk = fx_key();
	ws_seckey_public(sk, &pk);
	ws_pubkey_to_b64(&pk, b64);
	rel = fx_tmpdir("corpus");
	fx_release(rel, &manifest, &mlen, &sig, h);
	ws_manifest_hash(manifest, mlen, mh);

	seed("manifest", "fixture.json", -1, manifest, mlen);
	{
		/* the unit tests' manifest: version 2, previous, origin, empty file */
		struct ws_manifest m;
		uint8_t x[32];
		char *out;
		ws_manifest_init(&m);
		m.publisher = pk;
		strcpy(m.name, "demo");
		m.version = 2;
		m.created = FX_CREATED;
		m.has_previous = 1;
		memset(m.previous, 0xab, 32);
		m.origin = xstrdup("hf://org/demo@abc");
		m.license = xstrdup("apache-2.0");
		memset(x, 1, 32);
		ws_manifest_add_file(&m, "z.safetensors", 100, x, x);
		ws_manifest_add_file(&m, "config.json", 10, x, x);
		ws_manifest_add_file(&m, "empty", 0, x, x);
		if (ws_manifest_serialize(&m, &out, &len, &msg))
			fx_die(msg);
		seed("manifest", "v2.json", -1, out, len);
		free(out);
		ws_manifest_release(&m);
	}

	seed("minisign", "pubkey-line", 0, b64, strlen(b64));
	text = xasprintf("untrusted comment: fuzz key\n%s\n", b64);
	seed("minisign", "pubkey-file", 0, text, strlen(text));
	free(text);
	seed("minisign", "signature", 1, sig, strlen(sig));
	seed("minisign", "manifest-signature", 3, sig, strlen(sig));
	{
		char *kp = xasprintf("%s/plain.key", rel);
		if (ws_seckey_save(sk, kp, NULL, &msg))
			fx_die(msg);
		if (ws_read_file(kp, 4096, &text, &len))
			fx_die(kp);
		seed("minisign", "seckey-plain", 2, text, len);
		free(text);
		free(kp);
	}

	memset(ih1, 0x11, 20);
	memset(ih2, 0x22, 32);
	for (int v = 0; v < 2; v++) {
		uint8_t in[1 + WS_SALT_MAX + 8 + WS_POINTER_VMAX];
		size_t n = 0, sl;
		ws_pointer_salt(FX_NAME, v ? FX_VERSION : 0, salt);
		if (ws_pointer_make(sk, salt, FX_VERSION, ih1, ih2, mh, &p))
			fx_die("pointer");
		sl = strlen(salt);
		in[n++] = (uint8_t)sl;
		memcpy(in + n, salt, sl);
		n += sl;
		for (int i = 7; i >= 0; i--)
			in[n++] = (uint8_t)((uint64_t)p.seq >> (8 * i));
		memcpy(in + n, p.v, p.vlen);
		n += p.vlen;
		seed("pointer", v ? "version" : "latest", -1, in, n);
	}

	text = ws_link_format(ih1, ih2, &pk, FX_NAME, FX_VERSION, mh);
	seed("link", "release", -1, text, strlen(text));
	{
		char *t2 = xasprintf("%s&x.pe=127.0.0.1:6881&x.pe=[::1]:6882", text);
		seed("link", "release-peers", -1, t2, strlen(t2));
		free(t2);
	}
	free(text);
	text = ws_link_format_name(pk.pk, FX_NAME);
	seed("link", "name", -1, text, strlen(text));
	free(text);

	seed("modelfmt", "safetensors", 0, fx_st, sizeof(fx_st) - 1);
	gguf(&b);
	seed("modelfmt", "gguf", 1, b.p, b.n);
	seed("modelfmt", "gguf-by-magic", 2, b.p, b.n);
	free(b.p);

	for (int i = 0; i < 32; i++)
		sprintf(hex + 2 * i, "%02x", h[0].sha256[i]);
	text = xasprintf("0123456789abcdef0123456789abcdef01234567\n%s\n1700000000.0\n", hex);
	seed("hf", "local-dir-metadata", 0, text, strlen(text));
	free(text);
	text = xasprintf("blobs/%s", hex);
	seed("hf", "blob-link", 1, text, strlen(text));
	free(text);

	text = xasprintf("{\"_id\": \"0\", \"id\": \"org/demo\", \"sha\": "
			 "\"0123456789abcdef0123456789abcdef01234567\", \"private\": false, "
			 "\"siblings\": [{\"rfilename\": \"config.json\", \"size\": 25, "
			 "\"blobId\": \"89abcdef0123456789abcdef0123456789abcdef\"}, "
			 "{\"rfilename\": \"model.safetensors\", \"size\": %llu, "
			 "\"blobId\": \"0123456789abcdef0123456789abcdef01234567\", "
			 "\"lfs\": {\"sha256\": \"%s\", \"size\": %llu, \"pointerSize\": 134}}, "
			 "{\"rfilename\": \"onnx/model.onnx\", \"size\": 0, "
			 "\"blobId\": \"e69de29bb2d1d6434b8b29ae775ad8c2e48c5391\"}]}",
			 (unsigned long long)h[0].size, hex, (unsigned long long)h[0].size);
	seed("hub", "record.json", -1, text, strlen(text));
	free(text);

	bundle(rel, "release.tar", 0);
	bundle(rel, "release.tar.zst", 1);
	torrent(rel, h);

	for (size_t i = 0; i < FX_NFILES; i++) {
		free((char *)h[i].path);
		ws_hash_file_release(&h[i]);
	}
	fx_rmrf(rel);
	free(rel);
	free(manifest);
	free(sig);
	ws_seckey_free(sk);
	return 0;
}
