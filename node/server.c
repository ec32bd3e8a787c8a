/* server.c - the node's side of the control socket (see server.h,
 * docs/control.md) */
#include "server.h"
#include "control.h"
#include "names.h"
#include "proto/error.h"
#include "proto/util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_CLIENTS 64
#define PUSH_EVERY 0.2          /* seconds between progress lines */
#define OUT_BACKLOG (256u << 10) /* progress is dropped past this */

/* A resolve, on a thread of its own: the DHT lookup may take seconds. */
struct resolve_job {
	struct ws_server *sv;
	pthread_t thread;
	struct ws_pubkey pk;
	char name[WS_NAME_MAX + 1];
	int64_t version;
	int timeout_ms;
	int done, ret, ignored;     /* done: under sv->mu */
	char *msg;
	struct ws_pointer p;
};

struct client {
	int fd;
	struct ws_ctl_reader in;
	char *out;                  /* lines not yet sent */
	size_t olen, ocap;
	int served;                 /* its one request has come */
	int xfer;                   /* the fetch it waits for, or 0 */
	double last_push;
	char last_state[96];
	struct resolve_job *job;
	int hangup;                 /* close once out is sent */
	int dead;                   /* close now */
	struct client *next;
};

struct ws_server {
	struct ws_store *st;
	ws_lt_session *ses;
	struct ws_transfers *xs;
	const struct ws_net_opts *net;
	const struct ws_server_hooks *h;
	int lfd;
	int wake[2];                /* a pipe: transfers and resolves poke it */
	char *path;
	struct client *clients;
	int nclients;
	pthread_mutex_t mu;
};

