/* fetch_check.c - the downloaded manifest against the link, the trust
 * list, the torrent and the index, before any model data (fetch_impl.h) */
#include "fetch_impl.h"
#include "store/accept.h"
#include "proto/error.h"
#include "proto/merkle.h"
#include "proto/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* the torrent's entry for one of its files, or NULL */
static const struct ws_lt_file_info *torrent_file(const struct fetch *f, const char *path)
{
	for (size_t i = 0; i < f->nfiles; i++)
		if (!strcmp(f->files[i].path, path))
			return &f->files[i];
	return NULL;
}

/* 1 when data is the file the torrent lists as fi: its size and, in a v2
 * or hybrid torrent, its pieces root (a v1-only torrent: its size only) */
static int as_torrent_says(const struct ws_lt_file_info *fi, const char *data, size_t len)
{
	uint8_t root[32];

	if (!fi || len != fi->size)
		return 0;
	if (!fi->has_root)
		return 1;
	ws_merkle_root((const uint8_t *)data, len, root);
	return !memcmp(root, fi->root, 32);
}

int ws_fetch_read_manifest(struct fetch *f)
{
	const char *names[2] = { WS_MANIFEST_FILE, WS_SIG_FILE };
	const size_t caps[2] = { WS_MANIFEST_MAX, WS_SIGFILE_MAX };
	char *bufs[2] = { NULL, NULL };
	size_t lens[2] = { 0, 0 };
	int ok = 1;

	free(f->manifest);
	free(f->sig);
	f->manifest = f->sig = NULL;
	f->mlen = f->slen = 0;
	for (int i = 0; i < 2; i++) {
		char *p = xasprintf("%s/%s", f->data, names[i]);
		int ret = ws_read_file(p, caps[i], &bufs[i], &lens[i]);
		free(p);
		/* missing, unreadable, cut short or not the torrent's bytes: a
		 * local copy gone wrong, no word about the release */
		if (ret || !as_torrent_says(torrent_file(f, names[i]), bufs[i], lens[i]))
			ok = 0;
	}
	if (!ok) {
		free(bufs[0]);
		free(bufs[1]);
		return 0;
	}
	f->manifest = bufs[0];
	f->mlen = lens[0];
	f->sig = bufs[1];
	f->slen = lens[1];
	return 1;
}

int ws_fetch_check_manifest(struct fetch *f)
{
	const struct ws_fetch_opts *o = f->o;
	struct ws_manifest *m = &f->res->m;
	const struct ws_accept acc = { o->publisher, o->link.has_pk ? &o->link.pk : NULL, 0 };
	char *mp = xasprintf("%s/" WS_MANIFEST_FILE, f->data);
	char *sp = xasprintf("%s/" WS_SIG_FILE, f->data);
	char want_top[WS_NAME_MAX + 32];
	size_t matched = 0;
	int ret;

	/* read here unless ws_fetch_read_manifest did */
	if (!f->manifest &&
	    ((ret = ws_read_file(mp, WS_MANIFEST_MAX, &f->manifest, &f->mlen)) ||
	     (ret = ws_read_file(sp, WS_SIGFILE_MAX, &f->sig, &f->slen)))) {
		ws_seterr(f->msg, ret, "cannot read the downloaded manifest: %s",
			  ws_strerror(ret));
		goto out;
	}
	if (o->publisher && o->link.has_pk && !ws_pubkey_equal(o->publisher, &o->link.pk)) {
		ret = ws_seterr(f->msg, WS_EUNTRUSTED,
				"the link names another publisher than --publisher");
		goto out;
	}
	/* signature, key and trust, decided as import and audit decide */
	if ((ret = ws_release_accept(f->st->index, f->manifest, f->mlen, f->sig, f->slen,
				     &acc, m, NULL, f->msg))) {
		memset(m, 0, sizeof(*m));
		goto out;
	}
	ws_manifest_hash(f->manifest, f->mlen, f->mhash);
	if (o->link.has_mhash && memcmp(o->link.mhash, f->mhash, 32)) {
		ret = ws_seterr(f->msg, WS_EMISMATCH,
				"the manifest is not the one the link names");
		goto out;
	}
	if ((o->link.name[0] && strcmp(o->link.name, m->name)) ||
	    (o->link.version && o->link.version != m->version)) {
		ret = ws_seterr(f->msg, WS_EMISMATCH,
				"the manifest is %s@%lld, not what the link names",
				m->name, (long long)m->version);
		goto out;
	}
	snprintf(want_top, sizeof(want_top), "%s@%lld", m->name, (long long)m->version);
	if (strcmp(want_top, f->top)) {
		ret = ws_seterr(f->msg, WS_EMISMATCH, "the torrent's folder '%s' is not '%s'",
				f->top, want_top);
		goto out;
	}
	/* the torrent must hold exactly the manifest's files: same paths,
	 * sizes and v2 roots, so every piece libtorrent accepts is a piece of
	 * the signed release */
	for (size_t i = 0; i < f->nfiles; i++) {
		const struct ws_lt_file_info *fi = &f->files[i];
		const struct ws_manifest_file *mf;
		if (!strcmp(fi->path, WS_MANIFEST_FILE) || !strcmp(fi->path, WS_SIG_FILE))
			continue;
		mf = ws_manifest_find(m, fi->path);
		if (!mf) {
			ret = ws_seterr(f->msg, WS_EMISMATCH,
					"the torrent has a file the manifest does not list: '%s'",
					ws_utf8_printable(fi->path, strlen(fi->path)) ? fi->path : "?");
			goto out;
		}
		if (mf->size != fi->size ||
		    (mf->size && (!fi->has_root || memcmp(mf->root, fi->root, 32)))) {
			ret = ws_seterr(f->msg, WS_EMISMATCH,
					"the torrent's '%s' differs from the manifest's (size or "
					"pieces root)", mf->path);
			goto out;
		}
		matched++;
	}
	if (matched != m->nfiles) {
		ret = ws_seterr(f->msg, WS_EMISMATCH,
				"the torrent lacks %zu of the manifest's files",
				m->nfiles - matched);
		goto out;
	}
	ret = ws_index_add(f->st->index, f->manifest, f->mlen, f->sig, f->slen, m,
			   NULL, 0, f->msg);
	if (ret == WS_EEXIST)
		ret = 0;
out:
	if (ret)
		ws_manifest_release(m);
	free(mp);
	free(sp);
	return ret;
}

