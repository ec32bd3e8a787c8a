/* error.c - error codes and messages (see error.h) */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *ws_strerror(int code)
{
	switch (code) {
	case WS_OK: return "success";
	case WS_EBADSIG: return "signature verification failed";
	case WS_EWRONGKEY: return "signed by a different key";
	case WS_EBADHASH: return "hash mismatch";
	case WS_EROLLBACK: return "rollback to an older version refused";
	case WS_EFORK: return "previous-manifest hash breaks the version chain";
	case WS_EEQUIVOCATION: return "publisher signed two different manifests for one version";
	case WS_EGAP: return "version skips the chain";
	case WS_EUNTRUSTED: return "publisher key is not trusted for this name";
	case WS_EMISMATCH: return "files disagree with the manifest";
	case WS_EMANIFEST: return "malformed manifest or signature";
	case WS_ESTALE: return "a newer signed version is known to a peer";
	case WS_EFORMAT: return "malformed input";
	case WS_ETOOBIG: return "input too large";
	case WS_EPATH: return "unsafe path";
	case WS_ENAME: return "invalid name";
	case WS_EPASSWORD: return "wrong password";
	case WS_ENOTFOUND: return "not found";
	case WS_EEXIST: return "already exists";
	case WS_EAMBIGUOUS: return "ambiguous name";
	case WS_ESTORE: return "index error";
	case WS_ECRYPTO: return "crypto library failure";
	case WS_ENETWORK: return "network error";
	case WS_ETIMEOUT: return "timed out";
	case WS_EINTERRUPTED: return "interrupted";
	case WS_EUNSUPPORTED: return "unsupported format version";
	case WS_ECORRUPT: return "index damaged (restore index/data.mdb from a backup)";
	}
	if (code < 0 && code > -WS_E_BASE)
		return strerror(-code);
	return "unknown error";
}

int ws_error_is_verification(int code)
{
	return code <= -(WS_E_BASE + 1) && code >= WS_EVERIFY_LAST;
}

int ws_seterr(char **msg, int code, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	if (!msg)
		return code;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	free(*msg);
	*msg = s;
	return code;
}
