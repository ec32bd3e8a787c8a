/* cmd_bundle.c - weightsync export / import: offline bundles */
#include "cli.h"
#include "proto/error.h"
#include "proto/util.h"
#include "store/bundle.h"
#include "store/hf.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Lay a complete release out in a Hugging Face cache under hub; prints
 * the snapshot folder. */
int hf_export(struct cli *c, const struct ws_release *r, const char *hub, char **msg)
{
	struct ws_manifest m;
	char *folder = ws_store_path(c->store, r->path), *snap = NULL;
	int ret = ws_manifest_parse(r->manifest, r->manifest_len, &m, msg);

	if (ret == 0) {
		ret = ws_hf_layout(folder, &m, r->mhash, hub, &snap, msg);
		if (ret == 0) {
			fprintf(stderr, "weightsync: %s@%lld laid out as a Hugging Face cache "
				"(load it with HF_HUB_OFFLINE=1)\n", m.name, (long long)m.version);
			print_path(snap);
		}
		ws_manifest_release(&m);
	}
	free(snap);
	free(folder);
	return ret;
}

const struct cli_option export_options[] = {
	{ "output", 'o', 'o', required_argument, "FILE",
	  "write the bundle to FILE.tar, FILE.tar.zst or FILE.tzst" },
	{ "hf-cache", 0, 'H', required_argument, "DIR",
	  "lay the release out as a Hugging Face cache under DIR instead" },
	{ NULL, 0, 0, 0, NULL, NULL },
};

/* A bundle's name says how it is written: refuse one we would not write as
 * it says (a .zip written as a tar). */
static int bundle_name_ok(const char *path)
{
	static const char *const ext[] = { ".tar", ".tar.zst", ".tzst", NULL };
	const char *base = strrchr(path, '/');
	size_t n = strlen(path);

	base = base ? base + 1 : path;
	for (int i = 0; ext[i]; i++) {
		size_t e = strlen(ext[i]);
		if (n > e && strlen(base) > e && !strcmp(path + n - e, ext[i]))
			return 1;
	}
	return 0;
}

int cmd_export(struct cli *c, int argc, char **argv)
{
	struct opts op;
	int o;
	const char *ref = NULL, *out = NULL, *hub = NULL;
	char name[WS_NAME_MAX + 1], *msg = NULL, sz[16];
	struct ws_pubkey pk;
	struct ws_release r;
	int64_t version;
	uint64_t bytes;
	int ret;

	opts_init(&op, "export", export_options, argc, argv, 0);
	while ((o = opts_next(&op)) > 0) {
		if (o == 'o')
			out = op.arg;
		else
			hub = op.arg;
	}
	if (o < 0)
		return EXIT_ERROR;
	if (op.ind + 1 != argc || !out == !hub)
		return usage_error("export", "expected NAME[@V] -o FILE or --hf-cache DIR");
	ref = argv[op.ind];
	if (out && !bundle_name_ok(out))
		return usage_error("export", "cannot write '%s': a bundle is FILE.tar, "
				   "FILE.tar.zst or FILE.tzst", out);
	if (hub && !*hub)
		return usage_error("export", "invalid value '' for --hf-cache: empty");
	if (parse_ref(ref, name, &version) || resolve_publisher(c, name, &pk))
		return EXIT_ERROR;
	if ((ret = ws_index_get(c->store->index, pk.pk, name, version, &r))) {
		if (ret != WS_ENOTFOUND)
			return index_fail(c, ret);
		err("no %s of '%s' in this store", version ? "such version" : "release", name);
		return EXIT_ERROR;
	}
	if (!r.complete) {
		err("'%s@%lld' is not complete in this store", name, (long long)r.version);
		ws_release_release(&r);
		return EXIT_ERROR;
	}
	if (warn_if_equivocated(c, pk.pk, name)) {
		ws_release_release(&r);
		return EXIT_ERROR;
	}
	if (hub) {
		ret = hf_export(c, &r, hub, &msg);
		ws_release_release(&r);
		return ret ? fail(ret, &msg, "export failed") : 0;
	}
	ret = ws_bundle_export(c->store, &r, out, &bytes, &msg);
	if (ret == 0)
		fprintf(stderr, "weightsync: exported %s@%lld (%s) to '%s'\n", name,
			(long long)r.version, human_size(bytes, sz), esc(out));
	ws_release_release(&r);
	return ret ? fail(ret, &msg, "export failed") : 0;
}

