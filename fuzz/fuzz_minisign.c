/* fuzz_minisign.c - minisign public keys, secret key files and signature
 * files.  The first byte picks the parser:
 *   0  ws_pubkey_parse on the rest (a key given on the command line or
 *      read from a bundle's publisher.pub)
 *   1  ws_sig_verify of the rest, as a .minisig file, over the fixture
 *      manifest with the fixture key (a signature from a peer)
 *   2  ws_seckey_load of the rest as a key file, without a password
 *   3  ws_manifest_verify of the fixture manifest with the rest as its
 *      signature file (the trusted comment must name that manifest) */
#include "fixture.h"

static char *manifest, *tmp, *keyfile;
static size_t mlen;
static struct ws_pubkey pk;

static void setup(void)
{
	struct ws_hash_file h[FX_NFILES];
	struct ws_seckey *sk = fx_key();
	char *sig = NULL;

	tmp = fx_tmpdir("minisign");
	fx_release(tmp, &manifest, &mlen, &sig, h);
	for (size_t i = 0; i < FX_NFILES; i++) {
		free((char *)h[i].path);
		ws_hash_file_release(&h[i]);
	}
	free(sig);
	ws_seckey_public(sk, &pk);
	ws_seckey_free(sk);
	keyfile = xasprintf("%s/key", tmp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct ws_pubkey out;
	struct ws_seckey *sk = NULL;
	char *text, *tc = NULL, *msg = NULL;
	int enc = -1, ret = 0;

	if (!manifest)
		setup();
	if (len < 1)
		return 0;
	text = xmalloc(len);
	memcpy(text, data + 1, len - 1);
	text[len - 1] = '\0';
	switch (data[0] % 4) {
	case 0:
		ret = ws_pubkey_parse(text, &out);
		break;
	case 1:
		/* exact length, no terminator: the parser must not need one */
		ret = ws_sig_verify(&pk, (const uint8_t *)manifest, mlen, (const char *)data + 1,
			      len - 1, &tc, &msg);
		break;
	case 2:
		fx_write(keyfile, data + 1, len - 1);
		if ((ret = ws_seckey_load(keyfile, NULL, &sk, &enc, &msg)) == 0)
			ws_seckey_free(sk);
		break;
	case 3: {
		struct ws_manifest m;
		ret = ws_manifest_verify(manifest, mlen, (const char *)data + 1, len - 1,
					 &pk, &m, &msg);
		if (ret == 0)
			ws_manifest_release(&m);
		break;
	}
	}
	fx_note("minisign", ret, msg);
	free(tc);
	free(msg);
	free(text);
	return 0;
}
