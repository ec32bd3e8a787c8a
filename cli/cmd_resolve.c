/* cmd_resolve.c - weightsync resolve: a name's signed pointer, from the DHT */
#include "cli.h"
#include "node/names.h"
#include "proto/error.h"
#include "proto/util.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const struct cli_option resolve_options[] = {
	{ "publisher", 0, 'P', required_argument, "KEY",
	  "the publisher key (base64 or .pub file) instead of the trusted one" },
	{ "timeout", 0, 'T', required_argument, "S", "give up after S seconds (default 15)" },
	{ "json", 0, 'j', no_argument, NULL, "print the result as JSON" },
	NET_OPTIONS,
	{ NULL, 0, 0, 0, NULL, NULL },
};

/* The node resolves: the pointer's fields back from its answer. */
static int resolve_via_node(int fd, const struct ws_pubkey *pk, const char *name,
			    int64_t version, int timeout_ms, struct ws_pointer *p,
			    int *ignored, char **msg)
{
	char b64[WS_PUBKEY_B64_LEN + 1];
	json_t *reply = NULL;
	int ret;

	ws_pubkey_to_b64(pk, b64);
	ret = node_call(fd, json_pack("{s:s, s:s, s:I, s:s, s:i}", "cmd", "resolve",
				      "name", name, "version", (json_int_t)version,
				      "publisher", b64, "timeout_ms", timeout_ms),
			timeout_ms + 30000, NULL, NULL, NULL, &reply);
	if (ret)
		return ws_seterr(msg, WS_ENETWORK, "the node did not answer: %s",
				 ws_strerror(ret));
	memset(p, 0, sizeof(*p));
	if (!json_is_true(json_object_get(reply, "ok"))) {
		ret = (int)json_integer_value(json_object_get(reply, "code"));
		ret = ws_seterr(msg, ret ? ret : WS_ENETWORK, "%s",
				json_string_value(json_object_get(reply, "error")));
	} else if (ws_unhex(json_string_value(json_object_get(reply, "info_hash_v1")) ?: "",
			    p->ih1, 20) ||
		   ws_unhex(json_string_value(json_object_get(reply, "info_hash_v2")) ?: "",
			    p->ih2, 32) ||
		   ws_unhex(json_string_value(json_object_get(reply, "manifest_sha256")) ?: "",
			    p->mhash, 32)) {
		ret = ws_seterr(msg, WS_EFORMAT, "the node's answer is incomplete");
	} else {
		p->version = (int64_t)json_integer_value(json_object_get(reply, "version"));
		*ignored = (int)json_integer_value(json_object_get(reply, "ignored"));
	}
	json_decref(reply);
	return ret;
}

int cmd_resolve(struct cli *c, int argc, char **argv)
{
	struct opts op;
	uint64_t secs;
	struct ws_net_opts net;
	struct ws_pubkey pk;
	struct ws_pointer p;
	ws_lt_session *ses = NULL;
	char name[WS_NAME_MAX + 1], *msg = NULL, h1[41], h2[65], hm[65];
	const char *key = NULL;
	int64_t version;
	int o, json = 0, timeout = 15000, ret, ignored = 0, fd = -1;
	double t0 = now_seconds();

	memset(&net, 0, sizeof(net));
	opts_init(&op, "resolve", resolve_options, argc, argv, 0);
	while ((o = opts_next(&op)) > 0) {
		if (o == 'P') {
			key = op.arg;
		} else if (o == 'T') {
			if (opt_uint(&op, 1, SECONDS_MAX, &secs))
				return EXIT_ERROR;
			timeout = (int)secs * 1000;
		} else if (o == 'j') {
			json = 1;
		} else if (net_option(&op, o, &net)) {
			return EXIT_ERROR;
		}
	}
	if (o < 0)
		return EXIT_ERROR;
	if (op.ind + 1 != argc)
		return usage_error("resolve", "expected one NAME[@V]");
	if (parse_ref(argv[op.ind], name, &version))
		return EXIT_ERROR;
	if (key && parse_pubkey_arg(key, &pk))
		return EXIT_ERROR;
	if (!key && (ret = resolve_name(c, name, &net, &pk)))
		return ret;
	if (net.no_dht)
		return usage_error("resolve", "resolving needs the DHT: drop --no-dht");
	if ((ret = node_open(c, &fd)) == EXIT_ERROR)
		return EXIT_ERROR;
	if (ret == 0) {
		/* the node's DHT, warm, instead of a cold one of our own */
		ret = resolve_via_node(fd, &pk, name, version, timeout, &p, &ignored, &msg);
		close(fd);
	} else {
		if ((ret = ws_net_session(&net, &ses, &msg)))
			return fail(ret, &msg, "cannot join the swarm");
		ret = ws_names_resolve(c->store, ses, pk.pk, name, version, timeout, &p,
				       &ignored, &msg);
		ws_lt_session_free(ses);
	}
	if (ret)
		return fail(ret, &msg, "cannot resolve");
	ws_hex(p.ih1, 20, h1);
	ws_hex(p.ih2, 32, h2);
	ws_hex(p.mhash, 32, hm);
	if (json) {
		json_t *j = json_pack("{s:s, s:I, s:s, s:s, s:s, s:i, s:f}", "name", name,
				      "version", (json_int_t)p.version, "info_hash_v2", h2,
				      "info_hash_v1", h1, "manifest_sha256", hm,
				      "ignored", ignored, "seconds", now_seconds() - t0);
		json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
		json_decref(j);
	} else {
		printf("%s@%lld  v2 %s  manifest sha256:%s\n", name, (long long)p.version,
		       h2, hm);
	}
	return 0;
}
