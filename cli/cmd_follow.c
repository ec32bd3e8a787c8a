/* cmd_follow.c - weightsync follow / unfollow: mirror a name's new versions */
#include "cli.h"
#include "proto/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const struct cli_option follow_options[] = {
	{ "publisher", 0, 'P', required_argument, "KEY",
	  "the publisher key (base64 or .pub file) instead of the trusted one" },
	{ NULL, 0, 0, 0, NULL, NULL },
};

/* Through the running node when there is one (it looks at a new name at
 * once), else in the index directly: 0 or the index's answer. */
static int follow_update(struct cli *c, const char *name, const struct ws_pubkey *pk,
			 int on)
{
	char b64[WS_PUBKEY_B64_LEN + 1];
	json_t *reply = NULL;
	int fd, ret = node_open(c, &fd);

	if (ret)
		return ret == 1 ? ws_index_follow(c->store->index, name, pk, on) : WS_ENETWORK;
	ws_pubkey_to_b64(pk, b64);
	ret = node_call(fd, json_pack("{s:s, s:s, s:s}", "cmd", on ? "follow" : "unfollow",
				      "name", name, "publisher", b64),
			30000, NULL, NULL, NULL, &reply);
	close(fd);
	if (ret == 0 && !json_is_true(json_object_get(reply, "ok")))
		ret = (int)json_integer_value(json_object_get(reply, "code"));
	json_decref(reply);
	return ret ? ret : 0;
}

static int follow(struct cli *c, int argc, char **argv, int on)
{
	const char *cmd = on ? "follow" : "unfollow";
	struct ws_pubkey pk;
	struct opts op;
	const char *name = NULL, *key = NULL;
	int o, ret;

	opts_init(&op, cmd, follow_options, argc, argv, 0);
	while ((o = opts_next(&op)) > 0)
		key = op.arg;
	if (o < 0)
		return EXIT_ERROR;
	if (op.ind + 1 != argc)
		return usage_error(cmd, op.ind == argc ? "expected a NAME" : "expected one NAME");
	name = argv[op.ind];
	if (ws_name_check(name)) {
		err("invalid release name '%s'", name);
		return EXIT_ERROR;
	}
	if (!on && !key) {
		/* unfollow needs no trust decision: take the key it follows */
		struct ws_follow *fl = NULL;
		size_t n = 0, found = 0;
		if ((ret = ws_index_follows(c->store->index, &fl, &n)))
			return index_fail(c, ret);
		for (size_t i = 0; i < n; i++)
			if (!strcmp(fl[i].name, name)) {
				pk = fl[i].pk;
				found = 1;
			}
		free(fl);
		if (!found) {
			printf("'%s' is not followed\n", name);
			return EXIT_ERROR;
		}
	} else if (key ? parse_pubkey_arg(key, &pk) : resolve_trusted(c, name, &pk)) {
		return EXIT_ERROR;
	}
	ret = follow_update(c, name, &pk, on);
	if (ret == WS_EEXIST || ret == WS_ENOTFOUND) {
		printf("'%s' is %s followed\n", name, on ? "already" : "not");
		return on ? 0 : EXIT_ERROR;
	}
	if (ret)
		return index_fail(c, ret);
	printf(on ? "following '%s': a running node mirrors every new version\n"
		  : "no longer following '%s' (what was mirrored stays)\n", name);
	return 0;
}

int cmd_follow(struct cli *c, int argc, char **argv) { return follow(c, argc, argv, 1); }
int cmd_unfollow(struct cli *c, int argc, char **argv) { return follow(c, argc, argv, 0); }
