/* publish.c - sign a model folder into a release (see publish.h) */
#include "publish.h"
#include "hf.h"
#include "walk.h"
#include "proto/error.h"
#include "proto/merkle.h"
#include "proto/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Decide the version and previous-manifest hash before any hashing, so a
 * version the chain would refuse costs nothing. */
static int plan_version(struct ws_store *st, struct ws_publish *p,
			const struct ws_pubkey *pk, char **msg)
{
	struct ws_release top;
	int64_t next = 1;
	int ret = ws_index_get(st->index, pk->pk, p->name, 0, &top);

	if (ret && ret != WS_ENOTFOUND)
		return ws_seterr(msg, ret, "cannot read the index: %s", ws_strerror(ret));
	if (ret == 0) {
		next = top.version + 1;
		memcpy(p->m.previous, top.mhash, 32);
		p->m.has_previous = 1;
		ws_release_release(&top);
	}
	if (p->version == 0)
		p->version = next;
	if (p->version < next)
		return ws_seterr(msg, WS_EROLLBACK,
				 "'%s' version %lld is already published; the next version is %lld",
				 p->name, (long long)p->version, (long long)next);
	if (p->version > next)
		return ws_seterr(msg, WS_EGAP,
				 next == 1 ? "'%s' has no version %lld in this store to follow"
					   : "'%s' version %lld would skip the chain; the next version is %lld",
				 p->name, (long long)(next == 1 ? p->version - 1 : p->version),
				 (long long)next);
	p->m.version = p->version;
	return 0;
}

static int cmp_hashed(const void *a, const void *b)
{
	const struct ws_hash_file *x = *(const struct ws_hash_file *const *)a;
	const struct ws_hash_file *y = *(const struct ws_hash_file *const *)b;
	return strcmp(x->path, y->path);
}

/* Copy the caller's hashes of the staged file h (relative path rel) into h,
 * if it has usable ones (see publish.h).  Returns 1 when it did. */
static int take_hashed(const struct ws_publish *p, struct ws_hash_file **sorted, size_t ns,
		       const char *rel, struct ws_hash_file *h)
{
	struct ws_hash_file key = { .path = rel }, *kp = &key, **hit;
	const struct ws_hash_file *k;
	struct stat st;

	hit = ns ? bsearch(&kp, sorted, ns, sizeof(*sorted), cmp_hashed) : NULL;
	if (!hit)
		return 0;
	k = *hit;
	if (k->error || !k->want_sha256 || k->sha256_only || !k->v1_pad_last ||
	    k->v1_piece_size != p->piece_size || stat(h->path, &st) < 0 ||
	    (uint64_t)st.st_size != k->size)
		return 0;
	h->error = 0;
	h->size = k->size;
	memcpy(h->sha256, k->sha256, 32);
	memcpy(h->root, k->root, 32);
	h->chunk_size = k->chunk_size;
	h->nchunks = k->nchunks;
	h->chunks = xmalloc((k->nchunks ? k->nchunks : 1) * 32);
	memcpy(h->chunks, k->chunks, k->nchunks * 32);
	h->nv1 = k->nv1;
	h->v1 = k->nv1 ? xmalloc(k->nv1 * 20) : NULL;
	if (k->nv1)
		memcpy(h->v1, k->v1, k->nv1 * 20);
	return 1;
}

/* Fill p->hashes[0..n) (paths[i] relative to the staging folder): from
 * p->hashed where it can, the rest hashed from the staged files on every
 * core.  Returns 0, or the hasher's failure to start. */
