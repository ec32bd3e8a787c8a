/* fetch_node.c - `weightsync fetch` when a node runs on the home: the node
 * fetches (in its session, on its DHT), this process shows the progress
 * and the result exactly as an in-process fetch would (docs/control.md) */
#include "cli.h"
#include "node/fetch.h"
#include "proto/error.h"
#include "proto/util.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The progress callback compares phase pointers: give it fetch's words as
 * literals, whatever the node sent. */
static const char *phase_literal(const char *s)
{
	static const char *const known[] = {
		"queued", "resolving", "waiting", "metadata", "manifest", "checking",
		"downloading", "verifying", "syncing", "paused",
	};
	for (size_t i = 0; s && i < sizeof(known) / sizeof(known[0]); i++)
		if (!strcmp(s, known[i]))
			return known[i];
	return "working";
}

static void on_event(void *ctx, json_t *ev)
{
	const struct ws_fetch_opts *fo = ctx;
	struct ws_fetch_progress p;

	if (!fo->progress || strcmp(json_string_value(json_object_get(ev, "event")) ?
				    json_string_value(json_object_get(ev, "event")) : "",
				    "progress"))
		return;
	p.phase = phase_literal(json_string_value(json_object_get(ev, "phase")));
	p.done = (uint64_t)json_integer_value(json_object_get(ev, "done"));
	p.total = (uint64_t)json_integer_value(json_object_get(ev, "total"));
	p.rate_down = (int)json_integer_value(json_object_get(ev, "rate_down"));
	p.peers = (int)json_integer_value(json_object_get(ev, "peers"));
	fo->progress(fo->progress_ctx, &p);
}

static void set_key(json_t *req, const char *field, const struct ws_pubkey *pk)
{
	char b64[WS_PUBKEY_B64_LEN + 1];
	ws_pubkey_to_b64(pk, b64);
	json_object_set_new(req, field, json_string(b64));
}

static json_t *make_request(const struct fetch_target *t, const struct ws_fetch_opts *fo)
{
	json_t *req = json_pack("{s:s}", "cmd", "fetch"), *peers = json_array();

	if (t->link) {
		json_object_set_new(req, "link", json_string(t->link));
	} else if (t->torrent) {
		size_t n = sodium_base64_encoded_len(t->torrent_len,
						     sodium_base64_VARIANT_ORIGINAL);
		char *b = xmalloc(n);
		sodium_bin2base64(b, n, t->torrent, t->torrent_len,
				  sodium_base64_VARIANT_ORIGINAL);
		json_object_set_new(req, "torrent", json_string(b));
		free(b);
	} else {
		json_object_set_new(req, "name", json_string(t->name));
		json_object_set_new(req, "version", json_integer(t->version));
		set_key(req, "named", t->named);
		json_object_set_new(req, "resolve_timeout", json_integer(t->resolve_ms / 1000));
	}
	if (fo->publisher)
		set_key(req, "publisher", fo->publisher);
	for (size_t i = 0; i < fo->net.npeers; i++)
		json_array_append_new(peers, json_string(fo->net.peers[i]));
	json_object_set_new(req, "peers", peers);
	if (fo->stall_timeout)
		json_object_set_new(req, "timeout", json_integer(fo->stall_timeout));
	if (fo->origin)
		json_object_set_new(req, "origin", json_string(fo->origin == WS_ORIGIN_OFF ?
								 "off" : "only"));
	/* the node measures first_data_seconds from this command's start */
	json_object_set_new(req, "started", json_real(fo->started));
	if (t->detach)
		json_object_set_new(req, "detach", json_true());
	return req;
}

static uint64_t u64(const json_t *o, const char *k)
{
	return (uint64_t)json_integer_value(json_object_get(o, k));
}

/* The numbers, and for a success the verified manifest from the index. */
static int fill_result(struct cli *c, const json_t *r, struct ws_fetch_result *res,
		       char **msg)
{
	struct ws_release rel;
	uint8_t pk[32];
	const char *hex = json_string_value(json_object_get(r, "publisher"));
	const char *name = json_string_value(json_object_get(r, "name"));
	const char *relpath = json_string_value(json_object_get(r, "relpath"));
	int ret;

	res->downloaded = u64(r, "downloaded");
	res->reused = u64(r, "reused");
	res->total = u64(r, "bytes");
	res->hash_failures = (int)u64(r, "hash_failures");
	res->ignored_pointers = (int)u64(r, "ignored_pointers");
	res->resolve_seconds = json_number_value(json_object_get(r, "resolve_seconds"));
	res->first_data_seconds = json_number_value(json_object_get(r, "first_data_seconds"));
	res->resumed = u64(r, "resumed");
	res->rechecked = u64(r, "rechecked");
	res->distrusted_files = (int)u64(r, "distrusted_files");
	res->resume_saves = (int)u64(r, "resume_saves");
	res->whole_file_check = json_is_true(json_object_get(r, "whole_file_check"));
	res->whole_file_bytes = u64(r, "whole_file_bytes");
	res->from_origin = u64(r, "from_origin");
	res->already_complete = json_is_true(json_object_get(r, "already_complete"));
	if (!name)
		return 0;
	if (!hex || !relpath || ws_unhex(hex, pk, 32))
		return ws_seterr(msg, WS_EFORMAT, "the node's answer is incomplete");
	/* the node verified it; this process reads it back from the index it
	 * shares and checks the signature again before showing anything */
	if ((ret = ws_index_get(c->store->index, pk, name,
				(int64_t)json_integer_value(json_object_get(r, "version")), &rel)))
		return ws_seterr(msg, ret, "the node fetched '%s' but the index does not "
				 "have it: %s", name, ws_strerror(ret));
	ret = ws_manifest_verify(rel.manifest, rel.manifest_len, rel.sig, rel.sig_len, NULL,
				 &res->m, msg);
	ws_release_release(&rel);
	if (ret)
		return ret;
	res->relpath = xstrdup(relpath);
	return 0;
}

int fetch_via_node(struct cli *c, int fd, const struct fetch_target *t,
		   const struct ws_fetch_opts *fo, struct ws_fetch_result *res,
		   char **msg, int *detached_id)
{
	json_t *reply = NULL, *tr, *r;
	int ret;

	memset(res, 0, sizeof(*res));
	ret = node_call(fd, make_request(t, fo), -1, fo->stop, on_event, (void *)fo, &reply);
	if (ret == WS_EINTERRUPTED)
		return ws_seterr(msg, ret, "interrupted: the node stopped the transfer; run "
				 "the same fetch again to resume");
	if (ret)
		return ws_seterr(msg, WS_ENETWORK, "the node on '%s' %s", c->store->home,
				 ret == -EPIPE ? "closed the connection" : ws_strerror(ret));
	tr = json_object_get(reply, "transfer");
	r = json_object_get(tr, "result");
	if (!json_is_true(json_object_get(reply, "ok"))) {
		ret = (int)json_integer_value(json_object_get(tr ? tr : reply, "code"));
		ws_seterr(msg, ret ? ret : WS_ENETWORK, "%s",
			  json_string_value(json_object_get(tr ? tr : reply, "error")) ?
			  json_string_value(json_object_get(tr ? tr : reply, "error")) : "failed");
		if (r)
			fill_result(c, r, res, NULL);
		ret = ret ? ret : WS_ENETWORK;
	} else if (t->detach) {
		*detached_id = (int)json_integer_value(json_object_get(reply, "id"));
	} else {
		ret = fill_result(c, r, res, msg);
	}
	json_decref(reply);
	return ret;
}
