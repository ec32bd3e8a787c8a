/*
 * error.h - weightsync's one error convention.
 *
 * Every library function returns int: 0 on success, a negative code on
 * failure.  Codes in [-WS_E_BASE, -1] mirror errno values (-ENOENT, -ENOSPC,
 * ...); codes at or below -WS_E_BASE are ours.  ws_strerror() names both.
 *
 * Codes are grouped by what the command line makes of them (see
 * ws_error_is_verification): a verification failure exits 1, anything else
 * exits 2.
 */
#ifndef WS_ERROR_H
#define WS_ERROR_H

#define WS_E_BASE 10000

enum ws_error {
	WS_OK = 0,
	/* verification failures: the data is not what it claims to be */
	WS_EBADSIG = -(WS_E_BASE + 1),     /* signature does not verify */
	WS_EWRONGKEY = -(WS_E_BASE + 2),   /* signed by a key other than expected */
	WS_EBADHASH = -(WS_E_BASE + 3),    /* content hash mismatch */
	WS_EROLLBACK = -(WS_E_BASE + 4),   /* version lower than one already seen */
	WS_EFORK = -(WS_E_BASE + 5),       /* previous-manifest hash breaks the chain */
	WS_EEQUIVOCATION = -(WS_E_BASE + 6), /* two manifests signed for one version */
	WS_EGAP = -(WS_E_BASE + 7),        /* version skips the chain */
	WS_EUNTRUSTED = -(WS_E_BASE + 8),  /* publisher key not trusted for the name */
	WS_EMISMATCH = -(WS_E_BASE + 9),   /* files or sizes disagree with the manifest */
	WS_EMANIFEST = -(WS_E_BASE + 10),  /* a release's manifest or signature
					    * from outside is malformed */
	WS_ESTALE = -(WS_E_BASE + 11),     /* a peer holds a newer signed version */
	WS_EVERIFY_LAST = -(WS_E_BASE + 99),
	/* other failures */
	WS_EFORMAT = -(WS_E_BASE + 100),   /* malformed input (manifest, key, signature) */
	WS_ETOOBIG = -(WS_E_BASE + 101),   /* input over its size cap */
	WS_EPATH = -(WS_E_BASE + 102),     /* unsafe or invalid path */
	WS_ENAME = -(WS_E_BASE + 103),     /* invalid release name */
	WS_EPASSWORD = -(WS_E_BASE + 104), /* wrong password for a secret key */
	WS_ENOTFOUND = -(WS_E_BASE + 105), /* no such release, name or key */
	WS_EEXIST = -(WS_E_BASE + 106),    /* already present */
	WS_EAMBIGUOUS = -(WS_E_BASE + 107), /* name maps to several keys */
	WS_ESTORE = -(WS_E_BASE + 108),    /* index failure (LMDB) */
	WS_ECRYPTO = -(WS_E_BASE + 109),   /* crypto library failure */
	WS_ENETWORK = -(WS_E_BASE + 110),  /* swarm or DHT failure */
	WS_ETIMEOUT = -(WS_E_BASE + 111),  /* a bounded wait ran out */
	WS_EINTERRUPTED = -(WS_E_BASE + 112), /* stopped by a signal */
	WS_EUNSUPPORTED = -(WS_E_BASE + 113), /* format or feature version unknown */
	WS_ECORRUPT = -(WS_E_BASE + 114),  /* the index's file is damaged */
};

/*
 * ws_strerror - a short lowercase description of code, which is 0, a
 * negative WS_E* code or a negated errno value.  The string is static.
 */
const char *ws_strerror(int code);

/*
 * ws_error_is_verification - 1 when code means "the data failed a check"
 * (exit status 1 on the command line), 0 otherwise.
 */
int ws_error_is_verification(int code);

/*
 * ws_seterr - store a formatted message in *msg (when msg is not NULL),
 * freeing any message already there.  Returns code, so callers can write
 * `return ws_seterr(msg, WS_EFORMAT, "bad '%s'", x);`.  The caller frees
 * *msg with free().
 */
int ws_seterr(char **msg, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
