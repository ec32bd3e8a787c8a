/* cmd_publish.c - weightsync publish: sign a model folder into a release */
#include "cli.h"
#include "proto/error.h"
#include "proto/util.h"
#include "node/names.h"
#include "node/torrent.h"
#include "proto/catalog.h"
#include "proto/curator.h"
#include "proto/link.h"
#include "store/publish.h"

#include <errno.h>
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
		printf("  folder     %s\n", esc(folder));
		printf("  torrent    v2 %s\n             v1 %s\n", v2, v1);
		printf("  link       %s\n", t->link);
		printf("  name link  %s\n", name_link);
	}
	free(folder);
	free(name_link);
}

int publish_key(struct cli *c, const char *keypath, const char *name, struct ws_seckey **sk)
{
	char *def = keypath ? NULL : ws_store_default_key(c->store);
	struct ws_pubkey pk, trusted;
	int ret;

	ret = load_seckey(keypath ? keypath : def, sk);
	free(def);
	if (ret)
		return EXIT_ERROR;
	ws_seckey_public(*sk, &pk);
	/* a name trusted with another key would make this release one that
	 * nobody here accepts as NAME: say so before doing the work */
	ret = ws_index_trust_lookup(c->store->index, name, &trusted);
	if (ret && ret != WS_ENOTFOUND && ret != WS_EAMBIGUOUS) {
		index_fail(c, ret);
		ws_seckey_free(*sk);
		*sk = NULL;
		return EXIT_ERROR;
	}
	if (ret == 0 && !ws_pubkey_equal(&trusted, &pk)) {
		err("'%s' is trusted with another publisher key here; publish under "
		    "another name or change trust with 'weightsync trust'", name);
		ws_seckey_free(*sk);
		*sk = NULL;
		return EXIT_ERROR;
	}
	return 0;
}

int publish_finish(struct cli *c, struct ws_publish *p, const char *const *seeds,
		   size_t nseeds, int json, double t0)
{
	struct ws_release_torrent t = { 0 };
	struct ws_pointer ptrs[2];
	uint8_t mhash[32];
	char *msg = NULL;
	int ret, status = EXIT_ERROR;

	/* torrent and pointers are made before the commit, and kept with the
	 * release in it (store/recover.h) */
	ret = ws_torrent_from_publish(c->store, p, seeds, nseeds, &t, &msg);
	if (ret) {
		status = fail(ret, &msg, "cannot build the release torrent");
		goto out;
	}
	ws_manifest_hash(p->manifest, p->manifest_len, mhash);
	ret = ws_names_sign(p->sk, &p->m, mhash, t.v1, t.v2, ptrs, &msg);
	if (ret) {
		status = fail(ret, &msg, "cannot sign the name pointers");
		goto out;
	}
	ret = ws_publish_commit(c->store, p, t.torrent, t.len, t.v2, t.v1, ptrs, 2, 1, &msg);
	if (ret) {
		status = fail(ret, &msg, "publish failed");
		goto out;
	}
	print_result(c, p, &t, json, now_seconds() - t0);
	status = 0;
out:
	ws_release_torrent_release(&t);
	ws_publish_release(p);
	return status;
}

const struct cli_option publish_options[] = {
	{ "name", 'n', 'n', required_argument, "NAME", "the release's name (required)" },
	{ "key", 'k', 'k', required_argument, "PATH",
	  "the secret key (default HOME/keys/publisher.key)" },
	{ "version", 0, 'V', required_argument, "N", "the version (default: the next one)" },
	{ "origin", 0, 'O', required_argument, "TEXT", "where the model came from" },
	{ "license", 0, 'L', required_argument, "TEXT", "the model's license" },
	{ "retracted", 0, 'R', no_argument, NULL, "withdraw this line of releases" },
	{ "copy", 0, 'C', no_argument, NULL, "copy files into the store, never hard-link" },
	{ "web-seed", 0, 'w', required_argument, "URL",
	  "an http(s) web seed for the torrent (repeatable, 16 at most)" },
	{ "description", 0, 'D', required_argument, "TEXT",
	  "one line for the publisher's signed catalog (docs/trust.md)" },
	{ "catalog", 0, 'G', no_argument, NULL,
	  "list the release in the signed catalog (implied by --description)" },
	{ "announce", 0, 'A', no_argument, NULL, "put the name pointer into the DHT now" },
	{ "json", 0, 'j', no_argument, NULL, "print the result as JSON" },
	NET_OPTIONS,
	{ NULL, 0, 0, 0, NULL, NULL },
};

