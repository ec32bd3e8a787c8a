/* cmd_fetch.c - weightsync fetch: a verified release from the swarm */
#include "cli.h"
#include "node/fetch.h"
#include "node/names.h"
#include "store/hf.h"
#include "proto/error.h"
#include "proto/util.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static volatile sig_atomic_t stop_flag;
static void on_stop(int sig) { (void)sig; stop_flag = 1; }

struct fetch_view {
	struct progress bar;
	const char *phase;
};

static void show_progress(void *ctx, const struct ws_fetch_progress *p)
{
	struct fetch_view *v = ctx;
	char a[16], b[16], r[16];

	if (!v->bar.enabled)
		return;
	if (v->phase != p->phase) {
		v->phase = p->phase;
		v->bar.start = now_seconds();
	}
	fprintf(stderr, "\r\033[K%-11s %s / %s  %s/s  %d peers", p->phase,
		human_size(p->done, a), human_size(p->total, b),
		human_size((uint64_t)p->rate_down, r), p->peers);
	if (p->rate_down > 0 && p->total > p->done)
		fprintf(stderr, "  ETA %ds", (int)((p->total - p->done) / (uint64_t)p->rate_down));
	fflush(stderr);
	v->bar.drawn = 1;
}

static int dir_empty_or_missing(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int empty = 1;

	if (!d)
		return errno == ENOENT;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			empty = 0;
	closedir(d);
	return empty;
}

/* An ordinary model folder at out: links from the store, and .weightsync/. */
static int export_folder(struct cli *c, const struct ws_fetch_result *r,
			 const char *out)
{
	char *src = ws_store_path(c->store, r->relpath), *msg = NULL;
	int ret = 0;

	if (!dir_empty_or_missing(out)) {
		err("'%s' exists and is not empty", out);
		free(src);
		return WS_EEXIST;
	}
	for (size_t i = 0; i < r->m.nfiles && !ret; i++) {
		char *a = xasprintf("%s/%s", src, r->m.files[i].path);
		char *b = xasprintf("%s/%s", out, r->m.files[i].path);
		ret = ws_store_link_file(a, b, 0, &msg);
		free(a);
		free(b);
	}
	for (int i = 0; i < 2 && !ret; i++) {
		const char *f = i ? WS_SIG_FILE : WS_MANIFEST_FILE;
		char *a = xasprintf("%s/%s", src, f), *b = xasprintf("%s/%s", out, f);
		ret = ws_store_link_file(a, b, 1, &msg);
		free(a);
		free(b);
	}
	if (ret)
		fail(ret, &msg, "cannot write the output folder");
	free(src);
	return ret;
}

/* fetch --detach: the transfer's id, for transfers/pause/resume/cancel */
static int print_detached(int id, int json)
{
	if (json) {
		json_t *o = json_pack("{s:b, s:i, s:b}", "ok", 1, "id", id, "detached", 1);
		json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
		json_decref(o);
	} else {
		fprintf(stderr, "weightsync: transfer %d runs on the node; see 'weightsync "
			"transfers'\n", id);
		printf("%d\n", id);
	}
	return 0;
}

const struct cli_option fetch_options[] = {
	{ "output", 'o', 'o', required_argument, "DIR",
	  "also make an ordinary model folder at DIR (links into the store)" },
	{ "hf-cache", 0, 'H', optional_argument, "DIR",
	  "also lay the release out as a Hugging Face cache" },
	{ "publisher", 0, 'P', required_argument, "KEY",
	  "the publisher key (base64 or .pub file) instead of the trusted one" },
	{ "timeout", 0, 'T', required_argument, "S",
	  "give up after S seconds without progress (default 60)" },
	{ "resolve-timeout", 0, 'R', required_argument, "S",
	  "give up resolving a name after S seconds (default 15)" },
	{ "no-origin", 0, 'O', no_argument, NULL,
	  "never take pieces from the release's hf:// origin" },
	{ "origin-only", 0, 'G', no_argument, NULL,
	  "take every piece from the release's hf:// origin, none from peers" },
	{ "json", 0, 'j', no_argument, NULL, "print the result as JSON" },
	{ "detach", 0, 'D', no_argument, NULL,
	  "hand the fetch to the running node and return at once (prints its id)" },
	{ "no-node", 0, 'N', no_argument, NULL,
	  "fetch in this process even when a node runs on the home" },
	NET_OPTIONS,
	{ NULL, 0, 0, 0, NULL, NULL },
};

