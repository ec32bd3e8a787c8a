/*
 * manifest.h - release manifests: what a publisher released, exactly.
 *
 * Part of proto/: pure formats.  The JSON format is specified in
 * docs/manifest.md.  A manifest's bytes are signed as-is; ws_manifest_parse
 * never re-serialises, and the manifest hash is SHA-256 of those bytes.
 *
 * Parsing is strict and bounded: at most WS_MANIFEST_MAX bytes, duplicate
 * keys and unknown keys refused, an unknown "format" refused, every path
 * checked by ws_path_check, no path twice, no path both a file and a folder.
 */
#ifndef WS_PROTO_MANIFEST_H
#define WS_PROTO_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include "minisign.h"

#define WS_MANIFEST_FORMAT "weightsync-manifest-1"
#define WS_MANIFEST_MAX (16u << 20)  /* bytes */
#define WS_MANIFEST_MAX_FILES 100000
#define WS_NAME_MAX 48
/* "NAME@VERSION" is a BEP 44 salt: at most this many bytes (a 48-character
 * name leaves 15 digits for the version) */
#define WS_REF_MAX 64
#define WS_PATH_MAX 1024
#define WS_VERSION_MAX 9007199254740991LL /* 2^53 - 1: exact in JSON */
#define WS_META_DIR ".weightsync"   /* reserved top-level folder */

struct ws_manifest_file {
	char *path;                 /* normalised, relative, '/' separated */
	uint64_t size;
	uint8_t sha256[32];
	uint8_t root[32];           /* v2 pieces root; zero for empty files */
};

struct ws_manifest {
	struct ws_pubkey publisher;
	char name[WS_NAME_MAX + 1];
	int64_t version;            /* 1 .. WS_VERSION_MAX */
	int64_t created;            /* seconds since the epoch, UTC */
	int has_previous;           /* set exactly when version > 1 */
	uint8_t previous[32];       /* SHA-256 of the previous manifest's bytes */
	char *origin;               /* optional, e.g. "hf://org/name@commit" */
	char *license;              /* optional */
	int retracted;              /* the publisher withdraws this line */
	struct ws_manifest_file *files;  /* sorted by path (bytewise) */
	size_t nfiles;
};

/*
 * ws_name_check - 0 when name is a valid release name: 1 to 48 characters
 * from [a-z0-9._-], starting with a letter or digit.  WS_ENAME otherwise.
 */
int ws_name_check(const char *name);

/*
 * ws_ref_check - 0 when "NAME@VERSION" is at most WS_REF_MAX bytes (it is
 * a BEP 44 salt; docs/names.md), WS_ENAME otherwise.  name is a valid
 * name, version from 1.
 */
int ws_ref_check(const char *name, int64_t version);

/*
 * ws_path_check - 0 when path is a safe relative file path: 1..WS_PATH_MAX
 * bytes of printable UTF-8; '/'-separated components none of which is
 * empty, "." or ".."; no leading '/', no backslash; the first component is
 * not WS_META_DIR.  WS_EPATH otherwise.
 */
int ws_path_check(const char *path);

/* ws_manifest_init - a zeroed manifest; ws_manifest_release frees what it
 * holds (the struct itself is the caller's). */
void ws_manifest_init(struct ws_manifest *m);
void ws_manifest_release(struct ws_manifest *m);

/*
 * ws_manifest_add_file - append a file (path copied).  Checks the path; the
 * order and duplicates are checked by ws_manifest_serialize.
 */
int ws_manifest_add_file(struct ws_manifest *m, const char *path,
			 uint64_t size, const uint8_t sha256[32],
			 const uint8_t root[32]);

/*
 * ws_manifest_serialize - the canonical JSON bytes of m (files sorted by
 * path first).  Validates m as ws_manifest_parse would.  *out is malloc'd
 * (caller frees), *len its length.  *msg says what is wrong on failure.
 */
int ws_manifest_serialize(struct ws_manifest *m, char **out, size_t *len,
			  char **msg);

/*
 * ws_manifest_parse - parse and validate manifest bytes into m (which is
 * initialised here; release it after success).  Returns 0, WS_ETOOBIG,
 * WS_EUNSUPPORTED (unknown format), WS_EPATH, WS_ENAME or WS_EFORMAT; *msg
 * says what and where.
 */
int ws_manifest_parse(const char *data, size_t len, struct ws_manifest *m,
		      char **msg);

/* ws_manifest_hash - SHA-256 of manifest bytes. */
void ws_manifest_hash(const char *data, size_t len, uint8_t out[32]);

/* ws_manifest_total_size - sum of the file sizes. */
uint64_t ws_manifest_total_size(const struct ws_manifest *m);

/* ws_manifest_find - the file entry with this path, or NULL. */
const struct ws_manifest_file *ws_manifest_find(const struct ws_manifest *m,
						const char *path);

/*
 * ws_manifest_trusted_comment - the text signed in the signature's trusted
 * comment: "weightsync release NAME@VERSION manifest SHA256HEX
 * time:UNIXTIME".  out holds WS_TRUSTED_COMMENT_MAX bytes.
 */
void ws_manifest_trusted_comment(const struct ws_manifest *m,
				 const uint8_t hash[32], char *out);

/*
 * ws_manifest_verify - parse manifest bytes and check the signature file
 * against the publisher key the manifest names (and, when expected is not
 * NULL, that this key is the expected one).  The trusted comment must be
 * the one ws_manifest_trusted_comment makes.  Returns 0 and fills m, or a
 * parse error, WS_EBADSIG, WS_EWRONGKEY or WS_EFORMAT with *msg.
 */
int ws_manifest_verify(const char *data, size_t len, const char *sig,
		       size_t siglen, const struct ws_pubkey *expected,
		       struct ws_manifest *m, char **msg);

#endif
