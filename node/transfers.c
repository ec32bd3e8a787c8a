/* transfers.c - the node's fetches on worker threads (see transfers.h) */
#include "transfers.h"
#include "proto/error.h"
#include "proto/util.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define KEEP_FINISHED 32

enum xstate { XS_QUEUED, XS_RUNNING, XS_DONE, XS_FAILED, XS_CANCELLED };

struct xfer {
	struct ws_transfers *xs;
	int id;
	struct ws_xfer_req req;
	char what[WS_NAME_MAX + 32]; /* for people: NAME[@V], or the link's */
	enum xstate state;
	volatile sig_atomic_t cancel, pause; /* read by the fetch's thread */
	pthread_t thread;
	int joined, reaped;
	int64_t added;               /* wall clock, for listings */
	double t0, t1;               /* monotonic: added, finished */
	/* progress, as the fetch last reported it */
	const char *phase;           /* a literal of fetch.c's, or ours */
	uint64_t done, total;
	int rate_down, peers;
	/* once finished */
	int ret;
	char *msg;
	struct ws_fetch_result res;
	struct xfer *next;
};

struct ws_transfers {
	struct ws_store *st;
	ws_lt_session *ses;
	const struct ws_net_opts *net;
	int max_active, active, next_id;
	pthread_mutex_t mu;
	pthread_cond_t cv;           /* a slot freed, a pause or cancel changed */
	int wake_fd;                 /* ws_transfers_set_wake, or -1 */
	struct xfer *head;           /* newest first */
};

static const char *state_name(const struct xfer *x)
{
	switch (x->state) {
	case XS_QUEUED: return x->pause ? "paused" : "queued";
	case XS_RUNNING: return x->pause ? "paused" : "running";
	case XS_DONE: return "done";
	case XS_FAILED: return "failed";
	case XS_CANCELLED: return "cancelled";
	}
	return "unknown";
}

/* Wake the loop (ws_transfers_set_wake).  Called under xs->mu. */
static void poke(struct ws_transfers *xs)
{
	if (xs->wake_fd >= 0 && write(xs->wake_fd, "", 1) < 0) {
		/* full: the loop has wake-ups pending anyway */
	}
}

static void on_progress(void *ctx, const struct ws_fetch_progress *p)
{
	struct xfer *x = ctx;

	pthread_mutex_lock(&x->xs->mu);
	if (x->phase != p->phase)
		poke(x->xs);
	x->phase = p->phase;
	x->done = p->done;
	x->total = p->total;
	x->rate_down = p->rate_down;
	x->peers = p->peers;
	pthread_mutex_unlock(&x->xs->mu);
}

/* The node's peers and the request's, for this fetch's torrent. */
static void fetch_net(const struct xfer *x, struct ws_net_opts *net)
{
	*net = *x->xs->net;
	for (size_t i = 0; i < x->req.npeers && net->npeers < WS_MAX_ADDRS; i++)
		net->peers[net->npeers++] = x->req.peers[i];
}