int cmd_publish(struct cli *c, int argc, char **argv)
{
	struct opts op;
	uint64_t version;
	struct ws_publish p = { 0 };
	const char *seeds[16];
	size_t nseeds = 0;
	struct ws_net_opts net;
	int announce = 0, catalog = 0;
	const char *description = NULL;
	struct ws_seckey *sk = NULL;
	struct progress prog;
	struct stat st;
	char *keypath = NULL, *msg = NULL;
	int json = 0, o, ret, status = EXIT_ERROR;
	double t0;

	memset(&net, 0, sizeof(net));
	opts_init(&op, "publish", publish_options, argc, argv, 0);
	while ((o = opts_next(&op)) > 0) {
		switch (o) {
		case 'n': p.name = op.arg; break;
		case 'k': free(keypath); keypath = xstrdup(op.arg); break;
		case 'V':
			if (opt_uint(&op, 1, WS_VERSION_MAX, &version))
				goto out;
			p.version = (int64_t)version;
			break;
		case 'O': p.origin = op.arg; break;
		case 'L': p.license = op.arg; break;
		case 'R': p.retracted = 1; break;
		case 'C': p.copy = 1; break;
		case 'j': json = 1; break;
		case 'w':
			if (nseeds == 16 || (strncmp(op.arg, "http://", 7) &&
					     strncmp(op.arg, "https://", 8))) {
				usage_error("publish", "--web-seed takes an http(s) URL, 16 at most");
				goto out;
			}
			seeds[nseeds++] = op.arg;
			break;
		case 'A': announce = 1; break;
		case 'D': description = op.arg; catalog = 1; break;
		case 'G': catalog = 1; break;
		default:
			/* network options: --bootstrap also means --announce */
			if (net_option(&op, o, &net))
				goto out;
			announce = announce || o == OPT_BOOTSTRAP;
		}
	}
	if (o < 0)
		goto out;
	if (op.ind + 1 != argc) {
		usage_error("publish", "expected one model folder");
		goto out;
	}
	if (!p.name) {
		usage_error("publish", "--name NAME is required");
		goto out;
	}
	if (!strcmp(p.name, WS_CURATOR_NAME) || !strcmp(p.name, WS_CATALOG_NAME)) {
		/* made by 'curate' and 'publish --description' (docs/trust.md) */
		usage_error("publish", "'%s' is a reserved name", p.name);
		goto out;
	}
	p.dir = argv[op.ind];
	if (stat(p.dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		err("cannot publish '%s': %s", p.dir,
		    stat(p.dir, &st) < 0 ? strerror(errno) : "not a folder");
		goto out;
	}
	if ((status = publish_key(c, keypath, p.name, &sk)))
		goto out;
	status = EXIT_ERROR;
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
	status = publish_finish(c, &p, seeds, nseeds, json, t0);
	if (status == 0 && catalog &&
	    publish_catalog(c, sk, p.name, description, announce ? &net : NULL))
		status = EXIT_ERROR;
	if (status == 0 && announce && !net.no_dht) {
		int nodes = 0;
		ret = ws_names_announce(c->store, &net, p.name, 15000, &nodes, &msg);
		if (ret) {
			warn("the name pointer was not put into the DHT (%s); a node "
			     "on this home ('weightsync seed') will put it", msg ? msg : ws_strerror(ret));
			free(msg);
			msg = NULL;
		} else {
			fprintf(stderr, "weightsync: put the signed pointer of '%s' into the DHT "
				"(%d nodes known)\n", p.name, nodes);
		}
	}
out:
	ws_seckey_free(sk);
	free(keypath);
	return status;
}
