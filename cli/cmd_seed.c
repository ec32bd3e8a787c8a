/* cmd_seed.c - weightsync seed: the long-running node */
#include "cli.h"
#include "node/config.h"
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
	{ "max-transfers", 0, 'M', required_argument, "N",
	  "run at most N fetches at once, the rest queued (default 4)" },
	{ "http", 0, 'H', required_argument, "ADDR:PORT",
	  "serve complete releases, a status page and a JSON API over HTTP "
	  "(read-only; off by default; docs/http.md)" },
	NET_OPTIONS,
	{ NULL, 0, 0, 0, NULL, NULL },
};

/*
 * Flags over the config file: a flag given wins; --bootstrap and --peer
 * given on the command line replace the file's lists.
 */
static void merge_flags(struct ws_seed_opts *so, const struct ws_net_opts *fl,
			const unsigned char *seen)
{
	struct ws_net_opts *n = &so->net;

	if (seen[OPT_LISTEN - OPT_LISTEN])
		n->listen = fl->listen;
	if (fl->nbootstrap) {
		memcpy(n->bootstrap, fl->bootstrap, sizeof(n->bootstrap));
		n->nbootstrap = fl->nbootstrap;
	}
	if (fl->npeers) {
		memcpy(n->peers, fl->peers, sizeof(n->peers));
		n->npeers = fl->npeers;
	}
	n->no_dht |= fl->no_dht;
	n->upnp |= fl->upnp;
	n->natpmp |= fl->natpmp;
	n->lsd |= fl->lsd;
	if (seen[OPT_UPLOAD_LIMIT - OPT_LISTEN])
		n->upload_limit = fl->upload_limit;
	if (seen[OPT_DOWNLOAD_LIMIT - OPT_LISTEN])
		n->download_limit = fl->download_limit;
}

/* The config file's addresses pass the flags' checks too. */
static int check_config(const struct ws_node_config *cf)
{
	const char *why;

	if (cf->listen && (why = hostport_check(cf->listen, 0, 0))) {
		err("'%s': invalid listen address '%s': %s", cf->path, cf->listen, why);
		return EXIT_ERROR;
	}
	if (cf->http && (why = hostport_check(cf->http, 0, 0))) {
		err("'%s': invalid http address '%s': %s", cf->path, cf->http, why);
		return EXIT_ERROR;
	}
	for (size_t i = 0; i < cf->nbootstrap + cf->npeers; i++) {
		int boot = i < cf->nbootstrap;
		const char *a = boot ? cf->bootstrap[i] : cf->peers[i - cf->nbootstrap];
		if ((why = hostport_check(a, boot, 1))) {
			err("'%s': invalid %s address '%s': %s", cf->path, boot ? "bootstrap" :
			    "peer", a, why);
			return EXIT_ERROR;
		}
	}
	return 0;
}

int cmd_seed(struct cli *c, int argc, char **argv)
{
	struct opts op;
	uint64_t secs;
	struct ws_seed_opts so;
	struct ws_net_opts fl;
	struct ws_node_config cf;
	unsigned char seen[OPT_DOWNLOAD_LIMIT - OPT_LISTEN + 1] = { 0 };
	struct sigaction sa;
	char *msg = NULL;
	int o, ret;

	memset(&so, 0, sizeof(so));
	memset(&fl, 0, sizeof(fl));
	if ((ret = ws_node_config_load(c->store->home, &cf, &msg))) {
		ws_node_config_release(&cf);
		return fail(ret, &msg, "cannot read the config file");
	}
	ret = EXIT_ERROR;
	if (check_config(&cf))
		goto out;
	ws_node_config_apply(&cf, &so);
	opts_init(&op, "seed", seed_options, argc, argv, 0);
	while ((o = opts_next(&op)) > 0) {
		if (o == 'F' || o == 'P') {
			if (opt_uint(&op, 1, SECONDS_MAX, &secs))
				goto out;
			*(o == 'F' ? &so.follow_s : &so.reput_s) = (int)secs;
		} else if (o == 'M') {
			if (opt_uint(&op, 1, 64, &secs))
				goto out;
			so.max_active = (int)secs;
		} else if (o == 'H') {
			const char *why = hostport_check(op.arg, 0, 0);
			if (why) {
				usage_error("seed", "invalid address '%s' for --http: %s",
					    op.arg, why);
				goto out;
			}
			so.http_listen = op.arg;
		} else if (net_option(&op, o, &fl)) {
			goto out;
		} else if (o >= OPT_LISTEN && o <= OPT_DOWNLOAD_LIMIT) {
			seen[o - OPT_LISTEN] = 1;
		}
	}
	if (o < 0)
		goto out;
	if (op.ind != argc) {
		usage_error("seed", "unexpected argument '%s'", argv[op.ind]);
		goto out;
	}
	merge_flags(&so, &fl, seen);
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
	if (cf.path) {
		char *line = xasprintf("options from '%s', flags over them", cf.path);
		log_line(line);
		free(line);
	}
	ret = ws_seed_run(c->store, &so, &msg);
	if (ret) {
		ret = fail(ret, &msg, "the node failed");
		goto out;
	}
	log_line("stopped");
out:
	ws_node_config_release(&cf);
	return ret;
}