static void *run(void *arg)
{
	struct xfer *x = arg;
	struct ws_transfers *xs = x->xs;
	struct ws_fetch_opts fo;
	struct ws_fetch_result res;
	char *msg = NULL;
	int ret;

	pthread_mutex_lock(&xs->mu);
	while (!x->cancel && (x->pause || xs->active >= xs->max_active))
		pthread_cond_wait(&xs->cv, &xs->mu);
	if (x->cancel) {
		x->state = XS_CANCELLED;
		x->ret = WS_EINTERRUPTED;
		x->msg = xstrdup("cancelled before it started");
		x->t1 = ws_fetch_now();
		poke(xs);
		pthread_cond_broadcast(&xs->cv);
		pthread_mutex_unlock(&xs->mu);
		return NULL;
	}
	xs->active++;
	x->state = XS_RUNNING;
	x->phase = x->req.kind == WS_XFER_NAME ? "resolving" : "metadata";
	pthread_mutex_unlock(&xs->mu);

	memset(&fo, 0, sizeof(fo));
	memset(&res, 0, sizeof(res));
	fetch_net(x, &fo.net);
	fo.session = xs->ses;
	fo.stop = &x->cancel;
	fo.pause = &x->pause;
	fo.progress = on_progress;
	fo.progress_ctx = x;
	fo.stall_timeout = x->req.stall_timeout;
	fo.origin = x->req.origin;
	fo.started = x->t0;
	if (x->req.has_publisher)
		fo.publisher = &x->req.publisher;
	if (x->req.kind == WS_XFER_NAME) {
		ret = ws_fetch_name(xs->st, &fo, &x->req.named, x->req.name, x->req.version,
				    x->req.resolve_ms > 0 ? x->req.resolve_ms : 15000, &res, &msg);
	} else {
		if (x->req.kind == WS_XFER_TORRENT) {
			fo.torrent = x->req.torrent;
			fo.torrent_len = x->req.torrent_len;
		} else {
			fo.link = x->req.link;
		}
		ret = ws_fetch_run(xs->st, &fo, &res, &msg);
	}
	if (ret == WS_EINTERRUPTED && x->cancel) {
		free(msg);
		msg = xstrdup("cancelled: what was verified is kept under tmp/ and a fetch "
			      "of the same release resumes from it");
	}

	pthread_mutex_lock(&xs->mu);
	xs->active--;
	x->ret = ret;
	x->msg = msg;
	if (ret == 0)
		x->res = res;
	x->state = ret == 0 ? XS_DONE : x->cancel ? XS_CANCELLED : XS_FAILED;
	x->t1 = ws_fetch_now();
	poke(xs);
	pthread_cond_broadcast(&xs->cv);
	pthread_mutex_unlock(&xs->mu);
	return NULL;
}

struct ws_transfers *ws_transfers_new(struct ws_store *st, ws_lt_session *ses,
				      const struct ws_net_opts *net, int max_active)
{
	struct ws_transfers *xs = xcalloc(1, sizeof(*xs));

	xs->st = st;
	xs->ses = ses;
	xs->net = net;
	xs->max_active = max_active > 0 ? max_active : 4;
	xs->next_id = 1;
	xs->wake_fd = -1;
	pthread_mutex_init(&xs->mu, NULL);
	pthread_cond_init(&xs->cv, NULL);
	return xs;
}

void ws_xfer_req_release(struct ws_xfer_req *req)
{
	free(req->torrent);
	req->torrent = NULL;
	for (size_t i = 0; i < req->npeers; i++)
		free(req->peers[i]);
	req->npeers = 0;
}

static void describe(struct xfer *x)
{
	const struct ws_xfer_req *r = &x->req;

	if (r->kind == WS_XFER_NAME && r->version)
		snprintf(x->what, sizeof(x->what), "%s@%lld", r->name, (long long)r->version);
	else if (r->kind == WS_XFER_NAME)
		snprintf(x->what, sizeof(x->what), "%s", r->name);
	else if (r->kind == WS_XFER_LINK && r->link.name[0] && r->link.version)
		/* the link's own words, until its signed manifest says */
		snprintf(x->what, sizeof(x->what), "%s@%lld", r->link.name,
			 (long long)r->link.version);
	else if (r->kind == WS_XFER_LINK && r->link.name[0])
		snprintf(x->what, sizeof(x->what), "%s", r->link.name);
	else
		snprintf(x->what, sizeof(x->what), "%s",
			 r->kind == WS_XFER_TORRENT ? "(a .torrent)" : "(a link)");
}

int ws_transfers_add(struct ws_transfers *xs, struct ws_xfer_req *req, int *id,
		     char **msg)
{
	struct xfer *x = xcalloc(1, sizeof(*x));
	int e;

	x->xs = xs;
	x->req = *req;
	memset(req, 0, sizeof(*req));
	x->added = ws_now();
	x->t0 = ws_fetch_now();
	if (x->req.started > 0 && x->req.started <= x->t0 && x->t0 - x->req.started < 3600)
		x->t0 = x->req.started;
	x->phase = "queued";
	describe(x);
	pthread_mutex_lock(&xs->mu);
	x->id = xs->next_id++;
	if ((e = pthread_create(&x->thread, NULL, run, x))) {
		pthread_mutex_unlock(&xs->mu);
		ws_xfer_req_release(&x->req);
		free(x);
		return ws_seterr(msg, -e, "cannot start a transfer: %s", strerror(e));
	}
	x->next = xs->head;
	xs->head = x;
	*id = x->id;
	pthread_mutex_unlock(&xs->mu);
	return 0;
}

