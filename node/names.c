/* names.c - release names in the DHT (see names.h) */
#include "names.h"
#include "session.h"
#include "proto/error.h"
#include "proto/util.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int ws_names_sign(const struct ws_seckey *sk, const struct ws_manifest *m,
		  const uint8_t mhash[32], const uint8_t ih1[20],
		  const uint8_t ih2[32], struct ws_pointer out[2], char **msg)
{
	struct ws_pointer p[2];

	for (int i = 0; i < 2; i++) {
		char salt[WS_SALT_MAX + 1];
		int ret;

		ws_pointer_salt(m->name, i ? m->version : 0, salt);
		if ((ret = ws_pointer_make(sk, salt, m->version, ih1, ih2, mhash, &p[i])))
			return ws_seterr(msg, ret, "cannot sign the name pointer");
	}
	memcpy(out, p, sizeof(p));
	return 0;
}

int ws_names_put_all(struct ws_store *st, ws_lt_session *s)
{
	struct ws_pointer *ps = NULL;
	size_t n = 0;
	int put = 0;

	if (ws_index_pointers(st->index, &ps, &n))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (ws_lt_dht_put(s, ps[i].pk, ps[i].salt, ps[i].seq, ps[i].v, ps[i].vlen,
				  NULL, NULL, ps[i].sig) == 0)
			put++;
	free(ps);
	return put;
}

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * A lookup made before the routing table has nodes ends at once with
 * nothing; so wait for nodes, and ask again until something comes or the
 * time is up.  Returns as soon as one valid-looking item is in: a lookup
 * that waits to be complete can sit 15 s on one slow node (FACTS.md).
 */
static int lookup_first(ws_lt_session *s, const uint8_t pk[32], const char *salt,
			int timeout_ms, struct ws_lt_dht_item *items, size_t max,
			size_t *n)
{
	double end = mono() + timeout_ms / 1000.0;
	int ret = WS_ENOTFOUND;

	*n = 0;
	for (;;) {
		struct ws_lt_session_stats st;
		int left = (int)((end - mono()) * 1000);
		if (left <= 0)
			return ret;
		memset(&st, 0, sizeof(st));
		ws_lt_session_stats(s, &st);
		if (st.dht_nodes == 0) {
			ws_lt_wait(s, left < 200 ? left : 200);
			continue;
		}
		ret = ws_lt_dht_get(s, pk, salt, left, 1, items, max, n);
		if (*n > 0)
			return 0;
		left = (int)((end - mono()) * 1000);
		if (left > 0)
			ws_lt_wait(s, left < 500 ? left : 500);
	}
}

/*
 * Listen up to ms more (one more lookup, until it is complete), so that
 * nodes holding another value for the same (key, salt) can be heard: a
 * plain get keeps only one.  New distinct items are added to items[*n..].
 */
static void listen_more(ws_lt_session *s, const uint8_t pk[32], const char *salt,
			int ms, struct ws_lt_dht_item *items, size_t max, size_t *n)
{
	struct ws_lt_dht_item *more = xcalloc(max, sizeof(*more));
	size_t m = 0;

	ws_lt_dht_get(s, pk, salt, ms, 0, more, max, &m);
	for (size_t i = 0; i < m && *n < max; i++) {
		size_t j = 0;
		while (j < *n && !(items[j].seq == more[i].seq &&
				   items[j].vlen == more[i].vlen &&
				   !memcmp(items[j].v, more[i].v, more[i].vlen)))
			j++;
		if (j == *n)
			items[(*n)++] = more[i];
	}
	free(more);
}

#define ITEMS_MAX 8
#define LISTEN_MS 500

/*
 * Check every item heard for (pk, salt), keep the valid ones in the index,
 * and find the highest (*best, *have).  WS_EEQUIVOCATION when two valid
 * ones (or one and the index's) differ for one version; another error when
 * the index cannot keep them.  *bad counts the invalid ones.
 */
static int take_items(struct ws_store *st, const uint8_t pk[32], const char *name,
		      const char *salt, const struct ws_lt_dht_item *items, size_t n,
		      struct ws_pointer *best, int *have, int *bad, char **msg)
{
	int equiv = 0;

