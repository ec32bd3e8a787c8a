/* accept.c - the one decision on a signed release from outside (accept.h) */
#include "accept.h"
#include "proto/error.h"
#include "proto/util.h"


int ws_release_accept(ws_index *ix, const char *manifest, size_t mlen,
		      const char *sig, size_t slen, const struct ws_accept *a,
		      struct ws_manifest *m, int *untrusted, char **msg)
{
	const struct ws_pubkey *want = a->publisher ? a->publisher : a->expected;
	char b64[WS_PUBKEY_B64_LEN + 1];
	int ret;

	if (a->publisher && a->expected && !ws_pubkey_equal(a->publisher, a->expected))
		return ws_seterr(msg, WS_EWRONGKEY,
				 "the source names another publisher than --publisher");
	ret = ws_manifest_verify(manifest, mlen, sig, slen, want, m, msg);
	if (ret && !ws_error_is_verification(ret)) {
		/* hostile or broken bytes from outside: a failed check, like a
		 * bad signature, whichever command met them */
		/* ws_seterr formats before it frees the old message */
		return ws_seterr(msg, WS_EMANIFEST, "the release's manifest is refused: %s",
				 msg && *msg ? *msg : ws_strerror(ret));
	}
	if (ret)
		return ret;
	if (untrusted)
		*untrusted = 0;
	if (a->publisher)
		return 0;
	ret = ws_index_trust_check(ix, m->name, m->publisher.pk);
	if (ret == 0)
		return 0;
	if (ret != WS_EUNTRUSTED && ret != WS_ENOTFOUND) {
		ws_manifest_release(m);
		return ws_seterr(msg, ret, "cannot read the trust list: %s", ws_strerror(ret));
	}
	if (a->untrusted_ok) {
		if (untrusted)
			*untrusted = 1;
		return 0;
	}
	ws_pubkey_to_b64(&m->publisher, b64);
	ret = ws_seterr(msg, WS_EUNTRUSTED, "publisher %s is not trusted for '%s': trust "
			"it with 'weightsync trust add %s %s' or pass --publisher",
			b64, m->name, m->name, b64);
	ws_manifest_release(m);
	return ret;
}