static struct xfer *find(struct ws_transfers *xs, int id)
{
	for (struct xfer *x = xs->head; x; x = x->next)
		if (x->id == id)
			return x;
	return NULL;
}

static int finished(const struct xfer *x)
{
	return x->state == XS_DONE || x->state == XS_FAILED || x->state == XS_CANCELLED;
}

/* Set transfer id's pause or cancel flag to v, and wake its thread. */
static int set_flag(struct ws_transfers *xs, int id, int cancel, int v)
{
	struct xfer *x;
	int ret = 0;

	pthread_mutex_lock(&xs->mu);
	if (!(x = find(xs, id)))
		ret = WS_ENOTFOUND;
	else if (finished(x))
		ret = WS_EEXIST;
	else
		*(cancel ? &x->cancel : &x->pause) = v;
	pthread_cond_broadcast(&xs->cv);
	pthread_mutex_unlock(&xs->mu);
	return ret;
}

int ws_transfers_pause(struct ws_transfers *xs, int id, int on)
{
	return set_flag(xs, id, 0, on);
}

int ws_transfers_cancel(struct ws_transfers *xs, int id)
{
	return set_flag(xs, id, 1, 1);
}

/* The result, with the same names `fetch --json` prints. */
static json_t *result_json(const struct xfer *x)
{
	const struct ws_fetch_result *r = &x->res;
	char pk[65];
	json_t *o = json_object();

	json_object_set_new(o, "downloaded", json_integer((json_int_t)r->downloaded));
	json_object_set_new(o, "reused", json_integer((json_int_t)r->reused));
	json_object_set_new(o, "hash_failures", json_integer(r->hash_failures));
	json_object_set_new(o, "resolve_seconds", json_real(r->resolve_seconds));
	json_object_set_new(o, "first_data_seconds", json_real(r->first_data_seconds));
	json_object_set_new(o, "ignored_pointers", json_integer(r->ignored_pointers));
	json_object_set_new(o, "resumed", json_integer((json_int_t)r->resumed));
	json_object_set_new(o, "rechecked", json_integer((json_int_t)r->rechecked));
	json_object_set_new(o, "distrusted_files", json_integer(r->distrusted_files));
	json_object_set_new(o, "resume_saves", json_integer(r->resume_saves));
	json_object_set_new(o, "whole_file_check", json_boolean(r->whole_file_check));
	json_object_set_new(o, "whole_file_bytes", json_integer((json_int_t)r->whole_file_bytes));
	json_object_set_new(o, "from_origin", json_integer((json_int_t)r->from_origin));
	if (x->state == XS_DONE) {
		ws_hex(r->m.publisher.pk, 32, pk);
		json_object_set_new(o, "name", json_string(r->m.name));
		json_object_set_new(o, "version", json_integer(r->m.version));
		json_object_set_new(o, "publisher", json_string(pk));
		json_object_set_new(o, "bytes", json_integer((json_int_t)r->total));
		json_object_set_new(o, "relpath", json_string(r->relpath));
		json_object_set_new(o, "already_complete", json_boolean(r->already_complete));
	}
	return o;
}

static json_t *one_json(const struct xfer *x)
{
	char when[21];
	double end = finished(x) ? x->t1 : ws_fetch_now();
	json_t *o;

	ws_format_time(x->added, when);
	o = json_pack("{s:i, s:s, s:s, s:s, s:s, s:I, s:I, s:i, s:i, s:s, s:f}",
		      "id", x->id, "what", x->what, "origin", x->req.follow ? "follow" : "client",
		      "state", state_name(x), "phase", x->phase ? x->phase : "",
		      "done", (json_int_t)x->done, "total", (json_int_t)x->total,
		      "rate_down", finished(x) || x->pause ? 0 : x->rate_down,
		      "peers", finished(x) ? 0 : x->peers, "added", when,
		      "seconds", end - x->t0);
	if (finished(x)) {
		json_object_set_new(o, "ok", json_boolean(x->state == XS_DONE));
		if (x->state != XS_DONE) {
			json_object_set_new(o, "code", json_integer(x->ret));
			json_object_set_new(o, "error", json_string(x->msg ? x->msg :
								   ws_strerror(x->ret)));
		}
		json_object_set_new(o, "result", result_json(x));
	}
	return o;
}

