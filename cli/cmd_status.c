/* cmd_status.c - weightsync status: what the running node is doing */
#include "cli.h"
#include "node/seeder.h"
#include "proto/error.h"
#include "proto/util.h"

#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

/* A node holds the lock while it runs: if we can take it, none does. */
static int node_running(struct cli *c)
{
	char *path = ws_store_path(c->store, WS_NODE_LOCK_FILE);
	int fd = open(path, O_RDONLY | O_CLOEXEC), running = 0;

	free(path);
	if (fd < 0)
		return 0;
	if (flock(fd, LOCK_SH | LOCK_NB) < 0)
		running = 1;
	close(fd);
	return running;
}

int cmd_status(struct cli *c, int argc, char **argv)
{
	int json, ind = opts_json("status", argc, argv, &json);
	char *path, *text = NULL;
	size_t len;
	json_t *st, *rels, *r;
	size_t i;
	char up[16], down[16];

	if (ind < 0)
		return EXIT_ERROR;
	if (ind != argc)
		return usage_error("status", "unexpected argument '%s'", argv[ind]);
	path = ws_store_path(c->store, WS_NODE_STATUS_FILE);
	if (!node_running(c) || ws_read_file(path, 16u << 20, &text, &len)) {
		free(path);
		free(text);
		if (json) {
			json_t *o = json_pack("{s:s, s:s}", "state", "stopped", "home",
					      c->store->home);
			json_dumpf(o, stdout, JSON_PRESERVE_ORDER);
			putchar('\n');
			json_decref(o);
		}
		err("no node is running on '%s' (start one with 'weightsync seed')",
		    c->store->home);
		return EXIT_ERROR;
	}
	free(path);
	st = json_loads(text, 0, NULL);
	free(text);
	if (!st) {
		err("the node's status file is unreadable");
		return EXIT_ERROR;
	}
	if (json) {
		json_dumpf(st, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
		json_decref(st);
		return 0;
	}
	rels = json_object_get(st, "releases");
	printf("node %s (pid %lld), since %s\n",
	       json_string_value(json_object_get(st, "state")),
	       (long long)json_integer_value(json_object_get(st, "pid")),
	       json_string_value(json_object_get(st, "started")));
	printf("  listening  %s\n", json_string_value(json_object_get(st, "listen")));
	if (json_string_value(json_object_get(st, "http")))
		printf("  http       http://%s/\n", json_string_value(json_object_get(st, "http")));
	if (json_is_true(json_object_get(st, "dht")))
		printf("  dht        %lld nodes\n",
		       (long long)json_integer_value(json_object_get(st, "dht_nodes")));
	else
		printf("  dht        off\n");
	printf("  peers      %lld\n", (long long)json_integer_value(json_object_get(st, "peers")));
	printf("  traffic    %s up, %s down\n",
	       human_size((uint64_t)json_integer_value(json_object_get(st, "bytes_up")), up),
	       human_size((uint64_t)json_integer_value(json_object_get(st, "bytes_down")), down));
	printf("  releases   %zu\n", json_array_size(rels));
	json_array_foreach(rels, i, r) {
		char ref[WS_NAME_MAX + 24];
		snprintf(ref, sizeof(ref), "%s@%lld",
			 json_string_value(json_object_get(r, "name")),
			 (long long)json_integer_value(json_object_get(r, "version")));
		printf("    %-32s %-10s %3lld peers  %s up\n", ref,
		       json_string_value(json_object_get(r, "state")),
		       (long long)json_integer_value(json_object_get(r, "peers")),
		       human_size((uint64_t)json_integer_value(json_object_get(r, "uploaded")), up));
	}
	json_decref(st);
	return 0;
}
