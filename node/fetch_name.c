/* fetch_name.c - fetch NAME[@V]: resolve the signed pointer, fill the
 * chain below it, fetch the release (fetch.h) */
#include "fetch_impl.h"
#include "names.h"
#include "proto/error.h"

#include <stdio.h>
#include <string.h>

/* A release link for a resolved pointer. */
static void link_for(const struct ws_pointer *p, const struct ws_pubkey *pk,
		     const char *name, struct ws_link *l)
{
	memset(l, 0, sizeof(*l));
	l->has_v1 = l->has_v2 = l->has_pk = l->has_mhash = 1;
	memcpy(l->v1, p->ih1, 20);
	memcpy(l->v2, p->ih2, 32);
	l->pk = *pk;
	memcpy(l->pk32, pk->pk, 32);
	snprintf(l->name, sizeof(l->name), "%s", name);
	l->version = p->version;
	memcpy(l->mhash, p->mhash, 32);
}

static int is_known(struct ws_store *st, const uint8_t pk[32], const char *name,
		    int64_t version)
{
	struct ws_release r;
	if (ws_index_get(st->index, pk, name, version, &r))
		return 0;
	ws_release_release(&r);
	return 1;
}

/* Fetch the manifest of version v (through its "NAME@V" pointer) into the
 * index, so the chain has no hole. */
static int fill_link(struct ws_store *st, const struct ws_fetch_opts *o,
		     const struct ws_pubkey *pk, const char *name, int64_t v,
		     int timeout_ms, char **msg)
{
	struct ws_fetch_opts mo = *o;
	struct ws_fetch_result r;
	struct ws_pointer p;
	int ret = ws_names_resolve(st, o->session, pk->pk, name, v, timeout_ms, &p,
				   NULL, msg);

	if (ret)
		return ws_seterr(msg, WS_EGAP, "cannot fill the chain of '%s': version "
				 "%lld: %s", name, (long long)v, msg && *msg ? *msg : ws_strerror(ret));
	link_for(&p, pk, name, &mo.link);
	mo.manifest_only = 1;
	mo.torrent = NULL;
	ret = ws_fetch_run(st, &mo, &r, msg);
	if (ret == 0)
		ws_fetch_result_release(&r);
	return ret;
}

int ws_fetch_name(struct ws_store *st, const struct ws_fetch_opts *o,
		  const struct ws_pubkey *pk, const char *name, int64_t version,
		  int resolve_timeout_ms, struct ws_fetch_result *res, char **msg)
{
	struct ws_fetch_opts fo = *o;
	struct ws_pointer p, extra;
	int64_t known;
	double t0 = ws_fetch_now();
	int ret, ignored = 0;

	memset(res, 0, sizeof(*res));
	if (!fo.session && (ret = ws_net_session(&o->net, &fo.session, msg)))
		return ret;
	ret = ws_names_resolve(st, fo.session, pk->pk, name, version,
			       resolve_timeout_ms, &p, &ignored, msg);
	if (ret)
		goto out;
	if (version == 0) {
		/* keep the per-version pointer too, so this node can re-put it
		 * and `fetch NAME@V` keeps working once the publisher is gone */
		ws_names_resolve(st, fo.session, pk->pk, name, p.version, 2000, &extra,
				 NULL, NULL);
	}
	if ((ret = ws_index_highest(st->index, pk->pk, name, &known))) {
		ws_seterr(msg, ret, "cannot read the index: %s", ws_strerror(ret));
		goto out;
	}
	/* fill the chain: upwards to just below the target, or downwards
	 * from the highest known to just above it */
	if (known && p.version > known + 1)
		for (int64_t v = known + 1; v < p.version && !ret; v++)
			ret = fill_link(st, &fo, pk, name, v, resolve_timeout_ms, msg);
	else if (known && p.version < known)
		for (int64_t v = known - 1; v > p.version && !ret; v--)
			if (!is_known(st, pk->pk, name, v))
				ret = fill_link(st, &fo, pk, name, v, resolve_timeout_ms, msg);
	if (ret)
		goto out;
	link_for(&p, pk, name, &fo.link);
	fo.torrent = NULL;
	fo.started = t0;
	double resolved = ws_fetch_now() - t0;
	ret = ws_fetch_run(st, &fo, res, msg);
	res->resolve_seconds = resolved;
out:
	res->ignored_pointers = ignored;
	if (!o->session)
		ws_lt_session_free(fo.session);
	return ret;
}
