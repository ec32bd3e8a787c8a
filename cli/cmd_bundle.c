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
			printf("%s\n", snap);
		}
		ws_manifest_release(&m);
	}
	free(snap);
	free(folder);
	return ret;
}

int cmd_export(struct cli *c, int argc, char **argv)
{
	const char *ref = NULL, *out = NULL, *hub = NULL;
	char name[WS_NAME_MAX + 1], *msg = NULL, sz[16];
	struct ws_pubkey pk;
	struct ws_release r;
	int64_t version;
	uint64_t bytes;
	int ret;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-o") && i + 1 < argc)
			out = argv[++i];
		else if (!strcmp(argv[i], "--hf-cache") && i + 1 < argc)
			hub = argv[++i];
		else if (!ref)
			ref = argv[i];
		else
			return usage_error("export", "expected NAME[@V] -o FILE or --hf-cache DIR");
	}
	if (!ref || !out == !hub)
		return usage_error("export", "expected NAME[@V] -o FILE or --hf-cache DIR");
	if (parse_ref(ref, name, &version) || resolve_publisher(c, name, &pk))
		return EXIT_ERROR;
	if (ws_index_get(c->store->index, pk.pk, name, version, &r)) {
		err("no %s of '%s' in this store", version ? "such version" : "release", name);
		return EXIT_ERROR;
	}
	if (!r.complete) {
		err("'%s@%lld' is not complete in this store", name, (long long)r.version);
		ws_release_release(&r);
		return EXIT_ERROR;
	}
	warn_if_equivocated(c, pk.pk, name);
	if (hub) {
		ret = hf_export(c, &r, hub, &msg);
		ws_release_release(&r);
		return ret ? fail(ret, &msg, "export failed") : 0;
	}
	ret = ws_bundle_export(c->store, &r, out, &bytes, &msg);
	if (ret == 0)
		fprintf(stderr, "weightsync: exported %s@%lld (%s) to '%s'\n", name,
			(long long)r.version, human_size(bytes, sz), out);
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

int cmd_import(struct cli *c, int argc, char **argv)
{
	const char *file = NULL;
	struct ws_pubkey pk;
	struct trust_ctx t = { c, NULL };
	struct ws_bundle_import b;
	char *msg = NULL, sz[16];
	int json = 0, ret;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--publisher") && i + 1 < argc) {
			if (parse_pubkey_arg(argv[++i], &pk))
				return EXIT_ERROR;
			t.publisher = &pk;
		} else if (!strcmp(argv[i], "--json")) {
			json = 1;
		} else if (!file) {
			file = argv[i];
		} else {
			return usage_error("import", "expected one FILE");
		}
	}
	if (!file)
		return usage_error("import", "expected a bundle FILE");
	ret = ws_bundle_import(c->store, file, accept_publisher, &t, &b, &msg);
	if (ret) {
		/* a hostile or broken bundle failed a check, like a bad
		 * signature; only not being able to read it is exit 2 */
		int st = fail(ret, &msg, "import failed");
		if (ret == WS_EPATH || ret == WS_EFORMAT || ret == WS_ETOOBIG)
			st = EXIT_VERIFY;
		return st;
	}
	warn_if_equivocated(c, b.m.publisher.pk, b.m.name);
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
		printf("%s\n", folder);
		free(folder);
	}
	ws_bundle_import_release(&b);
	return 0;
}
