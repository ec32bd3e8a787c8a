/* cmd_publish.c - weightsync publish: sign a model folder into a release */
#include "cli.h"
#include "proto/error.h"
#include "proto/util.h"
#include "node/names.h"
#include "node/torrent.h"
#include "proto/link.h"
#include "store/publish.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void print_result(struct cli *c, const struct ws_publish *p,
			 const struct ws_release_torrent *t, int json, double seconds)
{
	char pk[WS_PUBKEY_B64_LEN + 1], hex[65], sz[16], v2[65], v1[41];
	uint8_t mhash[32];
	uint64_t total = ws_manifest_total_size(&p->m);
	char *folder = ws_store_path(c->store, p->relpath);
	char *name_link = ws_link_format_name(p->m.publisher.pk, p->m.name);

	ws_pubkey_to_b64(&p->m.publisher, pk);
	ws_manifest_hash(p->manifest, p->manifest_len, mhash);
	ws_hex(mhash, 32, hex);
	ws_hex(t->v2, 32, v2);
	ws_hex(t->v1, 20, v1);
	if (json) {
		json_t *o = json_pack("{s:s, s:I, s:s, s:s, s:I, s:I, s:s, s:s, s:s, s:s, s:I, s:f}",
				      "name", p->m.name, "version", (json_int_t)p->m.version,
				      "publisher", pk, "manifest_sha256", hex,
				      "files", (json_int_t)p->m.nfiles,
				      "bytes", (json_int_t)total, "path", folder,
				      "link", t->link, "info_hash_v2", v2, "info_hash_v1", v1,
				      "piece_size", (json_int_t)p->piece_size, "seconds", seconds);
		json_object_set_new(o, "name_link", json_string(name_link));
		json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
		json_decref(o);
	} else {
		printf("published %s@%lld\n", p->m.name, (long long)p->m.version);
		printf("  publisher  %s\n", pk);
		printf("  manifest   sha256:%s\n", hex);
		printf("  files      %zu (%s)\n", p->m.nfiles, human_size(total, sz));
		printf("  folder     %s\n", folder);
		printf("  torrent    v2 %s\n             v1 %s\n", v2, v1);
		printf("  link       %s\n", t->link);
		printf("  name link  %s\n", name_link);
	}
	free(folder);
	free(name_link);
}

