/* cmd_seed.c - weightsync seed: the long-running node */
#include "cli.h"
#include "node/seeder.h"
#include "proto/error.h"
#include "proto/util.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile sig_atomic_t stop_flag, reload_flag;

static void on_stop(int sig) { (void)sig; stop_flag = 1; }
static void on_hup(int sig) { (void)sig; reload_flag = 1; }

static void log_line(const char *line)
{
	char t[21];
	ws_format_time(ws_now(), t);
	/* lines can quote a peer's text (a refused torrent's folder name) */
	fprintf(stderr, "%s weightsync: %s\n", t, esc(line));
}

const struct cli_option seed_options[] = {
	{ "follow-interval", 0, 'F', required_argument, "S",
	  "look for new versions of followed names every S seconds (default 300)" },
	{ "reput-interval", 0, 'P', required_argument, "S",
	  "put the name pointers into the DHT every S seconds (default 3600)" },
	{ "http", 0, 'H', required_argument, "ADDR:PORT",
	  "serve complete releases, a status page and a JSON API over HTTP "
	  "(read-only; off by default; docs/http.md)" },
	NET_OPTIONS,
	{ NULL, 0, 0, 0, NULL, NULL },
};

int cmd_seed(struct cli *c, int argc, char **argv)
{
	struct opts op;
	uint64_t secs;
	struct ws_seed_opts so;
	struct sigaction sa;
	char *msg = NULL;
	int o, ret;

	memset(&so, 0, sizeof(so));
	opts_init(&op, "seed", seed_options, argc, argv, 0);
	while ((o = opts_next(&op)) > 0) {
		if (o == 'F' || o == 'P') {
			if (opt_uint(&op, 1, SECONDS_MAX, &secs))
				return EXIT_ERROR;
			*(o == 'F' ? &so.follow_s : &so.reput_s) = (int)secs;
		} else if (o == 'H') {
			const char *why = hostport_check(op.arg, 0, 0);
			if (why)
				return usage_error("seed", "invalid address '%s' for --http: %s",
						   op.arg, why);
			so.http_listen = op.arg;
		} else if (net_option(&op, o, &so.net)) {
			return EXIT_ERROR;
		}
	}
	if (o < 0)
		return EXIT_ERROR;
	if (op.ind != argc)
		return usage_error("seed", "unexpected argument '%s'", argv[op.ind]);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_hup;
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	so.stop = &stop_flag;
	so.reload = &reload_flag;
	so.log = log_line;
	ret = ws_seed_run(c->store, &so, &msg);
	if (ret)
		return fail(ret, &msg, "the node failed");
	log_line("stopped");
	return 0;
}
