/* fetch_name.c - fetch NAME[@V]: resolve the signed pointer, fill the
 * chain below it, fetch the release (fetch.h) */
#include "evidence.h"
#include "fetch_impl.h"
#include "names.h"
#include "proto/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
	mo.peers_hook = NULL;
	mo.torrent = NULL;
	ret = ws_fetch_run(st, &mo, &r, msg);
	if (ret == 0)
		ws_fetch_result_release(&r);
	return ret;
}

/* What the peers of a fetch by name told (node/evidence.h). */
struct peers_check {
	struct ws_store *st;
	const uint8_t *pk;
	const char *name;
	int latest;                 /* fetching the latest: newer is news */
	int64_t fetching;           /* the version being fetched */
	int64_t offered;            /* the version the DHT offered */
	struct ws_pointer newer;    /* a newer pointer a peer showed */
	int have_newer;
	int newer_from_dht;         /* ... or the DHT, after the first */
	int told;                   /* this torrent's peers were told */
	const struct ws_net_opts *net; /* the peers the user named */
};

/* Up to this long after the last piece, a fetch of the latest waits for
 * the peers the user named to send their handshake: a stale peer can
 * serve a small release before a mirror's newer pointer is in (t5503).
 * A named peer whose connection ended (refused, or it lacks the release)
 * is not waited for; one that does not answer at all costs this much. */
#define NAMED_PEERS_WAIT_MS 3000

static void wait_named_peers(const struct peers_check *pc, ws_lt_torrent *t)
{
	for (int waited = 0; waited < NAMED_PEERS_WAIT_MS; waited += 50) {
		size_t heard = 0;
		for (size_t i = 0; i < pc->net->npeers; i++)
			heard += ws_lt_evidence_heard(t, pc->net->peers[i]) != 0;
		if (heard == pc->net->npeers)
			return;
		usleep(50 * 1000);
	}
}

static int check_peers(void *ctx, ws_lt_torrent *t, int final, char **msg)
{
	struct peers_check *pc = ctx;
	struct ws_evidence_seen seen;
	char detail[256];
	int ret;

	if (final && pc->latest)
		wait_named_peers(pc, t);
	memset(&seen, 0, sizeof(seen));
	if ((ret = ws_evidence_take(pc->st, t, pc->pk, pc->name, &seen)))
		return ws_seterr(msg, ret, "cannot keep what peers showed of '%s' in the "
				 "index: %s", pc->name, ws_strerror(ret));
	/* and tell the peers what this node knows: once per torrent, and
	 * again only when the index kept something new (the hook runs on
	 * every wait slice) */
	if (!pc->told || seen.kept)
		ws_evidence_offer(pc->st, t, pc->pk, pc->name);
	pc->told = 1;
	if (seen.equivocations && seen.equivocated_version == pc->fetching)
		return ws_seterr(msg, WS_EEQUIVOCATION,
				 "equivocation: a peer showed two different pointers the "
				 "publisher of '%s' signed for version %lld; both are kept as "
				 "evidence (see 'weightsync log %s')", pc->name,
				 (long long)pc->fetching, pc->name);
	if (pc->latest && seen.have_newest && seen.newest.seq > pc->fetching) {
		pc->newer = seen.newest;
		pc->have_newer = 1;
		pc->newer_from_dht = 0;
		snprintf(detail, sizeof(detail), "a peer showed version %lld signed by the "
			 "publisher while the DHT offered version %lld (a freeze attempt?)",
			 (long long)seen.newest.seq, (long long)pc->offered);
		ws_index_log(pc->st->index, WS_EV_NEWER_SEEN, pc->pk, pc->name,
			     seen.newest.seq, detail);
		return ws_seterr(msg, WS_ESTALE, "'%s': %s", pc->name, detail);
	}
	return 0;
}

/* Fetch the release pointer p names, filling the chain below it first. */
static int fetch_pointer(struct ws_store *st, const struct ws_fetch_opts *fo,
			 const struct ws_pubkey *pk, const char *name,
			 const struct ws_pointer *p, int resolve_timeout_ms,
			 struct ws_fetch_result *res, char **msg)
{
	struct ws_fetch_opts ro = *fo;
	int64_t known;
	int ret;

	if ((ret = ws_index_highest(st->index, pk->pk, name, &known)))
		return ws_seterr(msg, ret, "cannot read the index: %s", ws_strerror(ret));
	/* fill the chain: upwards to just below the target, or downwards
	 * from the highest known to just above it */
	if (known && p->version > known + 1)
		for (int64_t v = known + 1; v < p->version && !ret; v++)
			ret = fill_link(st, fo, pk, name, v, resolve_timeout_ms, msg);
	else if (known && p->version < known)
		for (int64_t v = known - 1; v > p->version && !ret; v--)
			if (!is_known(st, pk->pk, name, v))
				ret = fill_link(st, fo, pk, name, v, resolve_timeout_ms, msg);
	if (ret)
		return ret;
	link_for(p, pk, name, &ro.link);
	ro.torrent = NULL;
	return ws_fetch_run(st, &ro, res, msg);
}

