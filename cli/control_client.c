/* control_client.c - commands that go through the node running on the
 * home, when one runs (see cli.h, docs/control.md) */
#include "cli.h"
#include "node/control.h"
#include "proto/error.h"
#include "proto/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int node_open(struct cli *c, int *fd)
{
	int ret = ws_ctl_connect(c->store->home, fd);

	if (ret == WS_ENOTFOUND)
		return 1;
	if (ret) {
		err("cannot reach the node on '%s': %s", c->store->home, ws_strerror(ret));
		return EXIT_ERROR;
	}
	return 0;
}

int node_call(int fd, json_t *req, int timeout_ms, volatile sig_atomic_t *stop,
	      void (*on_event)(void *ctx, json_t *ev), void *ctx, json_t **reply)
{
	struct ws_ctl_reader r = { 0 };
	int ret = ws_ctl_send(fd, req);

	json_decref(req);
	while (ret == 0) {
		json_t *j = NULL;
		ret = ws_ctl_recv(fd, &r, stop ? 200 : timeout_ms, &j);
		if (stop && *stop) {
			json_decref(j);
			ret = WS_EINTERRUPTED;
			break;
		}
		if (ret == WS_ETIMEOUT && stop) {
			/* stop is looked at five times a second; timeout_ms
			 * then bounds nothing (a fetch has its own bounds) */
			ret = 0;
			continue;
		}
		if (ret == WS_EINTERRUPTED && stop) {
			ret = 0;
			continue;
		}
		if (ret)
			break;
		if (json_object_get(j, "ok")) {
			*reply = j;
			break;
		}
		if (on_event)
			on_event(ctx, j);
		json_decref(j);
	}
	ws_ctl_reader_release(&r);
	return ret;
}

json_t *node_request(struct cli *c, const char *cmd, json_t *req)
{
	json_t *reply = NULL;
	int fd, ret = node_open(c, &fd);

	if (ret) {
		json_decref(req);
		if (ret == 1)
			err("no node is running on '%s' (start one with 'weightsync seed')",
			    c->store->home);
		return NULL;
	}
	json_object_set_new(req, "cmd", json_string(cmd));
	ret = node_call(fd, req, 30000, NULL, NULL, NULL, &reply);
	close(fd);
	if (ret) {
		err("the node on '%s' did not answer: %s", c->store->home,
		    ret == -EPIPE ? "it closed the connection" : ws_strerror(ret));
		return NULL;
	}
	return reply;
}

int node_fail(const json_t *reply, const char *what)
{
	int code = (int)json_integer_value(json_object_get(reply, "code"));
	char *msg = xstrdup(json_string_value(json_object_get(reply, "error")) ?
			    json_string_value(json_object_get(reply, "error")) : "failed");

	return fail(code ? code : WS_ENETWORK, &msg, what);
}