int cmd_fetch(struct cli *c, int argc, char **argv)
{
	struct opts op;
	uint64_t secs;
	const char *src;
	struct ws_fetch_opts fo;
	struct ws_fetch_result res;
	struct ws_pubkey publisher;
	struct fetch_view view = { 0 };
	struct sigaction sa;
	const char *out = NULL;
	char *msg = NULL, *folder = NULL, *torrent = NULL, *hub = NULL;
	char name[WS_NAME_MAX + 1] = "";
	int64_t version = 0;
	int by_name = 0;
	struct ws_pubkey named;
	int o, json = 0, ret, status, resolve_ms = 15000;
	int detach = 0, no_node = 0, nfd = -1, via_node = 1, detached = 0;
	double t0 = now_seconds();

	memset(&fo, 0, sizeof(fo));
	opts_init(&op, "fetch", fetch_options, argc, argv, 0);
	while ((o = opts_next(&op)) > 0) {
		switch (o) {
		case 'o': out = op.arg; break;
		case 'P':
			if (parse_pubkey_arg(op.arg, &publisher))
				goto usage;
			fo.publisher = &publisher;
			break;
		case 'T':
			if (opt_uint(&op, 1, SECONDS_MAX, &secs))
				goto usage;
			fo.stall_timeout = (int)secs;
			break;
		case 'R':
			if (opt_uint(&op, 1, SECONDS_MAX, &secs))
				goto usage;
			resolve_ms = (int)secs * 1000;
			break;
		case 'j': json = 1; break;
		case 'D': detach = 1; break;
		case 'N': no_node = 1; break;
		case 'O':
		case 'G':
			if (fo.origin && fo.origin != (o == 'O' ? WS_ORIGIN_OFF : WS_ORIGIN_ONLY)) {
				usage_error("fetch", "--no-origin and --origin-only exclude each other");
				goto usage;
			}
			fo.origin = o == 'O' ? WS_ORIGIN_OFF : WS_ORIGIN_ONLY;
			break;
		case 'H':
			free(hub);
			if (op.arg && !*op.arg) {
				usage_error("fetch", "invalid value '' for --hf-cache: empty");
				goto usage;
			}
			hub = op.arg ? xstrdup(op.arg) : ws_hf_default_hub();
			if (!hub) {
				usage_error("fetch", "no home for the Hugging Face cache: give --hf-cache=DIR");
				goto usage;
			}
			break;
		default:
			if (net_option(&op, o, &fo.net))
				goto usage;
		}
	}
	if (o < 0)
		goto usage;
	if (op.ind + 1 != argc) {
		usage_error("fetch", "expected one link");
		goto usage;
	}
	src = argv[op.ind];
	if (!strncmp(src, "magnet:", 7)) {
		if ((ret = ws_link_parse(src, &fo.link, &msg)))
			return fail(ret, &msg, "bad link");
	} else if (strlen(src) > 8 &&
		   !strcmp(src + strlen(src) - 8, ".torrent")) {
		size_t len;
		ret = ws_read_file(src, 64u << 20, &torrent, &len);
		if (ret) {
			err("cannot read '%s': %s", src, ws_strerror(ret));
			return EXIT_ERROR;
		}
		fo.torrent = (const uint8_t *)torrent;
		fo.torrent_len = len;
	} else {
		if (parse_ref(src, name, &version))
			return EXIT_ERROR;
		by_name = 1;
	}
	if (fo.link.is_name_link) {
		snprintf(name, sizeof(name), "%s", fo.link.name);
		version = 0;
		by_name = 1;
	}
	if (by_name) {
		/* which key the name means: --publisher, else the trust store;
		 * a BEP 46 link's key must be that key */
		if (fo.publisher)
			named = *fo.publisher;
		else if ((status = resolve_name(c, name, &fo.net, &named)))
			return status;
		else
			fo.publisher = &named;  /* maybe a curator's word: trust it here */
		if (fo.link.is_name_link && memcmp(fo.link.pk32, named.pk, 32)) {
			err("the link's key is not the key trusted for '%s'; pass --publisher "
			    "KEY to use it", name);
			return EXIT_VERIFY;
		}
		if (fo.net.no_dht) {
			err("fetching by name needs the DHT: drop --no-dht");
			return EXIT_ERROR;
		}
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	fo.stop = &stop_flag;
	progress_init(&view.bar, "fetch");
	fo.progress = show_progress;
	fo.progress_ctx = &view;

	fo.started = t0;
	if (!no_node && (via_node = node_open(c, &nfd)) == EXIT_ERROR)
		goto usage;
	if (via_node == 0) {
		/* the node fetches, in its session; the rest is as below */
		struct fetch_target ft = {
			.link = !by_name && !torrent ? src : NULL,
			.torrent = fo.torrent, .torrent_len = fo.torrent_len,
			.name = by_name ? name : NULL, .version = version, .named = &named,
			.resolve_ms = resolve_ms, .detach = detach, .json = json,
		};
		ret = fetch_via_node(c, nfd, &ft, &fo, &res, &msg, &detached);
		close(nfd);
		if (ret == 0 && detach) {
			free(torrent);
			free(hub);
			return print_detached(detached, json);
		}
	} else if (detach) {
		err("--detach needs a node running on '%s' (start one with 'weightsync seed')",
		    c->store->home);
		goto usage;
	} else if (by_name) {
		if (view.bar.enabled)
			fprintf(stderr, "resolving %s%s through the DHT...", name,
				version ? "@version" : "");
		ret = ws_fetch_name(c->store, &fo, &named, name, version, resolve_ms,
				    &res, &msg);
	} else {
		ret = ws_fetch_run(c->store, &fo, &res, &msg);
	}
	progress_done(&view.bar);
	if (json) {
		json_t *rep = json_pack("{s:b, s:I, s:I, s:i, s:f, s:f, s:f, s:i}", "ok", ret == 0,
					"downloaded", (json_int_t)res.downloaded,
					"reused", (json_int_t)res.reused,
					"hash_failures", res.hash_failures,
					"seconds", now_seconds() - t0,
					"resolve_seconds", res.resolve_seconds,
					"first_data_seconds", res.first_data_seconds,
					"ignored_pointers", res.ignored_pointers);
		/* what resuming cost: bytes trusted from resume data, bytes
		 * read back from disk to check them */
		json_object_set_new(rep, "resumed", json_integer((json_int_t)res.resumed));
		json_object_set_new(rep, "rechecked", json_integer((json_int_t)res.rechecked));
		json_object_set_new(rep, "distrusted_files", json_integer(res.distrusted_files));
		json_object_set_new(rep, "resume_saves", json_integer(res.resume_saves));
		json_object_set_new(rep, "whole_file_check", json_boolean(res.whole_file_check));
		json_object_set_new(rep, "whole_file_bytes", json_integer((json_int_t)res.whole_file_bytes));
		json_object_set_new(rep, "from_origin", json_integer((json_int_t)res.from_origin));
		if (ret == 0) {
			folder = ws_store_path(c->store, res.relpath);
			json_object_set_new(rep, "name", json_string(res.m.name));
			json_object_set_new(rep, "version", json_integer(res.m.version));
			json_object_set_new(rep, "bytes", json_integer((json_int_t)res.total));
			json_object_set_new(rep, "path", json_string(folder));
			json_object_set_new(rep, "already_complete",
					    json_boolean(res.already_complete));
			if (out)
				json_object_set_new(rep, "output", json_string(out));
		} else {
			json_object_set_new(rep, "error", json_string(msg ? msg : ws_strerror(ret)));
		}
		json_dumpf(rep, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
		json_decref(rep);
	}
	if (ret) {
		free(torrent);
		free(hub);
		return fail(ret, &msg, "fetch failed");
	}
	status = 0;
	if (!folder)
		folder = ws_store_path(c->store, res.relpath);
	if (warn_if_equivocated(c, res.m.publisher.pk, res.m.name))
		status = EXIT_ERROR;
	if (res.stale_offered)
		warn("the DHT offered '%s' version %lld, but a peer showed version %lld "
		     "signed by the publisher (a freeze attempt?): fetched version %lld",
		     res.m.name, (long long)res.stale_offered, (long long)res.m.version,
		     (long long)res.m.version);
	if (status == 0 && out && export_folder(c, &res, out))
		status = EXIT_ERROR;
	if (!json && status == 0) {
		char sz[16], dl[16];
		fprintf(stderr, "weightsync: %s@%lld verified: %zu files, %s (%s downloaded%s)\n",
			res.m.name, (long long)res.m.version, res.m.nfiles,
			human_size(res.total, sz), human_size(res.downloaded, dl),
			res.already_complete ? ", already in the store" : "");
		print_path(out ? out : folder);
	}
	/* after the release path: stdout's first line stays the release */
	if (hub && status == 0) {
		struct ws_release r;
		int gr = ws_index_get(c->store->index, res.m.publisher.pk, res.m.name,
				      res.m.version, &r);
		if (gr == 0) {
			if (hf_export(c, &r, hub, &msg))
				status = fail(WS_EFORMAT, &msg, "cannot lay out the Hugging Face cache");
			ws_release_release(&r);
		} else {
			status = index_fail(c, gr);
		}
	}
	free(folder);
	free(torrent);
	free(hub);
	ws_fetch_result_release(&res);
	return status;
usage:
	free(hub);
	return EXIT_ERROR;
}
