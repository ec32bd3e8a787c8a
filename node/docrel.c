/* docrel.c - signed document releases (see docrel.h) */
#include "docrel.h"
#include "fetch.h"
#include "names.h"
#include "torrent.h"
#include "proto/error.h"
#include "proto/merkle.h"
#include "proto/util.h"
#include "store/publish.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int ws_docrel_publish(struct ws_store *st, const struct ws_seckey *sk,
		      const char *name, const char *file, const char *text,
		      size_t len, int64_t *version, char **msg)
{
	struct ws_publish p = { 0 };
	struct ws_release_torrent t = { 0 };
	struct ws_pointer ptrs[2];
	uint8_t mhash[32];
	char *tmp = xasprintf("%s/tmp", st->home);
	char *dir = xasprintf("%s/tmp/doc.%ld.XXXXXX", st->home, (long)getpid());
	char *path = NULL;
	int ret, made = 0;

	if ((ret = ws_mkdir_p(tmp)) || !mkdtemp(dir)) {
		ret = ws_seterr(msg, ret ? ret : -errno, "cannot make a folder under '%s': %s",
				tmp, ws_strerror(ret ? ret : -errno));
		goto out;
	}
	made = 1;
	path = xasprintf("%s/%s", dir, file);
	if ((ret = ws_write_file_atomic(path, text, len, 0644, 0))) {
		ws_seterr(msg, ret, "cannot write '%s': %s", path, ws_strerror(ret));
		goto out;
	}
	p.dir = dir;
	p.name = name;
	p.sk = sk;
	p.copy = 1;
	p.for_swarm = 1;
	if ((ret = ws_publish_run(st, &p, msg)))
		goto out;
	if ((ret = ws_torrent_from_publish(st, &p, NULL, 0, &t, msg)))
		goto out;
	ws_manifest_hash(p.manifest, p.manifest_len, mhash);
	if ((ret = ws_names_sign(sk, &p.m, mhash, t.v1, t.v2, ptrs, msg)))
		goto out;
	if ((ret = ws_publish_commit(st, &p, t.torrent, t.len, t.v2, t.v1, ptrs, 2, 0, msg)))
		goto out;
	if (version)
		*version = p.m.version;
out:
	ws_release_torrent_release(&t);
	ws_publish_release(&p);
	if (path)
		unlink(path);
	if (made)
		rmdir(dir);
	free(path);
	free(dir);
	free(tmp);
	return ret;
}

int ws_docrel_read(struct ws_store *st, const uint8_t pk[32], const char *name,
		   int64_t want, const char *file, size_t cap, char **text, size_t *len,
		   int64_t *version, char **msg)
{
	struct ws_release *rels = NULL, r = { 0 };
	struct ws_manifest m = { 0 };
	const struct ws_manifest_file *f = NULL;
	size_t n = 0, blen = 0;
	int64_t best = 0;
	char *path = NULL, *buf = NULL;
	uint8_t h[32];
	int ret, have_m = 0;

	if ((ret = ws_index_list(st->index, pk, name, &rels, &n)))
		return ws_seterr(msg, ret, "cannot read the index: %s", ws_strerror(ret));
	for (size_t i = 0; i < n; i++)
		if (rels[i].status == WS_REL_ACCEPTED && rels[i].complete &&
		    (want ? rels[i].version == want : rels[i].version > best))
			best = rels[i].version;
	ws_releases_free(rels, n);
	if (!best)
		return WS_ENOTFOUND;
	if ((ret = ws_index_get(st->index, pk, name, best, &r)))
		return ws_seterr(msg, ret, "cannot read '%s@%lld' from the index: %s",
				 name, (long long)best, ws_strerror(ret));
	if ((ret = ws_manifest_parse(r.manifest, r.manifest_len, &m, msg)))
		goto out;
	have_m = 1;
	for (size_t i = 0; i < m.nfiles && !f; i++)
		if (!strcmp(m.files[i].path, file))
			f = &m.files[i];
	if (!f || f->size > cap) {
		ret = ws_seterr(msg, f ? WS_ETOOBIG : WS_EFORMAT, "'%s@%lld' %s '%s'", name,
				(long long)best, f ? "has an oversized" : "holds no", file);
		goto out;
	}
	path = xasprintf("%s/%s/%s", st->home, r.path, file);
	if ((ret = ws_read_file(path, cap, &buf, &blen))) {
		ws_seterr(msg, ret, "cannot read '%s': %s", path, ws_strerror(ret));
		goto out;
	}
	/* the store's copy could have been changed since it was verified:
	 * it is small, so check it every time it is believed */
	ws_sha256(buf, blen, h);
	if (blen != f->size || memcmp(h, f->sha256, 32)) {
		ret = ws_seterr(msg, WS_EBADHASH, "'%s' of '%s@%lld' is not the signed "
				"file (run 'weightsync audit %s@%lld')", file, name,
				(long long)best, name, (long long)best);
		goto out;
	}
	*text = buf;
	*len = blen;
	buf = NULL;
	if (version)
		*version = best;
out:
	if (have_m)
		ws_manifest_release(&m);
	ws_release_release(&r);
	free(buf);
	free(path);
	return ret;
}

int ws_docrel_refresh(struct ws_store *st, ws_lt_session *s,
		      const struct ws_pubkey *pk, const char *name,
		      int resolve_ms, int stall_s, int64_t *version, char **msg)
{
	struct ws_fetch_opts fo;
	struct ws_fetch_result res;
	int ret;

	memset(&fo, 0, sizeof(fo));
	fo.publisher = pk;
	fo.session = s;
	fo.stall_timeout = stall_s;
	ret = ws_fetch_name(st, &fo, pk, name, 0, resolve_ms, &res, msg);
	if (ret == 0 && version)
		*version = res.m.version;
	if (ret == 0)
		ws_fetch_result_release(&res);
	return ret;
}
