/*
 * index_int.h - what the files of the index share (store/index_*.c only).
 *
 * Not part of the library's interface: callers use index.h.  It knows
 * LMDB; nothing outside store/index_*.c includes it.
 */
#ifndef WS_STORE_INDEX_INT_H
#define WS_STORE_INDEX_INT_H

#include "index.h"

#include <lmdb.h>
#include <stdint.h>
#include <string.h>

#define VKEY_MAX (32 + WS_NAME_MAX + 1 + 8 + 32)

struct ws_index {
	MDB_env *env;
	char *file;                 /* dir/data.mdb, for messages */
	MDB_dbi manifests, sigs, versions, names, trust, events, torrents;
	MDB_dbi pointers, follows, blobs;
};

/* index_blobs.c: record m's files in the blobs database (with its entry);
 * fill the blobs database from every manifest when it is empty (an index
 * made before it existed).  LMDB codes / WS codes as named. */
int ix_put_blobs(ws_index *ix, MDB_txn *txn, const struct ws_manifest *m,
		 const uint8_t mhash[32]);     /* LMDB code */
int ix_fill_blobs(ws_index *ix, MDB_txn *txn); /* WS code */

/* names value */
struct nrec {
	int64_t highest;
	uint32_t flags;
	uint32_t pad;
};

/*
 * ix_err - an LMDB return code as a WS_E code or negated errno: 0 stays 0,
 * MDB_NOTFOUND is WS_ENOTFOUND, MDB_MAP_FULL -ENOSPC, LMDB's reports of a
 * damaged file (MDB_CORRUPTED, MDB_PAGE_NOTFOUND, MDB_INVALID,
 * MDB_VERSION_MISMATCH) WS_ECORRUPT, other LMDB codes WS_ESTORE.
 */
int ix_err(int rc);

/*
 * ix_begin - mdb_txn_begin (flags 0 or MDB_RDONLY), after which the file
 * is checked to still hold every page the newest meta page names: reading
 * a page past the end of the file through LMDB's map is a SIGBUS, so a
 * file cut short must be refused before any page is touched.  Returns 0,
 * WS_ECORRUPT (nothing begun), or another ix_err code.
 */
int ix_begin(ws_index *ix, unsigned flags, MDB_txn **txn);

/*
 * ix_check - walk every page the snapshot of read transaction txn can
 * reach, with pread rather than through the map, and check LMDB's page
 * structure: page numbers, flags, node offsets and sizes inside the page,
 * key order, overflow runs inside the file, tree depth and entry counts
 * (index_check.c).  Returns 0 or WS_ECORRUPT with a description in *why
 * (malloc'd, the caller frees).  Values are not checked here: the record
 * decoders check their own.
 */
int ix_check(ws_index *ix, MDB_txn *txn, char **why);

/*
 * ix_scan - call fn for every record of dbi whose key starts with prefix
 * (every record when plen is 0), in key order, until fn returns nonzero.
 * Returns what fn returned, 0 at the end, or an ix_err code when the
 * cursor fails part way (a scan never ends early in silence).
 */
typedef int (*ix_scan_fn)(void *ctx, const MDB_val *k, const MDB_val *v);
int ix_scan(MDB_txn *txn, MDB_dbi dbi, const void *prefix, size_t plen,
	    ix_scan_fn fn, void *ctx);

/* ix_scan_read - ix_scan in a read transaction of its own. */
int ix_scan_read(ws_index *ix, MDB_dbi dbi, const void *prefix, size_t plen,
		 ix_scan_fn fn, void *ctx);

/* A growing malloc'd array that scans fill: ix_push copies one element
 * of size bytes to its end.  items is free()d by whoever takes it. */
struct ix_list {
	void *items;
	size_t n, cap;
};
void ix_push(struct ix_list *l, const void *item, size_t size);

static inline void ix_put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static inline uint64_t ix_get_be64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* ix_name_key - pk | name | NUL into k: the prefix of a name's versions,
 * and the names key.  Returns its length. */
static inline size_t ix_name_key(uint8_t *k, const uint8_t pk[32], const char *name)
{
	size_t n = strlen(name);
	memcpy(k, pk, 32);
	memcpy(k + 32, name, n + 1);
	return 32 + n + 1;
}

/* ix_get_name, ix_put_name - the names record of (pk, name) (index_release.c);
 * an unknown name reads as all zero, a record of the wrong size or with a
 * negative version is WS_ECORRUPT.  Return ix_err codes. */
int ix_get_name(ws_index *ix, MDB_txn *txn, const uint8_t pk[32],
		const char *name, struct nrec *out);
int ix_put_name(ws_index *ix, MDB_txn *txn, const uint8_t pk[32],
		const char *name, const struct nrec *n);

/* ix_log_event - append an event in txn (index_events.c).  Returns an
 * ix_err code. */
int ix_log_event(ws_index *ix, MDB_txn *txn, int kind, const uint8_t *pk,
		 const char *name, int64_t version, const uint8_t *mhash,
		 const char *detail);

#endif
