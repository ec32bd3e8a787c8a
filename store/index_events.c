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
	MDB_val k = { 8, kb }, v = { sizeof(e), &e }, lk, lv;
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
		return ix_err(rc);
	rc = mdb_cursor_get(c, &lk, &lv, MDB_LAST);
	if (rc == 0 && lk.mv_size != 8)
		rc = WS_ECORRUPT;
	else if (rc == 0)
		seq = ix_get_be64(lk.mv_data) + 1;
	mdb_cursor_close(c);
	if (rc && rc != MDB_NOTFOUND)
		return ix_err(rc);
	ix_put_be64(kb, seq);
	return ix_err(mdb_put(txn, ix->events, &k, &v, MDB_APPEND));
}

int ws_index_log(ws_index *ix, int kind, const uint8_t *pk, const char *name,
		 int64_t version, const char *detail)
{
	MDB_txn *txn;
	int rc = ix_begin(ix, 0, &txn);

	if (rc)
		return rc;
	if ((rc = ix_log_event(ix, txn, kind, pk, name, version, NULL, detail))) {
		mdb_txn_abort(txn);
		return rc;
	}
	return ix_err(mdb_txn_commit(txn));
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
	case WS_EV_CURATED: return "curated";
	case WS_EV_UNCURATED: return "uncurated";
	case WS_EV_CURATOR_LIST: return "curator-list";
	case WS_EV_NEWER_SEEN: return "newer-seen";
	}
	return "unknown";
}

/*
 * decode_event - one events record into o.  Fixed size; the strings must
 * end inside their fields and the kind be positive.
 */
static int decode_event(const MDB_val *k, const MDB_val *v, struct ws_event *o)
{
	struct erec e;

	if (k->mv_size != 8 || v->mv_size != sizeof(e))
		return WS_ECORRUPT;
	memcpy(&e, v->mv_data, sizeof(e));
	/* kinds added later must still read: only 0 and below are never written */
	if (e.kind < WS_EV_ACCEPTED ||
	    !memchr(e.name, '\0', sizeof(e.name)) ||
	    !memchr(e.detail, '\0', sizeof(e.detail)))
		return WS_ECORRUPT;
	memset(o, 0, sizeof(*o));
	o->seq = ix_get_be64(k->mv_data);
	o->time = e.time;
	o->kind = e.kind;
	memcpy(o->pk, e.pk, 32);
	memcpy(o->name, e.name, sizeof(o->name));
	o->version = e.version;
	memcpy(o->mhash, e.mhash, 32);
	memcpy(o->detail, e.detail, sizeof(o->detail));
	return 0;
}

struct elist_ctx {
	const char *name;
	struct ix_list l;
};

static int elist_fn(void *vctx, const MDB_val *k, const MDB_val *v)
{
	struct elist_ctx *ctx = vctx;
	struct ws_event e;

	if (decode_event(k, v, &e))
		return WS_ECORRUPT;
	if (ctx->name && strcmp(e.name, ctx->name))
		return 0;
	ix_push(&ctx->l, &e, sizeof(e));
	return 0;
}

int ws_index_events(ws_index *ix, const char *name, struct ws_event **out,
		    size_t *n)
{
	struct elist_ctx ctx = { .name = name };
	int rc = ix_scan_read(ix, ix->events, NULL, 0, elist_fn, &ctx);

	if (rc) {
		free(ctx.l.items);
		return rc;
	}
	*out = ctx.l.items;
	*n = ctx.l.n;
	return 0;
}
