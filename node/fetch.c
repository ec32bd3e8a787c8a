/* fetch.c - verified fetch of a release from the swarm: the phases
 * (fetch.h, fetch_impl.h) */
#include "fetch_impl.h"
#include "proto/error.h"
#include "proto/merkle.h"
#include "proto/util.h"
#include "store/hasher.h"
#include "store/recover.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#define WAIT_SLICE_MS 200
/* seconds to wait, once every piece is in, for the v2 piece layers that
 * prove them (peers send them as the download goes; an old v1-only peer in
 * a hybrid swarm cannot), before checking whole files instead */
#define LAYERS_WAIT 10
/* seconds with no new data, no peer and pieces that failed their hash
 * check before the bans are lifted and the named peers dialled again */
#define BANS_LIFTED_AFTER 5

double ws_fetch_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int ws_fetch_poll_files(struct fetch *f)
{
	if (!f->progress)
		f->progress = xcalloc((size_t)f->nlt, sizeof(*f->progress));
	return ws_lt_files_progress(f->t, f->progress, (size_t)f->nlt);
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
 * Wait until done(f) says so (returns its positive answer).  Gives up after stall_timeout seconds in
 * which the progress figure did not move: WS_EBADHASH when peers sent bad
 * pieces (nobody had good data), WS_ETIMEOUT otherwise.
 */
/*
 * When the disk under the staging folder cannot hold what is still to
 * come: an error that says so (-ENOSPC), else 0.
 */
static int disk_full(struct fetch *f)
{
	struct statvfs vfs;
	uint64_t free_bytes, left = 0;

	if (statvfs(f->staging, &vfs) < 0)
		return 0;
	free_bytes = (uint64_t)vfs.f_bavail * vfs.f_frsize;
	if (f->progress)
		for (size_t i = 0; i < f->nfiles; i++)
			left += f->files[i].size - f->progress[f->files[i].index];
	if (free_bytes >= left && free_bytes >= (1u << 20))
		return 0;
	return ws_seterr(f->msg, -ENOSPC, "cannot write the release under '%s': No "
			 "space left on device (%llu MB free, %llu MB still to come); "
			 "free some space and run the same fetch again: what is verified "
			 "is kept", f->staging, (unsigned long long)(free_bytes / 1000000),
			 (unsigned long long)(left / 1000000));
}

/*
 * The torrent stopped with an error.  libtorrent's default disk back end
 * writes through memory maps: a page it cannot allocate (the disk is full)
 * raises SIGBUS, which it reports as "Bad address".  Say what it means.
 */
static int torrent_error(struct fetch *f, const struct ws_lt_status *s)
{
	int ret;

	if (strstr(s->error, "Bad address") || strstr(s->error, "No space left")) {
		if ((ret = disk_full(f)))
			return ret;
		return ws_seterr(f->msg, -EIO, "cannot write the release under '%s': "
				 "a write through a memory map failed (an I/O error)",
				 f->staging);
	}
	return ws_seterr(f->msg, WS_ENETWORK, "%s", s->error[0] ? s->error :
			 "the download failed");
}

/* libtorrent is reading files back to check them: count what it reads
 * (the allocated bytes of the files under the torrent), for --json */
static void note_checking(struct fetch *f)
{
	f->checking_seen = 1;
	for (size_t i = 0; i < f->nfiles; i++) {
		char *p = xasprintf("%s/%s", f->data, f->files[i].path);
		struct stat sb;
		if (stat(p, &sb) == 0) {
			uint64_t a = (uint64_t)sb.st_blocks * 512;
			f->res->rechecked += a < f->files[i].size ? a : f->files[i].size;
		}
		free(p);
	}
}

/* dial every peer named for this fetch (--peer, the link's x.pe) again;
 * libtorrent does nothing for one already connected */
static void dial_named(struct fetch *f)
{
	ws_net_dial(&f->o->net, f->t);
	for (int i = 0; i < f->o->link.npeers; i++)
		ws_lt_connect_peer(f->t, f->o->link.peers[i]);
}

static int wait_for(struct fetch *f, const char *phase,
		    int (*done)(struct fetch *f, uint64_t *have, uint64_t *want))
{
	int timeout = f->o->stall_timeout > 0 ? f->o->stall_timeout : 60;
	double last_change = ws_fetch_now(), last_dht = ws_fetch_now();
	double last_lift = 0;
	uint64_t last = UINT64_MAX;

	uint64_t shown = 0, shown_total = 0;
	int paused = 0;

	for (;;) {
		struct ws_lt_status s;
		uint64_t have = 0, want = 0;
		int r;

		if (f->o->stop && *f->o->stop)
			return ws_seterr(f->msg, WS_EINTERRUPTED,
					 "interrupted; run the same fetch again to resume");
		if (f->o->verdict && (r = f->o->verdict(f->o->verdict_ctx, 0, f->msg)))
			return r;
		if (f->peers_again &&
		    (r = f->o->peers_hook(f->o->peers_ctx, f->t, 0, f->msg)))
			return r;
		if (f->o->pause && *f->o->pause) {
			/* no data, no stall: the clock starts again on resume */
			if (!paused)
				ws_lt_pause(f->t);
			paused = 1;
			ws_lt_wait(f->ses, WAIT_SLICE_MS);
			ws_fetch_heartbeat(f);
			report(f, "paused", shown, shown_total, NULL);
			last_change = ws_fetch_now();
			continue;
		}
		if (paused) {
			/* pausing dropped the peers: dial the known ones again */
			ws_lt_resume(f->t);
			dial_named(f);
			paused = 0;
		}
		ws_lt_wait(f->ses, WAIT_SLICE_MS);
		ws_fetch_heartbeat(f);
		memset(&s, 0, sizeof(s));
		ws_lt_status(f->t, &s);
		f->res->hash_failures = s.hash_failures;
		if (s.state == WS_LT_CHECKING && !f->checking_seen)
			note_checking(f);
		if (s.state == WS_LT_ERROR)
			return torrent_error(f, &s);
		/* no peer yet: ask the DHT again rather than waiting for
		 * libtorrent's next announce, minutes away */
		if (s.peers == 0 && !f->o->net.no_dht && ws_fetch_now() - last_dht > 3) {
			ws_lt_force_dht_announce(f->t);
			last_dht = ws_fetch_now();
		}
		r = done(f, &have, &want);
		if (r < 0)
			return r;
		report(f, phase, have, want, &s);
		shown = have;
		shown_total = want;
		if (r > 0)
			return r;
		if (have != last || s.state == WS_LT_CHECKING ||
		    s.state == WS_LT_CHECKING_RESUME) {
			last = have;
			last_change = ws_fetch_now();
		} else if (ws_fetch_now() - last_change > timeout) {
			if ((r = disk_full(f)))
				return r;
			if (s.hash_failures > 0)
				return ws_seterr(f->msg, WS_EBADHASH,
						 "%d pieces received failed their hash check and no "
						 "peer sent good data in %d s: nothing unverified was kept",
						 s.hash_failures, timeout);
			return ws_seterr(f->msg, WS_ETIMEOUT,
					 "no progress for %d s while %s (%d peers); run again "
					 "to resume", timeout, phase, s.peers);
		} else if (s.hash_failures > 0 && s.peers == 0 &&
			   ws_fetch_now() - last_change > BANS_LIFTED_AFTER &&
			   ws_fetch_now() - last_lift > BANS_LIFTED_AFTER) {
			/* every peer gone after failed pieces: libtorrent bans
			 * all who sent part of a piece it cannot blame on one,
			 * so an honest peer may be banned with a liar.  Give
			 * them another chance; every piece is still checked,
			 * and a liar alone still ends in the stall above */
			ws_lt_forget_peers(f->t);
			dial_named(f);
			last_lift = ws_fetch_now();
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
	if (ws_fetch_poll_files(f))
		return 0;
	for (int i = 0; i < 2; i++) {
		const struct ws_lt_file_info *fi = find_file(f, paths[i]);
		*have += f->progress[fi->index];
		*want += fi->size;
	}
	if (*have != *want)
		return 0;
	/* verified is not yet written: the files are read next */
	for (int i = 0; i < 2; i++)
		if (ws_lt_file_written(f->t, find_file(f, paths[i])->index) != 1)
			return 0;
	return 1;
}

/*
 * Counted file by file: the torrent's own totals lag a priority change.
 * Done when every file's pieces are in and verified, and libtorrent holds
 * every v2 piece layer, so each of those pieces was checked against the
 * merkle tree whose roots the signed manifest lists (in a hybrid torrent
 * a piece can pass on its v1 SHA-1 while its layer is still on the way;
 * once the layer comes, a piece that disagrees with it stops the torrent
 * with an error).  Resume data is saved as it goes.
 */
static int data_done(struct fetch *f, uint64_t *have, uint64_t *want)
{
	struct ws_lt_status s;
	int ret;

	ws_lt_status(f->t, &s);
	if (f->res->first_data_seconds == 0 && s.payload_down > f->data_base)
		f->res->first_data_seconds = ws_fetch_now() - f->started;
	*have = *want = 0;
	if ((ret = ws_fetch_poll_files(f)))
		return ws_seterr(f->msg, ret, "cannot read the download's progress");
	for (size_t i = 0; i < f->nfiles; i++) {
		*have += f->progress[f->files[i].index];
		*want += f->files[i].size;
	}
	ws_fetch_order_files(f);
	ws_fetch_resume_tick(f, 0);
	if ((ret = ws_fetch_origin_tick(f)))
		return ret;
	if (s.state == WS_LT_CHECKING || s.state == WS_LT_CHECKING_RESUME ||
	    *have != *want)
		return 0;
	/* every piece verified, but maybe not yet in the files that are
	 * hashed, synced and moved next (ws_lt_file_written) */
	if (ws_lt_file_written(f->t, -1) != 1)
		return 0;
	if (ws_lt_pieces_v2_proven(f->t))
		return 1;
	if (!f->all_in_at)
		f->all_in_at = ws_fetch_now();
	/* every piece is in; the proof of some is not: check whole files */
	return ws_fetch_now() - f->all_in_at > LAYERS_WAIT ? 2 : 0;
}

/*
 * Add a torrent we have the bytes of, with the resume data an earlier run
 * of this fetch saved (files changed since it stopped lose their pieces);
 * without usable resume data, libtorrent checks what is on disk.
 */
static int add_known(struct fetch *f, const uint8_t *t, size_t len, char **msg)
{
	uint8_t *r = NULL;
	size_t rlen = 0, nd = 0, lost = 0;
	int *d = NULL, ret = WS_ENOTFOUND;

	if (ws_fetch_resume_open(f, &r, &rlen, &d, &nd) == 0) {
		ret = ws_lt_add_resumed(f->ses, t, len, f->staging, r, rlen, d, nd,
					&lost, WS_LT_NO_FILES, &f->t, NULL);
		if (ret == 0) {
			f->resumed = 1;
			f->res->distrusted_files = (int)lost;
		}
	}
	if (ret)
		ret = ws_lt_add(f->ses, t, len, f->staging, NULL, 0, WS_LT_NO_FILES,
				&f->t, msg);
	free(r);
	free(d);
	return ret;
}

/* Get the torrent: from the user, from an earlier, interrupted fetch, or
 * from peers.  Returns 0 or an error. */
static int get_metadata(struct fetch *f)
{
	const struct ws_link *l = &f->o->link;
	uint8_t *t = NULL, v2[32], v1[20];
	size_t len;
	int ret, h2, h1;

	if (f->o->torrent) {
		/* a .torrent given by the user: no peer needed for metadata,
		 * and its web seeds can serve everything */
		if ((ret = add_known(f, f->o->torrent, f->o->torrent_len, f->msg)))
			return ret;
		ws_net_dial(&f->o->net, f->t);
		return 0;
	}
	if (ws_read_file(f->tfile, 64u << 20, (char **)&t, &len) == 0) {
		ret = add_known(f, t, len, NULL);
		free(t);
		if (ret == 0 && ws_lt_info_hashes(f->t, v2, v1, &h2, &h1) == 0 &&
		    (!l->has_v2 || (h2 && !memcmp(v2, l->v2, 32))) &&
		    (!l->has_v1 || (h1 && !memcmp(v1, l->v1, 20)))) {
			dial_named(f);
			return 0;
		}
		/* not the torrent the link names: start over from peers */
		if (ret == 0)
			ws_lt_remove(f->t);
		f->t = NULL;
		f->resumed = 0;
		unlink(f->tfile);
	}
	ret = ws_lt_add_magnet(f->ses, l->has_v2 ? l->v2 : NULL, l->has_v1 ? l->v1 : NULL,
			       NULL, f->staging, &f->t, f->msg);
	if (ret)
		return ret;
	dial_named(f);
	ret = wait_for(f, "metadata", metadata_done);
	return ret < 0 ? ret : 0;
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

/*
 * Wait for the manifest and its signature, and read them.  The copy under
 * the staging folder is checked against the torrent before anything else:
 * one that is not the torrent's (cut short, zeros where a piece goes:
 * resume data vouched for pieces this disk lost) says nothing about the
 * release, so libtorrent checks the files again and fetches what fails,
 * rather than the release being refused.  A disk that keeps losing them
 * is an I/O error.
 */
#define MANIFEST_TRIES 3

static int get_manifest(struct fetch *f)
{
	int ret;

	for (int i = 0; i < MANIFEST_TRIES; i++) {
		if (i > 0) {
			if (ws_lt_force_recheck(f->t))
				return ws_seterr(f->msg, WS_ENETWORK, "cannot check the "
						 "downloaded manifest again");
			/* a recheck drops the peers: dial them again */
			dial_named(f);
		}
		if ((ret = wait_for(f, "manifest", manifest_done)) < 0)
			return ret;
		if (ws_fetch_read_manifest(f))
			return 0;
	}
	return ws_seterr(f->msg, -EIO, "the manifest under '%s' is still not the one the "
			 "torrent names after %d downloads: the disk does not keep what is "
			 "written to it", f->data, MANIFEST_TRIES);
}

/* A release the blobs index pointed at: complete or not, and where. */
struct seen_release {
	uint8_t mhash[32];
	char *path;                 /* relative to the home; NULL: not usable */
};

/* One file to link in from the store, found through the blobs index. */
struct reuse {
	struct fetch *f;
	const char *dst;
	uint64_t size;
	int linked;
	struct seen_release *seen; /* releases looked up so far, this fetch */
	size_t nseen;
};

/* Where the complete release mhash is, or NULL: one index lookup (and one
 * manifest parse) per release, however many of its files are asked for. */
static const char *release_path(struct reuse *u, const uint8_t mhash[32])
{
	struct ws_release r;

	for (size_t i = 0; i < u->nseen; i++)
		if (!memcmp(u->seen[i].mhash, mhash, 32))
			return u->seen[i].path;
	u->seen = xrealloc(u->seen, (u->nseen + 1) * sizeof(*u->seen));
	memcpy(u->seen[u->nseen].mhash, mhash, 32);
	u->seen[u->nseen].path = NULL;
	/* the release being fetched is in the index too, not complete */
	if (memcmp(mhash, u->f->mhash, 32) &&
	    ws_index_find_release(u->f->st->index, mhash, &r) == 0) {
		if (r.complete && r.path[0])
			u->seen[u->nseen].path = xstrdup(r.path);
		ws_release_release(&r);
	}
	return u->seen[u->nseen++].path;
}

static int try_blob(void *arg, const uint8_t mhash[32], const char *path)
{
	struct reuse *u = arg;
	const char *rel = release_path(u, mhash);
	struct stat sb;
	char *src;

	if (!rel)
		return 0;
	src = xasprintf("%s/%s/%s", u->f->st->home, rel, path);
	/* the source was verified when its release completed; libtorrent's
	 * recheck verifies it again here */
	if (stat(src, &sb) == 0 && (uint64_t)sb.st_size == u->size &&
	    ws_store_link_file(src, u->dst, 0, NULL) == 0)
		u->linked = 1;
	free(src);
	return u->linked;
}

/*
 * Link in files whose content the store has: one index lookup by SHA-256
 * per file, whatever the size of the store.  Returns the bytes reused.
 */
static uint64_t reuse_known(struct fetch *f)
{
	const struct ws_manifest *m = &f->res->m;
	struct reuse u = { .f = f };
	uint64_t reused = 0;

	for (size_t i = 0; i < m->nfiles; i++) {
		const struct ws_manifest_file *mf = &m->files[i];
		struct stat sb;
		char *dst;
		if (!mf->size)
			continue;
		dst = xasprintf("%s/%s", f->data, mf->path);
		if (stat(dst, &sb) == 0 && (uint64_t)sb.st_size == mf->size) {
			free(dst);
			continue;
		}
		unlink(dst);
		u.dst = dst;
		u.size = mf->size;
		u.linked = 0;
		if (ws_index_find_blob(f->st->index, mf->sha256, try_blob, &u) == 0 &&
		    u.linked)
			reused += mf->size;
		free(dst);
	}
	for (size_t i = 0; i < u.nseen; i++)
		free(u.seen[i].path);
	free(u.seen);
	return reused;
}

/*
 * Before the torrent goes: which files libtorrent vouches for through their
 * v2 piece layer (ws_lt_files_v2_proven), in manifest order.  A file it
 * does not, or cannot say, gets the whole-file check.
 */
static void mark_proven(struct fetch *f)
{
	const struct ws_manifest *m = &f->res->m;
	unsigned char *lt = xcalloc((size_t)f->nlt + 1, 1);

	f->proven = xcalloc(m->nfiles + 1, 1);
	if (ws_lt_files_v2_proven(f->t, lt, (size_t)f->nlt) == 0)
		for (size_t i = 0; i < f->nfiles; i++) {
			const struct ws_manifest_file *mf = ws_manifest_find(m, f->files[i].path);
			if (mf && f->files[i].index < f->nlt)
				f->proven[mf - m->files] = lt[f->files[i].index];
		}
	free(lt);
}

/* The final word: the SHA-256 of every file not proven otherwise against
 * the signed manifest. */
static int verify_files(struct fetch *f)
{
	const struct ws_manifest *m = &f->res->m;
	struct ws_hash_file *h = xcalloc(m->nfiles + 1, sizeof(*h));
	size_t *which = xcalloc(m->nfiles + 1, sizeof(*which)), n = 0;
	int ret = 0;

	/* only when libtorrent could not get every v2 piece layer: then the
	 * pieces it took on their v1 SHA-1 alone are not yet bound to the
	 * signed pieces roots, and the files it cannot vouch for are checked
	 * whole instead (the others are not read again) */
	for (size_t i = 0; i < m->nfiles; i++) {
		if (f->proven && f->proven[i])
			continue;
		h[n].path = xasprintf("%s/%s", f->data, m->files[i].path);
		h[n].want_sha256 = 1;
		h[n].sha256_only = 1;
		f->res->whole_file_bytes += m->files[i].size;
		which[n++] = i;
	}
	report(f, "verifying", 0, f->res->whole_file_bytes, NULL);
	if ((ret = ws_hash_files(h, n, 0, NULL, NULL))) {
		ws_seterr(f->msg, ret, "cannot start hashing");
		goto out;
	}
	for (size_t j = 0; j < n && !ret; j++) {
		const struct ws_manifest_file *mf = &m->files[which[j]];
		if (h[j].error)
			ret = ws_seterr(f->msg, h[j].error, "cannot read '%s': %s",
					mf->path, ws_strerror(h[j].error));
		else if (h[j].size != mf->size || memcmp(h[j].sha256, mf->sha256, 32)) {
			/* never keep it: the next run fetches it again */
			unlink(h[j].path);
			ret = ws_seterr(f->msg, WS_EBADHASH,
					"'%s' failed its SHA-256 check against the manifest",
					mf->path);
		}
	}
out:
	for (size_t j = 0; j < n; j++) {
		ws_hash_file_release(&h[j]);
		free((char *)h[j].path);
	}
	free(which);
	free(h);
	return ret;
}

/* The release the link names is complete in the store: one lookup. */
static int already_have(struct fetch *f)
{
	const struct ws_link *l = &f->o->link;
	struct ws_release r;
	int found = 0;

	if (!l->has_mhash || ws_index_find_release(f->st->index, l->mhash, &r))
		return 0;
	if (r.status == WS_REL_ACCEPTED && r.complete &&
	    ws_manifest_verify(r.manifest, r.manifest_len, r.sig, r.sig_len, NULL,
			       &f->res->m, NULL) == 0) {
		f->res->relpath = xstrdup(r.path);
		f->res->total = ws_manifest_total_size(&f->res->m);
		found = 1;
	}
	ws_release_release(&r);
	return found;
}

/*
 * One fetch of a release per home at a time: a second one waits for the
 * first (a lock on home/tmp/fetch-HEX.lock) and then finds the release
 * complete, or carries on from where the first stopped.  It gives up only
 * when stopped, or when the first one shows no sign of life (its heartbeat
 * file unchanged) for the stall timeout.
 */
static int lock_fetch(struct fetch *f, const char *hex, int *fd_out)
{
	char *lp = xasprintf("%s/tmp/fetch-%s.lock", f->st->home, hex);
	char *ap = xasprintf("%s/.alive", f->staging);
	int timeout = f->o->stall_timeout > 0 ? f->o->stall_timeout : 60;
	double since = ws_fetch_now();
	time_t beat = 0;
	int fd = -1, ret = 0;

	for (;;) {
		struct stat sb, held;
		if (f->o->pause && *f->o->pause && !(f->o->stop && *f->o->stop)) {
			/* paused while it waits: it does not take the lock when
			 * the other fetch lets go, and the stall clock stands still */
			report(f, "paused", 0, 0, NULL);
			since = ws_fetch_now();
			usleep(WAIT_SLICE_MS * 1000);
			continue;
		}
		if (fd < 0 && (fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0) {
			ret = ws_seterr(f->msg, -errno, "cannot open '%s': %s", lp,
					strerror(errno));
			goto out;
		}
		if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
			/* the holder before us removes the file as it lets go: a
			 * lock on a removed file is no lock; open it again */
			if (fstat(fd, &held) == 0 && stat(lp, &sb) == 0 &&
			    held.st_ino == sb.st_ino && held.st_dev == sb.st_dev)
				break;
			close(fd);
			fd = -1;
			continue;
		}
		if (errno != EWOULDBLOCK && errno != EINTR) {
			ret = ws_seterr(f->msg, -errno, "cannot lock '%s': %s", lp,
					strerror(errno));
			goto out;
		}
		if (f->o->stop && *f->o->stop) {
			ret = ws_seterr(f->msg, WS_EINTERRUPTED, "interrupted while another "
					"fetch of this release was running");
			goto out;
		}
		report(f, "waiting", 0, 0, NULL);
		if (stat(ap, &sb) == 0 && sb.st_mtime != beat) {
			beat = sb.st_mtime;
			since = ws_fetch_now();
		} else if (ws_fetch_now() - since > timeout) {
			ret = ws_seterr(f->msg, WS_ETIMEOUT, "another fetch of this release "
					"on this home has shown no progress for %d s", timeout);
			goto out;
		}
		usleep(WAIT_SLICE_MS * 1000);
	}
	*fd_out = fd;
	fd = -1;
out:
	if (fd >= 0)
		close(fd);
	free(lp);
	free(ap);
	return ret;
}

static void staging_name(const struct ws_fetch_opts *o, char hex[65])
{
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
	int ret, h2 = 0, h1 = 0, lockfd = -1;

	memset(res, 0, sizeof(*res));
	f.started = o->started > 0 ? o->started : ws_fetch_now();
	if (o->link.is_name_link)
		return ws_seterr(msg, WS_EUNSUPPORTED, "name links are resolved by the caller");
	if (already_have(&f)) {
		res->already_complete = 1;
		return 0;
	}
	staging_name(o, hex);
	f.staging = xasprintf("%s/tmp/fetch-%s", st->home, hex);
	f.tfile = xasprintf("%s/.torrent", f.staging);
	if ((ret = lock_fetch(&f, hex, &lockfd)))
		goto out;
	/* a fetch of this release that died holding the lock may have left
	 * its commit journal since this home was opened: finish it first */
	ws_store_finish_journals(st);
	if (already_have(&f)) {
		/* another fetch completed it while this one waited */
		res->already_complete = 1;
		goto out;
	}
	if ((ret = ws_mkdir_p(f.staging))) {
		ws_seterr(msg, ret, "cannot create '%s': %s", f.staging, ws_strerror(ret));
		goto out;
	}
	if (o->session) {
		f.ses = o->session;
	} else {
		const char *lp[WS_LINK_MAX_PEERS];
		for (int i = 0; i < o->link.npeers; i++)
			lp[i] = o->link.peers[i];
		if ((ret = ws_net_session_for_fetch(&o->net, lp, (size_t)o->link.npeers,
						    &f.ses, msg)))
			goto out;
	}
	if ((ret = get_metadata(&f)))
		goto out;
	if ((ret = ws_lt_files(f.t, f.top, sizeof(f.top), &f.files, &f.nfiles))) {
		ws_seterr(msg, ret, "cannot read the torrent's file list");
		goto out;
	}
	for (size_t i = 0; i < f.nfiles; i++)
		if (f.files[i].index + 2 > f.nlt)
			f.nlt = f.files[i].index + 2;  /* and a tail pad file */
	f.data = xasprintf("%s/%s", f.staging, f.top);
	if ((ret = check_meta_files(&f)) || (ret = get_manifest(&f)))
		goto out;
	if ((o->peers_hook && (ret = o->peers_hook(o->peers_ctx, f.t, 0, msg))) ||
	    (ret = ws_fetch_check_manifest(&f))) {
		/* refused before any model data: keep nothing of it */
		ws_lt_remove(f.t);
		f.t = NULL;
		ws_rm_rf(f.staging);
		goto out;
	}
	/* the index has the release, not complete; nothing downloaded yet */
	ws_crash_point("fetch:after-manifest");
	res->total = ws_manifest_total_size(&res->m);
	if (o->manifest_only) {
		ws_lt_remove(f.t);
		f.t = NULL;
		ws_rm_rf(f.staging);
		goto out;
	}
	res->reused = reuse_known(&f);
	/* before any file is wanted: with --origin-only no peer is asked */
	if ((ret = ws_fetch_origin_open(&f)))
		goto out;
	/* Files linked in are checked before any of their pieces is asked
	 * for.  libtorrent picks pieces as soon as a file's priority goes up,
	 * and a block that came before or during the check would be written
	 * into a linked file (a hard link into a complete release) while the
	 * check hashes it: so the torrent is paused from before the priorities
	 * change until the check is queued, and the check runs first. */
	if (res->reused)
		ws_lt_pause(f.t);
	ws_fetch_poll_files(&f);
	ws_fetch_order_files(&f);
	if (res->reused) {
		ws_lt_force_recheck(f.t);
		ws_lt_resume(f.t);
	}
	ws_lt_status(f.t, &s);
	f.data_base = s.payload_down;
	if (f.resumed && ws_fetch_poll_files(&f) == 0)
		for (size_t i = 0; i < f.nfiles; i++)
			res->resumed += f.progress[f.files[i].index];
	f.peers_again = o->peers_hook != NULL;
	if ((ret = wait_for(&f, "downloading", data_done)) < 0)
		goto out;
	res->whole_file_check = ret == 2;
	/* a peer whose handshake came after the last poll: the last word
	 * before the torrent goes (t5503: a stale peer can serve a small
	 * release before a mirror's handshake is in) */
	if (f.peers_again && (ret = o->peers_hook(o->peers_ctx, f.t, 1, msg)))
		goto out;
	if (res->whole_file_check)
		mark_proven(&f);
	ws_lt_status(f.t, &s);
	res->downloaded = s.payload_down;
	res->hash_failures = s.hash_failures;
	ws_lt_metadata(f.t, &meta, &metalen);
	ws_lt_info_hashes(f.t, v2, v1, &h2, &h1);
	ws_fetch_origin_close(&f);
	/* close libtorrent's files before they move */
	ws_lt_remove(f.t);
	f.t = NULL;
	if (res->whole_file_check && (ret = verify_files(&f)))
		goto out;
	if (o->verdict && (ret = o->verdict(o->verdict_ctx, 1, msg)))
		goto out;
	/* one journaled commit (store/recover.h): files and folders synced,
	 * the rename, the index entry made complete (it was added at step 3),
	 * and the torrent with its piece layers, which this node seeds next */
	report(&f, "syncing", 0, 0, NULL);
	{
		struct ws_journal j = { .op = "fetch", .stage = f.data,
					.manifest = f.manifest, .mlen = f.mlen,
					.sig = f.sig, .slen = f.slen,
					.torrent = meta, .torrent_len = meta ? metalen : 0 };
		memcpy(j.v2, v2, 32);
		memcpy(j.v1, v1, 20);
		if ((ret = ws_release_commit(st, &j, &res->m, &res->relpath, NULL, msg)))
			goto out;
	}
	ws_rm_rf(f.staging);
out:
	ws_fetch_origin_close(&f);
	if (f.t) {
		ws_lt_status(f.t, &s);
		res->downloaded = s.payload_down;
		res->hash_failures = s.hash_failures;
		if (ret == WS_EINTERRUPTED || ret == WS_ETIMEOUT || ret == WS_EBADHASH) {
			/* best effort, keep what is in; the error stays the one
			 * that stopped the fetch */
			f.msg = NULL;
			ws_fetch_resume_tick(&f, 1);
		}
		ws_lt_remove(f.t);
	}
	if (ret == WS_EEQUIVOCATION || ret == WS_ESTALE)
		/* refused: keep nothing of it */
		ws_rm_rf(f.staging);
	if (!o->session)
		ws_lt_session_free(f.ses);
	if (f.files)
		ws_lt_files_free(f.files, f.nfiles);
	if (lockfd >= 0) {
		/* removed while held, so tmp/ keeps nothing of a finished fetch;
		 * a fetch waiting on it opens the path again (lock_fetch) */
		char *lp = xasprintf("%s/tmp/fetch-%s.lock", st->home, hex);
		unlink(lp);
		free(lp);
		close(lockfd);
	}
	free(meta);
	free(f.manifest);
	free(f.sig);
	free(f.staging);
	free(f.tfile);
	free(f.data);
	free(f.progress);
	free(f.prio);
	free(f.proven);
	free(f.synced);
	free(f.kicked);
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
