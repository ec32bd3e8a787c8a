/* index_env.c - opening and closing the index (see index.h) */
#include "index_int.h"
#include "proto/error.h"
#include "proto/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAP_SIZE (4ULL << 30)

int ix_err(int rc)
{
	if (rc == 0)
		return 0;
	if (rc == MDB_NOTFOUND)
		return WS_ENOTFOUND;
	if (rc > 0)
		return -rc;       /* an errno value, ENOSPC among them */
	if (rc == MDB_MAP_FULL)
		return -ENOSPC;
	return WS_ESTORE;
}

int ws_index_open(const char *dir, ws_index **out, char **msg)
{
	ws_index *ix = xcalloc(1, sizeof(*ix));
	MDB_txn *txn = NULL;
	int rc;

	if ((rc = ws_mkdir_p(dir)) < 0) {
		ws_seterr(msg, rc, "cannot create '%s': %s", dir, ws_strerror(rc));
		free(ix);
		return rc;
	}
	if ((rc = mdb_env_create(&ix->env)) ||
	    (rc = mdb_env_set_maxdbs(ix->env, 16)) ||
	    (rc = mdb_env_set_mapsize(ix->env, MAP_SIZE)) ||
	    (rc = mdb_env_open(ix->env, dir, MDB_NOTLS, 0644)))
		goto fail;
	if ((rc = mdb_txn_begin(ix->env, NULL, 0, &txn)) ||
	    (rc = mdb_dbi_open(txn, "manifests", MDB_CREATE, &ix->manifests)) ||
	    (rc = mdb_dbi_open(txn, "sigs", MDB_CREATE, &ix->sigs)) ||
	    (rc = mdb_dbi_open(txn, "versions", MDB_CREATE, &ix->versions)) ||
	    (rc = mdb_dbi_open(txn, "names", MDB_CREATE, &ix->names)) ||
	    (rc = mdb_dbi_open(txn, "trust", MDB_CREATE, &ix->trust)) ||
	    (rc = mdb_dbi_open(txn, "events", MDB_CREATE, &ix->events)) ||
	    (rc = mdb_dbi_open(txn, "torrents", MDB_CREATE, &ix->torrents)) ||
	    (rc = mdb_dbi_open(txn, "pointers", MDB_CREATE, &ix->pointers)) ||
	    (rc = mdb_dbi_open(txn, "follows", MDB_CREATE, &ix->follows)))
		goto fail;
	if ((rc = mdb_txn_commit(txn))) {
		txn = NULL;
		goto fail;
	}
	*out = ix;
	return 0;
fail:
	if (txn)
		mdb_txn_abort(txn);
	ws_seterr(msg, ix_err(rc), "cannot open index in '%s': %s", dir,
		  mdb_strerror(rc));
	if (ix->env)
		mdb_env_close(ix->env);
	free(ix);
	return ix_err(rc);
}

void ws_index_close(ws_index *ix)
{
	if (!ix)
		return;
	mdb_env_close(ix->env);
	free(ix);
}
