/* main.c - the weightsync command: global options and the command table */
#include "cli.h"
#include "proto/error.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WS_VERSION_STRING "0.1.0"

const struct cmd commands[] = {
	{ "keygen", cmd_keygen, 0, "",
	  "make a publisher key pair (minisign format)", keygen_options },
	{ "publish", cmd_publish, NEEDS_STORE, "DIR --name NAME",
	  "sign a model folder as a release and place it in the store", publish_options },
	{ "audit", cmd_audit, NEEDS_STORE,
	  "[NAME[@V] | DIR [--release NAME[@V] | --against hf://ORG/NAME@REV] | --format DIR |\n"
	  "                        HF-CACHE-DIR]",
	  "re-hash model files against their signed manifests, or check their format",
	  audit_options },
	{ "mirror", cmd_mirror, NEEDS_STORE, "hf://ORG/NAME[@REVISION] --name NAME",
	  "download a Hugging Face repository, verify it against the hub's record, "
	  "sign it as a release", mirror_options },
	{ "list", cmd_list, NEEDS_STORE, "",
	  "list the releases in the store", json_options },
	{ "log", cmd_log, NEEDS_STORE, "NAME",
	  "version history of a name, with every refusal and equivocation", json_options },
	{ "show", cmd_show, NEEDS_STORE, "NAME[@V]",
	  "show a release's manifest summary", show_options },
	{ "fetch", cmd_fetch, NEEDS_STORE, "NAME[@V]|LINK|FILE.torrent",
	  "fetch a release from the swarm, verifying every byte", fetch_options },
	{ "seed", cmd_seed, NEEDS_STORE, "",
	  "run a node that seeds every release in the store", seed_options },
	{ "status", cmd_status, NEEDS_STORE, "",
	  "what the running node is doing", json_options },
	{ "resolve", cmd_resolve, NEEDS_STORE, "NAME[@V]",
	  "look up a name's latest signed pointer in the DHT", resolve_options },
	{ "follow", cmd_follow, NEEDS_STORE, "NAME",
	  "have the node mirror every new version of a name", follow_options },
	{ "unfollow", cmd_unfollow, NEEDS_STORE, "NAME",
	  "stop mirroring a name (what was mirrored stays)", follow_options },
	{ "transfers", cmd_transfers, NEEDS_STORE, "",
	  "the running node's fetches, with progress and rates", transfers_options },
	{ "pause", cmd_pause, NEEDS_STORE, "ID", "pause one of the node's transfers", NULL },
	{ "resume", cmd_resume, NEEDS_STORE, "ID", "resume a paused transfer", NULL },
	{ "cancel", cmd_cancel, NEEDS_STORE, "ID",
	  "stop a transfer (verified data is kept for a later fetch)", NULL },
	{ "export", cmd_export, NEEDS_STORE, "NAME[@V] (-o FILE.tar|FILE.tar.zst | --hf-cache DIR)",
	  "write a release as one offline bundle", export_options },
	{ "import", cmd_import, NEEDS_STORE, "FILE",
	  "verify and add a release from an offline bundle", import_options },
	{ "trust", cmd_trust, NEEDS_STORE,
	  "add NAME PUBKEY|PUBFILE | list | remove NAME [PUBKEY|PUBFILE] | (un)subscribe CURATOR_KEY [network options]",
	  "decide which publisher key a name means", json_options },
	{ "curate", cmd_curate, NEEDS_STORE, "add NAME PUBKEY | remove NAME | list [KEY]",
	  "publish the next version of one's signed curator name list", curate_options },
	{ "search", cmd_search, NEEDS_STORE, "TEXT",
	  "look through the signed catalogs of every publisher known here", search_options },
	{ "catalog", cmd_catalog, NEEDS_STORE, "KEY",
	  "list what one publisher's signed catalog holds", catalog_options },
	{ NULL, NULL, 0, NULL, NULL, NULL },
};

