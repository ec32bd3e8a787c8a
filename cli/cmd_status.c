/* cmd_status.c - weightsync status: what the running node is doing */
#include "cli.h"
#include "node/seeder.h"
#include "proto/error.h"
#include "proto/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
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

/* The status file says "running" and names a process that is alive. */
static int written_by_running_node(json_t *st)
{
	const char *state = json_string_value(json_object_get(st, "state"));
	json_int_t pid = json_integer_value(json_object_get(st, "pid"));

	if (!state || strcmp(state, "running") || pid <= 0 || pid > INT_MAX)
		return 0;
	return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

/* No status to show: with --json, {"state": STATE, "home": HOME}; the
 * reason (why, with %s for the home) on stderr; exit 2. */
static int no_status(struct cli *c, int json, const char *state, const char *why)
{
	if (json) {
		json_t *o = json_pack("{s:s, s:s}", "state", state, "home", c->store->home);
		json_dumpf(o, stdout, JSON_PRESERVE_ORDER);
		putchar('\n');
		json_decref(o);
	}
	err(why, c->store->home);
	return EXIT_ERROR;
}

/* The live status from the node's socket, or NULL (none runs there, or
 * it does not answer: then the status file says what it last wrote). */
static json_t *status_from_node(struct cli *c)
{
	json_t *reply = NULL, *st = NULL;
	int fd;

	if (node_open(c, &fd))
		return NULL;
	if (node_call(fd, json_pack("{s:s}", "cmd", "status"), 10000, NULL, NULL, NULL,
		      &reply) == 0 && json_is_true(json_object_get(reply, "ok")))
		st = json_incref(json_object_get(reply, "status"));
	close(fd);
	json_decref(reply);
	return st;
}

static void print_transfers(const json_t *list)
{
	size_t i, running = 0;
	json_t *t;

	json_array_foreach(list, i, t)
		running += !json_object_get(t, "ok");
	if (json_array_size(list))
		printf("  transfers  %zu running, %zu finished (see 'weightsync transfers')\n",
		       running, json_array_size(list) - running);
}

static void print_config(const json_t *cf)
{
	const char *file = json_string_value(json_object_get(cf, "file"));
	const char *http = json_string_value(json_object_get(cf, "http"));

	if (!cf)
		return;
	printf("  config     %s\n", file ? esc(file) : "(no config file)");
	printf("  intervals  follow %llds, re-put %llds; %lld transfers at once\n",
	       (long long)json_integer_value(json_object_get(cf, "follow_interval")),
	       (long long)json_integer_value(json_object_get(cf, "reput_interval")),
	       (long long)json_integer_value(json_object_get(cf, "max_transfers")));
	if (json_integer_value(json_object_get(cf, "upload_limit")) ||
	    json_integer_value(json_object_get(cf, "download_limit")))
		printf("  limits     %lld B/s up, %lld B/s down (0: none)\n",
		       (long long)json_integer_value(json_object_get(cf, "upload_limit")),
		       (long long)json_integer_value(json_object_get(cf, "download_limit")));
	if (http)
		printf("  http       %s\n", esc(http));
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
	if ((st = status_from_node(c)))
		goto show;
	path = ws_store_path(c->store, WS_NODE_STATUS_FILE);
	if (!node_running(c) || ws_read_file(path, 16u << 20, &text, &len)) {
		free(path);
		free(text);
		return no_status(c, json, "stopped",
				 "no node is running on '%s' (start one with 'weightsync seed')");
	}
	free(path);
	st = json_loads(text, 0, NULL);
	free(text);
	if (!st) {
		err("the node's status file is unreadable");
		return EXIT_ERROR;
	}
	if (!written_by_running_node(st)) {
		/* a node holds the lock but has not answered, nor written
		 * its own status yet: the file is an earlier node's */
		json_decref(st);
		return no_status(c, json, "starting",
				 "the node on '%s' is starting and does not answer yet");
	}
show:
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
	print_transfers(json_object_get(st, "transfers"));
	print_config(json_object_get(st, "config"));
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
