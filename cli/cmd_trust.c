/* cmd_trust.c - weightsync trust: which publisher key a name means */
#include "cli.h"
#include "proto/curator.h"
#include "proto/error.h"
#include "proto/util.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int trust_add(struct cli *c, int argc, char **argv)
{
	struct ws_pubkey pk, other;
	char b64[WS_PUBKEY_B64_LEN + 1];
	int ret;

	if (argc != 3)
		return usage_error("trust", "usage: weightsync trust add NAME PUBKEY|PUBFILE");
	if (ws_name_check(argv[1])) {
		err("invalid release name '%s'", argv[1]);
		return EXIT_ERROR;
	}
	if (parse_pubkey_arg(argv[2], &pk))
		return EXIT_ERROR;
	ret = ws_index_trust_lookup(c->store->index, argv[1], &other);
	if (ret && ret != WS_ENOTFOUND && ret != WS_EAMBIGUOUS)
		return index_fail(c, ret);
	if (ret == 0 && !ws_pubkey_equal(&other, &pk))
		warn("'%s' is now trusted with two keys and is ambiguous until one "
		     "is removed", argv[1]);
	ret = ws_index_trust_add(c->store->index, argv[1], &pk);
	ws_pubkey_to_b64(&pk, b64);
	if (ret == WS_EEXIST) {
		printf("'%s' already trusts %s\n", argv[1], b64);
		return 0;
	}
	if (ret) {
		err("cannot update the trust store: %s", ws_strerror(ret));
		return EXIT_ERROR;
	}
	printf("trusted %s for '%s'\n", b64, argv[1]);
	return 0;
}

static int trust_remove(struct cli *c, int argc, char **argv)
{
	struct ws_pubkey pk;
	int ret;

	if (argc != 2 && argc != 3)
		return usage_error("trust", "usage: weightsync trust remove NAME [PUBKEY|PUBFILE]");
	if (argc == 3 && parse_pubkey_arg(argv[2], &pk))
		return EXIT_ERROR;
	ret = ws_index_trust_remove(c->store->index, argv[1], argc == 3 ? pk.pk : NULL);
	if (ret == WS_ENOTFOUND) {
		err("'%s' has no trusted key%s", argv[1], argc == 3 ? " like that" : "");
		return EXIT_ERROR;
	}
	if (ret) {
		err("cannot update the trust store: %s", ws_strerror(ret));
		return EXIT_ERROR;
	}
	printf("'%s' no longer trusted (the removal is recorded)\n", argv[1]);
	return 0;
}

static int trust_list(struct cli *c, int argc, char **argv, int json)
{
	struct ws_trust *list = NULL;
	size_t n = 0;
	json_t *arr;
	int ret;

	if (argc != 1)
		return usage_error("trust", "usage: weightsync trust list [--json]");
	arr = json ? json_array() : NULL;
	if ((ret = ws_index_trust_list(c->store->index, &list, &n))) {
		err("cannot read the trust store: %s", ws_strerror(ret));
		return EXIT_ERROR;
	}
	for (size_t i = 0; i < n; i++) {
		struct ws_pubkey pk;
		char b64[WS_PUBKEY_B64_LEN + 1], added[21], removed[21];
		memcpy(pk.pk, list[i].pk, 32);
		memcpy(pk.keyid, list[i].keyid, 8);
		ws_pubkey_to_b64(&pk, b64);
		ws_format_time(list[i].added, added);
		ws_format_time(list[i].removed, removed);
		if (json) {
			json_t *o = json_pack("{s:s, s:s, s:s}", "name", list[i].name,
					      "publisher", b64, "added", added);
			if (!strcmp(list[i].name, WS_CURATOR_NAME))
				json_object_set_new(o, "curator", json_true());
			json_object_set_new(o, "removed", list[i].removed ?
					    json_string(removed) : json_null());
			json_array_append_new(arr, o);
		} else {
			printf("%-24s %s  added %s%s%s\n",
			       strcmp(list[i].name, WS_CURATOR_NAME) ? list[i].name :
			       "(curator)", b64, added,
			       list[i].removed ? ", removed " : "",
			       list[i].removed ? removed : "");
		}
	}
	if (json) {
		json_dumpf(arr, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(arr);
	}
	free(list);
	return 0;
}

int cmd_trust(struct cli *c, int argc, char **argv)
{
	int json, ind;

	/* subscribe takes network options: it parses its own */
	if (argc > 1 && !strcmp(argv[1], "subscribe"))
		return trust_subscribe(c, argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "unsubscribe"))
		return trust_unsubscribe(c, argc - 1, argv + 1);
	ind = opts_json("trust", argc, argv, &json);

	if (ind < 0)
		return EXIT_ERROR;
	/* the operands, from the subcommand on */
	argc -= ind;
	argv += ind;
	if (argc < 1)
		return usage_error("trust", "expected add, list, remove, subscribe or unsubscribe");
	if (!strcmp(argv[0], "list"))
		return trust_list(c, argc, argv, json);
	if (json)
		return usage_error("trust", "--json is for 'trust list'");
	if (!strcmp(argv[0], "add"))
		return trust_add(c, argc, argv);
	if (!strcmp(argv[0], "remove"))
		return trust_remove(c, argc, argv);
	return usage_error("trust", "unknown subcommand '%s'", argv[0]);
}
