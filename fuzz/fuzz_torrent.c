/* fuzz_torrent.c - a .torrent handed over by peers, checked against the
 * signed manifest before any model data is asked for.
 *
 * The check is ws_fetch_check_manifest() (node/fetch_check.c), with the
 * static check_meta_files() of node/fetch.c before it, as ws_fetch_run
 * calls them; that file is included to reach it: the harness runs the very
 * code a fetch runs, not a copy.  The torrent is parsed by libtorrent through the shim (ws_lt_add,
 * paused, no file wanted) and listed with ws_lt_files, as after a magnet's
 * metadata arrives.  The manifest and signature are the fixture's (what a
 * fetch would have downloaded first), so a mutated torrent is checked
 * against a manifest that verifies; only a torrent whose files agree with
 * the manifest may pass. */
#include "fixture.h"
#include "node/fetch.c"

static ws_lt_session *ses;
static char *rel, *save, *home;
static struct ws_store *st;
static struct ws_pubkey pub;

static void setup(void)
{
	struct ws_hash_file h[FX_NFILES];
	struct ws_lt_config cfg = { .listen = "127.0.0.1:0", .private_network = 1 };
	struct ws_seckey *sk = fx_key();
	char *manifest = NULL, *sig = NULL, *msg = NULL, *base;
	size_t mlen;

	base = fx_tmpdir("torrent");
	rel = xasprintf("%s/release", base);
	save = xasprintf("%s/save", base);
	home = xasprintf("%s/home", base);
	mkdir(rel, 0755);
	mkdir(save, 0755);
	fx_release(rel, &manifest, &mlen, &sig, h);
	for (size_t i = 0; i < FX_NFILES; i++) {
		free((char *)h[i].path);
		ws_hash_file_release(&h[i]);
	}
	free(manifest);
	free(sig);
	ws_seckey_public(sk, &pub);
	ws_seckey_free(sk);
	if (ws_store_open(home, &st, &msg))
		fx_die(msg ? msg : "store open");
	if (ws_lt_session_new(&cfg, &ses, &msg))
		fx_die(msg ? msg : "session");
	free(base);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct ws_fetch_opts o;
	struct ws_fetch_result res;
	struct fetch f;
	char *msg = NULL;
	int ret;

	if (!ses)
		setup();
	memset(&o, 0, sizeof(o));
	memset(&res, 0, sizeof(res));
	memset(&f, 0, sizeof(f));
	o.publisher = &pub;
	f.st = st;
	f.o = &o;
	f.res = &res;
	f.ses = ses;
	f.msg = &msg;
	f.data = rel;
	/* removal is asynchronous: the same info-hash may still be there */
	for (int tries = 0;; tries++) {
		ws_lt_wait(ses, 0);
		ret = ws_lt_add(ses, data, len, save, NULL, 0,
				WS_LT_PAUSED | WS_LT_NO_FILES, &f.t, &msg);
		if (ret != WS_EEXIST || tries == 20)
			break;
		free(msg);
		msg = NULL;
		ws_lt_wait(ses, 10);
	}
	if (ret) {
		fx_note("ws_lt_add", ret, msg);
		goto out;
	}
	if (ws_lt_files(f.t, f.top, sizeof(f.top), &f.files, &f.nfiles))
		goto out;
	ret = check_meta_files(&f);
	if (ret == 0)
		ret = ws_fetch_check_manifest(&f);
	fx_note("torrent check", ret, msg);
	if (ret == 0) {
		/* accepted: then every manifest file is in the torrent with
		 * its size and root */
		for (size_t i = 0; i < res.m.nfiles; i++) {
			const struct ws_lt_file_info *fi = find_file(&f, res.m.files[i].path);
			if (!fi || fi->size != res.m.files[i].size)
				abort();
		}
		ws_manifest_release(&res.m);
	}
out:
	if (f.files)
		ws_lt_files_free(f.files, f.nfiles);
	if (f.t)
		ws_lt_remove(f.t);
	free(f.manifest);
	free(f.sig);
	free(msg);
	return 0;
}
