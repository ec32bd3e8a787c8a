/* fuzz_bundle.c - offline bundles: the input is the bundle file (tar, or
 * whatever libarchive recognises) imported into a fresh temporary home
 * through ws_bundle_import, the path `weightsync import` takes.  Every
 * publisher is accepted (the trust decision is not what is fuzzed).  An
 * import that fails must leave no release in the index. */
#include "fixture.h"
#include "store/bundle.h"
#include "store/index.h"

static char *base;

static int accept_all(void *ctx, const struct ws_manifest *m, char **msg)
{
	(void)ctx; (void)m; (void)msg;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct ws_bundle_import b;
	struct ws_store *st = NULL;
	struct ws_release *rels = NULL;
	char *home, *path, *msg = NULL;
	size_t n = 0;
	int ret;

	if (!base)
		base = fx_tmpdir("bundle");
	home = xasprintf("%s/home", base);
	path = xasprintf("%s/in.tar", base);
	fx_rmrf(home);
	fx_write(path, data, len);
	if (ws_store_open(home, &st, &msg))
		fx_die(msg ? msg : "store open");
	memset(&b, 0, sizeof(b));
	ret = ws_bundle_import(st, path, accept_all, NULL, &b, &msg);
	fx_note("bundle_import", ret, msg);
	free(msg);
	msg = NULL;
	if (ws_index_list(st->index, NULL, NULL, &rels, &n) == 0) {
		if (ret && n)
			abort();    /* a refused bundle left a release behind */
		ws_releases_free(rels, n);
	}
	if (ret == 0)
		ws_bundle_import_release(&b);
	ws_store_free(st);
	fx_rmrf(home);
	free(home);
	free(path);
	return 0;
}
