/* fetch_check.c - the downloaded manifest against the link, the trust
 * list, the torrent and the index, before any model data (fetch_impl.h) */
#include "fetch_impl.h"
#include "store/accept.h"
#include "proto/error.h"
#include "proto/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

	if ((ret = ws_read_file(mp, WS_MANIFEST_MAX, &f->manifest, &f->mlen)) ||
	    (ret = ws_read_file(sp, WS_SIGFILE_MAX, &f->sig, &f->slen))) {
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

