/* cmd_seed.c - weightsync seed: the long-running node */
#include "cli.h"
#include "node/seeder.h"
#include "proto/error.h"
#include "proto/util.h"

#include <getopt.h>
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
	fprintf(stderr, "%s weightsync: %s\n", t, line);
}

int cmd_seed(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		NET_LONG_OPTIONS,
		{ "follow-interval", required_argument, NULL, 'F' },
		{ "reput-interval", required_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 },
	};
	struct ws_seed_opts so;
	struct sigaction sa;
	char *msg = NULL;
	int o, ret;

	memset(&so, 0, sizeof(so));
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o == 'F' || o == 'P') {
			int v = atoi(optarg);
			if (v <= 0)
				return usage_error("seed", "intervals are seconds");
			*(o == 'F' ? &so.follow_s : &so.reput_s) = v;
		} else if (net_option("seed", o, optarg, &so.net)) {
			return EXIT_ERROR;
		}
	}
	if (optind != argc)
		return usage_error("seed", "unexpected argument '%s'", argv[optind]);
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
