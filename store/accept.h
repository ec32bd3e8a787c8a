/*
 * accept.h - the one decision on a signed release that comes from outside
 * the node: a fetch (from peers), an import (from a bundle), an audit of a
 * folder against the release it claims to be.
 *
 * Part of store/.  It checks what every one of them must check, the same
 * way, with the same codes, so the same bad manifest gets the same exit
 * status from every command: the manifest must parse strictly, its
 * signature must verify, the key must be the one the caller expects, and
 * the key must be trusted for the name (unless the user named the key).
 * What only one of them knows (a link's manifest hash, a torrent's files,
 * a bundle's folder name, the files on disk) its caller checks next; the
 * chain rules are applied by ws_index_add.
 */
#ifndef WS_STORE_ACCEPT_H
#define WS_STORE_ACCEPT_H

#include <stddef.h>

#include "index.h"
#include "proto/manifest.h"
#include "proto/minisign.h"

struct ws_accept {
	const struct ws_pubkey *publisher; /* the user's --publisher: the release
					    * must carry this key, and the trust
					    * list is not consulted; or NULL */
	const struct ws_pubkey *expected;  /* a key the source named (a link's
					    * x.pk), or NULL */
	int untrusted_ok;                  /* audit: an untrusted key is a
					    * warning for the caller, not a
					    * refusal (*untrusted says so) */
};

/*
 * ws_release_accept - decide on manifest/sig (mlen/slen bytes).  On success
 * *m is the parsed manifest (release it with ws_manifest_release) and, when
 * untrusted is not NULL, *untrusted is 1 if the key is not trusted for the
 * name (only possible with untrusted_ok).  Refusals, all verification
 * failures (exit status 1 on the command line):
 *   WS_EMANIFEST   the manifest or its signature file is malformed
 *   WS_EBADSIG     the signature does not verify
 *   WS_EWRONGKEY   signed by another key than publisher / expected
 *   WS_EUNTRUSTED  the key is not trusted for the name; *msg says how to
 *                  trust it
 * Other errors (reading the trust list) are exit status 2.  *msg
 * (optional, malloc'd) says what, for a person.
 */
int ws_release_accept(ws_index *ix, const char *manifest, size_t mlen,
		      const char *sig, size_t slen, const struct ws_accept *a,
		      struct ws_manifest *m, int *untrusted, char **msg);

#endif
