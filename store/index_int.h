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
	MDB_dbi manifests, sigs, versions, names, trust, events, torrents;
	MDB_dbi pointers, follows;
};

/* names value */
struct nrec {
	int64_t highest;
	uint32_t flags;
	uint32_t pad;
};

/* ix_err - an LMDB return code as a WS_E code or negated errno. */
int ix_err(int rc);

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
 * an unknown name reads as all zero. */
int ix_get_name(ws_index *ix, MDB_txn *txn, const uint8_t pk[32],
		const char *name, struct nrec *out);
int ix_put_name(ws_index *ix, MDB_txn *txn, const uint8_t pk[32],
		const char *name, const struct nrec *n);

/* ix_log_event - append an event in txn (index_events.c).  Returns an
 * LMDB code. */
int ix_log_event(ws_index *ix, MDB_txn *txn, int kind, const uint8_t *pk,
		 const char *name, int64_t version, const uint8_t *mhash,
		 const char *detail);

#endif
