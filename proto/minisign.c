/* minisign.c - minisign-compatible keys and signatures (see minisign.h) */
#include "minisign.h"
#include "error.h"
#include "util.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PUBKEY_BLOB 42           /* "Ed" keyid pk */
#define SIG_BLOB 74              /* "ED" keyid sig */
#define SECKEY_BLOB 158          /* alg kdf chk salt ops mem keynum */
#define KEYNUM_SK 104            /* keyid sk chk: the encrypted part */
#define SALT_BYTES 32
#define KEYFILE_MAX 4096

static const unsigned char SIGALG[2] = { 'E', 'd' };
static const unsigned char SIGALG_HASHED[2] = { 'E', 'D' };
static const unsigned char KDFALG[2] = { 'S', 'c' };
static const unsigned char KDFNONE[2] = { 0, 0 };
static const unsigned char CHKALG[2] = { 'B', '2' };

static void b64_encode(const uint8_t *in, size_t len, char *out, size_t outlen)
{
	sodium_bin2base64(out, outlen, in, len, sodium_base64_VARIANT_ORIGINAL);
}

/* decode exactly want bytes; any other length is a format error */
static int b64_decode(const char *in, size_t inlen, uint8_t *out, size_t want)
{
	size_t got = 0;
	const char *end = NULL;

	if (sodium_base642bin(out, want, in, inlen, NULL, &got, &end,
			      sodium_base64_VARIANT_ORIGINAL) != 0)
		return WS_EFORMAT;
	if (got != want || end != in + inlen)
		return WS_EFORMAT;
	return 0;
}

/* Split text into at most 4 lines, '\n' or "\r\n" terminated; returns the
 * number of lines.  Lines point into text, which is modified. */
static int split_lines(char *text, char *lines[4])
{
	int n = 0;
	char *p = text;

	while (*p && n < 4) {
		char *nl = strchr(p, '\n');
		lines[n++] = p;
		if (!nl)
			break;
		*nl = '\0';
		if (nl > p && nl[-1] == '\r')
			nl[-1] = '\0';
		p = nl + 1;
	}
	if (*p && n == 4)
		return 5; /* trailing garbage */
	return n;
}

void ws_pubkey_keyid_hex(const struct ws_pubkey *pk, char out[17])
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | pk->keyid[i];
	snprintf(out, 17, "%016llX", (unsigned long long)v);
}

void ws_pubkey_to_b64(const struct ws_pubkey *pk, char out[WS_PUBKEY_B64_LEN + 1])
{
	uint8_t blob[PUBKEY_BLOB];
	memcpy(blob, SIGALG, 2);
	memcpy(blob + 2, pk->keyid, 8);
	memcpy(blob + 10, pk->pk, 32);
	b64_encode(blob, sizeof(blob), out, WS_PUBKEY_B64_LEN + 1);
}

static int pubkey_from_b64(const char *line, struct ws_pubkey *out)
{
	uint8_t blob[PUBKEY_BLOB];
	size_t len = strlen(line);

	while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	if (b64_decode(line, len, blob, sizeof(blob)) != 0)
		return WS_EFORMAT;
	if (memcmp(blob, SIGALG, 2) != 0)
		return WS_EFORMAT;
	memcpy(out->keyid, blob + 2, 8);
	memcpy(out->pk, blob + 10, 32);
	return 0;
}

int ws_pubkey_parse(const char *text, struct ws_pubkey *out)
{
	char *copy, *lines[4];
	int n, ret = WS_EFORMAT;
	struct ws_pubkey pk;

	if (strlen(text) > KEYFILE_MAX)
		return WS_EFORMAT;
	copy = xstrdup(text);
	n = split_lines(copy, lines);
	if (n == 1 || (n == 2 && lines[1][0] == '\0'))
		ret = pubkey_from_b64(lines[0], &pk);
	else if ((n == 2 || (n == 3 && lines[2][0] == '\0')) &&
		 !strncmp(lines[0], "untrusted comment:", 18))
		ret = pubkey_from_b64(lines[1], &pk);
	free(copy);
	if (ret == 0)
		*out = pk;
	return ret;
}

int ws_pubkey_load(const char *path, struct ws_pubkey *out, char **msg)
{
	char *buf = NULL;
	size_t len;
	int ret = ws_read_file(path, KEYFILE_MAX, &buf, &len);

	if (ret < 0)
		return ws_seterr(msg, ret, "cannot read public key '%s': %s",
				 path, ws_strerror(ret));
	ret = ws_pubkey_parse(buf, out);
	free(buf);
	if (ret < 0)
		return ws_seterr(msg, ret, "'%s' is not a minisign public key", path);
	return 0;
}

