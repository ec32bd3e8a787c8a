/* fuzz_pointer.c - name pointer values from the DHT.  The input is
 *   salt length (1 byte), salt, seq (8 bytes, big-endian), value (rest)
 * and the harness signs it with the fixture key before ws_pointer_check:
 * a hostile publisher signs whatever it likes, so the value decoder is
 * reached with every value, not only the ones whose signature the fuzzer
 * cannot forge.  A second check with one signature byte flipped must fail. */
#include "fixture.h"
#include "proto/error.h"
#include "proto/pointer.h"

static struct ws_seckey *sk;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct ws_pointer p;
	uint8_t buf[WS_POINTER_VMAX + 128];
	size_t slen, n;

	if (!sk)
		sk = fx_key();
	if (len < 1)
		return 0;
	slen = data[0];
	if (slen > WS_SALT_MAX || len < 1 + slen + 8)
		return 0;
	memset(&p, 0, sizeof(p));
	memcpy(p.pk, sk->sk + 32, 32);
	memcpy(p.salt, data + 1, slen);
	if (memchr(p.salt, '\0', slen))
		return 0;
	for (int i = 0; i < 8; i++)
		p.seq = (int64_t)(((uint64_t)p.seq << 8) | data[1 + slen + i]);
	p.vlen = len - 1 - slen - 8;
	if (p.vlen > WS_POINTER_VMAX)
		return 0;
	memcpy(p.v, data + 1 + slen + 8, p.vlen);
	n = ws_pointer_signable(p.salt, p.seq, p.v, p.vlen, buf);
	crypto_sign_detached(p.sig, NULL, buf, n, sk->sk);
	fx_note("pointer_check", ws_pointer_check(&p), NULL);
	if (ws_pointer_check(&p) == 0) {
		if (p.version != p.seq || p.version < 1)
			abort();
		p.sig[5] ^= 1;
		if (ws_pointer_check(&p) == 0)
			abort();    /* a forged signature accepted */
	}
	return 0;
}
