/* fetch.c - verified fetch of a release from the swarm (see fetch.h) */
#include "fetch.h"
#include "names.h"
#include "proto/error.h"
#include "proto/util.h"
#include "proto/merkle.h"
#include "store/hasher.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define WAIT_SLICE_MS 200

struct fetch {
	struct ws_store *st;
	const struct ws_fetch_opts *o;
	struct ws_fetch_result *res;
	ws_lt_session *ses;
	ws_lt_torrent *t;
	char *staging;              /* home/tmp/fetch-HEX */
	char *tfile;                /* staging/.torrent */
	char top[WS_NAME_MAX + 32]; /* the torrent's top folder: NAME@VERSION */
	char *data;                 /* staging/top */
	struct ws_lt_file_info *files;
	size_t nfiles;
	char *manifest, *sig;
	size_t mlen, slen;
	uint8_t mhash[32];
	char **msg;
	double started;
	uint64_t data_base;         /* payload bytes before the data phase */
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void report(struct fetch *f, const char *phase, uint64_t done,
		   uint64_t total, const struct ws_lt_status *s)
{
	struct ws_fetch_progress p = { phase, done, total, s ? s->rate_down : 0,
				       s ? s->peers : 0 };
	if (f->o->progress)
		f->o->progress(f->o->progress_ctx, &p);
}

/*
 * Wait until done(f) says so.  Gives up after stall_timeout seconds in
 * which the progress figure did not move: WS_EBADHASH when peers sent bad
 * pieces (nobody had good data), WS_ETIMEOUT otherwise.
 */
static int wait_for(struct fetch *f, const char *phase,
		    int (*done)(struct fetch *f, uint64_t *have, uint64_t *want))
{
	int timeout = f->o->stall_timeout > 0 ? f->o->stall_timeout : 60;
	double last_change = now(), last_dht = now();
	uint64_t last = UINT64_MAX;

	for (;;) {
		struct ws_lt_status s;
		uint64_t have = 0, want = 0;
		int r;

		if (f->o->stop && *f->o->stop)
			return ws_seterr(f->msg, WS_EINTERRUPTED,
					 "interrupted; run the same fetch again to resume");
		ws_lt_wait(f->ses, WAIT_SLICE_MS);
		memset(&s, 0, sizeof(s));
		ws_lt_status(f->t, &s);
		f->res->hash_failures = s.hash_failures;
		if (s.state == WS_LT_ERROR)
			return ws_seterr(f->msg, WS_ENETWORK, "%s", s.error[0] ? s.error :
					 "the download failed");
		/* no peer yet: ask the DHT again rather than waiting for
		 * libtorrent's next announce, minutes away */
		if (s.peers == 0 && !f->o->net.no_dht && now() - last_dht > 3) {
			ws_lt_force_dht_announce(f->t);
			last_dht = now();
		}
		r = done(f, &have, &want);
		if (r < 0)
			return r;
		report(f, phase, have, want, &s);
		if (r > 0)
			return 0;
		if (have != last || s.state == WS_LT_CHECKING) {
			last = have;
			last_change = now();
		} else if (now() - last_change > timeout) {
			if (s.hash_failures > 0)
				return ws_seterr(f->msg, WS_EBADHASH,
						 "%d pieces received failed their hash check and no "
						 "peer sent good data in %d s: nothing unverified was kept",
						 s.hash_failures, timeout);
			return ws_seterr(f->msg, WS_ETIMEOUT,
					 "no progress for %d s while %s (%d peers); run again "
					 "to resume", timeout, phase, s.peers);
		}
	}
}

static int metadata_done(struct fetch *f, uint64_t *have, uint64_t *want)
{
	uint8_t *t = NULL;
	size_t len;
	*want = 1;
	*have = 0;
	if (ws_lt_metadata(f->t, &t, &len) != 0)
		return 0;
	*have = 1;
	/* kept so that a resumed fetch needs no peer to start */
	int ret = ws_write_file_atomic(f->tfile, t, len, 0644, 0);
	free(t);
	if (ret < 0)
		return ws_seterr(f->msg, ret, "cannot write '%s': %s", f->tfile,
				 ws_strerror(ret));
	return 1;
}

static const struct ws_lt_file_info *find_file(struct fetch *f, const char *path)
{
	for (size_t i = 0; i < f->nfiles; i++)
		if (!strcmp(f->files[i].path, path))
			return &f->files[i];
	return NULL;
}

static int manifest_done(struct fetch *f, uint64_t *have, uint64_t *want)
{
	const char *paths[2] = { WS_MANIFEST_FILE, WS_SIG_FILE };
	*have = *want = 0;
	for (int i = 0; i < 2; i++) {
		const struct ws_lt_file_info *fi = find_file(f, paths[i]);
		uint64_t d = 0;
		ws_lt_file_progress(f->t, fi->index, &d);
		*have += d;
		*want += fi->size;
	}
	return *have == *want;
}

/* Counted file by file: the torrent's own totals lag a priority change. */
static int data_done(struct fetch *f, uint64_t *have, uint64_t *want)
{
	struct ws_lt_status s;
	if (f->res->first_data_seconds == 0) {
		ws_lt_status(f->t, &s);
		if (s.payload_down > f->data_base)
			f->res->first_data_seconds = now() - f->started;
	}
	*have = *want = 0;
	for (size_t i = 0; i < f->nfiles; i++) {
		uint64_t d = 0;
		ws_lt_file_progress(f->t, f->files[i].index, &d);
		*have += d;
		*want += f->files[i].size;
	}
	ws_lt_status(f->t, &s);
	return s.state != WS_LT_CHECKING && *have == *want;
}

/* Get the torrent: from an earlier, interrupted fetch, or from peers. */
static int get_metadata(struct fetch *f)
{
	const struct ws_link *l = &f->o->link;
	uint8_t *t = NULL, v2[32], v1[20];
	size_t len;
	int ret, h2, h1;

	if (f->o->torrent) {
		/* a .torrent given by the user: no peer needed for metadata,
		 * and its web seeds can serve everything */
		ret = ws_lt_add(f->ses, f->o->torrent, f->o->torrent_len, f->staging,
				NULL, 0, WS_LT_NO_FILES, &f->t, f->msg);
		if (ret)
			return ret;
		ws_net_dial(&f->o->net, f->t);
		return 0;
	}
	if (ws_read_file(f->tfile, 64u << 20, (char **)&t, &len) == 0) {
		ret = ws_lt_add(f->ses, t, len, f->staging, NULL, 0, WS_LT_NO_FILES,
				&f->t, NULL);
		free(t);
		if (ret == 0 && ws_lt_info_hashes(f->t, v2, v1, &h2, &h1) == 0 &&
		    (!l->has_v2 || (h2 && !memcmp(v2, l->v2, 32))) &&
		    (!l->has_v1 || (h1 && !memcmp(v1, l->v1, 20)))) {
			ws_net_dial(&f->o->net, f->t);
			return 0;
		}
		/* not the torrent the link names: start over from peers */
		if (ret == 0)
			ws_lt_remove(f->t);
		f->t = NULL;
		unlink(f->tfile);
	}
	ret = ws_lt_add_magnet(f->ses, l->has_v2 ? l->v2 : NULL, l->has_v1 ? l->v1 : NULL,
			       NULL, f->staging, &f->t, f->msg);
	if (ret)
		return ret;
	ws_net_dial(&f->o->net, f->t);
	for (int i = 0; i < l->npeers; i++)
		ws_lt_connect_peer(f->t, l->peers[i]);
	return wait_for(f, "metadata", metadata_done);
}

/* The torrent must carry the manifest and its signature, small enough. */
static int check_meta_files(struct fetch *f)
{
	const struct ws_lt_file_info *m = find_file(f, WS_MANIFEST_FILE);
	const struct ws_lt_file_info *s = find_file(f, WS_SIG_FILE);

	if (!m || !s)
		return ws_seterr(f->msg, WS_EMISMATCH,
				 "the torrent carries no signed weightsync manifest");
	if (m->size > WS_MANIFEST_MAX || s->size > WS_SIGFILE_MAX)
		return ws_seterr(f->msg, WS_ETOOBIG,
				 "the torrent's manifest or signature is too large");
	if (ws_lt_set_file_priority(f->t, m->index, 7) ||
	    ws_lt_set_file_priority(f->t, s->index, 7))
		return ws_seterr(f->msg, WS_ENETWORK, "cannot select the manifest files");
	return 0;
}

/* Everything about the manifest is checked here, before any model data. */
static int verify_manifest(struct fetch *f)
{
	const struct ws_fetch_opts *o = f->o;
	struct ws_manifest *m = &f->res->m;
	const struct ws_pubkey *expected = o->publisher ? o->publisher :
					   o->link.has_pk ? &o->link.pk : NULL;
	char *mp = xasprintf("%s/" WS_MANIFEST_FILE, f->data);
	char *sp = xasprintf("%s/" WS_SIG_FILE, f->data);
	char want_top[WS_NAME_MAX + 32], b64[WS_PUBKEY_B64_LEN + 1];
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
	if ((ret = ws_manifest_verify(f->manifest, f->mlen, f->sig, f->slen, expected,
				      m, f->msg)))
		goto out;
	ws_manifest_hash(f->manifest, f->mlen, f->mhash);
	ws_pubkey_to_b64(&m->publisher, b64);
	if (!o->publisher && ws_index_trust_check(f->st->index, m->name, m->publisher.pk)) {
		ret = ws_seterr(f->msg, WS_EUNTRUSTED,
				"publisher %s is not trusted for '%s': trust it with "
				"'weightsync trust add %s %s' or pass --publisher",
				b64, m->name, m->name, b64);
		goto out;
	}
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

/* Complete files the store already has, by SHA-256: sha -> absolute path. */
struct known { uint8_t sha[32]; char *path; uint64_t size; };

static size_t collect_known(struct fetch *f, struct known **out)
{
	struct ws_release *rels = NULL;
	struct known *k = NULL;
	size_t n = 0, cnt = 0, cap = 0;

	if (ws_index_list(f->st->index, NULL, NULL, &rels, &n))
		return 0;
	for (size_t i = 0; i < n; i++) {
		struct ws_manifest m;
		if (rels[i].status != WS_REL_ACCEPTED || !rels[i].complete ||
		    ws_index_load(f->st->index, &rels[i]) ||
		    ws_manifest_parse(rels[i].manifest, rels[i].manifest_len, &m, NULL))
			continue;
		for (size_t j = 0; j < m.nfiles; j++) {
			if (!m.files[j].size)
				continue;
			if (cnt == cap) {
				cap = cap ? 2 * cap : 64;
				k = xrealloc(k, cap * sizeof(*k));
			}
			memcpy(k[cnt].sha, m.files[j].sha256, 32);
			k[cnt].size = m.files[j].size;
			k[cnt++].path = xasprintf("%s/%s/%s", f->st->home, rels[i].path,
						  m.files[j].path);
		}
		ws_manifest_release(&m);
	}
	ws_releases_free(rels, n);
	*out = k;
	return cnt;
}

/* Link in files whose content the store has; returns the bytes reused. */
static uint64_t reuse_known(struct fetch *f)
{
	const struct ws_manifest *m = &f->res->m;
	struct known *k = NULL;
	size_t nk = collect_known(f, &k);
	uint64_t reused = 0;

	for (size_t i = 0; i < m->nfiles && nk; i++) {
		const struct ws_manifest_file *mf = &m->files[i];
		char *dst = xasprintf("%s/%s", f->data, mf->path);
		struct stat sb;
		if (!mf->size || (stat(dst, &sb) == 0 && (uint64_t)sb.st_size == mf->size)) {
			free(dst);
			continue;
		}
		for (size_t j = 0; j < nk; j++) {
			if (k[j].size != mf->size || memcmp(k[j].sha, mf->sha256, 32))
				continue;
			unlink(dst);
			/* the source was verified when its release completed;
			 * libtorrent's recheck verifies it again here */
			if (ws_store_link_file(k[j].path, dst, 0, NULL) == 0) {
				reused += mf->size;
				break;
			}
		}
		free(dst);
	}
	for (size_t j = 0; j < nk; j++)
		free(k[j].path);
	free(k);
	return reused;
}

/* The final word: every file's SHA-256 against the signed manifest. */
static int verify_files(struct fetch *f)
{
	const struct ws_manifest *m = &f->res->m;
	struct ws_hash_file *h = xcalloc(m->nfiles + 1, sizeof(*h));
	int ret = 0;

	for (size_t i = 0; i < m->nfiles; i++) {
		h[i].path = xasprintf("%s/%s", f->data, m->files[i].path);
		/* libtorrent checked every piece against the v2 tree already;
		 * this is the independent, whole-file check */
		h[i].want_sha256 = 1;
		h[i].sha256_only = 1;
	}
	report(f, "verifying", 0, f->res->total, NULL);
	if ((ret = ws_hash_files(h, m->nfiles, 0, NULL, NULL))) {
		ws_seterr(f->msg, ret, "cannot start hashing");
		goto out;
	}
	for (size_t i = 0; i < m->nfiles && !ret; i++) {
		const struct ws_manifest_file *mf = &m->files[i];
		if (h[i].error)
			ret = ws_seterr(f->msg, h[i].error, "cannot read '%s': %s",
					mf->path, ws_strerror(h[i].error));
		else if (h[i].size != mf->size || memcmp(h[i].sha256, mf->sha256, 32)) {
			/* never keep it: the next run fetches it again */
			unlink(h[i].path);
			ret = ws_seterr(f->msg, WS_EBADHASH,
					"'%s' failed its SHA-256 check against the manifest",
					mf->path);
		}
	}
out:
	for (size_t i = 0; i < m->nfiles; i++) {
		ws_hash_file_release(&h[i]);
		free((char *)h[i].path);
	}
	free(h);
	return ret;
}

static int already_have(struct fetch *f)
{
	const struct ws_link *l = &f->o->link;
	struct ws_release *rels = NULL;
	size_t n = 0;
	int found = 0;

	if (!l->has_mhash || ws_index_list(f->st->index, NULL, NULL, &rels, &n))
		return 0;
	for (size_t i = 0; i < n && !found; i++) {
		if (rels[i].status != WS_REL_ACCEPTED || !rels[i].complete ||
		    memcmp(rels[i].mhash, l->mhash, 32))
			continue;
		if (ws_index_load(f->st->index, &rels[i]) == 0 &&
		    ws_manifest_verify(rels[i].manifest, rels[i].manifest_len, rels[i].sig,
				       rels[i].sig_len, NULL, &f->res->m, NULL) == 0) {
			f->res->relpath = xstrdup(rels[i].path);
			f->res->total = ws_manifest_total_size(&f->res->m);
			found = 1;
		}
	}
	ws_releases_free(rels, n);
	return found;
}

int ws_fetch_run(struct ws_store *st, const struct ws_fetch_opts *o,
		 struct ws_fetch_result *res, char **msg)
{
	struct fetch f = { .st = st, .o = o, .res = res, .msg = msg };
	char hex[65];
	uint8_t *meta = NULL;
	size_t metalen = 0;
	struct ws_lt_status s;
	uint8_t v2[32] = { 0 }, v1[20] = { 0 };
	int ret, h2 = 0, h1 = 0;

	memset(res, 0, sizeof(*res));
	f.started = o->started > 0 ? o->started : now();
	if (o->link.is_name_link)
		return ws_seterr(msg, WS_EUNSUPPORTED, "name links are resolved by the caller");
	if (already_have(&f)) {
		res->already_complete = 1;
		return 0;
	}
	if (o->torrent) {
		/* name the staging folder by the torrent's content */
		uint8_t d[32];
		ws_sha256(o->torrent, o->torrent_len, d);
		ws_hex(d, 32, hex);
	} else if (o->link.has_v2) {
		ws_hex(o->link.v2, 32, hex);
	} else {
		ws_hex(o->link.v1, 20, hex);
	}
	f.staging = xasprintf("%s/tmp/fetch-%s", st->home, hex);
	f.tfile = xasprintf("%s/.torrent", f.staging);
	if ((ret = ws_mkdir_p(f.staging))) {
		ws_seterr(msg, ret, "cannot create '%s': %s", f.staging, ws_strerror(ret));
		goto out;
	}
	if (o->session)
		f.ses = o->session;
	else if ((ret = ws_net_session(&o->net, &f.ses, msg)))
		goto out;
	if ((ret = get_metadata(&f)))
		goto out;
	if ((ret = ws_lt_files(f.t, f.top, sizeof(f.top), &f.files, &f.nfiles))) {
		ws_seterr(msg, ret, "cannot read the torrent's file list");
		goto out;
	}
	f.data = xasprintf("%s/%s", f.staging, f.top);
	if ((ret = check_meta_files(&f)) ||
	    (ret = wait_for(&f, "manifest", manifest_done)))
		goto out;
	if ((ret = verify_manifest(&f))) {
		/* refused before any model data: keep nothing of it */
		ws_lt_remove(f.t);
		f.t = NULL;
		ws_rm_rf(f.staging);
		goto out;
	}
	res->total = ws_manifest_total_size(&res->m);
	if (o->manifest_only) {
		ws_lt_remove(f.t);
		f.t = NULL;
		ws_rm_rf(f.staging);
		goto out;
	}
	res->reused = reuse_known(&f);
	for (size_t i = 0; i < f.nfiles; i++)
		ws_lt_set_file_priority(f.t, f.files[i].index, 4);
	if (res->reused)
		ws_lt_force_recheck(f.t);
	ws_lt_status(f.t, &s);
	f.data_base = s.payload_down;
	if ((ret = wait_for(&f, "downloading", data_done)))
		goto out;
	ws_lt_status(f.t, &s);
	res->downloaded = s.payload_down;
	res->hash_failures = s.hash_failures;
	ws_lt_metadata(f.t, &meta, &metalen);
	ws_lt_info_hashes(f.t, v2, v1, &h2, &h1);
	/* close libtorrent's files before they move */
	ws_lt_remove(f.t);
	f.t = NULL;
	if ((ret = verify_files(&f)))
		goto out;
	ret = ws_store_commit(st, f.data, f.manifest, f.mlen, f.sig, f.slen, &res->m,
			      &res->relpath, msg);
	if (ret == WS_EEXIST) {
		/* the index knew the manifest (step 3): now it is complete */
		res->relpath = ws_store_release_relpath(res->m.publisher.pk, res->m.name,
							res->m.version);
		ret = 0;
	}
	if (ret)
		goto out;
	if (meta)
		ws_index_put_torrent(st->index, f.mhash, meta, metalen, v2, v1);
	ws_rm_rf(f.staging);
out:
	if (f.t) {
		ws_lt_status(f.t, &s);
		res->downloaded = s.payload_down;
		res->hash_failures = s.hash_failures;
	}
	if (f.t)
		ws_lt_remove(f.t);
	if (!o->session)
		ws_lt_session_free(f.ses);
	if (f.files)
		ws_lt_files_free(f.files, f.nfiles);
	free(meta);
	free(f.manifest);
	free(f.sig);
	free(f.staging);
	free(f.tfile);
	free(f.data);
	if (ret)
		ws_fetch_result_release(res);
	return ret;
}

void ws_fetch_result_release(struct ws_fetch_result *r)
{
	ws_manifest_release(&r->m);
	free(r->relpath);
	r->relpath = NULL;
}

/* A release link for a resolved pointer. */
static void link_for(const struct ws_pointer *p, const struct ws_pubkey *pk,
		     const char *name, struct ws_link *l)
{
	memset(l, 0, sizeof(*l));
	l->has_v1 = l->has_v2 = l->has_pk = l->has_mhash = 1;
	memcpy(l->v1, p->ih1, 20);
	memcpy(l->v2, p->ih2, 32);
	l->pk = *pk;
	memcpy(l->pk32, pk->pk, 32);
	snprintf(l->name, sizeof(l->name), "%s", name);
	l->version = p->version;
	memcpy(l->mhash, p->mhash, 32);
}

static int is_known(struct ws_store *st, const uint8_t pk[32], const char *name,
		    int64_t version)
{
	struct ws_release r;
	if (ws_index_get(st->index, pk, name, version, &r))
		return 0;
	ws_release_release(&r);
	return 1;
}

/* Fetch the manifest of version v (through its "NAME@V" pointer) into the
 * index, so the chain has no hole. */
static int fill_link(struct ws_store *st, const struct ws_fetch_opts *o,
		     const struct ws_pubkey *pk, const char *name, int64_t v,
		     int timeout_ms, char **msg)
{
	struct ws_fetch_opts mo = *o;
	struct ws_fetch_result r;
	struct ws_pointer p;
	int ret = ws_names_resolve(st, o->session, pk->pk, name, v, timeout_ms, &p,
				   NULL, msg);

	if (ret)
		return ws_seterr(msg, WS_EGAP, "cannot fill the chain of '%s': version "
				 "%lld: %s", name, (long long)v, msg && *msg ? *msg : ws_strerror(ret));
	link_for(&p, pk, name, &mo.link);
	mo.manifest_only = 1;
	mo.torrent = NULL;
	ret = ws_fetch_run(st, &mo, &r, msg);
	if (ret == 0)
		ws_fetch_result_release(&r);
	return ret;
}

int ws_fetch_name(struct ws_store *st, const struct ws_fetch_opts *o,
		  const struct ws_pubkey *pk, const char *name, int64_t version,
		  int resolve_timeout_ms, struct ws_fetch_result *res, char **msg)
{
	struct ws_fetch_opts fo = *o;
	struct ws_pointer p, extra;
	int64_t known;
	double t0 = now();
	int ret, ignored = 0;

	memset(res, 0, sizeof(*res));
	if (!fo.session && (ret = ws_net_session(&o->net, &fo.session, msg)))
		return ret;
	ret = ws_names_resolve(st, fo.session, pk->pk, name, version,
			       resolve_timeout_ms, &p, &ignored, msg);
	if (ret)
		goto out;
	if (version == 0) {
		/* keep the per-version pointer too, so this node can re-put it
		 * and `fetch NAME@V` keeps working once the publisher is gone */
		ws_names_resolve(st, fo.session, pk->pk, name, p.version, 2000, &extra,
				 NULL, NULL);
	}
	if ((ret = ws_index_highest(st->index, pk->pk, name, &known))) {
		ws_seterr(msg, ret, "cannot read the index: %s", ws_strerror(ret));
		goto out;
	}
	/* fill the chain: upwards to just below the target, or downwards
	 * from the highest known to just above it */
	if (known && p.version > known + 1)
		for (int64_t v = known + 1; v < p.version && !ret; v++)
			ret = fill_link(st, &fo, pk, name, v, resolve_timeout_ms, msg);
	else if (known && p.version < known)
		for (int64_t v = known - 1; v > p.version && !ret; v--)
			if (!is_known(st, pk->pk, name, v))
				ret = fill_link(st, &fo, pk, name, v, resolve_timeout_ms, msg);
	if (ret)
		goto out;
	link_for(&p, pk, name, &fo.link);
	fo.torrent = NULL;
	fo.started = t0;
	double resolved = now() - t0;
	ret = ws_fetch_run(st, &fo, res, msg);
	res->resolve_seconds = resolved;
out:
	res->ignored_pointers = ignored;
	if (!o->session)
		ws_lt_session_free(fo.session);
	return ret;
}