int ws_pubkey_equal(const struct ws_pubkey *a, const struct ws_pubkey *b)
{
	return sodium_memcmp(a->pk, b->pk, WS_PK_BYTES) == 0 &&
	       sodium_memcmp(a->keyid, b->keyid, WS_KEYID_BYTES) == 0;
}

static struct ws_seckey *seckey_alloc(void)
{
	struct ws_seckey *sk = sodium_malloc(sizeof(*sk));
	if (!sk) {
		fputs("weightsync: out of secure memory\n", stderr);
		abort();
	}
	return sk;
}

int ws_seckey_generate(struct ws_seckey **out)
{
	struct ws_seckey *sk = seckey_alloc();
	uint8_t pk[32];

	randombytes_buf(sk->keyid, sizeof(sk->keyid));
	if (crypto_sign_keypair(pk, sk->sk) != 0) {
		ws_seckey_free(sk);
		return WS_ECRYPTO;
	}
	*out = sk;
	return 0;
}

void ws_seckey_public(const struct ws_seckey *sk, struct ws_pubkey *out)
{
	memcpy(out->keyid, sk->keyid, 8);
	memcpy(out->pk, sk->sk + 32, 32); /* libsodium: seed || pk */
}

void ws_seckey_free(struct ws_seckey *sk)
{
	if (sk)
		sodium_free(sk);
}

static void seckey_checksum(const uint8_t keyid[8], const uint8_t sk[64],
			    uint8_t chk[32])
{
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, 32);
	crypto_generichash_update(&st, SIGALG, 2);
	crypto_generichash_update(&st, keyid, 8);
	crypto_generichash_update(&st, sk, 64);
	crypto_generichash_final(&st, chk, 32);
}

static void le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* XOR keynum with scrypt(password, salt); symmetric, so it both encrypts
 * and decrypts. */
static int keynum_xor(uint8_t *keynum, const char *password,
		      const uint8_t salt[32], uint64_t ops, uint64_t mem)
{
	uint8_t *stream = sodium_malloc(KEYNUM_SK);
	int ret = 0;

	if (!stream)
		return -ENOMEM;
	if (crypto_pwhash_scryptsalsa208sha256(stream, KEYNUM_SK, password,
					       strlen(password), salt, ops,
					       (size_t)mem) != 0) {
		ret = WS_ECRYPTO;
		goto out;
	}
	for (size_t i = 0; i < KEYNUM_SK; i++)
		keynum[i] ^= stream[i];
out:
	sodium_free(stream);
	return ret;
}

int ws_seckey_save(const struct ws_seckey *sk, const char *path,
		   const char *password, char **msg)
{
	uint8_t *blob = sodium_malloc(SECKEY_BLOB);
	char *b64 = sodium_malloc(sodium_base64_ENCODED_LEN(SECKEY_BLOB,
					sodium_base64_VARIANT_ORIGINAL));
	char *text = NULL, *pubpath = NULL, *pubtext = NULL;
	char b64pk[WS_PUBKEY_B64_LEN + 1], idhex[17];
	struct ws_pubkey pk;
	uint64_t ops = crypto_pwhash_scryptsalsa208sha256_OPSLIMIT_SENSITIVE;
	uint64_t mem = crypto_pwhash_scryptsalsa208sha256_MEMLIMIT_SENSITIVE;
	uint8_t *keynum;
	int ret;

	if (!blob || !b64) {
		ret = -ENOMEM;
		goto out;
	}
	memcpy(blob, SIGALG, 2);
	memcpy(blob + 2, password ? KDFALG : KDFNONE, 2);
	memcpy(blob + 4, CHKALG, 2);
	randombytes_buf(blob + 6, SALT_BYTES);
	le64(blob + 38, password ? ops : 0);
	le64(blob + 46, password ? mem : 0);
	keynum = blob + 54;
	memcpy(keynum, sk->keyid, 8);
	memcpy(keynum + 8, sk->sk, 64);
	seckey_checksum(sk->keyid, sk->sk, keynum + 72);
	if (password) {
		ret = keynum_xor(keynum, password, blob + 6, ops, mem);
		if (ret < 0) {
			ws_seterr(msg, ret, "cannot derive a key from the password");
			goto out;
		}
	}
	b64_encode(blob, SECKEY_BLOB, b64, sodium_base64_ENCODED_LEN(SECKEY_BLOB,
						 sodium_base64_VARIANT_ORIGINAL));
	/* the secret text passes through ordinary memory only briefly and
	 * is wiped below */
	text = xasprintf("untrusted comment: minisign %ssecret key\n%s\n",
			 password ? "encrypted " : "", b64);
	ret = ws_write_file_atomic(path, text, strlen(text), 0600, 1);
	if (ret < 0) {
		ws_seterr(msg, ret, "cannot write secret key '%s': %s", path,
			  ws_strerror(ret));
		goto out;
	}
	ws_seckey_public(sk, &pk);
	ws_pubkey_to_b64(&pk, b64pk);
	ws_pubkey_keyid_hex(&pk, idhex);
	pubpath = xasprintf("%s.pub", path);
	pubtext = xasprintf("untrusted comment: minisign public key %s\n%s\n",
			    idhex, b64pk);
	ret = ws_write_file_atomic(pubpath, pubtext, strlen(pubtext), 0644, 0);
	if (ret < 0) {
		ws_seterr(msg, ret, "cannot write public key '%s': %s", pubpath,
			  ws_strerror(ret));
		unlink(path);
		goto out;
	}
out:
	if (text) {
		sodium_memzero(text, strlen(text));
		free(text);
	}
	free(pubpath);
	free(pubtext);
	sodium_free(b64);
	sodium_free(blob);
	return ret;
}