enum { OPT_HOME = 256, OPT_VERSION, OPT_HELP = 'h' };

static const struct cli_option global_options[] = {
	{ "home", 0, OPT_HOME, required_argument, "DIR",
	  "data directory (default $WEIGHTSYNC_HOME, else\n"
	  "                            $XDG_DATA_HOME/weightsync, else ~/.local/share/weightsync)" },
	{ "version", 0, OPT_VERSION, no_argument, NULL, "print the version" },
	{ "help", 'h', OPT_HELP, no_argument, NULL, "this help" },
	{ NULL, 0, 0, 0, NULL, NULL },
};

static void print_help(FILE *f)
{
	fprintf(f, "usage: weightsync [--home DIR] COMMAND [ARGS]\n\n"
		"A distributed model-weight mirror and verifier.\n\ncommands:\n");
	for (const struct cmd *c = commands; c->name; c++)
		fprintf(f, "  %-10s %s\n", c->name, c->summary);
	opts_help(f, "global options (before the command)", global_options);
	fprintf(f, "\nexit status: 0 success, 1 verification failed, 2 usage, I/O or network error\n"
		"'weightsync COMMAND --help' shows a command's arguments.\n");
}

static void print_cmd_help(const struct cmd *cmd)
{
	printf("usage: weightsync %s%s%s%s\n\n%s\n", cmd->name, *cmd->usage ? " " : "",
	       cmd->usage, cmd->options ? " [OPTIONS]" : "", cmd->summary);
	opts_help(stdout, "options", cmd->options);
}

static const struct cmd *find_cmd(const char *name)
{
	for (const struct cmd *c = commands; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

static int wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return 1;
	}
	return 0;
}

/* stdout must have reached its destination before we claim success */
static int finish(int status)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		perror("weightsync: cannot write output");
		return EXIT_ERROR;
	}
	return status;
}

int main(int argc, char **argv)
{
	struct cli c = { 0 };
	const struct cmd *cmd;
	struct opts o;
	char *home = NULL, *msg = NULL;
	int i, id, status, ret;

	if (sodium_init() < 0) {
		err("cannot initialise libsodium");
		return EXIT_ERROR;
	}
	opts_init(&o, NULL, global_options, argc, argv, 1);
	while ((id = opts_next(&o)) > 0) {
		switch (id) {
		case OPT_HOME:
			if (!*o.arg)
				return usage_error(NULL, "invalid value '' for --home: empty");
			c.home = o.arg;
			break;
		case OPT_HELP:
			print_help(stdout);
			return finish(0);
		case OPT_VERSION:
			printf("weightsync %s\n", WS_VERSION_STRING);
			return finish(0);
		}
	}
	if (id < 0)
		return EXIT_ERROR;
	i = o.ind;
	if (i == argc) {
		print_help(stderr);
		return EXIT_ERROR;
	}
	if (!strcmp(argv[i], "help")) {
		if (i + 1 < argc && (cmd = find_cmd(argv[i + 1]))) {
			print_cmd_help(cmd);
			return finish(0);
		}
		print_help(stdout);
		return finish(0);
	}
	cmd = find_cmd(argv[i]);
	if (!cmd)
		return usage_error(NULL, "'%s' is not a weightsync command", argv[i]);
	argc -= i;
	argv += i;
	if (wants_help(argc, argv)) {
		print_cmd_help(cmd);
		return finish(0);
	}
	if (cmd->flags & NEEDS_STORE) {
		if ((ret = ws_store_home(c.home, &home))) {
			err("no home directory: set WEIGHTSYNC_HOME or use --home DIR");
			return EXIT_ERROR;
		}
		if ((ret = ws_store_open(home, &c.store, &msg))) {
			free(home);
			return fail(ret, &msg, "cannot open the store");
		}
		free(home);
	}
	status = cmd->fn(&c, argc, argv);
	ws_store_free(c.store);
	return finish(status);
}