	*have = *bad = 0;
	for (size_t i = 0; i < n; i++) {
		struct ws_pointer p;
		memset(&p, 0, sizeof(p));
		memcpy(p.pk, items[i].pk, 32);
		snprintf(p.salt, sizeof(p.salt), "%s", items[i].salt);
		p.seq = items[i].seq;
		memcpy(p.sig, items[i].sig, 64);
		p.vlen = items[i].vlen;
		memcpy(p.v, items[i].v, items[i].vlen);
		/* libtorrent checked the signature; we check it again, and
		 * the value's format, before believing anything in it */
		if (memcmp(p.pk, pk, 32) || strcmp(p.salt, salt) || ws_pointer_check(&p)) {
			(*bad)++;
			continue;
		}
		int r = ws_index_put_pointer(st->index, &p, NULL);
		if (r && r != WS_EEXIST && r != WS_EEQUIVOCATION)
			/* a pointer this node cannot record is not one to act on:
			 * the rollback checks would not see it next time */
			return ws_seterr(msg, r, "cannot keep the pointer of '%s' in the index: %s",
					 salt, ws_strerror(r));
		if (r == WS_EEQUIVOCATION || (*have && p.seq == best->seq &&
					      (p.vlen != best->vlen || memcmp(p.v, best->v, p.vlen))))
			equiv = 1;
		if (!*have || p.seq > best->seq) {
			*best = p;
			*have = 1;
		}
	}
	if (equiv)
		return ws_seterr(msg, WS_EEQUIVOCATION,
				 "equivocation: the publisher of '%s' signed two different "
				 "pointers for one version; both are kept as evidence (see "
				 "'weightsync log %s')", name, name);
	return 0;
}

/*
 * What the items heard for (pk, salt) say, against the index: the rules
 * of ws_names_resolve (names.h).  ret is the lookup's own result.
 */
static int judge(struct ws_store *st, const uint8_t pk[32], const char *name,
		 const char *salt, int64_t version, const struct ws_lt_dht_item *items,
		 size_t n, int ret, struct ws_pointer *out, int *ignored, char **msg)
{
	struct ws_pointer best, kept;
	int rc, have = 0, bad = 0;
	int64_t known = 0;

	rc = take_items(st, pk, name, salt, items, n, &best, &have, &bad, msg);
	if (ignored)
		*ignored = bad;
	if (rc)
		return rc;
	/* what this node already holds counts as much as what the DHT says;
	 * an index that cannot say refuses, never "nothing known" */
	rc = ws_index_get_pointer(st->index, pk, salt, &kept);
	if (rc && rc != WS_ENOTFOUND)
		return ws_seterr(msg, rc, "cannot read the index to check '%s' for a "
				 "rollback: %s", name, ws_strerror(rc));
	if (rc == 0 && (!have || kept.seq > best.seq)) {
		if (have && version == 0)
			return ws_seterr(msg, WS_EROLLBACK,
					 "the DHT offers '%s' version %lld, but version %lld is "
					 "already known here: an old pointer, refused",
					 name, (long long)best.seq, (long long)kept.seq);
		best = kept;
		have = 1;
	}
	if ((rc = ws_index_highest(st->index, pk, name, &known)))
		return ws_seterr(msg, rc, "cannot read the index to check '%s' for a "
				 "rollback: %s", name, ws_strerror(rc));
	if (have && version == 0 && best.seq < known)
		return ws_seterr(msg, WS_EROLLBACK,
				 "the DHT offers '%s' version %lld, but version %lld is "
				 "already known here: an old pointer, refused",
				 name, (long long)best.seq, (long long)known);
	if (!have) {
		if (ret == WS_ETIMEOUT || ret == WS_ENOTFOUND || ret == 0)
			return ws_seterr(msg, WS_ENOTFOUND,
					 "no signed pointer for '%s' found in the DHT%s",
					 salt, bad ? " (only items with bad signatures)" : "");
		return ws_seterr(msg, ret, "DHT lookup failed: %s", ws_strerror(ret));
	}
	*out = best;
	return 0;
}

int ws_names_resolve(struct ws_store *st, ws_lt_session *s, const uint8_t pk[32],
		     const char *name, int64_t version, int timeout_ms,
		     struct ws_pointer *out, int *ignored, char **msg)
{
	struct ws_lt_dht_item *items = xcalloc(ITEMS_MAX, sizeof(*items));
	char salt[WS_SALT_MAX + 1];
	size_t n = 0;
	int ret;

	ws_pointer_salt(name, version, salt);
	ret = lookup_first(s, pk, salt, timeout_ms, items, ITEMS_MAX, &n);
	if (n > 0)
		listen_more(s, pk, salt, LISTEN_MS, items, ITEMS_MAX, &n);
	ret = judge(st, pk, name, salt, version, items, n, ret, out, ignored, msg);
	free(items);
	return ret;
}

/* ---- resolving while the release downloads (names.h) ---- */

/* seconds between the lookups of a watch once its first window is over */
#define WATCH_AGAIN 1.0
/* each of those lookups is bounded this much: the verdict waits for the
 * one under way */
#define WATCH_LOOKUP_MS 300

