/* cmd_show.c - weightsync show: a release's manifest summary */
#include "cli.h"
#include "node/torrent.h"
#include "proto/error.h"
#include "proto/util.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct cli_option show_options[] = {
	{ "torrent", 0, 't', required_argument, "FILE", "also write the release's .torrent to FILE" },
	{ "json", 0, 'j', no_argument, NULL, "print the result as JSON" },
	{ NULL, 0, 0, 0, NULL, NULL },
};

int cmd_show(struct cli *c, int argc, char **argv)
{
	struct opts op;
	int id;
	char name[WS_NAME_MAX + 1], *msg = NULL;
	const char *ref = NULL, *torrent_out = NULL;
	char *link = NULL;
	uint8_t *tor = NULL, v2[32], v1[20];
	size_t tlen = 0;
	int64_t version;
	struct ws_pubkey pk;
	struct ws_release r;
	struct ws_manifest m;
	int json = 0, ret;

	opts_init(&op, "show", show_options, argc, argv, 0);
	while ((id = opts_next(&op)) > 0) {
		if (id == 'j')
			json = 1;
		else
			torrent_out = op.arg;
	}
	if (id < 0)
		return EXIT_ERROR;
	if (op.ind + 1 != argc)
		return usage_error("show", op.ind == argc ? "expected NAME[@V]" :
				   "expected one NAME[@V]");
	ref = argv[op.ind];
	if (parse_ref(ref, name, &version) || resolve_publisher(c, name, &pk))
		return EXIT_ERROR;
	ret = ws_index_get(c->store->index, pk.pk, name, version, &r);
	if (ret && ret != WS_ENOTFOUND)
		return index_fail(c, ret);
	if (ret) {
		err("no %s of '%s' in this store", version ? "such version" : "release", name);
		return EXIT_ERROR;
	}
	if (warn_if_equivocated(c, pk.pk, name)) {
		ws_release_release(&r);
		return EXIT_ERROR;
	}
	/* what the index holds was verified on the way in; check it again, as
	 * the index is only a file on disk */
	ret = ws_manifest_verify(r.manifest, r.manifest_len, r.sig, r.sig_len, NULL,
				 &m, &msg);
	if (ret) {
		int st = fail(ret, &msg, "stored manifest refused");
		ws_release_release(&r);
		return st;
	}
	ret = ws_index_get_torrent(c->store->index, r.mhash, &tor, &tlen, v2, v1);
	if (ret == 0) {
		ws_torrent_link(c->store, &r, &m, &link);
	} else if (ret != WS_ENOTFOUND) {
		ret = index_fail(c, ret);
		goto out;
	}
	ret = 0;
	if (torrent_out) {
		if (!tor) {
			err("no torrent is kept for '%s@%lld'", m.name, (long long)m.version);
			ret = EXIT_ERROR;
			goto out;
		}
		if ((ret = ws_write_file_atomic(torrent_out, tor, tlen, 0644, 0))) {
			err("cannot write '%s': %s", torrent_out, ws_strerror(ret));
			ret = EXIT_ERROR;
			goto out;
		}
	}
	if (json) {
		json_t *man = json_loadb(r.manifest, r.manifest_len, 0, NULL);
		char *folder = ws_store_path(c->store, r.path);
		json_t *o = json_pack("{s:o, s:s, s:b}", "manifest", man, "path", folder,
				      "complete", r.complete);
		if (link) {
			char h2[65], h1[41];
			ws_hex(v2, 32, h2);
			ws_hex(v1, 20, h1);
			json_object_set_new(o, "link", json_string(link));
			json_object_set_new(o, "info_hash_v2", json_string(h2));
			json_object_set_new(o, "info_hash_v1", json_string(h1));
		}
		json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
		json_decref(o);
		free(folder);
	} else {
		char b64[WS_PUBKEY_B64_LEN + 1], t[21], hex[65], sz[16];
		ws_pubkey_to_b64(&m.publisher, b64);
		ws_format_time(m.created, t);
		ws_hex(r.mhash, 32, hex);
		printf("%s@%lld%s\n", m.name, (long long)m.version,
		       m.retracted ? " (retracted)" : "");
		printf("  publisher  %s\n  created    %s\n  manifest   sha256:%s\n",
		       b64, t, hex);
		if (m.has_previous) {
			ws_hex(m.previous, 32, hex);
			printf("  previous   sha256:%s\n", hex);
		}
		if (m.origin)
			printf("  origin     %s\n", esc(m.origin));
		if (m.license)
			printf("  license    %s\n", esc(m.license));
		if (link) {
			char h2[65], h1[41];
			ws_hex(v2, 32, h2);
			ws_hex(v1, 20, h1);
			printf("  torrent    v2 %s\n             v1 %s\n  link       %s\n",
			       h2, h1, link);
		}
		printf("  files      %zu (%s)\n", m.nfiles,
		       human_size(ws_manifest_total_size(&m), sz));
		for (size_t i = 0; i < m.nfiles; i++) {
			ws_hex(m.files[i].sha256, 32, hex);
			printf("    %12llu  %.16s  %s\n", (unsigned long long)m.files[i].size,
			       hex, esc(m.files[i].path));
		}
	}
	ret = 0;
out:
	free(link);
	free(tor);
	ws_manifest_release(&m);
	ws_release_release(&r);
	return ret;
}
