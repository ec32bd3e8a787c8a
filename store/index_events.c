/* index_events.c - the event log (see index.h) */
#include "index_int.h"
#include "proto/error.h"
#include "proto/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct erec {
	int64_t time;
	int32_t kind;
	int32_t pad;
	uint8_t pk[32];
	int64_t version;
	uint8_t mhash[32];
	char name[WS_NAME_MAX + 1];
	char detail[256];
};

int ix_log_event(ws_index *ix, MDB_txn *txn, int kind, const uint8_t *pk,
		 const char *name, int64_t version, const uint8_t *mhash,
		 const char *detail)
{
	struct erec e = { .time = ws_now(), .kind = kind, .version = version };
	uint8_t kb[8];
	MDB_val k = { 8, kb }, v = { sizeof(e), &e };
	MDB_cursor *c;
	uint64_t seq = 1;
	int rc;

	if (pk)
		memcpy(e.pk, pk, 32);
	if (mhash)
		memcpy(e.mhash, mhash, 32);
	snprintf(e.name, sizeof(e.name), "%s", name ? name : "");
	snprintf(e.detail, sizeof(e.detail), "%s", detail ? detail : "");
	if ((rc = mdb_cursor_open(txn, ix->events, &c)))
		return rc;
	MDB_val lk, lv;
	if (mdb_cursor_get(c, &lk, &lv, MDB_LAST) == 0 && lk.mv_size == 8)
		seq = ix_get_be64(lk.mv_data) + 1;
	mdb_cursor_close(c);
	ix_put_be64(kb, seq);
	return mdb_put(txn, ix->events, &k, &v, MDB_APPEND);
}

/* ---- events ---- */

const char *ws_event_kind_name(int kind)
{
	switch (kind) {
	case WS_EV_ACCEPTED: return "accepted";
	case WS_EV_COMPLETE: return "complete";
	case WS_EV_EQUIVOCATION: return "equivocation";
	case WS_EV_ROLLBACK_REFUSED: return "rollback-refused";
	case WS_EV_FORK_REFUSED: return "fork-refused";
	case WS_EV_GAP_REFUSED: return "gap-refused";
	case WS_EV_TRUST_ADD: return "trust-add";
	case WS_EV_TRUST_REMOVE: return "trust-remove";
	case WS_EV_POINTER_EQUIVOCATION: return "pointer-equivocation";
	case WS_EV_FOLLOW: return "follow";
	case WS_EV_UNFOLLOW: return "unfollow";
	}
	return "unknown";
}

int ws_index_events(ws_index *ix, const char *name, struct ws_event **out,
		    size_t *n)
{
	MDB_txn *txn;
	MDB_cursor *c;
	MDB_val k, v;
	struct ws_event *list = NULL;
	size_t cnt = 0, cap = 0;
	int rc = mdb_txn_begin(ix->env, NULL, MDB_RDONLY, &txn);

	if (rc)
		return ix_err(rc);
	if ((rc = mdb_cursor_open(txn, ix->events, &c))) {
		mdb_txn_abort(txn);
		return ix_err(rc);
	}
	while (mdb_cursor_get(c, &k, &v, MDB_NEXT) == 0) {
		struct erec e;
		if (k.mv_size != 8 || v.mv_size != sizeof(e))
			continue;
		memcpy(&e, v.mv_data, sizeof(e));
		e.name[WS_NAME_MAX] = '\0';
		e.detail[sizeof(e.detail) - 1] = '\0';
		if (name && strcmp(e.name, name))
			continue;
		if (cnt == cap) {
			cap = cap ? 2 * cap : 16;
			list = xrealloc(list, cap * sizeof(*list));
		}
		struct ws_event *o = &list[cnt++];
		o->seq = ix_get_be64(k.mv_data);
		o->time = e.time;
		o->kind = e.kind;
		memcpy(o->pk, e.pk, 32);
		memcpy(o->name, e.name, sizeof(o->name));
		o->version = e.version;
		memcpy(o->mhash, e.mhash, 32);
		memcpy(o->detail, e.detail, sizeof(o->detail));
	}
	mdb_cursor_close(c);
	mdb_txn_abort(txn);
	*out = list;
	*n = cnt;
	return 0;
}
