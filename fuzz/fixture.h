/*
 * fixture.h - what the fuzz harnesses and the corpus generator share: a
 * fixed publisher key, a small signed release, temporary folders.
 *
 * Header-only (static functions): each harness is one program built from
 * its own .c file and the library, and fuzz/corpus.c makes the seeds from
 * the same fixture, so a seed the generator writes is valid for the
 * harness that reads it.
 *
 * Everything here aborts on failure: a harness that cannot set itself up
 * has nothing to report but that.
 */
#ifndef WS_FUZZ_FIXTURE_H
#define WS_FUZZ_FIXTURE_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proto/manifest.h"
#include "proto/minisign.h"
#include "proto/util.h"
#include "store/hasher.h"
#include "store/store.h"

#define FX_NAME "fuzzdemo"
#define FX_VERSION 1
#define FX_CREATED 1700000000
#define FX_PIECE (4u << 20)   /* one piece holds every fixture file */

/* fx_die - a harness that cannot set up says why and stops. */
static inline void fx_die(const char *what)
{
	fprintf(stderr, "fuzz fixture: %s: %s\n", what, strerror(errno));
	abort();
}

/* fx_key - the fixed publisher key: the same bytes in every run, so seeds
 * signed by the generator verify in the harnesses.  Never a real key. */
static inline struct ws_seckey *fx_key(void)
{
	static const uint8_t seed[32] = "weightsync fuzz key, not secret";
	uint8_t pk[32];
	struct ws_seckey *sk;

	if (sodium_init() < 0)
		fx_die("sodium_init");
	sk = sodium_malloc(sizeof(*sk));
	if (!sk)
		fx_die("sodium_malloc");
	crypto_sign_seed_keypair(pk, sk->sk, seed);
	memcpy(sk->keyid, "fuzzkey!", 8);
	return sk;
}

/* fx_note - with WS_FUZZ_DEBUG set, say what a harness's call returned
 * (to check that the seeds reach the code they are for). */
static inline void fx_note(const char *what, int ret, const char *msg)
{
	static int on = -1;

	if (on < 0)
		on = getenv("WS_FUZZ_DEBUG") != NULL;
	if (on)
		fprintf(stderr, "fuzz: %s: %d %s\n", what, ret, msg ? msg : "");
}

static inline void fx_write(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	const char *p = data;

	if (fd < 0)
		fx_die(path);
	while (len) {
		ssize_t w = write(fd, p, len);
		if (w < 0)
			fx_die(path);
		p += w;
		len -= (size_t)w;
	}
	close(fd);
}

static inline int fx_rm_one(const char *path, const struct stat *sb, int flag,
		     struct FTW *ftw)
{
	(void)sb; (void)flag; (void)ftw;
	remove(path);
	return 0;
}

/* fx_rmrf - remove a tree (symlinks not followed). */
static inline void fx_rmrf(const char *dir)
{
	nftw(dir, fx_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* fx_tmpdir - a new folder under $TMPDIR (malloc'd). */
static inline char *fx_tmpdir(const char *tag)
{
	const char *t = getenv("TMPDIR");
	char *d = xasprintf("%s/ws-fuzz-%s.XXXXXX", t && *t ? t : "/tmp", tag);

	if (!mkdtemp(d))
		fx_die("mkdtemp");
	return d;
}

/* The fixture release's files: small, inside one piece, one of them a
 * well-formed safetensors file. */
struct fx_file { const char *path; const char *data; size_t len; };

static const char fx_st[] =
	"\x40\x00\x00\x00\x00\x00\x00\x00"
	"{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}          "
	"\x00\x00\x80\x3f\x00\x00\x00\x40";
static const struct fx_file fx_files[] = {
	{ "config.json", "{\"model_type\":\"demo\"}\n", 22 },
	{ "model.safetensors", fx_st, sizeof(fx_st) - 1 },
	{ "sub/notes.txt", "weights\n", 8 },
};
#define FX_NFILES (sizeof(fx_files) / sizeof(fx_files[0]))

/*
 * fx_release - write the fixture release under dir (dir/<files> and
 * dir/.weightsync/{manifest.json,manifest.json.minisig}, and
 * dir/.weightsync/publisher.pub), hashed as publish hashes it.  *manifest
 * and *sig (malloc'd) are the signed bytes; hashes (FX_NFILES entries,
 * release them) keep the v1 pieces and v2 roots for a torrent.
 */
static inline void fx_release(const char *dir, char **manifest, size_t *mlen,
		       char **sig, struct ws_hash_file *hashes)
{
	struct ws_seckey *sk = fx_key();
	struct ws_manifest m;
	struct ws_pubkey pk;
	char tc[WS_TRUSTED_COMMENT_MAX], b64[WS_PUBKEY_B64_LEN + 1], *p, *msg = NULL;
	uint8_t mh[32];

	p = xasprintf("%s/sub", dir);
	mkdir(p, 0755);
	free(p);
	p = xasprintf("%s/" WS_META_DIR, dir);
	mkdir(p, 0755);
	free(p);
	memset(hashes, 0, FX_NFILES * sizeof(*hashes));
	for (size_t i = 0; i < FX_NFILES; i++) {
		p = xasprintf("%s/%s", dir, fx_files[i].path);
		fx_write(p, fx_files[i].data, fx_files[i].len);
		hashes[i].path = p;
		hashes[i].want_sha256 = 1;
		hashes[i].v1_piece_size = FX_PIECE;
		hashes[i].v1_pad_last = 1;
	}
	if (ws_hash_files(hashes, FX_NFILES, 1, NULL, NULL))
		fx_die("hash");
	ws_seckey_public(sk, &pk);
	ws_manifest_init(&m);
	m.publisher = pk;
	strcpy(m.name, FX_NAME);
	m.version = FX_VERSION;
	m.created = FX_CREATED;
	for (size_t i = 0; i < FX_NFILES; i++) {
		if (hashes[i].error)
			fx_die("hash file");
		ws_manifest_add_file(&m, fx_files[i].path, hashes[i].size,
				     hashes[i].sha256, hashes[i].root);
	}
	if (ws_manifest_serialize(&m, manifest, mlen, &msg))
		fx_die(msg ? msg : "serialize");
	ws_manifest_hash(*manifest, *mlen, mh);
	ws_manifest_trusted_comment(&m, mh, tc);
	if (ws_sig_sign(sk, (const uint8_t *)*manifest, *mlen, tc, sig))
		fx_die("sign");
	p = xasprintf("%s/" WS_MANIFEST_FILE, dir);
	fx_write(p, *manifest, *mlen);
	free(p);
	p = xasprintf("%s/" WS_SIG_FILE, dir);
	fx_write(p, *sig, strlen(*sig));
	free(p);
	ws_pubkey_to_b64(&pk, b64);
	p = xasprintf("%s/" WS_META_DIR "/publisher.pub", dir);
	{
		char *text = xasprintf("untrusted comment: fuzz key\n%s\n", b64);
		fx_write(p, text, strlen(text));
		free(text);
	}
	free(p);
	ws_manifest_release(&m);
	ws_seckey_free(sk);
}

#endif