struct ws_names_watch {
	struct ws_store *st;
	ws_lt_session *s;
	uint8_t pk[32];
	char name[WS_NAME_MAX + 1];
	char salt[WS_SALT_MAX + 1];
	int per_version_ms;         /* >0: also resolve NAME@first.seq */
	struct ws_pointer first;    /* the pointer acted on */
	struct ws_lt_dht_item items[ITEMS_MAX]; /* the watch's thread only */
	size_t n, taken;            /* items heard; of them, checked and kept */
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	/* under mu */
	int stop;                   /* the final verdict is asked for */
	int settled;                /* the first window is over, and the
				     * per-version lookup or PV_WAIT */
	int quiet;                  /* no verdict comes any more */
	int verdict;                /* 0, or the error that refuses */
	char *vmsg;
	struct ws_pointer newest;   /* the highest valid pointer heard */
	int pv_done, pv_verdict;    /* the per-version lookup */
	char *pv_msg;
};

/* Take what the watch heard since the last time (what came before is in
 * the index, where a conflict with it shows); a nonzero return is its
 * verdict. */
static int watch_take(struct ws_names_watch *w, char **msg)
{
	struct ws_pointer best;
	int have = 0, bad = 0;
	int ret = take_items(w->st, w->pk, w->name, w->salt, w->items + w->taken,
			     w->n - w->taken, &best, &have, &bad, msg);

	w->taken = w->n;
	if (ret == 0 && have) {
		pthread_mutex_lock(&w->mu);
		if (best.seq > w->newest.seq)
			w->newest = best;
		pthread_mutex_unlock(&w->mu);
	}
	return ret;
}

static void watch_settle(struct ws_names_watch *w, int verdict, char *vmsg)
{
	pthread_mutex_lock(&w->mu);
	if (verdict && !w->verdict) {
		w->verdict = verdict;
		w->vmsg = vmsg;
		vmsg = NULL;
	}
	w->settled = 1;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	free(vmsg);
}

/* CLOCK_REALTIME sec seconds from now, for pthread_cond_timedwait. */
static void abs_in(double sec, struct timespec *ts)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += (time_t)sec;
	ts->tv_nsec += (long)((sec - (double)(time_t)sec) * 1e9);
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* Wait up to sec seconds for the verdict to be asked for; 1 when it was. */
static int watch_stopped(struct ws_names_watch *w, double sec)
{
	struct timespec ts;
	int stop;

	abs_in(sec, &ts);
	pthread_mutex_lock(&w->mu);
	if (!w->stop)
		pthread_cond_timedwait(&w->cv, &w->mu, &ts);
	stop = w->stop;
	pthread_mutex_unlock(&w->mu);
	return stop;
}

/* seconds the commit waits for the per-version lookup at most: it goes on
 * after that (up to its own bound), and what it finds is kept all the same */
#define PV_WAIT 5.0

/* The per-version pointer, kept so this node can re-put it and `fetch
 * NAME@V` keeps working once the publisher is gone; a conflict there is
 * one for the version being fetched.  On a thread of its own, beside the
 * name's own window. */
static void *per_version_run(void *arg)
{
	struct ws_names_watch *w = arg;
	struct ws_pointer extra;
	char *m = NULL;
	int v = ws_names_resolve(w->st, w->s, w->pk, w->name, w->first.seq,
				 w->per_version_ms, &extra, NULL, &m);

	pthread_mutex_lock(&w->mu);
	w->pv_done = 1;
	if (v == WS_EEQUIVOCATION) {
		w->pv_verdict = v;
		w->pv_msg = m;
		m = NULL;
	}
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	free(m);
	return NULL;
}

static void *watch_run(void *arg)
{
	struct ws_names_watch *w = arg;
	struct timespec pv_end;
	pthread_t pv;
	char *m = NULL;
	int v, pv_on = w->per_version_ms > 0 &&
		pthread_create(&pv, NULL, per_version_run, w) == 0;

	abs_in(PV_WAIT, &pv_end);
	/* the window of ws_names_resolve, now beside the download */
	listen_more(w->s, w->pk, w->salt, LISTEN_MS, w->items, ITEMS_MAX, &w->n);
	v = watch_take(w, &m);
	if (!pv_on && w->per_version_ms > 0)
		/* no thread to spare: here, after the window */
		per_version_run(w);
	pthread_mutex_lock(&w->mu);
	while (!w->pv_done && w->per_version_ms > 0 &&
	       pthread_cond_timedwait(&w->cv, &w->mu, &pv_end) == 0)
		;
	if (!v && w->pv_verdict) {
		v = w->pv_verdict;
		m = w->pv_msg;
		w->pv_msg = NULL;
	}
	pthread_mutex_unlock(&w->mu);
	if (v)
		goto out;
	watch_settle(w, 0, NULL);
	/* and go on listening while the release downloads: a conflicting
	 * pointer heard before the commit still refuses it */
	while (!watch_stopped(w, WATCH_AGAIN)) {
		listen_more(w->s, w->pk, w->salt, WATCH_LOOKUP_MS, w->items, ITEMS_MAX, &w->n);
		if ((v = watch_take(w, &m)))
			break;
	}
out:
	if (v)
		watch_settle(w, v, m);
	pthread_mutex_lock(&w->mu);
	w->quiet = 1;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	/* a per-version lookup still under way ends within its bound; what
	 * it finds after the verdict is kept as evidence, not a verdict */
	if (pv_on)
		pthread_join(pv, NULL);
	return NULL;
}

