/* hf.c - Hugging Face snapshot and local-dir checks (see hf.h) */
#include "hf.h"
#include "store.h"
#include "proto/error.h"
#include "proto/manifest.h"
#include "proto/merkle.h"
#include "proto/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int ws_hf_is_hex(const char *s, size_t n)
{
	if (strlen(s) != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

char *ws_hf_origin(const char *dir)
{
	char real[PATH_MAX], *commit, *snaps, *repo, *sep, *out = NULL;

	if (!realpath(dir, real))
		return NULL;
	commit = strrchr(real, '/');
	if (!commit || !ws_hf_is_hex(commit + 1, 40))
		return NULL;
	*commit++ = '\0';
	snaps = strrchr(real, '/');
	if (!snaps || strcmp(snaps + 1, "snapshots"))
		return NULL;
	*snaps = '\0';
	repo = strrchr(real, '/');
	if (!repo || strncmp(repo + 1, "models--", 8))
		return NULL;
	repo += 1 + 8;
	/* the cache writes "ORG/NAME" as "ORG--NAME" */
	sep = strstr(repo, "--");
	if (sep && sep != repo && sep[2])
		out = xasprintf("hf://%.*s/%s@%s", (int)(sep - repo), repo, sep + 2, commit);
	else if (!sep && *repo)
		out = xasprintf("hf://%s@%s", repo, commit);
	return out;
}

/* git's blob id: SHA-1 of "blob <size>\0" and the content */
int ws_hf_git_blob_id(const char *path, uint64_t size, uint8_t out[20])
{
	ws_sha *h = ws_sha1_new();
	char head[64], buf[65536];
	int fd = open(path, O_RDONLY | O_CLOEXEC), n, ret = 0;
	ssize_t r;

	if (fd < 0) {
		ws_sha_free(h);
		return -errno;
	}
	n = snprintf(head, sizeof(head), "blob %llu", (unsigned long long)size);
	ws_sha_update(h, head, (size_t)n + 1);
	while ((r = read(fd, buf, sizeof(buf))) > 0)
		ws_sha_update(h, buf, (size_t)r);
	if (r < 0)
		ret = -errno;
	ws_sha_final(h, out);
	ws_sha_free(h);
	close(fd);
	return ret;
}

/* Check a 64-hex (SHA-256) or 40-hex (git SHA-1) name against the file. */
static int check_name(const char *file, const char *name, uint64_t size,
		      const uint8_t sha256[32], const char *what, const char *path,
		      char **msg)
{
	uint8_t want[32], sha1[20];

	if (ws_hf_is_hex(name, 64)) {
		ws_unhex(name, want, 32);
		if (memcmp(want, sha256, 32))
			return ws_seterr(msg, WS_EBADHASH, "'%s': its %s names SHA-256 %.16s..., "
					 "the content differs", path, what, name);
	} else if (ws_hf_is_hex(name, 40)) {
		ws_unhex(name, want, 20);
		if (ws_hf_git_blob_id(file, size, sha1) || memcmp(want, sha1, 20))
			return ws_seterr(msg, WS_EBADHASH, "'%s': its %s names git blob %.12s..., "
					 "the content differs", path, what, name);
	}
	return 0;
}

int ws_hf_check_file(const char *dir, const char *path, uint64_t size,
		     const uint8_t sha256[32], char **msg)
{
	char *file = xasprintf("%s/%s", dir, path), target[PATH_MAX];
	char *meta = xasprintf("%s/.cache/huggingface/download/%s.metadata", dir, path);
	char *text = NULL;
	size_t len;
	ssize_t n;
	int ret = 0;

	n = readlink(file, target, sizeof(target) - 1);
	if (n > 0) {
		/* a snapshot link into blobs/: the blob's name is its hash */
		target[n] = '\0';
		const char *base = strrchr(target, '/');
		base = base ? base + 1 : target;
		if (strstr(target, "blobs/"))
			ret = check_name(file, base, size, sha256, "blob name", path, msg);
	} else if (ws_read_file(meta, 4096, &text, &len) == 0) {
		/* local-dir metadata: commit, then etag, then a time */
		char *l2 = strchr(text, '\n');
		if (l2) {
			char *end = strchr(++l2, '\n');
			if (end)
				*end = '\0';
			if (ws_hf_is_hex(l2, 64))
				ret = check_name(file, l2, size, sha256, "download etag", path, msg);
		}
	}
	free(text);
	free(meta);
	free(file);
	return ret;
}

char *ws_hf_default_hub(void)
{
	const char *v;
	if ((v = getenv("HF_HUB_CACHE")) && *v)
		return xstrdup(v);
	if ((v = getenv("HF_HOME")) && *v)
		return xasprintf("%s/hub", v);
	if ((v = getenv("HOME")) && *v)
		return xasprintf("%s/.cache/huggingface/hub", v);
	return NULL;
}

/* weights go to LFS on the hub (its default .gitattributes), and so does
 * anything large */
static int lfs_style(const char *path, uint64_t size)
{
	static const char *const ext[] = { ".safetensors", ".bin", ".gguf", ".pt",
		".pth", ".ckpt", ".h5", ".onnx", ".msgpack", ".model", ".npy", ".npz",
		".tflite", ".ot", ".pb", ".zip", ".gz", ".zst", ".tar", ".pkl", ".joblib",
		".parquet", ".arrow", NULL };
	size_t n = strlen(path);
	if (size >= (10u << 20))
		return 1;
	for (int i = 0; ext[i]; i++) {
		size_t e = strlen(ext[i]);
		if (n > e && !strcmp(path + n - e, ext[i]))
			return 1;
	}
	return 0;
}

static int hub_ids(const struct ws_manifest *m, const uint8_t mhash[32],
		   char repo[256], char commit[41])
{
	const char *o = m->origin, *at, *slash;
	if (o && !strncmp(o, "hf://", 5) && (at = strrchr(o, '@')) && ws_hf_is_hex(at + 1, 40) &&
	    (slash = strchr(o + 5, '/')) && slash < at && (size_t)(at - o - 5) < 200) {
		snprintf(repo, 256, "models--%.*s--%.*s", (int)(slash - o - 5), o + 5,
			 (int)(at - slash - 1), slash + 1);
		memcpy(commit, at + 1, 41);
		return 0;
	}
	snprintf(repo, 256, "models--weightsync--%s", m->name);
	ws_hex(mhash, 20, commit);
	return 0;
}

int ws_hf_layout(const char *folder, const struct ws_manifest *m,
		 const uint8_t mhash[32], const char *hub, char **snapshot,
		 char **msg)
{
	char repo[256], commit[41], *base, *snap, *p;
	int ret = 0;

	hub_ids(m, mhash, repo, commit);
	base = xasprintf("%s/%s", hub, repo);
	snap = xasprintf("%s/snapshots/%s", base, commit);
	p = xasprintf("%s/blobs", base);
	if ((ret = ws_mkdir_p(p)) || (ret = ws_mkdir_p(snap))) {
		ws_seterr(msg, ret, "cannot create '%s': %s", base, ws_strerror(ret));
		goto out;
	}
	free(p);
	p = NULL;
	for (size_t i = 0; i < m->nfiles && !ret; i++) {
		const struct ws_manifest_file *f = &m->files[i];
		char id[65], *src = xasprintf("%s/%s", folder, f->path), *blob, *lnk, *target;
		struct stat sb;
		if (lfs_style(f->path, f->size)) {
			ws_hex(f->sha256, 32, id);
		} else {
			uint8_t sha1[20];
			if ((ret = ws_hf_git_blob_id(src, f->size, sha1)) < 0) {
				ws_seterr(msg, ret, "cannot read '%s': %s", src, ws_strerror(ret));
				free(src);
				break;
			}
			ws_hex(sha1, 20, id);
		}
		blob = xasprintf("%s/blobs/%s", base, id);
		lnk = xasprintf("%s/%s", snap, f->path);
		/* ../../blobs/<id>, one more ../ per folder level of the path */
		size_t depth = 0;
		for (const char *c = f->path; *c; c++)
			depth += *c == '/';
		target = xstrdup("../../");
		for (size_t d = 0; d < depth; d++) {
			char *t = xasprintf("../%s", target);
			free(target);
			target = t;
		}
		char *full = xasprintf("%sblobs/%s", target, id);
		if (lstat(blob, &sb) != 0)
			ret = ws_store_link_file(src, blob, 0, msg);
		if (!ret) {
			char *dir = xstrdup(lnk);
			*strrchr(dir, '/') = '\0';
			ws_mkdir_p(dir);
			free(dir);
			unlink(lnk);
			if (symlink(full, lnk) < 0)
				ret = ws_seterr(msg, -errno, "cannot link '%s': %s", lnk, strerror(errno));
		}
		free(full);
		free(target);
		free(blob);
		free(lnk);
		free(src);
	}
	if (!ret) {
		p = xasprintf("%s/refs", base);
		ws_mkdir_p(p);
		free(p);
		p = xasprintf("%s/refs/main", base);
		if ((ret = ws_write_file_atomic(p, commit, 40, 0644, 0)))
			ws_seterr(msg, ret, "cannot write '%s': %s", p, ws_strerror(ret));
	}
	if (!ret) {
		*snapshot = snap;
		snap = NULL;
	}
out:
	free(p);
	free(snap);
	free(base);
	return ret;
}