int ws_seckey_load(const char *path, const char *password,
		   struct ws_seckey **out, int *encrypted, char **msg)
{
	char *text = NULL, *lines[4];
	uint8_t *blob = sodium_malloc(SECKEY_BLOB);
	uint8_t chk[32];
	struct ws_seckey *sk = NULL;
	size_t len;
	int ret, n, enc;

	if (!blob)
		return -ENOMEM;
	ret = ws_read_file(path, KEYFILE_MAX, &text, &len);
	if (ret < 0) {
		ws_seterr(msg, ret, "cannot read secret key '%s': %s", path,
			  ws_strerror(ret));
		goto out;
	}
	n = split_lines(text, lines);
	if (n < 2 || n > 3 || (n == 3 && lines[2][0]) ||
	    strncmp(lines[0], "untrusted comment:", 18) ||
	    b64_decode(lines[1], strlen(lines[1]), blob, SECKEY_BLOB) != 0 ||
	    memcmp(blob, SIGALG, 2) || memcmp(blob + 4, CHKALG, 2)) {
		ret = ws_seterr(msg, WS_EFORMAT,
				"'%s' is not a minisign secret key", path);
		goto out;
	}
	if (!memcmp(blob + 2, KDFALG, 2))
		enc = 1;
	else if (!memcmp(blob + 2, KDFNONE, 2))
		enc = 0;
	else {
		ret = ws_seterr(msg, WS_EUNSUPPORTED,
				"'%s': unsupported key derivation", path);
		goto out;
	}
	if (encrypted)
		*encrypted = enc;
	if (enc) {
		uint64_t ops = get_le64(blob + 38), mem = get_le64(blob + 46);
		if (!password) {
			ret = ws_seterr(msg, WS_EPASSWORD,
					"'%s' is encrypted: a password is needed", path);
			goto out;
		}
		/* bound the cost a hostile key file can impose */
		if (ops > 4ULL * crypto_pwhash_scryptsalsa208sha256_OPSLIMIT_SENSITIVE ||
		    mem > 4ULL * crypto_pwhash_scryptsalsa208sha256_MEMLIMIT_SENSITIVE) {
			ret = ws_seterr(msg, WS_EFORMAT,
					"'%s': key derivation limits too high", path);
			goto out;
		}
		ret = keynum_xor(blob + 54, password, blob + 6, ops, mem);
		if (ret < 0) {
			ws_seterr(msg, ret, "cannot derive a key from the password");
			goto out;
		}
	}
	seckey_checksum(blob + 54, blob + 62, chk);
	/* minisign 0.11 leaves the checksum of an unencrypted key (-W) all
	 * zero; there is nothing to check it against then */
	if (!enc && sodium_is_zero(blob + 54 + 72, 32)) {
		crypto_sign_ed25519_sk_to_pk(chk, blob + 62);
		if (memcmp(chk, blob + 62 + 32, 32)) {
			ret = ws_seterr(msg, WS_EFORMAT, "'%s': inconsistent secret key", path);
			goto out;
		}
	} else if (sodium_memcmp(chk, blob + 54 + 72, 32) != 0) {
		ret = enc ? ws_seterr(msg, WS_EPASSWORD,
				      "wrong password for secret key '%s'", path)
			  : ws_seterr(msg, WS_EFORMAT,
				      "'%s': secret key checksum mismatch", path);
		goto out;
	}
	sk = seckey_alloc();
	memcpy(sk->keyid, blob + 54, 8);
	memcpy(sk->sk, blob + 62, 64);
	*out = sk;
	ret = 0;
out:
	if (text) {
		sodium_memzero(text, strlen(text));
		free(text);
	}
	sodium_free(blob);
	return ret;
}