json_t *ws_transfers_json(struct ws_transfers *xs, int id)
{
	json_t *out = id ? NULL : json_array();

	pthread_mutex_lock(&xs->mu);
	for (struct xfer *x = xs->head; x; x = x->next) {
		if (!id)
			json_array_insert_new(out, 0, one_json(x)); /* oldest first */
		else if (x->id == id)
			out = one_json(x);
	}
	pthread_mutex_unlock(&xs->mu);
	return out;
}

void ws_transfers_set_wake(struct ws_transfers *xs, int fd)
{
	pthread_mutex_lock(&xs->mu);
	xs->wake_fd = fd;
	pthread_mutex_unlock(&xs->mu);
}

int ws_transfers_finished(struct ws_transfers *xs, int id)
{
	struct xfer *x;
	int f;

	pthread_mutex_lock(&xs->mu);
	x = find(xs, id);
	f = !x || finished(x);
	pthread_mutex_unlock(&xs->mu);
	return f;
}

int ws_transfers_following(struct ws_transfers *xs, const uint8_t pk[32],
			   const char *name)
{
	int found = 0;

	pthread_mutex_lock(&xs->mu);
	for (struct xfer *x = xs->head; x && !found; x = x->next)
		found = x->req.follow && !finished(x) && !strcmp(x->req.name, name) &&
			!memcmp(x->req.named.pk, pk, 32);
	pthread_mutex_unlock(&xs->mu);
	return found;
}

static void xfer_free(struct xfer *x)
{
	ws_xfer_req_release(&x->req);
	if (x->state == XS_DONE)
		ws_fetch_result_release(&x->res);
	free(x->msg);
	free(x);
}

void ws_transfers_reap(struct ws_transfers *xs,
		       void (*fn)(void *ctx, const json_t *t), void *ctx)
{
	struct xfer **pp;
	int kept = 0;

	pthread_mutex_lock(&xs->mu);
	for (struct xfer *x = xs->head; x; x = x->next) {
		if (!finished(x) || x->reaped)
			continue;
		/* the thread only returns after this point: a short join */
		pthread_mutex_unlock(&xs->mu);
		pthread_join(x->thread, NULL);
		pthread_mutex_lock(&xs->mu);
		x->joined = x->reaped = 1;
		if (fn) {
			json_t *j = one_json(x);
			pthread_mutex_unlock(&xs->mu);
			fn(ctx, j);
			json_decref(j);
			pthread_mutex_lock(&xs->mu);
		}
	}
	/* newest first: forget reaped ones past the first KEEP_FINISHED */
	for (pp = &xs->head; *pp;) {
		struct xfer *x = *pp;
		if (x->reaped && ++kept > KEEP_FINISHED) {
			*pp = x->next;
			xfer_free(x);
		} else {
			pp = &x->next;
		}
	}
	pthread_mutex_unlock(&xs->mu);
}

void ws_transfers_free(struct ws_transfers *xs)
{
	if (!xs)
		return;
	pthread_mutex_lock(&xs->mu);
	for (struct xfer *x = xs->head; x; x = x->next)
		if (!finished(x))
			x->cancel = 1;
	pthread_cond_broadcast(&xs->cv);
	pthread_mutex_unlock(&xs->mu);
	/* no lock needed past here: no thread adds or unlinks any more */
	for (struct xfer *x = xs->head; x; x = x->next)
		if (!x->joined)
			pthread_join(x->thread, NULL);
	while (xs->head) {
		struct xfer *x = xs->head;
		xs->head = x->next;
		xfer_free(x);
	}
	pthread_cond_destroy(&xs->cv);
	pthread_mutex_destroy(&xs->mu);
	free(xs);
}