/* What the DHT says while the release downloads (fetch.h's verdict). */
struct dht_check {
	struct ws_names_watch *w;
	struct peers_check *pc;
};

static int check_dht(void *ctx, int final, char **msg)
{
	struct dht_check *dc = ctx;
	struct peers_check *pc = dc->pc;
	struct ws_pointer newest;
	int ret = ws_names_watch_verdict(dc->w, final, &newest, msg);

	if (ret)
		return ret;
	if (pc->latest && newest.seq > pc->fetching) {
		/* a newer version heard in the DHT, within the window the
		 * resolve used to wait for before acting: the latest was
		 * asked for */
		pc->newer = newest;
		pc->have_newer = 1;
		pc->newer_from_dht = 1;
		return ws_seterr(msg, WS_ESTALE, "the DHT offered '%s' version %lld, then "
				 "version %lld", pc->name, (long long)pc->fetching,
				 (long long)newest.seq);
	}
	return 0;
}

int ws_fetch_name(struct ws_store *st, const struct ws_fetch_opts *o,
		  const struct ws_pubkey *pk, const char *name, int64_t version,
		  int resolve_timeout_ms, struct ws_fetch_result *res, char **msg)
{
	struct ws_fetch_opts fo = *o;
	struct ws_names_watch *w = NULL;
	struct ws_pointer p;
	struct peers_check pc;
	struct dht_check dc;
	double t0 = ws_fetch_now(), resolved;
	int ret, ignored = 0;

	memset(res, 0, sizeof(*res));
	if (!fo.session && (ret = ws_net_session(&o->net, &fo.session, msg)))
		return ret;
	/* the fetch starts on the first valid pointer; the listening for a
	 * conflicting one goes on beside it and has the last word before the
	 * commit (docs/names.md).  The per-version pointer is kept too, so
	 * this node can re-put it; the bound only matters on a slow DHT,
	 * where 2 s lost it now and then (t5101).  Not the resolve timeout:
	 * the command would end up to 15 s after the commit when it is
	 * missing (bench/node.sh showed it once) */
	ret = ws_names_resolve_watch(st, fo.session, pk->pk, name, version,
				     resolve_timeout_ms,
				     version ? 0 : resolve_timeout_ms < 5000 ? resolve_timeout_ms : 5000,
				     &p, &ignored, &w, msg);
	if (ret)
		goto out;
	memset(&pc, 0, sizeof(pc));
	pc.st = st;
	pc.pk = pk->pk;
	pc.name = name;
	pc.latest = version == 0;
	pc.fetching = pc.offered = p.version;
	pc.net = &fo.net;
	fo.peers_hook = check_peers;
	fo.peers_ctx = &pc;
	dc.w = w;
	dc.pc = &pc;
	fo.verdict = check_dht;
	fo.verdict_ctx = &dc;
	fo.started = t0;
	resolved = ws_fetch_now() - t0;
	/* paused while it resolved (the lookup itself runs to its end): start
	 * nothing until resumed */
	while (fo.pause && *fo.pause && !(fo.stop && *fo.stop)) {
		struct ws_fetch_progress pp = { "paused", 0, 0, 0, 0 };
		if (fo.progress)
			fo.progress(fo.progress_ctx, &pp);
		usleep(200 * 1000);
	}
	/* a peer that shows a newer signed pointer than the DHT did wins:
	 * the DHT near a name can be made to serve an old one (a freeze) */
	for (int tries = 0;; tries++) {
		int64_t offered = pc.offered;
		pc.told = 0;                /* a new torrent each time */
		ret = fetch_pointer(st, &fo, pk, name, &p, resolve_timeout_ms, res, msg);
		if (ret == 0 && res->already_complete && (ret = check_dht(&dc, 1, msg)))
			/* nothing was committed, so the verdict was not asked
			 * for: it still has the last word */
			ws_fetch_result_release(res);
		if (ret != WS_ESTALE || !pc.have_newer || tries == 3)
			break;
		if (pc.newer_from_dht)
			/* the DHT itself said newer: no freeze to tell */
			offered = pc.newer.seq;
		p = pc.newer;
		pc.fetching = p.version;
		pc.offered = offered;
		pc.have_newer = 0;
		if (msg) {
			free(*msg);
			*msg = NULL;
		}
	}
	res->resolve_seconds = resolved;
	if (ret == 0 && pc.fetching != pc.offered)
		res->stale_offered = pc.offered;
out:
	res->ignored_pointers = ignored;
	ws_names_watch_free(w);
	if (!o->session)
		ws_lt_session_free(fo.session);
	return ret;
}
