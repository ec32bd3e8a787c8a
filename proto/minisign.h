/*
 * minisign.h - publisher keys and signatures in minisign's file formats.
 *
 * Part of proto/: pure formats and cryptography, no disk layout, no network.
 * The functions that read or write key files take explicit paths and do
 * nothing else with the file system.
 *
 * Formats (minisign 0.11, https://jedisct1.github.io/minisign/):
 *   public key   "untrusted comment: ...\n" base64("Ed" keyid[8] pk[32]) "\n"
 *   secret key   "untrusted comment: ...\n" base64("Ed" kdf[2] "B2" salt[32]
 *                opslimit[8 LE] memlimit[8 LE] keyid[8] sk[64] chk[32]) "\n"
 *                where kdf is "Sc" (scrypt-encrypted: the last 104 bytes are
 *                XORed with scrypt(password, salt)) or "\0\0" (plain), and
 *                chk = BLAKE2b-256("Ed" keyid sk)
 *   signature    "untrusted comment: ...\n" base64("ED" keyid[8] sig[64]) "\n"
 *                "trusted comment: TEXT\n" base64(global_sig[64]) "\n"
 *                sig = Ed25519(BLAKE2b-512(message)) (prehashed), and
 *                global_sig = Ed25519(sig || TEXT)
 *
 * So `minisign -V -p KEY.pub -m FILE` verifies what ws_sig_sign makes, and a
 * key pair made by `minisign -G` signs for weightsync.
 */
#ifndef WS_PROTO_MINISIGN_H
#define WS_PROTO_MINISIGN_H

#include <stddef.h>
#include <stdint.h>

#define WS_KEYID_BYTES 8
#define WS_PK_BYTES 32
#define WS_SK_BYTES 64
#define WS_SIG_BYTES 64
#define WS_PUBKEY_B64_LEN 56       /* base64 of the 42-byte public key blob */
#define WS_TRUSTED_COMMENT_MAX 1024
#define WS_SIGFILE_MAX 4096        /* cap on a signature file's size */

struct ws_pubkey {
	uint8_t keyid[WS_KEYID_BYTES];
	uint8_t pk[WS_PK_BYTES];
};

/*
 * A secret key, always in sodium_malloc'd memory (guarded, locked, wiped on
 * free).  Obtain with ws_seckey_load or ws_seckey_generate, free with
 * ws_seckey_free.
 */
struct ws_seckey {
	uint8_t keyid[WS_KEYID_BYTES];
	uint8_t sk[WS_SK_BYTES];        /* libsodium's seed || pk */
};

/* ws_pubkey_keyid_hex - keyid as minisign prints it: 16 uppercase hex
 * digits of the little-endian 64-bit value.  out holds 17 bytes. */
void ws_pubkey_keyid_hex(const struct ws_pubkey *pk, char out[17]);

/* ws_pubkey_to_b64 - the 56-character base64 line (NUL-terminated). */
void ws_pubkey_to_b64(const struct ws_pubkey *pk, char out[WS_PUBKEY_B64_LEN + 1]);

/*
 * ws_pubkey_parse - accept a public key given as the base64 line alone, or
 * as a whole .pub file's text (comment line then base64 line).  Returns 0,
 * or WS_EFORMAT when it is not an Ed25519 minisign public key.
 */
int ws_pubkey_parse(const char *text, struct ws_pubkey *out);

/* ws_pubkey_load - read and parse a .pub file (at most 4 KiB). */
int ws_pubkey_load(const char *path, struct ws_pubkey *out, char **msg);

/* ws_pubkey_equal - 1 when both keys are the same (constant time). */
int ws_pubkey_equal(const struct ws_pubkey *a, const struct ws_pubkey *b);

/* ws_seckey_generate - a new random key pair; *out is sodium_malloc'd. */
int ws_seckey_generate(struct ws_seckey **out);

/* ws_seckey_public - the public half of sk. */
void ws_seckey_public(const struct ws_seckey *sk, struct ws_pubkey *out);

/* ws_seckey_free - wipe and free (NULL is fine). */
void ws_seckey_free(struct ws_seckey *sk);

/*
 * ws_seckey_save - write sk to path (created with mode 0600, refusing to
 * replace an existing file) and its public key to path.pub.  With password
 * NULL the key is stored unencrypted (minisign -W); otherwise it is
 * encrypted with scrypt at minisign's default ("sensitive") cost.
 */
int ws_seckey_save(const struct ws_seckey *sk, const char *path,
		   const char *password, char **msg);

/*
 * ws_seckey_load - read a secret key file.  *encrypted tells whether it
 * needs a password (call with password NULL first to learn it: then
 * WS_EPASSWORD is returned for an encrypted key).  A wrong password gives
 * WS_EPASSWORD.  On success *out is sodium_malloc'd; free with
 * ws_seckey_free.
 */
int ws_seckey_load(const char *path, const char *password,
		   struct ws_seckey **out, int *encrypted, char **msg);

/*
 * ws_sig_sign - sign msg (prehashed, algorithm "ED") with trusted comment
 * tcomment (printable, no newline, < WS_TRUSTED_COMMENT_MAX).  *sigfile is
 * the whole .minisig text, malloc'd; the caller frees it.
 */
int ws_sig_sign(const struct ws_seckey *sk, const uint8_t *msg, size_t len,
		const char *tcomment, char **sigfile);

/*
 * ws_sig_verify - verify a .minisig text (sig, siglen bytes) over msg with
 * pk.  Accepts "ED" (prehashed) and legacy "Ed" signatures, and checks the
 * global signature over the trusted comment.  Returns 0, WS_EFORMAT for a
 * malformed signature file, WS_EWRONGKEY when its key id is not pk's, or
 * WS_EBADSIG.  When tcomment is not NULL and verification succeeds,
 * *tcomment is the trusted comment (malloc'd, caller frees).
 */
int ws_sig_verify(const struct ws_pubkey *pk, const uint8_t *msg, size_t len,
		  const char *sig, size_t siglen, char **tcomment, char **msg_out);

#endif