static int hash_staged(struct ws_publish *p, char **paths, size_t n)
{
	struct ws_hash_file **sorted = xcalloc(p->nhashed + 1, sizeof(*sorted));
	struct ws_hash_file *unhashed = xcalloc(n + 1, sizeof(*unhashed));
	size_t *at = xcalloc(n + 1, sizeof(*at)), ns = 0, nt = 0;
	int ret;

	for (size_t k = 0; k < p->nhashed; k++)
		if (p->hashed[k].path)
			sorted[ns++] = (struct ws_hash_file *)&p->hashed[k];
	qsort(sorted, ns, sizeof(*sorted), cmp_hashed);
	for (size_t i = 0; i < n; i++) {
		if (take_hashed(p, sorted, ns, paths[i], &p->hashes[i]))
			continue;
		unhashed[nt] = p->hashes[i];
		at[nt++] = i;
	}
	ret = nt ? ws_hash_files(unhashed, nt, 0, p->progress, p->progress_ctx) : 0;
	/* the results (and their memory) go back in manifest order */
	for (size_t t = 0; t < nt; t++)
		p->hashes[at[t]] = unhashed[t];
	free(sorted);
	free(unhashed);
	free(at);
	return ret;
}

int ws_publish_run(struct ws_store *st, struct ws_publish *p, char **msg)
{
	struct ws_pubkey pk;
	char **paths = NULL, *stage = NULL;
	char tc[WS_TRUSTED_COMMENT_MAX];
	uint8_t mhash[32];
	size_t n = 0;
	int ret;

	ws_manifest_init(&p->m);
	if (ws_name_check(p->name))
		return ws_seterr(msg, WS_ENAME, "invalid release name '%s': use 1 to 48 "
				 "characters from a-z 0-9 . _ - starting with a letter or digit",
				 p->name);
	ws_seckey_public(p->sk, &pk);
	/* From choosing the version to the commit, no other publish of this
	 * name on this home may choose: it would choose the same version, and
	 * two manifests signed for one version are an equivocation.  A crash
	 * of an earlier holder may have left a commit to finish first. */
	if ((ret = ws_name_lock(st, pk.pk, p->name, &p->lock))) {
		ws_seterr(msg, ret, "cannot lock '%s' for publishing in '%s': %s",
			  p->name, st->home, ws_strerror(ret));
		goto fail;
	}
	ws_store_recover(st, pk.pk, p->name);
	p->m.publisher = pk;
	snprintf(p->m.name, sizeof(p->m.name), "%s", p->name);
	p->m.created = p->created ? p->created : ws_now();
	p->m.retracted = p->retracted;
	if (p->origin)
		p->m.origin = xstrdup(p->origin);
	if (p->license)
		p->m.license = xstrdup(p->license);
	/* a Hugging Face snapshot says where it came from */
	if (!p->origin)
		p->m.origin = ws_hf_origin(p->dir);
	if ((ret = plan_version(st, p, &pk, msg)))
		goto fail;
	if ((ret = ws_walk(p->dir, 1, &paths, &n, msg)))
		goto fail;
	if (n == 0) {
		ret = ws_seterr(msg, WS_ENOTFOUND, "'%s' has no files to publish", p->dir);
		goto fail;
	}
	if (p->for_swarm) {
		/* from the sources: a file that changes before it is staged
		 * only makes the piece size a little less apt */
		uint64_t *sizes = xcalloc(n, sizeof(*sizes));
		struct stat sb;
		for (size_t i = 0; i < n; i++) {
			char *src = xasprintf("%s/%s", p->dir, paths[i]);
			if (stat(src, &sb) == 0)
				sizes[i] = (uint64_t)sb.st_size;
			free(src);
		}
		p->piece_size = ws_piece_size_for_files(sizes, n);
		free(sizes);
	}
	if ((ret = ws_store_stage(st, &stage, msg)))
		goto fail;
	p->hashes = xcalloc(n, sizeof(*p->hashes));
	p->nhashes = n;
	for (size_t i = 0; i < n; i++) {
		char *src = xasprintf("%s/%s", p->dir, paths[i]);
		char *dst = xasprintf("%s/%s", stage, paths[i]);
		ret = ws_store_link_file(src, dst, p->copy, msg);
		free(src);
		p->hashes[i].path = dst;
		p->hashes[i].want_sha256 = 1;
		p->hashes[i].v1_piece_size = p->piece_size;
		/* a release torrent always holds several files (the manifest
		 * too), and then libtorrent pads every file to a piece */
		p->hashes[i].v1_pad_last = 1;
		if (ret)
			goto fail;
	}
	/* hash what is staged, not the source: what is signed is what is kept
	 * (or what the caller hashed as it wrote it: take_hashed) */
	if ((ret = hash_staged(p, paths, n))) {
		ws_seterr(msg, ret, "cannot start hashing: %s", ws_strerror(ret));
		goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		if (p->hashes[i].error) {
			ret = ws_seterr(msg, p->hashes[i].error, "cannot hash '%s': %s",
					paths[i], p->hashes[i].error == -EIO ?
					"the file changed while it was read" :
					ws_strerror(p->hashes[i].error));
			goto fail;
		}
		/* what Hugging Face named the file by must be its content */
		if ((ret = ws_hf_check_file(p->dir, paths[i], p->hashes[i].size,
					    p->hashes[i].sha256, msg)))
			goto fail;
		if ((ret = ws_manifest_add_file(&p->m, paths[i], p->hashes[i].size,
						p->hashes[i].sha256, p->hashes[i].root)))
			goto fail;
	}
	if ((ret = ws_manifest_serialize(&p->m, &p->manifest, &p->manifest_len, msg)))
		goto fail;
	ws_manifest_hash(p->manifest, p->manifest_len, mhash);
	ws_manifest_trusted_comment(&p->m, mhash, tc);
	if ((ret = ws_sig_sign(p->sk, (const uint8_t *)p->manifest, p->manifest_len,
			       tc, &p->sig))) {
		ws_seterr(msg, ret, "cannot sign the manifest: %s", ws_strerror(ret));
		goto fail;
	}
	p->sig_len = strlen(p->sig);
	if ((ret = ws_store_write_meta(stage, p->manifest, p->manifest_len, p->sig,
				       p->sig_len, msg)))
		goto fail;
	p->relpath = ws_store_release_relpath(pk.pk, p->m.name, p->m.version);
	p->stage = stage;
	ws_walk_free(paths, n);
	return 0;
fail:
	if (stage)
		ws_rm_rf(stage);
	ws_walk_free(paths, n);
	free(stage);
	ws_publish_release(p);
	return ret;
}