static void logf_(struct ws_server *sv, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void logf_(struct ws_server *sv, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	if (!sv->h->log)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	sv->h->log(sv->h->ctx, line);
}

/* Queue msg (consumed) for the client.  Progress (droppable) is not queued
 * behind a large backlog: a client that does not read loses only that. */
static void put(struct client *c, json_t *msg, int droppable)
{
	size_t len;
	char *line = ws_ctl_encode(msg, &len);

	json_decref(msg);
	if (!line || (droppable && c->olen > OUT_BACKLOG)) {
		free(line);
		return;
	}
	if (c->olen + len > c->ocap) {
		c->ocap = c->olen + len + 4096;
		c->out = xrealloc(c->out, c->ocap);
	}
	memcpy(c->out + c->olen, line, len);
	c->olen += len;
	free(line);
}

static void reply_err(struct client *c, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void reply_err(struct client *c, int code, const char *fmt, ...)
{
	char text[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	put(c, json_pack("{s:b, s:i, s:s}", "ok", 0, "code", code, "error", text), 0);
	c->hangup = 1;
}

static void reply_ok(struct client *c, json_t *o)
{
	json_object_set_new(o, "ok", json_true());
	put(c, o, 0);
	c->hangup = 1;
}

static const char *str_of(json_t *req, const char *key)
{
	return json_string_value(json_object_get(req, key));
}

/* A key given as minisign base64, or WS_EFORMAT. */
static int key_of(json_t *req, const char *field, struct ws_pubkey *pk)
{
	const char *s = str_of(req, field);
	return s && ws_pubkey_parse(s, pk) == 0 ? 0 : WS_EFORMAT;
}

static int int_of(json_t *req, const char *key, long long min, long long max,
		  long long *out)
{
	json_t *v = json_object_get(req, key);
	if (!v)
		return WS_ENOTFOUND;
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
		return WS_EFORMAT;
	*out = json_integer_value(v);
	return 0;
}

/* The request's description of a fetch, into req.  0, or an error with a
 * message for the client in why. */
static int parse_fetch(struct ws_server *sv, json_t *j, struct ws_xfer_req *req,
		       char why[256])
{
	const char *link = str_of(j, "link"), *tor = str_of(j, "torrent");
	const char *name = str_of(j, "name");
	json_t *peers = json_object_get(j, "peers"), *p;
	long long v;
	char *msg = NULL;
	size_t i;

	memset(req, 0, sizeof(*req));
	if (link) {
		req->kind = WS_XFER_LINK;
		if (ws_link_parse(link, &req->link, &msg) || req->link.is_name_link) {
			snprintf(why, 256, "bad link: %s", msg ? msg : "a name link");
			free(msg);
			return WS_EFORMAT;
		}
	} else if (tor) {
		size_t n = strlen(tor), len = 0;
		req->kind = WS_XFER_TORRENT;
		req->torrent = xmalloc(n / 4 * 3 + 3);
		if (sodium_base642bin(req->torrent, n / 4 * 3 + 3, tor, n, NULL, &len, NULL,
				      sodium_base64_VARIANT_ORIGINAL) || len == 0) {
			snprintf(why, 256, "bad torrent: not base64");
			return WS_EFORMAT;
		}
		req->torrent_len = len;
	} else if (name) {
		req->kind = WS_XFER_NAME;
		if (ws_name_check(name) || key_of(j, "named", &req->named)) {
			snprintf(why, 256, "bad name or key");
			return WS_EFORMAT;
		}
		snprintf(req->name, sizeof(req->name), "%s", name);
		if (int_of(j, "version", 0, INT64_MAX, &v) == 0)
			req->version = v;
		if (sv->net->no_dht) {
			snprintf(why, 256, "fetching by name needs the DHT: the node on this "
				 "home runs with --no-dht");
			return WS_ENETWORK;
		}
	} else {
		snprintf(why, 256, "nothing to fetch: give link, torrent or name");
		return WS_EFORMAT;
	}
	if (json_object_get(j, "publisher")) {
		if (key_of(j, "publisher", &req->publisher)) {
			snprintf(why, 256, "bad publisher key");
			return WS_EFORMAT;
		}
		req->has_publisher = 1;
	}
	json_array_foreach(peers, i, p) {
		const char *s = json_string_value(p);
		if (!s || strlen(s) > 64 || req->npeers == WS_MAX_ADDRS) {
			snprintf(why, 256, "bad peer list");
			return WS_EFORMAT;
		}
		req->peers[req->npeers++] = xstrdup(s);
	}
	if (json_is_number(json_object_get(j, "started")))
		req->started = json_number_value(json_object_get(j, "started"));
	if (json_object_get(j, "origin")) {
		const char *o = str_of(j, "origin");
		if (o && !strcmp(o, "fallback"))
			req->origin = WS_ORIGIN_FALLBACK;
		else if (o && !strcmp(o, "off"))
			req->origin = WS_ORIGIN_OFF;
		else if (o && !strcmp(o, "only"))
			req->origin = WS_ORIGIN_ONLY;
		else {
			snprintf(why, 256, "bad origin: fallback, off or only");
			return WS_EFORMAT;
		}
	}
	if (int_of(j, "timeout", 1, 604800, &v) == 0)
		req->stall_timeout = (int)v;
	if (int_of(j, "resolve_timeout", 1, 604800, &v) == 0)
		req->resolve_ms = (int)v * 1000;
	return 0;
}

static void do_fetch(struct ws_server *sv, struct client *c, json_t *j)
{
	struct ws_xfer_req req;
	char why[256], *msg = NULL;
	int ret, id;

	if ((ret = parse_fetch(sv, j, &req, why))) {
		ws_xfer_req_release(&req);
		reply_err(c, ret, "%s", why);
		return;
	}
	if ((ret = ws_transfers_add(sv->xs, &req, &id, &msg))) {
		reply_err(c, ret, "%s", msg ? msg : ws_strerror(ret));
		free(msg);
		return;
	}
	json_t *t = ws_transfers_json(sv->xs, id);
	logf_(sv, "transfer %d: fetch %s for a client%s", id,
	      json_string_value(json_object_get(t, "what")),
	      json_is_true(json_object_get(j, "detach")) ? " (detached)" : "");
	json_decref(t);
	if (json_is_true(json_object_get(j, "detach"))) {
		reply_ok(c, json_pack("{s:i, s:b}", "id", id, "detached", 1));
		return;
	}
	c->xfer = id;
	put(c, json_pack("{s:s, s:i}", "event", "queued", "id", id), 0);
}

static void do_control(struct ws_server *sv, struct client *c, json_t *j, const char *cmd)
{
	long long id;
	int ret;

	if (int_of(j, "id", 1, INT32_MAX, &id)) {
		reply_err(c, WS_EFORMAT, "%s: expected a transfer id", cmd);
		return;
	}
	if (!strcmp(cmd, "cancel"))
		ret = ws_transfers_cancel(sv->xs, (int)id);
	else
		ret = ws_transfers_pause(sv->xs, (int)id, !strcmp(cmd, "pause"));
	if (ret == WS_ENOTFOUND)
		reply_err(c, ret, "no transfer %lld on this node", id);
	else if (ret == WS_EEXIST)
		reply_err(c, ret, "transfer %lld has already finished", id);
	else {
		logf_(sv, "transfer %lld: %s", id, !strcmp(cmd, "pause") ? "paused" :
		      !strcmp(cmd, "resume") ? "resumed" : "cancelling");
		reply_ok(c, json_pack("{s:I}", "id", (json_int_t)id));
	}
}

static void do_follow(struct ws_server *sv, struct client *c, json_t *j, int on)
{
	struct ws_pubkey pk;
	const char *name = str_of(j, "name");
	int ret;

	if (!name || ws_name_check(name) || key_of(j, "publisher", &pk)) {
		reply_err(c, WS_EFORMAT, "bad name or key");
		return;
	}
	ret = ws_index_follow(sv->st->index, name, &pk, on);
	if (ret) {
		reply_err(c, ret, "%s", ws_strerror(ret));
		return;
	}
	logf_(sv, "%s %s", on ? "following" : "no longer following", name);
	if (on && sv->h->follows_changed)
		sv->h->follows_changed(sv->h->ctx);
	reply_ok(c, json_object());
}

static void *resolve_run(void *arg)
{
	struct resolve_job *r = arg;
	char *msg = NULL;
	int ignored = 0;
	int ret = ws_names_resolve(r->sv->st, r->sv->ses, r->pk.pk, r->name, r->version,
				   r->timeout_ms, &r->p, &ignored, &msg);

	pthread_mutex_lock(&r->sv->mu);
	r->ret = ret;
	r->msg = msg;
	r->ignored = ignored;
	r->done = 1;
	if (write(r->sv->wake[1], "", 1) < 0) {
		/* full: the loop wakes anyway */
	}
	pthread_mutex_unlock(&r->sv->mu);
	return NULL;
}

static void do_resolve(struct ws_server *sv, struct client *c, json_t *j)
{
	struct resolve_job *r = xcalloc(1, sizeof(*r));
	const char *name = str_of(j, "name");
	long long v = 0, t = 15000;
	int e;

	if (!name || ws_name_check(name) || key_of(j, "publisher", &r->pk) ||
	    int_of(j, "version", 0, INT64_MAX, &v) == WS_EFORMAT ||
	    int_of(j, "timeout_ms", 1, 604800000, &t) == WS_EFORMAT) {
		free(r);
		reply_err(c, WS_EFORMAT, "bad name, key or number");
		return;
	}
	if (sv->net->no_dht) {
		free(r);
		reply_err(c, WS_ENETWORK, "resolving needs the DHT: the node on this home "
			  "runs with --no-dht");
		return;
	}
	r->sv = sv;
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->version = v;
	r->timeout_ms = (int)t;
	if ((e = pthread_create(&r->thread, NULL, resolve_run, r))) {
		free(r);
		reply_err(c, -e, "cannot start a resolve: %s", strerror(e));
		return;
	}
	c->job = r;
}

static void handle(struct ws_server *sv, struct client *c, json_t *j)
{
	const char *cmd = str_of(j, "cmd");

	if (c->served) {
		reply_err(c, WS_EUNSUPPORTED, "one request per connection");
		return;
	}
	c->served = 1;
	if (!cmd)
		reply_err(c, WS_EFORMAT, "a request needs \"cmd\"");
	else if (!strcmp(cmd, "status"))
		reply_ok(c, json_pack("{s:o}", "status", sv->h->status(sv->h->ctx)));
	else if (!strcmp(cmd, "transfers"))
		reply_ok(c, json_pack("{s:o}", "transfers", ws_transfers_json(sv->xs, 0)));
	else if (!strcmp(cmd, "fetch"))
		do_fetch(sv, c, j);
	else if (!strcmp(cmd, "pause") || !strcmp(cmd, "resume") || !strcmp(cmd, "cancel"))
		do_control(sv, c, j, cmd);
	else if (!strcmp(cmd, "follow") || !strcmp(cmd, "unfollow"))
		do_follow(sv, c, j, !strcmp(cmd, "follow"));
	else if (!strcmp(cmd, "resolve"))
		do_resolve(sv, c, j);
	else
		reply_err(c, WS_EUNSUPPORTED, "unknown request '%.64s'", cmd);
}

/* A client waiting for a fetch: progress while it runs, then the end. */
static void push_transfer(struct ws_server *sv, struct client *c)
{
	json_t *t = ws_transfers_json(sv->xs, c->xfer);
	char state[96];
	double now;

	if (!t) {
		reply_err(c, WS_ENOTFOUND, "transfer %d vanished", c->xfer);
		c->xfer = 0;
		return;
	}
	if (json_object_get(t, "ok")) {
		json_t *fin = json_pack("{s:O, s:i, s:o}", "ok", json_object_get(t, "ok"),
					"id", c->xfer, "transfer", t);
		put(c, fin, 0);
		c->hangup = 1;
		c->xfer = 0;
		return;
	}
	now = ws_fetch_now();
	snprintf(state, sizeof(state), "%s %s %lld", json_string_value(json_object_get(t, "state")),
		 json_string_value(json_object_get(t, "phase")),
		 (long long)json_integer_value(json_object_get(t, "done")));
	/* at most five lines a second, and one a second when nothing moves */
	if (now - c->last_push < PUSH_EVERY ||
	    (now - c->last_push < 1 && !strcmp(state, c->last_state))) {
		json_decref(t);
		return;
	}
	c->last_push = now;
	snprintf(c->last_state, sizeof(c->last_state), "%s", state);
	json_object_set_new(t, "event", json_string("progress"));
	put(c, t, 1);
}

static void finish_job(struct ws_server *sv, struct client *c)
{
	struct resolve_job *r = c->job;
	char h1[41], h2[65], hm[65];
	int done;

	pthread_mutex_lock(&sv->mu);
	done = r->done;
	pthread_mutex_unlock(&sv->mu);
	if (!done)
		return;
	pthread_join(r->thread, NULL);
	if (r->ret) {
		reply_err(c, r->ret, "%s", r->msg ? r->msg : ws_strerror(r->ret));
	} else {
		ws_hex(r->p.ih1, 20, h1);
		ws_hex(r->p.ih2, 32, h2);
		ws_hex(r->p.mhash, 32, hm);
		reply_ok(c, json_pack("{s:s, s:I, s:s, s:s, s:s, s:i}", "name", r->name,
				      "version", (json_int_t)r->p.version, "info_hash_v2", h2,
				      "info_hash_v1", h1, "manifest_sha256", hm,
				      "ignored", r->ignored));
	}
	free(r->msg);
	free(r);
	c->job = NULL;
}

static void accept_clients(struct ws_server *sv)
{
	for (;;) {
		int fd = accept4(sv->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		struct client *c;

		if (fd < 0)
			return;
		if (sv->nclients >= MAX_CLIENTS) {
			close(fd);
			continue;
		}
		c = xcalloc(1, sizeof(*c));
		c->fd = fd;
		c->next = sv->clients;
		sv->clients = c;
		sv->nclients++;
		if (!ws_ctl_peer_allowed(fd, sv->st->home)) {
			logf_(sv, "refused a control connection from another user");
			reply_err(c, WS_EUNTRUSTED, "refused: only the owner of this home may "
				  "control its node");
			c->served = 1;
		}
	}
}

static void read_client(struct ws_server *sv, struct client *c)
{
	long got = ws_ctl_fill(&c->in, c->fd);
	json_t *j;
	int ret;

	if (got == 0 || (got < 0 && got != -EAGAIN)) {
		/* the client went away: a fetch it waited for stops with it,
		 * as an in-process fetch stops on Ctrl-C */
		if (c->xfer && !ws_transfers_finished(sv->xs, c->xfer) &&
		    ws_transfers_cancel(sv->xs, c->xfer) == 0)
			logf_(sv, "transfer %d: its client went away: cancelling", c->xfer);
		c->dead = 1;
		return;
	}
	while ((ret = ws_ctl_take(&c->in, &j)) != WS_ENOTFOUND) {
		if (ret) {
			reply_err(c, ret, "unreadable request");
			c->served = 1;
			if (ret == WS_ETOOBIG)
				c->dead = 1;
			return;
		}
		handle(sv, c, j);
		json_decref(j);
	}
}

static void flush_client(struct client *c)
{
	while (c->olen) {
		ssize_t w = send(c->fd, c->out, c->olen, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0) {
			if (errno != EAGAIN && errno != EINTR)
				c->dead = 1;
			return;
		}
		memmove(c->out, c->out + w, c->olen - (size_t)w);
		c->olen -= (size_t)w;
	}
}

static void drop_client(struct ws_server *sv, struct client *c)
{
	if (c->job) {
		/* bounded by its timeout */
		pthread_join(c->job->thread, NULL);
		free(c->job->msg);
		free(c->job);
	}
	close(c->fd);
	ws_ctl_reader_release(&c->in);
	free(c->out);
	free(c);
	sv->nclients--;
}

void ws_server_poll(struct ws_server *sv, int timeout_ms)
{
	struct pollfd pf[MAX_CLIENTS + 2];
	struct client *cs[MAX_CLIENTS];
	int n = 0;
	char drain[64];

	pf[n].fd = sv->lfd;
	pf[n++].events = POLLIN;
	pf[n].fd = sv->wake[0];
	pf[n++].events = POLLIN;
	for (struct client *c = sv->clients; c; c = c->next) {
		cs[n - 2] = c;
		pf[n].fd = c->fd;
		pf[n].events = (c->hangup ? 0 : POLLIN) | (c->olen ? POLLOUT : 0);
		pf[n++].revents = 0;
	}
	if (poll(pf, (nfds_t)n, timeout_ms) < 0)
		return;
	if (pf[1].revents & POLLIN)
		while (read(sv->wake[0], drain, sizeof(drain)) > 0)
			;
	for (int i = 2; i < n; i++)
		if (pf[i].revents & (POLLIN | POLLHUP | POLLERR))
			read_client(sv, cs[i - 2]);
	if (pf[0].revents & POLLIN)
		accept_clients(sv);
	for (struct client **pp = &sv->clients; *pp;) {
		struct client *c = *pp;
		if (!c->dead && c->xfer)
			push_transfer(sv, c);
		if (!c->dead && c->job)
			finish_job(sv, c);
		if (!c->dead)
			flush_client(c);
		if (c->dead || (c->hangup && !c->olen && !c->job)) {
			*pp = c->next;
			drop_client(sv, c);
		} else {
			pp = &c->next;
		}
	}
}

int ws_server_start(struct ws_store *st, ws_lt_session *ses, struct ws_transfers *xs,
		    const struct ws_net_opts *net, const struct ws_server_hooks *hooks,
		    struct ws_server **out, char **msg)
{
	struct ws_server *sv = xcalloc(1, sizeof(*sv));
	int ret;

	if ((ret = ws_ctl_listen(st->home, &sv->lfd, msg))) {
		free(sv);
		return ret;
	}
	if (pipe2(sv->wake, O_CLOEXEC | O_NONBLOCK) < 0) {
		ret = ws_seterr(msg, -errno, "cannot make a pipe: %s", strerror(errno));
		close(sv->lfd);
		free(sv);
		return ret;
	}
	sv->st = st;
	sv->ses = ses;
	sv->xs = xs;
	sv->net = net;
	sv->h = hooks;
	sv->path = xasprintf("%s/" WS_CTL_SOCKET_FILE, st->home);
	pthread_mutex_init(&sv->mu, NULL);
	ws_transfers_set_wake(xs, sv->wake[1]);
	*out = sv;
	return 0;
}

void ws_server_free(struct ws_server *sv)
{
	if (!sv)
		return;
	while (sv->clients) {
		struct client *c = sv->clients;
		sv->clients = c->next;
		if (c->xfer) {
			put(c, json_pack("{s:b, s:i, s:s}", "ok", 0, "code", WS_EINTERRUPTED,
					 "error", "the node stopped; run the same fetch again "
					 "to resume"), 0);
			flush_client(c);
		}
		drop_client(sv, c);
	}
	/* no transfer writes to the pipe past this (the resolves were joined
	 * with their clients) */
	ws_transfers_set_wake(sv->xs, -1);
	close(sv->wake[0]);
	close(sv->wake[1]);
	close(sv->lfd);
	unlink(sv->path);
	free(sv->path);
	pthread_mutex_destroy(&sv->mu);
	free(sv);
}
