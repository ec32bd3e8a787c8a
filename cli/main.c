/* main.c - the weightsync command: global options and the command table */
#include "cli.h"
#include "proto/error.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WS_VERSION_STRING "0.1.0"

const struct cmd commands[] = {
	{ "keygen", cmd_keygen, 0, "[-o PATH] [--no-password] [-f]",
	  "make a publisher key pair (minisign format)" },
	{ "publish", cmd_publish, NEEDS_STORE,
	  "DIR --name NAME [--key PATH] [--version N] [--origin TEXT] [--license TEXT] [--retracted] [--copy] "
	  "[--web-seed URL]... [--announce] [--json] " NET_USAGE,
	  "sign a model folder as a release and place it in the store" },
	{ "audit", cmd_audit, NEEDS_STORE,
	  "[NAME[@V] | DIR [--release NAME[@V]] | --format DIR] [--json]",
	  "re-hash model files against their signed manifests, or check their format" },
	{ "list", cmd_list, NEEDS_STORE, "[--json]",
	  "list the releases in the store" },
	{ "log", cmd_log, NEEDS_STORE, "NAME [--json]",
	  "version history of a name, with every refusal and equivocation" },
	{ "show", cmd_show, NEEDS_STORE, "NAME[@V] [--torrent FILE] [--json]",
	  "show a release's manifest summary" },
	{ "fetch", cmd_fetch, NEEDS_STORE,
	  "NAME[@V]|LINK|FILE.torrent [-o DIR] [--hf-cache[=DIR]] [--publisher KEY] [--timeout S] [--resolve-timeout S] [--json] " NET_USAGE,
	  "fetch a release from the swarm, verifying every byte" },
	{ "seed", cmd_seed, NEEDS_STORE, "[--follow-interval S] [--reput-interval S] " NET_USAGE,
	  "run a node that seeds every release in the store" },
	{ "status", cmd_status, NEEDS_STORE, "[--json]",
	  "what the running node is doing" },
	{ "resolve", cmd_resolve, NEEDS_STORE,
	  "NAME[@V] [--publisher KEY] [--timeout S] [--json] " NET_USAGE,
	  "look up a name's latest signed pointer in the DHT" },
	{ "follow", cmd_follow, NEEDS_STORE, "NAME [--publisher KEY]",
	  "have the node mirror every new version of a name" },
	{ "unfollow", cmd_unfollow, NEEDS_STORE, "NAME",
	  "stop mirroring a name (what was mirrored stays)" },
	{ "export", cmd_export, NEEDS_STORE, "NAME[@V] -o FILE(.tar|.tar.zst) | NAME[@V] --hf-cache DIR",
	  "write a release as one offline bundle" },
	{ "import", cmd_import, NEEDS_STORE, "FILE [--publisher KEY] [--json]",
	  "verify and add a release from an offline bundle" },
	{ "trust", cmd_trust, NEEDS_STORE,
	  "add NAME PUBKEY|PUBFILE | list [--json] | remove NAME [PUBKEY|PUBFILE]",
	  "decide which publisher key a name means" },
	{ NULL, NULL, 0, NULL, NULL },
};

static void print_help(FILE *f)
{
	fprintf(f, "usage: weightsync [--home DIR] COMMAND [ARGS]\n\n"
		"A distributed model-weight mirror and verifier.\n\ncommands:\n");
	for (const struct cmd *c = commands; c->name; c++)
		fprintf(f, "  %-9s %s\n", c->name, c->summary);
	fprintf(f, "\nglobal options:\n"
		"  --home DIR   data directory (default $WEIGHTSYNC_HOME, else\n"
		"               $XDG_DATA_HOME/weightsync, else ~/.local/share/weightsync)\n"
		"  --version    print the version\n"
		"\nexit status: 0 success, 1 verification failed, 2 usage, I/O or network error\n"
		"'weightsync COMMAND --help' shows a command's arguments.\n");
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
	char *home = NULL, *msg = NULL;
	int i = 1, status, ret;

	if (sodium_init() < 0) {
		err("cannot initialise libsodium");
		return EXIT_ERROR;
	}
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--home") && i + 1 < argc) {
			c.home = argv[++i];
		} else if (!strncmp(argv[i], "--home=", 7)) {
			c.home = argv[i] + 7;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			print_help(stdout);
			return finish(0);
		} else if (!strcmp(argv[i], "--version")) {
			printf("weightsync %s\n", WS_VERSION_STRING);
			return finish(0);
		} else {
			return usage_error(NULL, "unknown option '%s'", argv[i]);
		}
	}
	if (i == argc) {
		print_help(stderr);
		return EXIT_ERROR;
	}
	if (!strcmp(argv[i], "help")) {
		if (i + 1 < argc && (cmd = find_cmd(argv[i + 1]))) {
			printf("usage: weightsync %s %s\n\n%s\n", cmd->name, cmd->usage,
			       cmd->summary);
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
		printf("usage: weightsync %s %s\n\n%s\n", cmd->name, cmd->usage,
		       cmd->summary);
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