int ws_publish_commit(struct ws_store *st, struct ws_publish *p,
		      const uint8_t *torrent, size_t torrent_len,
		      const uint8_t v2[32], const uint8_t v1[20],
		      const struct ws_pointer *ptrs, size_t nptrs, int add_trust,
		      char **msg)
{
	struct ws_journal j;
	int ret, kept = 0;

	memset(&j, 0, sizeof(j));
	j.stage = p->stage;
	j.relpath = p->relpath;
	j.manifest = p->manifest;
	j.mlen = p->manifest_len;
	j.sig = p->sig;
	j.slen = p->sig_len;
	if (torrent) {
		j.torrent = torrent;
		j.torrent_len = torrent_len;
		memcpy(j.v2, v2, 32);
		memcpy(j.v1, v1, 20);
	}
	j.ptrs = ptrs;
	j.nptrs = nptrs;
	j.add_trust = add_trust;
	ret = ws_journal_commit(st, &j, &kept, msg);
	/* committed, refused (and undone) or left to recovery: in each case
	 * the staging folder is no longer ours to remove */
	if (ret == 0 || kept) {
		free(p->stage);
		p->stage = NULL;
	}
	if (ret && kept && msg && *msg) {
		char *m2 = xasprintf("%s (the release is committed: the next command "
				     "that opens the home finishes the publish)", *msg);
		free(*msg);
		*msg = m2;
	}
	ws_name_unlock(p->lock);
	p->lock = NULL;
	return ret;
}

void ws_publish_release(struct ws_publish *p)
{
	if (p->stage)
		ws_rm_rf(p->stage);
	free(p->stage);
	p->stage = NULL;
	ws_name_unlock(p->lock);
	p->lock = NULL;
	for (size_t i = 0; i < p->nhashes; i++) {
		ws_hash_file_release(&p->hashes[i]);
		free((char *)p->hashes[i].path);
	}
	free(p->hashes);
	p->hashes = NULL;
	p->nhashes = 0;
	ws_manifest_release(&p->m);
	free(p->manifest);
	free(p->sig);
	free(p->relpath);
	p->manifest = p->sig = p->relpath = NULL;
}
