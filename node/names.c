/* names.c - release names in the DHT (see names.h) */
#include "names.h"
#include "session.h"
#include "proto/error.h"
#include "proto/util.h"

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
 * time is up.
 */
static int dht_lookup(ws_lt_session *s, const uint8_t pk[32], const char *salt,
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
		/* act on the first valid item: a lookup that waits to be
		 * complete can sit 15 s on one slow node (FACTS.md) ... */
		ret = ws_lt_dht_get(s, pk, salt, left, 1, items, max, n);
		if (*n > 0) {
			/* ... then listen a little longer, so that nodes holding
			 * another value for the same version can be heard: a
			 * plain get keeps only one */
			struct ws_lt_dht_item *more = xcalloc(max, sizeof(*more));
			size_t m = 0;
			ws_lt_dht_get(s, pk, salt, 500, 0, more, max, &m);
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
			return 0;
		}
		left = (int)((end - mono()) * 1000);
		if (left > 0)
			ws_lt_wait(s, left < 500 ? left : 500);
	}
}

int ws_names_resolve(struct ws_store *st, ws_lt_session *s, const uint8_t pk[32],
		     const char *name, int64_t version, int timeout_ms,
		     struct ws_pointer *out, int *ignored, char **msg)
{
	struct ws_lt_dht_item *items = xcalloc(8, sizeof(*items));
	struct ws_pointer best, kept;
	char salt[WS_SALT_MAX + 1];
	size_t n = 0;
	int ret, rc, have = 0, bad = 0, equiv = 0;
	int64_t known = 0;

	ws_pointer_salt(name, version, salt);
	ret = dht_lookup(s, pk, salt, timeout_ms, items, 8, &n);
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
			bad++;
			continue;
		}
		int r = ws_index_put_pointer(st->index, &p, NULL);
		if (r && r != WS_EEXIST && r != WS_EEQUIVOCATION) {
			/* a pointer this node cannot record is not one to act on:
			 * the rollback checks below would not see it next time */
			free(items);
			return ws_seterr(msg, r, "cannot keep the pointer of '%s' in the index: %s",
					 salt, ws_strerror(r));
		}
		if (r == WS_EEQUIVOCATION || (have && p.seq == best.seq &&
					      (p.vlen != best.vlen || memcmp(p.v, best.v, p.vlen))))
			equiv = 1;
		if (!have || p.seq > best.seq) {
			best = p;
			have = 1;
		}
	}
	free(items);
	if (ignored)
		*ignored = bad;
	if (equiv)
		return ws_seterr(msg, WS_EEQUIVOCATION,
				 "equivocation: the publisher of '%s' signed two different "
				 "pointers for one version; both are kept as evidence (see "
				 "'weightsync log %s')", name, name);
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