int ws_names_resolve_watch(struct ws_store *st, ws_lt_session *s, const uint8_t pk[32],
			   const char *name, int64_t version, int timeout_ms,
			   int per_version_ms, struct ws_pointer *out, int *ignored,
			   struct ws_names_watch **watch, char **msg)
{
	struct ws_names_watch *w = xcalloc(1, sizeof(*w));
	int ret, e;

	w->st = st;
	w->s = s;
	memcpy(w->pk, pk, 32);
	snprintf(w->name, sizeof(w->name), "%s", name);
	w->per_version_ms = per_version_ms;
	ws_pointer_salt(name, version, w->salt);
	ret = lookup_first(s, pk, w->salt, timeout_ms, w->items, ITEMS_MAX, &w->n);
	ret = judge(st, pk, name, w->salt, version, w->items, w->n, ret, &w->first,
		    ignored, msg);
	if (ret) {
		free(w);
		return ret;
	}
	w->newest = w->first;
	w->taken = w->n;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	if ((e = pthread_create(&w->thread, NULL, watch_run, w))) {
		pthread_cond_destroy(&w->cv);
		pthread_mutex_destroy(&w->mu);
		free(w);
		return ws_seterr(msg, -e, "cannot start listening for '%s': %s", name,
				 strerror(e));
	}
	*out = w->first;
	*watch = w;
	return 0;
}

int ws_names_watch_verdict(struct ws_names_watch *w, int final,
			   struct ws_pointer *newest, char **msg)
{
	int v;

	pthread_mutex_lock(&w->mu);
	if (final) {
		while (!w->settled)
			pthread_cond_wait(&w->cv, &w->mu);
		w->stop = 1;
		pthread_cond_broadcast(&w->cv);
		/* at most the lookup under way (WATCH_LOOKUP_MS) */
		while (!w->quiet)
			pthread_cond_wait(&w->cv, &w->mu);
	}
	v = w->verdict;
	if (newest)
		*newest = w->newest;
	if (v)
		ws_seterr(msg, v, "%s", w->vmsg ? w->vmsg : ws_strerror(v));
	pthread_mutex_unlock(&w->mu);
	return v;
}

void ws_names_watch_free(struct ws_names_watch *w)
{
	if (!w)
		return;
	ws_names_watch_verdict(w, 1, NULL, NULL);
	pthread_join(w->thread, NULL);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w->vmsg);
	free(w->pv_msg);
	free(w);
}

int ws_names_announce(struct ws_store *st, const struct ws_net_opts *net,
		      const char *name, int timeout_ms, int *nodes, char **msg)
{
	ws_lt_session *s = NULL;
	struct ws_pointer *ps = NULL;
	struct ws_lt_session_stats ss;
	double end = mono() + timeout_ms / 1000.0;
	size_t n = 0, nlen = strlen(name);
	int ret, put = 0;

	*nodes = 0;
	if ((ret = ws_net_session(net, &s, msg)))
		return ret;
	memset(&ss, 0, sizeof(ss));
	while (mono() < end) {
		ws_lt_session_stats(s, &ss);
		if (ss.dht_nodes > 0)
			break;
		ws_lt_wait(s, 200);
	}
	*nodes = ss.dht_nodes;
	if (ss.dht_nodes == 0) {
		ret = ws_seterr(msg, WS_ETIMEOUT, "no DHT node answered");
		goto out;
	}
	if ((ret = ws_index_pointers(st->index, &ps, &n)))
		goto out;
	for (size_t i = 0; i < n; i++)
		if (!strncmp(ps[i].salt, name, nlen) &&
		    (ps[i].salt[nlen] == '\0' || ps[i].salt[nlen] == '@') &&
		    ws_lt_dht_put(s, ps[i].pk, ps[i].salt, ps[i].seq, ps[i].v,
				  ps[i].vlen, NULL, NULL, ps[i].sig) == 0)
			put++;
	/* a put is a lookup then a store: give it time to leave (on loopback
	 * milliseconds; a slow node can take longer, and nodes re-put) */
	for (double t = mono() + 2.0; mono() < t;)
		ws_lt_wait(s, 200);
	ret = put ? 0 : ws_seterr(msg, WS_ENOTFOUND, "no pointer of '%s' to put", name);
out:
	free(ps);
	ws_lt_session_free(s);
	return ret;
}
