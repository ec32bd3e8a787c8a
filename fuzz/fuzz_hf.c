/* fuzz_hf.c - what a Hugging Face folder says about its files, checked at
 * publish: the first byte picks
 *   0  the rest is .cache/huggingface/download/<path>.metadata (local-dir)
 *   1  the rest is the target of a snapshot symlink (cache layout)
 * and ws_hf_check_file checks the fixture's config.json against it. */
#include "fixture.h"
#include "store/hf.h"

static char *dir, *meta, *file, *target;
static uint8_t sha[32];
static uint64_t size;

static void setup(void)
{
	struct ws_hash_file h = { 0 };
	char *p;

	dir = fx_tmpdir("hf");
	p = xasprintf("%s/.cache", dir);
	mkdir(p, 0755);
	free(p);
	p = xasprintf("%s/.cache/huggingface", dir);
	mkdir(p, 0755);
	free(p);
	p = xasprintf("%s/.cache/huggingface/download", dir);
	mkdir(p, 0755);
	free(p);
	meta = xasprintf("%s/.cache/huggingface/download/config.json.metadata", dir);
	file = xasprintf("%s/config.json", dir);
	target = xasprintf("%s/blob", dir);
	fx_write(target, fx_files[0].data, fx_files[0].len);
	h.path = target;
	h.want_sha256 = 1;
	h.sha256_only = 1;
	if (ws_hash_files(&h, 1, 1, NULL, NULL) || h.error)
		fx_die("hash");
	memcpy(sha, h.sha256, 32);
	size = h.size;
	ws_hash_file_release(&h);
	/* a cache blob named by its SHA-256, for links to "blobs/<hex>" */
	p = xasprintf("%s/blobs", dir);
	mkdir(p, 0755);
	free(p);
	{
		char hex[65];
		for (int i = 0; i < 32; i++)
			sprintf(hex + 2 * i, "%02x", sha[i]);
		p = xasprintf("%s/blobs/%s", dir, hex);
		fx_write(p, fx_files[0].data, fx_files[0].len);
		free(p);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char *msg = NULL, *text;

	if (!dir)
		setup();
	if (len < 1)
		return 0;
	unlink(file);
	unlink(meta);
	if (data[0] & 1) {
		text = xmalloc(len);
		memcpy(text, data + 1, len - 1);
		text[len - 1] = '\0';
		if (!*text || symlink(text, file)) {
			free(text);
			return 0;
		}
		free(text);
	} else {
		fx_write(file, fx_files[0].data, fx_files[0].len);
		fx_write(meta, data + 1, len - 1);
	}
	fx_note("hf_check_file", ws_hf_check_file(dir, "config.json", size, sha, &msg), msg);
	free(msg);
	return 0;
}
