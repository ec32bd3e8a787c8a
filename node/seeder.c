/* seeder.c - the long-running seeding node (see seeder.h) */
#include "seeder.h"
#include "fetch.h"
#include "evidence.h"
#include "http.h"
#include "names.h"
#include "server.h"
#include "transfers.h"
#include "proto/error.h"
#include "proto/util.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

/* the longest the loop waits for a client before looking at the rest */
#define POLL_MS 50

struct seeded {
	uint8_t mhash[32];
	uint8_t v2[32];
	char name[WS_NAME_MAX + 1];
	int64_t version;
	ws_lt_torrent *t;
};

struct node {
	struct ws_store *st;
	const struct ws_seed_opts *o;
	ws_lt_session *ses;
	struct seeded *rel;
	size_t n, cap;
	int64_t started;
	uint64_t pointers_seen;     /* sum of kept pointer seqs at the last put */
	time_t last_put, last_follow;
	int dht_nodes;              /* routing table size at the last tick */
	int puts_pending;           /* puts to make once the DHT has nodes */
	int status_error;           /* the last status write failure, or 0 */
	struct ws_transfers *xs;    /* fetches on worker threads */
	struct ws_server *sv;       /* the control socket */
	ws_http *http;              /* the HTTP server, or NULL */
};

static void logf_(struct node *nd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void logf_(struct node *nd, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	if (!nd->o->log)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	nd->o->log(line);
}

static char *resume_path(struct node *nd, const uint8_t v2[32])
{
	char hex[65];
	ws_hex(v2, 32, hex);
	return xasprintf("%s/resume/%s.resume", nd->st->home, hex);
}

static int is_seeded(struct node *nd, const uint8_t mhash[32])
{
	for (size_t i = 0; i < nd->n; i++)
		if (!memcmp(nd->rel[i].mhash, mhash, 32))
			return 1;
	return 0;
}

static void add_release(struct node *nd, const struct ws_release *r)
{
	uint8_t *tor = NULL, v2[32], v1[20], *resume = NULL;
	size_t len, rlen = 0;
	char *rp, *save, *msg = NULL;
	ws_lt_torrent *t = NULL;
	int ret;

	if (ws_index_get_torrent(nd->st->index, r->mhash, &tor, &len, v2, v1))
		return; /* published before torrents were kept: nothing to seed */
	rp = resume_path(nd, v2);
	save = xasprintf("%s/%s", nd->st->home, r->path);
	*strrchr(save, '/') = '\0';  /* the torrent's save path: the folder's parent */
	ret = -1;
	if (ws_read_file(rp, 64u << 20, (char **)&resume, &rlen) == 0) {
		ret = ws_lt_add(nd->ses, tor, len, save, resume, rlen, WS_LT_COMPLETE, &t, NULL);
		if (ret)
			unlink(rp); /* stale or foreign: fall back to seed mode */
	}
	if (ret)
		ret = ws_lt_add(nd->ses, tor, len, save, NULL, 0,
				WS_LT_SEED_MODE | WS_LT_COMPLETE, &t, &msg);
	if (ret) {
		logf_(nd, "cannot seed %s@%lld: %s", r->name, (long long)r->version,
		      msg ? msg : ws_strerror(ret));
	} else {
		if (nd->n == nd->cap) {
			nd->cap = nd->cap ? 2 * nd->cap : 16;
			nd->rel = xrealloc(nd->rel, nd->cap * sizeof(*nd->rel));
		}
		struct seeded *s = &nd->rel[nd->n++];
		memcpy(s->mhash, r->mhash, 32);
		memcpy(s->v2, v2, 32);
		snprintf(s->name, sizeof(s->name), "%s", r->name);
		s->version = r->version;
		s->t = t;
		ws_net_dial(&nd->o->net, t);
		logf_(nd, "seeding %s@%lld%s", r->name, (long long)r->version,
		      resume ? "" : " (pieces verified as they are requested)");
	}
	free(msg);
	free(resume);
	free(rp);
	free(save);
	free(tor);
}

/* Seed every complete release not seeded yet. */
static void sync_releases(struct node *nd)
{
	struct ws_release *rels = NULL;
	size_t n = 0;

	if (ws_index_list(nd->st->index, NULL, NULL, &rels, &n))
		return;
	for (size_t i = 0; i < n; i++)
		if (rels[i].status == WS_REL_ACCEPTED && rels[i].complete &&
		    !is_seeded(nd, rels[i].mhash))
			add_release(nd, &rels[i]);
	ws_releases_free(rels, n);
}

static const char *state_name(enum ws_lt_state s)
{
	switch (s) {
	case WS_LT_CHECKING: return "checking";
	case WS_LT_CHECKING_RESUME: return "checking";
	case WS_LT_METADATA: return "metadata";
	case WS_LT_DOWNLOADING: return "downloading";
	case WS_LT_FINISHED: return "finished";
	case WS_LT_SEEDING: return "seeding";
	case WS_LT_ERROR: return "error";
	}
	return "unknown";
}

/* The options in effect (node.conf, then the command line). */
static json_t *config_json(const struct ws_seed_opts *o)
{
	const struct ws_net_opts *n = &o->net;
	json_t *boot = json_array(), *peers = json_array();

	for (size_t i = 0; i < n->nbootstrap; i++)
		json_array_append_new(boot, json_string(n->bootstrap[i]));
	for (size_t i = 0; i < n->npeers; i++)
		json_array_append_new(peers, json_string(n->peers[i]));
	return json_pack("{s:s?, s:s, s:o, s:o, s:b, s:b, s:b, s:b, s:i, s:i, s:s?, "
			 "s:i, s:i, s:i}",
			 "file", o->config_file,
			 "listen", n->listen ? n->listen : "0.0.0.0:0",
			 "bootstrap", boot, "peers", peers, "dht", !n->no_dht,
			 "upnp", n->upnp != 0, "natpmp", n->natpmp != 0, "lsd", n->lsd != 0,
			 "upload_limit", n->upload_limit, "download_limit", n->download_limit,
			 "http", o->http_listen,
			 "follow_interval", o->follow_s > 0 ? o->follow_s : 300,
			 "reput_interval", o->reput_s > 0 ? o->reput_s : 3600,
			 "max_transfers", o->max_active > 0 ? o->max_active : 4);
}

/* The status object node.json holds and `status` shows.  On the tick
 * (tick set) it also notices the DHT coming up. */
static json_t *status_json(struct node *nd, const char *state, int tick)
{
	struct ws_lt_session_stats ss = { 0 };
	json_t *o, *arr = json_array();
	char listen[96], started[21];

	ws_lt_session_stats(nd->ses, &ss);
	if (tick && nd->dht_nodes == 0 && ss.dht_nodes > 0)
		/* the DHT just came up: tell it about every release, so
		 * fetchers that find peers through it find this node */
		for (size_t i = 0; i < nd->n; i++)
			ws_lt_force_dht_announce(nd->rel[i].t);
	if (tick)
		nd->dht_nodes = ss.dht_nodes;
	for (size_t i = 0; i < nd->n; i++) {
		struct ws_lt_status s;
		char hex[65];
		memset(&s, 0, sizeof(s));
		ws_lt_status(nd->rel[i].t, &s);
		ws_hex(nd->rel[i].v2, 32, hex);
		json_array_append_new(arr, json_pack(
			"{s:s, s:I, s:s, s:s, s:i, s:i, s:I, s:I, s:i}",
			"name", nd->rel[i].name, "version", (json_int_t)nd->rel[i].version,
			"info_hash_v2", hex, "state", state_name(s.state),
			"peers", s.peers, "rate_up", s.rate_up, "uploaded", (json_int_t)s.payload_up,
			"downloaded", (json_int_t)s.payload_down,
			"hash_failures", s.hash_failures));
	}
	snprintf(listen, sizeof(listen), "%s", nd->o->net.listen ? nd->o->net.listen : "0.0.0.0:0");
	char *colon = strrchr(listen, ':');
	if (colon)
		snprintf(colon + 1, sizeof(listen) - (size_t)(colon + 1 - listen), "%d",
			 ws_lt_listen_port(nd->ses));
	ws_format_time(nd->started, started);
	o = json_pack("{s:s, s:i, s:s, s:s, s:i, s:b, s:i, s:I, s:I, s:I, s:o}",
		      "state", state, "pid", (int)getpid(), "started", started,
		      "listen", listen, "dht_nodes", ss.dht_nodes,
		      "dht", !nd->o->net.no_dht, "peers", ss.peers,
		      "bytes_up", (json_int_t)ss.bytes_up, "bytes_down", (json_int_t)ss.bytes_down,
		      "updated", (json_int_t)ws_now(), "releases", arr);
	json_object_set_new(o, "transfers", nd->xs ? ws_transfers_json(nd->xs, 0)
						     : json_array());
	json_object_set_new(o, "config", config_json(nd->o));
	if (nd->http)
		json_object_set_new(o, "http", json_string(ws_http_address(nd->http)));
	return o;
}

static json_t *status_hook(void *ctx)
{
	return status_json(ctx, "running", 0);
}

static void write_status(struct node *nd, const char *state)
{
	json_t *o = status_json(nd, state, 1);
	char *text, *path;
	int ret = 0;

	text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	path = xasprintf("%s/" WS_NODE_STATUS_FILE, nd->st->home);
	if (text && nd->http)
		ws_http_set_status(nd->http, text, strlen(text));
	if (!text) {
		logf_(nd, "cannot format the status");
	} else if ((ret = ws_write_file_atomic(path, text, strlen(text), 0644, 0))) {
		/* `status` then reads a stale file: say so once per change */
		if (ret != nd->status_error)
			logf_(nd, "cannot write '%s': %s", path, ws_strerror(ret));
	}
	nd->status_error = text ? ret : nd->status_error;
	free(text);
	free(path);
	json_decref(o);
}

static void save_resume_all(struct node *nd)
{
	char *dir = xasprintf("%s/resume", nd->st->home);
	ws_mkdir_p(dir);
	free(dir);
	for (size_t i = 0; i < nd->n; i++) {
		uint8_t *data = NULL;
		size_t len;
		int ret = ws_lt_save_resume(nd->rel[i].t, &data, &len);
		if (ret == 0) {
			char *p = resume_path(nd, nd->rel[i].v2);
			if ((ret = ws_write_file_atomic(p, data, len, 0644, 0)))
				logf_(nd, "cannot write '%s': %s", p, ws_strerror(ret));
			free(p);
		} else {
			logf_(nd, "no resume data for %s@%lld: %s", nd->rel[i].name,
			      (long long)nd->rel[i].version, ws_strerror(ret));
		}
		free(data);
	}
}

/* Put the kept pointers when new ones appeared, and every reput_s. */
static void keep_names_alive(struct node *nd, int force)
{
	struct ws_pointer *ps = NULL;
	size_t n = 0;
	uint64_t sum = 0;
	time_t t = time(NULL);
	int every = nd->o->reput_s > 0 ? nd->o->reput_s : 3600;

	if (nd->o->net.no_dht || ws_index_pointers(nd->st->index, &ps, &n))
		return;
	for (size_t i = 0; i < n; i++)
		sum += (uint64_t)ps[i].seq + 1;
	free(ps);
	/* new pointers, or time for the periodic re-put: put now, and once
	 * more a little later, as a put made while the routing table is
	 * still filling reaches few nodes */
	if (force || sum != nd->pointers_seen || t - nd->last_put >= every)
		nd->puts_pending = 2;
	nd->pointers_seen = sum;
	if (!nd->puts_pending || nd->dht_nodes == 0 ||
	    (nd->puts_pending == 1 && t - nd->last_put < 5))
		return;
	nd->puts_pending--;
	nd->last_put = t;
	logf_(nd, "put %d signed name pointers into the DHT",
	      ws_names_put_all(nd->st, nd->ses));
}

/* Resolve followed names and fetch what is new: a transfer each, on a
 * worker thread (one at a time per name); finished() logs the outcome. */
static void mirror_followed(struct node *nd)
{
	struct ws_follow *fl = NULL;
	size_t n = 0;
	time_t t = time(NULL);
	int every = nd->o->follow_s > 0 ? nd->o->follow_s : 300;

	if (nd->o->net.no_dht || t - nd->last_follow < every)
		return;
	nd->last_follow = t;
	if (ws_index_follows(nd->st->index, &fl, &n))
		return;
	for (size_t i = 0; i < n; i++) {
		struct ws_xfer_req req;
		char *msg = NULL;
		int id;

		if (ws_transfers_following(nd->xs, fl[i].pk.pk, fl[i].name))
			continue;
		memset(&req, 0, sizeof(req));
		req.kind = WS_XFER_NAME;
		req.named = fl[i].pk;
		snprintf(req.name, sizeof(req.name), "%s", fl[i].name);
		req.stall_timeout = 60;
		req.resolve_ms = 10000;
		req.follow = 1;
		if (ws_transfers_add(nd->xs, &req, &id, &msg))
			logf_(nd, "following %s: %s", fl[i].name, msg);
		free(msg);
	}
	free(fl);
}

/* A transfer finished: say how, and seed what it brought at once. */
static void finished(void *ctx, const json_t *t)
{
	struct node *nd = ctx;
	json_t *r = json_object_get(t, "result");
	const char *what = json_string_value(json_object_get(t, "what"));
	int follow = !strcmp(json_string_value(json_object_get(t, "origin")), "follow");
	int id = (int)json_integer_value(json_object_get(t, "id"));

	if (json_is_true(json_object_get(t, "ok"))) {
		if (follow && json_is_true(json_object_get(r, "already_complete")))
			return;
		logf_(nd, follow ? "mirrored %s@%lld" : "fetched %s@%lld",
		      json_string_value(json_object_get(r, "name")),
		      (long long)json_integer_value(json_object_get(r, "version")));
		sync_releases(nd);
		keep_names_alive(nd, 0);
	} else if (follow) {
		logf_(nd, "following %s: %s", what,
		      json_string_value(json_object_get(t, "error")));
	} else {
		logf_(nd, "transfer %d (%s): %s", id, what,
		      json_string_value(json_object_get(t, "error")));
	}
}

static void follows_changed(void *ctx)
{
	struct node *nd = ctx;
	nd->last_follow = 0;
}

static void log_hook(void *ctx, const char *line)
{
	logf_(ctx, "%s", line);
}

static int take_lock(struct ws_store *st, int *fd, char **msg)
{
	char *path = xasprintf("%s/" WS_NODE_LOCK_FILE, st->home);
	int ret = 0;

	*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (*fd < 0)
		ret = ws_seterr(msg, -errno, "cannot open '%s': %s", path, strerror(errno));
	else if (flock(*fd, LOCK_EX | LOCK_NB) < 0) {
		ret = ws_seterr(msg, WS_EEXIST, "another node is running on '%s'", st->home);
		close(*fd);
		*fd = -1;
	}
	free(path);
	return ret;
}

int ws_seed_run(struct ws_store *st, const struct ws_seed_opts *o, char **msg)
{
	struct node nd = { .st = st, .o = o, .started = ws_now() };
	struct ws_server_hooks hooks = { &nd, status_hook, follows_changed, log_hook };
	int lock = -1, ret, tick = o->tick_ms > 0 ? o->tick_ms : 1000;
	struct timespec last = { 0 }, ts;

	if ((ret = take_lock(st, &lock, msg)))
		return ret;
	if ((ret = ws_net_session(&o->net, &nd.ses, msg)))
		goto out;
	nd.xs = ws_transfers_new(st, nd.ses, &o->net, o->max_active);
	if ((ret = ws_server_start(st, nd.ses, nd.xs, &o->net, &hooks, &nd.sv, msg)))
		goto out;
	logf_(&nd, "listening on port %d%s; control socket %s/node.sock",
	      ws_lt_listen_port(nd.ses), o->net.no_dht ? ", DHT off" : "", st->home);
	if (o->http_listen) {
		if ((ret = ws_http_start(st, o->http_listen, &nd.http, msg)))
			goto out;
		logf_(&nd, "serving HTTP on port %d", ws_http_port(nd.http));
	}
	sync_releases(&nd);
	for (size_t i = 0; i < nd.n; i++)
		ws_evidence_exchange(nd.st, nd.rel[i].t, nd.rel[i].mhash);
	write_status(&nd, "running");
	keep_names_alive(&nd, 1);
	while (!*o->stop) {
		/* clients first; libtorrent's alerts are handled by whoever
		 * waits on the session (transfers too), here without waiting */
		ws_server_poll(nd.sv, POLL_MS);
		ws_lt_wait(nd.ses, 0);
		ws_transfers_reap(nd.xs, finished, &nd);
		clock_gettime(CLOCK_MONOTONIC, &ts);
		long el = (ts.tv_sec - last.tv_sec) * 1000 + (ts.tv_nsec - last.tv_nsec) / 1000000;
		if (el < tick && !(o->reload && *o->reload))
			continue;
		last = ts;
		if (o->reload && *o->reload) {
			*o->reload = 0;
			logf_(&nd, "reloading");
		}
		sync_releases(&nd);
		keep_names_alive(&nd, 0);
		/* newer pointers and equivocation, told to and by peers */
		for (size_t i = 0; i < nd.n; i++)
			ws_evidence_exchange(nd.st, nd.rel[i].t, nd.rel[i].mhash);
		mirror_followed(&nd);
		write_status(&nd, "running");
	}
	logf_(&nd, "stopping: saving resume data");
	/* clients told first, then the transfers stop as an interrupted
	 * fetch does (what they verified is kept for a later fetch) */
	ws_server_free(nd.sv);
	nd.sv = NULL;
	ws_transfers_free(nd.xs);
	nd.xs = NULL;
	save_resume_all(&nd);
	write_status(&nd, "stopped");
out:
	ws_http_stop(nd.http);
	ws_server_free(nd.sv);
	ws_transfers_free(nd.xs);
	ws_lt_session_free(nd.ses);
	free(nd.rel);
	if (lock >= 0)
		close(lock);
	return ret;
}
