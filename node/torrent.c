/* torrent.c - build and find release torrents (see torrent.h) */
#include "torrent.h"
#include "lt.h"
#include "proto/error.h"
#include "proto/link.h"
#include "proto/merkle.h"
#include "proto/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One torrent file from its hashes; a file of more than one piece gets its
 * v2 piece layer in *layer (malloc'd, the caller frees it). */
static int lt_file_from_hashes(struct ws_lt_file *f, const char *path,
			       const struct ws_hash_file *h, uint64_t piece_size,
			       uint8_t (**layer)[32], char **msg)
{
	int ret;

	f->path = path;
	f->size = h->size;
	f->pieces_root = h->root;
	f->v1_pieces = (const uint8_t *)h->v1;
	if (h->size <= piece_size)
		return 0;
	*layer = xcalloc((h->size + piece_size - 1) / piece_size, 32);
	if ((ret = ws_merkle_piece_layer((const uint8_t (*)[32])h->chunks, h->nchunks,
					 h->chunk_size, h->size, piece_size, *layer)))
		return ws_seterr(msg, ret, "cannot build the piece layer of '%s'", path);
	f->v2_pieces = (const uint8_t *)*layer;
	return 0;
}

int ws_torrent_from_publish(struct ws_store *st, const struct ws_publish *p,
			    const char *const *web_seeds, size_t n_web_seeds,
			    struct ws_release_torrent *out, char **msg)
{
	const size_t n = p->m.nfiles;
	struct ws_lt_file *files = xcalloc(n + 2, sizeof(*files));
	uint8_t (**layers)[32] = xcalloc(n + 2, sizeof(*layers));
	struct ws_hash_file meta[2];
	/* before the commit the release is still in its staging folder */
	char *folder = p->stage ? xstrdup(p->stage) : ws_store_path(st, p->relpath), *name;
	uint8_t mhash[32];
	int ret;

	memset(out, 0, sizeof(*out));
	memset(meta, 0, sizeof(meta));
	if (!p->piece_size) {
		ret = ws_seterr(msg, -EINVAL, "release was not hashed for the swarm");
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if ((ret = lt_file_from_hashes(&files[i], p->m.files[i].path, &p->hashes[i],
					       p->piece_size, &layers[i], msg)))
			goto out;
	/* the manifest and its signature travel in the torrent too: a fetch
	 * gets them first and checks them before asking for model data */
	meta[0].path = xasprintf("%s/" WS_MANIFEST_FILE, folder);
	meta[1].path = xasprintf("%s/" WS_SIG_FILE, folder);
	for (int i = 0; i < 2; i++) {
		meta[i].v1_piece_size = p->piece_size;
		meta[i].v1_pad_last = 1;
	}
	if ((ret = ws_hash_files(meta, 2, 1, NULL, NULL)) ||
	    (ret = meta[0].error) || (ret = meta[1].error)) {
		ws_seterr(msg, ret, "cannot hash the manifest files: %s", ws_strerror(ret));
		goto out;
	}
	/* with small pieces a big release's manifest is several pieces: it
	 * needs a piece layer like any file */
	for (int i = 0; i < 2; i++)
		if ((ret = lt_file_from_hashes(&files[n + i], i ? WS_SIG_FILE : WS_MANIFEST_FILE,
					       &meta[i], p->piece_size, &layers[n + i], msg)))
			goto out;
	name = strrchr(p->relpath, '/') + 1;
	if ((ret = ws_lt_torrent_build(files, n + 2, (uint32_t)p->piece_size, name,
				       web_seeds, n_web_seeds, &out->torrent,
				       &out->len, out->v2, out->v1, msg)))
		goto out;
	ws_manifest_hash(p->manifest, p->manifest_len, mhash);
	out->link = ws_link_format(out->v1, out->v2, &p->m.publisher, p->m.name,
				   p->m.version, mhash);
out:
	for (size_t i = 0; i < n + 2; i++)
		free(layers[i]);
	for (int i = 0; i < 2; i++) {
		ws_hash_file_release(&meta[i]);
		free((char *)meta[i].path);
	}
	free(layers);
	free(files);
	free(folder);
	if (ret)
		ws_release_torrent_release(out);
	return ret;
}

int ws_torrent_link(struct ws_store *st, const struct ws_release *r,
		    const struct ws_manifest *m, char **link)
{
	uint8_t *t = NULL, v2[32], v1[20];
	size_t len;
	int ret = ws_index_get_torrent(st->index, r->mhash, &t, &len, v2, v1);

	if (ret)
		return ret;
	free(t);
	*link = ws_link_format(v1, v2, &m->publisher, m->name, m->version, r->mhash);
	return 0;
}

void ws_release_torrent_release(struct ws_release_torrent *t)
{
	free(t->torrent);
	free(t->link);
	memset(t, 0, sizeof(*t));
}
