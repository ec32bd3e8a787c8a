/* cmd_transfers.c - weightsync transfers / pause / resume / cancel: the
 * running node's fetches (docs/control.md) */
#include "cli.h"
#include "proto/error.h"
#include "proto/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct cli_option transfers_options[] = {
	{ "json", 0, 'j', no_argument, NULL, "print the transfers as JSON" },
	{ NULL, 0, 0, 0, NULL, NULL },
};

static void print_transfer(const json_t *t)
{
	char a[16], b[16], r[16], progress[48];
	uint64_t done = (uint64_t)json_integer_value(json_object_get(t, "done"));
	uint64_t total = (uint64_t)json_integer_value(json_object_get(t, "total"));
	const char *state = json_string_value(json_object_get(t, "state"));
	const char *error = json_string_value(json_object_get(t, "error"));

	if (total)
		snprintf(progress, sizeof(progress), "%s / %s %3d%%", human_size(done, a),
			 human_size(total, b), (int)(100.0 * (double)done / (double)total));
	else
		snprintf(progress, sizeof(progress), "-");
	printf("%4lld  %-9s  %-11s  %-28s  %9s/s  %3lld  %s%s%s\n",
	       (long long)json_integer_value(json_object_get(t, "id")), state,
	       json_object_get(t, "ok") ? "-" : json_string_value(json_object_get(t, "phase")),
	       json_object_get(t, "ok") ? "-" : progress,
	       human_size((uint64_t)json_integer_value(json_object_get(t, "rate_down")), r),
	       (long long)json_integer_value(json_object_get(t, "peers")),
	       esc(json_string_value(json_object_get(t, "what"))),
	       error ? ": " : "", error ? esc(error) : "");
}

int cmd_transfers(struct cli *c, int argc, char **argv)
{
	int json, ind = opts_json("transfers", argc, argv, &json);
	json_t *reply, *list, *t;
	size_t i;

	if (ind < 0)
		return EXIT_ERROR;
	if (ind != argc)
		return usage_error("transfers", "unexpected argument '%s'", argv[ind]);
	if (!(reply = node_request(c, "transfers", json_object())))
		return EXIT_ERROR;
	if (!json_is_true(json_object_get(reply, "ok"))) {
		int st = node_fail(reply, "cannot list the transfers");
		json_decref(reply);
		return st;
	}
	list = json_object_get(reply, "transfers");
	if (json) {
		json_dumpf(list, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
	} else if (json_array_size(list) == 0) {
		printf("no transfers\n");
	} else {
		printf("%4s  %-9s  %-11s  %-28s  %11s  %3s  %s\n", "ID", "STATE", "PHASE",
		       "PROGRESS", "RATE", "PRS", "WHAT");
		json_array_foreach(list, i, t)
			print_transfer(t);
	}
	json_decref(reply);
	return 0;
}

/* pause, resume, cancel: one transfer by its id */
static int control(struct cli *c, const char *cmd, int argc, char **argv)
{
	struct opts op;
	uint64_t id;
	json_t *reply;
	int o, st = 0;

	opts_init(&op, cmd, NULL, argc, argv, 0);
	while ((o = opts_next(&op)) > 0)
		;
	if (o < 0)
		return EXIT_ERROR;
	if (op.ind + 1 != argc)
		return usage_error(cmd, "expected one transfer ID (see 'weightsync transfers')");
	op.arg = argv[op.ind];
	snprintf(op.flagbuf, sizeof(op.flagbuf), "ID");
	if (opt_uint(&op, 1, 2147483647, &id))
		return EXIT_ERROR;
	if (!(reply = node_request(c, cmd, json_pack("{s:I}", "id", (json_int_t)id))))
		return EXIT_ERROR;
	if (!json_is_true(json_object_get(reply, "ok")))
		st = node_fail(reply, cmd);
	else
		printf("transfer %llu: %s\n", (unsigned long long)id,
		       !strcmp(cmd, "pause") ? "paused" : !strcmp(cmd, "resume") ? "resumed" :
		       "cancelled (verified data is kept for a later fetch)");
	json_decref(reply);
	return st;
}

int cmd_pause(struct cli *c, int argc, char **argv) { return control(c, "pause", argc, argv); }
int cmd_resume(struct cli *c, int argc, char **argv) { return control(c, "resume", argc, argv); }
int cmd_cancel(struct cli *c, int argc, char **argv) { return control(c, "cancel", argc, argv); }