int ws_sig_sign(const struct ws_seckey *sk, const uint8_t *msg, size_t len,
		const char *tcomment, char **sigfile)
{
	uint8_t hash[crypto_generichash_BYTES_MAX];
	uint8_t blob[SIG_BLOB], global[64];
	uint8_t *gmsg;
	size_t tlen = strlen(tcomment);
	char b64sig[128], b64global[128], idhex[17];
	struct ws_pubkey pk;

	if (tlen >= WS_TRUSTED_COMMENT_MAX || !ws_utf8_printable(tcomment, tlen))
		return WS_EFORMAT;
	crypto_generichash(hash, sizeof(hash), msg, len, NULL, 0);
	memcpy(blob, SIGALG_HASHED, 2);
	memcpy(blob + 2, sk->keyid, 8);
	if (crypto_sign_detached(blob + 10, NULL, hash, sizeof(hash), sk->sk) != 0)
		return WS_ECRYPTO;
	gmsg = xmalloc(64 + tlen);
	memcpy(gmsg, blob + 10, 64);
	memcpy(gmsg + 64, tcomment, tlen);
	if (crypto_sign_detached(global, NULL, gmsg, 64 + tlen, sk->sk) != 0) {
		free(gmsg);
		return WS_ECRYPTO;
	}
	free(gmsg);
	b64_encode(blob, sizeof(blob), b64sig, sizeof(b64sig));
	b64_encode(global, sizeof(global), b64global, sizeof(b64global));
	ws_seckey_public(sk, &pk);
	ws_pubkey_keyid_hex(&pk, idhex);
	*sigfile = xasprintf("untrusted comment: signature from weightsync secret key %s\n"
			     "%s\ntrusted comment: %s\n%s\n",
			     idhex, b64sig, tcomment, b64global);
	return 0;
}

int ws_sig_verify(const struct ws_pubkey *pk, const uint8_t *msg, size_t len,
		  const char *sig, size_t siglen, char **tcomment, char **msg_out)
{
	char *copy = NULL, *lines[4];
	uint8_t blob[SIG_BLOB], global[64];
	uint8_t hash[crypto_generichash_BYTES_MAX];
	uint8_t *gmsg = NULL;
	const char *tc;
	size_t tlen;
	int n, ret = 0, prehashed;

	if (siglen > WS_SIGFILE_MAX || memchr(sig, '\0', siglen))
		return ws_seterr(msg_out, WS_EFORMAT, "malformed signature file");
	copy = xmalloc(siglen + 1);
	memcpy(copy, sig, siglen);
	copy[siglen] = '\0';
	n = split_lines(copy, lines);
	if (n != 4 || strncmp(lines[0], "untrusted comment:", 18) ||
	    strncmp(lines[2], "trusted comment: ", 17) ||
	    b64_decode(lines[1], strlen(lines[1]), blob, sizeof(blob)) ||
	    b64_decode(lines[3], strlen(lines[3]), global, sizeof(global))) {
		ret = ws_seterr(msg_out, WS_EFORMAT, "malformed signature file");
		goto out;
	}
	if (!memcmp(blob, SIGALG_HASHED, 2))
		prehashed = 1;
	else if (!memcmp(blob, SIGALG, 2))
		prehashed = 0;
	else {
		ret = ws_seterr(msg_out, WS_EUNSUPPORTED,
				"unsupported signature algorithm");
		goto out;
	}
	if (sodium_memcmp(blob + 2, pk->keyid, 8) != 0) {
		ret = ws_seterr(msg_out, WS_EWRONGKEY,
				"signature was made by a different key");
		goto out;
	}
	if (prehashed) {
		crypto_generichash(hash, sizeof(hash), msg, len, NULL, 0);
		if (crypto_sign_verify_detached(blob + 10, hash, sizeof(hash),
						pk->pk) != 0)
			ret = WS_EBADSIG;
	} else if (crypto_sign_verify_detached(blob + 10, msg, len, pk->pk) != 0) {
		ret = WS_EBADSIG;
	}
	if (ret) {
		ws_seterr(msg_out, ret, "signature verification failed");
		goto out;
	}
	tc = lines[2] + 17;
	tlen = strlen(tc);
	if (tlen >= WS_TRUSTED_COMMENT_MAX) {
		ret = ws_seterr(msg_out, WS_EFORMAT, "trusted comment too long");
		goto out;
	}
	gmsg = xmalloc(64 + tlen);
	memcpy(gmsg, blob + 10, 64);
	memcpy(gmsg + 64, tc, tlen);
	if (crypto_sign_verify_detached(global, gmsg, 64 + tlen, pk->pk) != 0) {
		ret = ws_seterr(msg_out, WS_EBADSIG,
				"trusted comment signature verification failed");
		goto out;
	}
	if (tcomment)
		*tcomment = xstrdup(tc);
out:
	free(gmsg);
	free(copy);
	return ret;
}