struct trust_ctx {
	struct cli *c;
	const struct ws_pubkey *publisher;
};

/* The bundle names its own key: only an explicit trust decision admits it. */
static int accept_publisher(void *vctx, const struct ws_manifest *m, char **msg)
{
	struct trust_ctx *t = vctx;
	char b64[WS_PUBKEY_B64_LEN + 1];

	if (t->publisher)
		return ws_pubkey_equal(t->publisher, &m->publisher) ? 0 :
			ws_seterr(msg, WS_EUNTRUSTED, "the bundle is signed by another key "
				  "than --publisher");
	if (ws_index_trust_check(t->c->store->index, m->name, m->publisher.pk) == 0)
		return 0;
	ws_pubkey_to_b64(&m->publisher, b64);
	return ws_seterr(msg, WS_EUNTRUSTED, "publisher %s is not trusted for '%s': trust "
			 "it with 'weightsync trust add %s %s' or pass --publisher",
			 b64, m->name, m->name, b64);
}

const struct cli_option import_options[] = {
	{ "publisher", 0, 'P', required_argument, "KEY",
	  "the publisher key (base64 or .pub file) instead of the trusted one" },
	{ "json", 0, 'j', no_argument, NULL, "print the result as JSON" },
	{ NULL, 0, 0, 0, NULL, NULL },
};

int cmd_import(struct cli *c, int argc, char **argv)
{
	struct opts op;
	int id;
	const char *file = NULL;
	struct ws_pubkey pk;
	struct trust_ctx t = { c, NULL };
	struct ws_bundle_import b;
	char *msg = NULL, sz[16];
	int json = 0, ret;

	opts_init(&op, "import", import_options, argc, argv, 0);
	while ((id = opts_next(&op)) > 0) {
		if (id == 'j') {
			json = 1;
		} else {
			if (parse_pubkey_arg(op.arg, &pk))
				return EXIT_ERROR;
			t.publisher = &pk;
		}
	}
	if (id < 0)
		return EXIT_ERROR;
	if (op.ind + 1 != argc)
		return usage_error("import", op.ind == argc ? "expected a bundle FILE" :
				   "expected one FILE");
	file = argv[op.ind];
	ret = ws_bundle_import(c->store, file, accept_publisher, &t, &b, &msg);
	if (ret) {
		/* a hostile or broken bundle failed a check, like a bad
		 * signature; only not being able to read it is exit 2 */
		int st = fail(ret, &msg, "import failed");
		if (ret == WS_EPATH || ret == WS_EFORMAT || ret == WS_ETOOBIG)
			st = EXIT_VERIFY;
		return st;
	}
	if (warn_if_equivocated(c, b.m.publisher.pk, b.m.name)) {
		ws_bundle_import_release(&b);
		return EXIT_ERROR;
	}
	if (json) {
		char *folder = ws_store_path(c->store, b.relpath);
		json_t *o = json_pack("{s:s, s:I, s:s, s:b, s:I}", "name", b.m.name,
				      "version", (json_int_t)b.m.version, "path", folder,
				      "already_complete", b.already, "bytes", (json_int_t)b.bytes);
		json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
		json_decref(o);
		free(folder);
	} else {
		fprintf(stderr, "weightsync: %s@%lld %s (%s verified)\n", b.m.name,
			(long long)b.m.version, b.already ? "is already in the store" : "imported",
			human_size(b.bytes, sz));
		char *folder = ws_store_path(c->store, b.relpath);
		print_path(folder);
		free(folder);
	}
	ws_bundle_import_release(&b);
	return 0;
}
