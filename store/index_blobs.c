/*
 * index_blobs.c - which accepted releases hold a file of a given SHA-256
 * (see index.h): the "blobs" database, key sha256(32) || mhash(32), value
 * the file's path inside the release (1 to WS_PATH_MAX bytes, no NUL).
 * Written with the release's entry, so a dedup is one range lookup, not a
 * parse of every manifest.  An index made before this database existed is
 * filled once, when it is opened.
 */
#include "index_int.h"
#include "proto/error.h"
#include "proto/util.h"

#include <stdlib.h>
#include <string.h>

#define BLOB_PATH_MAX 4096

int ix_put_blobs(ws_index *ix, MDB_txn *txn, const struct ws_manifest *m,
		 const uint8_t mhash[32])
{
	uint8_t kb[64];
	int rc = 0;

	memcpy(kb + 32, mhash, 32);
	for (size_t i = 0; i < m->nfiles && !rc; i++) {
		const struct ws_manifest_file *f = &m->files[i];
		size_t plen = strlen(f->path);
		if (!f->size || plen == 0 || plen > BLOB_PATH_MAX)
			continue;
		memcpy(kb, f->sha256, 32);
		MDB_val k = { 64, kb }, v = { plen, (void *)f->path };
		rc = mdb_put(txn, ix->blobs, &k, &v, 0);
	}
	return rc;
}

struct fill_ctx { ws_index *ix; MDB_txn *txn; };

static int fill_one(void *ctx, const MDB_val *k, const MDB_val *v)
{
	struct fill_ctx *c = ctx;
	struct ws_manifest m;
	int rc;

	/* a manifest the index holds was parsed when it came in; one that no
	 * longer parses is left to the checks that read it */
	if (k->mv_size != 32 || ws_manifest_parse(v->mv_data, v->mv_size, &m, NULL))
		return 0;
	rc = ix_put_blobs(c->ix, c->txn, &m, k->mv_data);
	ws_manifest_release(&m);
	return ix_err(rc);
}

int ix_fill_blobs(ws_index *ix, MDB_txn *txn)
{
	MDB_stat bs, ms;
	struct fill_ctx c = { ix, txn };
	int rc;

	if ((rc = mdb_stat(txn, ix->blobs, &bs)) || (rc = mdb_stat(txn, ix->manifests, &ms)))
		return ix_err(rc);
	if (bs.ms_entries || !ms.ms_entries)
		return 0;
	return ix_scan(txn, ix->manifests, NULL, 0, fill_one, &c);
}

struct find_ctx {
	ws_blob_fn fn;
	void *arg;
	int stop;
};

static int find_one(void *ctx, const MDB_val *k, const MDB_val *v)
{
	struct find_ctx *c = ctx;
	char path[BLOB_PATH_MAX + 1];

	if (k->mv_size != 64 || v->mv_size == 0 || v->mv_size > BLOB_PATH_MAX ||
	    memchr(v->mv_data, '\0', v->mv_size))
		return WS_ECORRUPT;
	memcpy(path, v->mv_data, v->mv_size);
	path[v->mv_size] = '\0';
	c->stop = c->fn(c->arg, (const uint8_t *)k->mv_data + 32, path);
	return c->stop ? 1 : 0;  /* nonzero ends the scan */
}

int ws_index_find_blob(ws_index *ix, const uint8_t sha256[32], ws_blob_fn fn,
		       void *arg)
{
	struct find_ctx c = { fn, arg, 0 };
	int ret = ix_scan_read(ix, ix->blobs, sha256, 32, find_one, &c);

	return ret == 1 && c.stop ? 0 : ret;
}