int cmd_publish(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "key", required_argument, NULL, 'k' },
		{ "version", required_argument, NULL, 'V' },
		{ "origin", required_argument, NULL, 'O' },
		{ "license", required_argument, NULL, 'L' },
		{ "retracted", no_argument, NULL, 'R' },
		{ "copy", no_argument, NULL, 'C' },
		{ "web-seed", required_argument, NULL, 'w' },
		{ "announce", no_argument, NULL, 'A' },
		NET_LONG_OPTIONS,
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct ws_publish p = { 0 };
	struct ws_release_torrent t = { 0 };
	struct ws_pointer ptrs[2];
	const char *seeds[16];
	size_t nseeds = 0;
	struct ws_net_opts net;
	int announce = 0;
	struct ws_seckey *sk = NULL;
	struct ws_pubkey pk, trusted;
	struct progress prog;
	struct stat st;
	char *keypath = NULL, *msg = NULL, *end;
	int json = 0, o, ret, status = EXIT_ERROR;
	double t0;

	memset(&net, 0, sizeof(net));
	while ((o = getopt_long(argc, argv, "n:k:", opts, NULL)) != -1) {
		switch (o) {
		case 'n': p.name = optarg; break;
		case 'k': free(keypath); keypath = xstrdup(optarg); break;
		case 'V':
			errno = 0;
			p.version = strtoll(optarg, &end, 10);
			if (errno || *end || p.version < 1)
				return usage_error("publish", "--version takes an integer from 1");
			break;
		case 'O': p.origin = optarg; break;
		case 'L': p.license = optarg; break;
		case 'R': p.retracted = 1; break;
		case 'C': p.copy = 1; break;
		case 'j': json = 1; break;
		case 'w':
			if (nseeds == 16 || strncmp(optarg, "http", 4))
				return usage_error("publish", "--web-seed takes an http(s) URL, 16 at most");
			seeds[nseeds++] = optarg;
			break;
		case 'A': announce = 1; break;
		default:
			/* network options: --bootstrap also means --announce */
			if (o < OPT_LISTEN)
				return usage_error("publish", "invalid arguments");
			if (net_option("publish", o, optarg, &net))
				return EXIT_ERROR;
			announce = announce || o == OPT_BOOTSTRAP;
		}
	}
	if (optind + 1 != argc)
		return usage_error("publish", "expected one model folder");
	if (!p.name)
		return usage_error("publish", "--name NAME is required");
	p.dir = argv[optind];
	if (stat(p.dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		err("cannot publish '%s': %s", p.dir,
		    stat(p.dir, &st) < 0 ? strerror(errno) : "not a folder");
		goto out;
	}
	if (!keypath)
		keypath = ws_store_default_key(c->store);
	if (load_seckey(keypath, &sk))
		goto out;
	ws_seckey_public(sk, &pk);
	/* a name trusted with another key would make this release one that
	 * nobody here accepts as NAME: say so before doing the work */
	ret = ws_index_trust_lookup(c->store->index, p.name, &trusted);
	if (ret == 0 && !ws_pubkey_equal(&trusted, &pk)) {
		err("'%s' is trusted with another publisher key here; publish under "
		    "another name or change trust with 'weightsync trust'", p.name);
		goto out;
	}
	p.sk = sk;
	p.for_swarm = 1;
	progress_init(&prog, "hashing");
	p.progress = progress_update;
	p.progress_ctx = &prog;
	t0 = now_seconds();
	ret = ws_publish_run(c->store, &p, &msg);
	progress_done(&prog);
	if (ret) {
		status = fail(ret, &msg, "publish failed");
		goto out;
	}
	/* torrent and pointers are made before the commit, and kept with the
	 * release in it (store/recover.h) */
	ret = ws_torrent_from_publish(c->store, &p, seeds, nseeds, &t, &msg);
	if (ret) {
		status = fail(ret, &msg, "cannot build the release torrent");
		ws_publish_release(&p);
		goto out;
	}
	{
		uint8_t mhash[32];
		ws_manifest_hash(p.manifest, p.manifest_len, mhash);
		ret = ws_names_sign(sk, &p.m, mhash, t.v1, t.v2, ptrs, &msg);
	}
	if (ret) {
		status = fail(ret, &msg, "cannot sign the name pointers");
		ws_release_torrent_release(&t);
		ws_publish_release(&p);
		goto out;
	}
	ret = ws_publish_commit(c->store, &p, t.torrent, t.len, t.v2, t.v1, ptrs, 2, 1, &msg);
	if (ret) {
		status = fail(ret, &msg, "publish failed");
		ws_release_torrent_release(&t);
		ws_publish_release(&p);
		goto out;
	}
	print_result(c, &p, &t, json, now_seconds() - t0);
	if (announce && !net.no_dht) {
		int nodes = 0;
		ret = ws_names_announce(c->store, &net, p.m.name, 15000, &nodes, &msg);
		if (ret) {
			warn("the name pointer was not put into the DHT (%s); a node "
			     "on this home ('weightsync seed') will put it", msg ? msg : ws_strerror(ret));
			free(msg);
			msg = NULL;
		} else {
			fprintf(stderr, "weightsync: put the signed pointer of '%s' into the DHT "
				"(%d nodes known)\n", p.m.name, nodes);
		}
	}
	status = 0;
	ws_release_torrent_release(&t);
	ws_publish_release(&p);
out:
	ws_seckey_free(sk);
	free(keypath);
	return status;
}
