/* hf_audit.c - check a Hugging Face cache's blobs by their names (see hf_audit.h) */
#include "hf_audit.h"
#include "hf.h"
#include "proto/error.h"
#include "proto/util.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const state_names[WS_HF_NSTATES] = {
	"ok", "modified", "dangling", "incomplete", "unchecked", "unreadable",
};

const char *ws_hf_state_name(int state)
{
	return state >= 0 && state < WS_HF_NSTATES ? state_names[state] : "?";
}

static int is_dir(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* the cache's folder prefixes for the three kinds of repository */
static const char *const repo_prefix[] = { "models--", "datasets--", "spaces--", NULL };

static int repo_folder_name(const char *base)
{
	for (int i = 0; repo_prefix[i]; i++)
		if (!strncmp(base, repo_prefix[i], strlen(repo_prefix[i])) &&
		    base[strlen(repo_prefix[i])])
			return 1;
	return 0;
}

static int has_sub(const char *dir, const char *sub)
{
	char *p = xasprintf("%s/%s", dir, sub);
	int r = is_dir(p);
	free(p);
	return r;
}

static int is_repo(const char *dir)
{
	return has_sub(dir, "snapshots") && has_sub(dir, "blobs");
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* sorted names in dir (no "." and ".."); 0 or -errno */
static int list_dir(const char *dir, char ***names, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **v = NULL;
	size_t cnt = 0, cap = 0;

	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (cnt == cap) {
			cap = cap ? 2 * cap : 16;
			v = xrealloc(v, cap * sizeof(*v));
		}
		v[cnt++] = xstrdup(e->d_name);
	}
	closedir(d);
	if (cnt)
		qsort(v, cnt, sizeof(*v), cmp_str);
	*names = v;
	*n = cnt;
	return 0;
}

static void free_names(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

int ws_hf_kind(const char *dir)
{
	char real[PATH_MAX], *slash, **names = NULL;
	size_t n = 0;
	int kind = WS_HF_NONE;

	if (!realpath(dir, real) || !is_dir(real))
		return WS_HF_NONE;
	if (is_repo(real))
		return WS_HF_REPO;
	/* .../models--ORG--NAME/snapshots/COMMIT */
	slash = strrchr(real, '/');
	if (slash && slash != real) {
		*slash = '\0';
		char *parent = strrchr(real, '/');
		if (parent && !strcmp(parent + 1, "snapshots")) {
			*parent = '\0';
			if (has_sub(*real ? real : "/", "blobs"))
				return WS_HF_SNAPSHOT;
			*parent = '/';
		}
		*slash = '/';
	}
	if (list_dir(real, &names, &n))
		return WS_HF_NONE;
	for (size_t i = 0; i < n && !kind; i++) {
		char *sub = xasprintf("%s/%s", real, names[i]);
		if (repo_folder_name(names[i]) && is_repo(sub))
			kind = WS_HF_CACHE;
		free(sub);
	}
	free_names(names, n);
	return kind;
}

/* One blob file, checked once however many snapshot links name it. */
struct blob {
	char *real;                 /* its resolved path */
	char *name;                 /* its last path part */
	int state, error;
	uint64_t size;
	int referenced;
};

struct repo_run {
	struct blob *blobs;
	size_t nblobs, cap;
	struct ws_hf_audit *out;
	size_t cap_entries;
	const char *repo;           /* "ORG/NAME" */
	char **msg;
};

static size_t add_blob(struct repo_run *r, const char *real)
{
	const char *base = strrchr(real, '/');
	struct stat st;

	for (size_t i = 0; i < r->nblobs; i++)
		if (!strcmp(r->blobs[i].real, real))
			return i;
	if (r->nblobs == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 32;
		r->blobs = xrealloc(r->blobs, r->cap * sizeof(*r->blobs));
	}
	struct blob *b = &r->blobs[r->nblobs];
	memset(b, 0, sizeof(*b));
	b->real = xstrdup(real);
	b->name = xstrdup(base ? base + 1 : real);
	if (stat(real, &st) < 0) {
		b->state = WS_HF_UNREADABLE;
		b->error = -errno;
	} else {
		b->size = (uint64_t)st.st_size;
	}
	return r->nblobs++;
}

static void add_entry(struct repo_run *r, const char *path, const char *blob,
		      int state, int error, uint64_t size)
{
	struct ws_hf_audit *a = r->out;
	if (a->n == r->cap_entries) {
		r->cap_entries = r->cap_entries ? 2 * r->cap_entries : 64;
		a->entries = xrealloc(a->entries, r->cap_entries * sizeof(*a->entries));
	}
	a->entries[a->n++] = (struct ws_hf_audit_entry){
		xstrdup(r->repo), xstrdup(path), blob ? xstrdup(blob) : NULL, state, error, size,
	};
	a->count[state]++;
}

/*
 * Snapshot files in the order found: each is a link (to a blob index, or
 * dangling) or a plain file.  Collected first and reported after the blobs
 * are hashed.
 */
struct snap_file {
	char *path;                 /* relative to the repo folder */
	char *target_name;          /* the link target's last part */
	long blob;                  /* index into blobs, -1 if none */
	int state, error;           /* when blob < 0 */
};

struct snap_list {
	struct snap_file *v;
	size_t n, cap;
};

static int walk_snapshot(struct repo_run *r, struct snap_list *sl, const char *repo_dir,
			 const char *rel)
{
	char *dir = xasprintf("%s/%s", repo_dir, rel), **names = NULL;
	size_t n = 0;
	int ret = list_dir(dir, &names, &n);

	if (ret) {
		ws_seterr(r->msg, ret, "cannot read folder '%s': %s", dir, ws_strerror(ret));
		free(dir);
		return ret;
	}
	for (size_t i = 0; i < n && !ret; i++) {
		char *sub = xasprintf("%s/%s", rel, names[i]);
		char *full = xasprintf("%s/%s", repo_dir, sub), target[PATH_MAX], real[PATH_MAX];
		struct stat lst;
		struct snap_file f = { sub, NULL, -1, WS_HF_OK, 0 };
		ssize_t tl;

		if (lstat(full, &lst) < 0) {
			f.state = WS_HF_UNREADABLE;
			f.error = -errno;
		} else if (S_ISDIR(lst.st_mode)) {
			ret = walk_snapshot(r, sl, repo_dir, sub);
			free(sub);
			free(full);
			continue;
		} else if (S_ISLNK(lst.st_mode)) {
			tl = readlink(full, target, sizeof(target) - 1);
			target[tl > 0 ? tl : 0] = '\0';
			const char *base = strrchr(target, '/');
			f.target_name = xstrdup(base ? base + 1 : target);
			if (!realpath(full, real)) {
				f.state = errno == ENOENT ? WS_HF_DANGLING : WS_HF_UNREADABLE;
				f.error = -errno;
			} else {
				f.blob = (long)add_blob(r, real);
				r->blobs[f.blob].referenced = 1;
			}
		} else {
			/* the hub's client copies instead of linking where it cannot
			 * link: such a file carries no hash to check against */
			f.state = S_ISREG(lst.st_mode) ? WS_HF_UNCHECKED : WS_HF_UNREADABLE;
			f.error = S_ISREG(lst.st_mode) ? 0 : -EINVAL;
		}
		if (sl->n == sl->cap) {
			sl->cap = sl->cap ? 2 * sl->cap : 32;
			sl->v = xrealloc(sl->v, sl->cap * sizeof(*sl->v));
		}
		sl->v[sl->n++] = f;
		free(full);
	}
	free_names(names, n);
	free(dir);
	return ret;
}

/* hash every blob against its name: SHA-256 ones on every core */
static void check_blobs(struct repo_run *r, ws_hash_progress_fn progress, void *ctx)
{
	struct ws_hash_file *hf = xcalloc(r->nblobs + 1, sizeof(*hf));
	size_t *which = xcalloc(r->nblobs + 1, sizeof(*which)), nh = 0;

	for (size_t i = 0; i < r->nblobs; i++) {
		struct blob *b = &r->blobs[i];
		size_t len = strlen(b->name);
		if (b->state != WS_HF_OK)
			continue;
		if (ws_hf_is_hex(b->name, 64)) {
			hf[nh].path = b->real;
			hf[nh].want_sha256 = 1;
			hf[nh].sha256_only = 1;
			which[nh++] = i;
		} else if (ws_hf_is_hex(b->name, 40)) {
			uint8_t got[20], want[20];
			int e = ws_hf_git_blob_id(b->real, b->size, got);
			ws_unhex(b->name, want, 20);
			if (e) {
				b->state = WS_HF_UNREADABLE;
				b->error = e;
			} else if (memcmp(got, want, 20)) {
				b->state = WS_HF_MODIFIED;
			}
			r->out->bytes_hashed += b->size;
		} else if (len > 11 && !strcmp(b->name + len - 11, ".incomplete")) {
			b->state = WS_HF_INCOMPLETE;
		} else {
			b->state = WS_HF_UNCHECKED;
		}
	}
	if (nh && ws_hash_files(hf, nh, 0, progress, ctx) == 0) {
		for (size_t k = 0; k < nh; k++) {
			struct blob *b = &r->blobs[which[k]];
			uint8_t want[32];
			ws_unhex(b->name, want, 32);
			if (hf[k].error) {
				b->state = WS_HF_UNREADABLE;
				b->error = hf[k].error;
			} else if (memcmp(hf[k].sha256, want, 32)) {
				b->state = WS_HF_MODIFIED;
			}
			r->out->bytes_hashed += hf[k].size;
			ws_hash_file_release(&hf[k]);
		}
	} else if (nh) {
		for (size_t k = 0; k < nh; k++) {
			r->blobs[which[k]].state = WS_HF_UNREADABLE;
			r->blobs[which[k]].error = -EAGAIN;
		}
	}
	free(hf);
	free(which);
}

/* "models--ORG--NAME" -> "ORG/NAME"; "datasets--ORG--NAME" -> "datasets/ORG/NAME" */
static char *repo_id(const char *folder)
{
	const char *base = strrchr(folder, '/');
	char *out, *p;
	base = base ? base + 1 : folder;
	if (!strncmp(base, "models--", 8))
		out = xstrdup(base + 8);
	else if (!strncmp(base, "datasets--", 10))
		out = xasprintf("datasets--%s", base + 10);
	else if (!strncmp(base, "spaces--", 8))
		out = xasprintf("spaces--%s", base + 8);
	else
		out = xstrdup(base);
	while ((p = strstr(out, "--"))) {
		*p = '/';
		memmove(p + 1, p + 2, strlen(p + 2) + 1);
	}
	return out;
}

/*
 * Audit one repo folder.  snapshot is one "snapshots/COMMIT" to check, or
 * NULL for every snapshot and every blob.
 */
static int audit_repo(const char *repo_dir, const char *snapshot, ws_hash_progress_fn progress,
		      void *ctx, struct ws_hf_audit *out, size_t *cap_entries, char **msg)
{
	struct repo_run r = { .out = out, .cap_entries = *cap_entries, .msg = msg };
	struct snap_list sl = { 0 };
	char *id = repo_id(repo_dir);
	int ret = 0;

	r.repo = id;
	if (!snapshot) {
		char *bdir = xasprintf("%s/blobs", repo_dir), **names = NULL;
		size_t n = 0;
		if ((ret = list_dir(bdir, &names, &n)))
			ws_seterr(msg, ret, "cannot read folder '%s': %s", bdir, ws_strerror(ret));
		for (size_t i = 0; i < n; i++) {
			char *p = xasprintf("%s/%s", bdir, names[i]), real[PATH_MAX];
			struct stat lst;
			if (lstat(p, &lst) == 0 && S_ISREG(lst.st_mode) && realpath(p, real))
				add_blob(&r, real);
			free(p);
		}
		free_names(names, n);
		free(bdir);
		char *sdir = xasprintf("%s/snapshots", repo_dir), **snaps = NULL;
		size_t ns = 0;
		if (!ret && (ret = list_dir(sdir, &snaps, &ns)))
			ws_seterr(msg, ret, "cannot read folder '%s': %s", sdir, ws_strerror(ret));
		for (size_t i = 0; i < ns && !ret; i++) {
			char *rel = xasprintf("snapshots/%s", snaps[i]);
			ret = walk_snapshot(&r, &sl, repo_dir, rel);
			free(rel);
		}
		free_names(snaps, ns);
		free(sdir);
	} else {
		ret = walk_snapshot(&r, &sl, repo_dir, snapshot);
	}
	if (!ret) {
		check_blobs(&r, progress, ctx);
		for (size_t i = 0; i < sl.n; i++) {
			struct snap_file *f = &sl.v[i];
			if (f->blob >= 0) {
				struct blob *b = &r.blobs[f->blob];
				add_entry(&r, f->path, b->name, b->state, b->error, b->size);
			} else {
				add_entry(&r, f->path, f->target_name, f->state, f->error, 0);
			}
		}
		for (size_t i = 0; i < r.nblobs; i++)
			if (!r.blobs[i].referenced) {
				char *p = xasprintf("blobs/%s", r.blobs[i].name);
				add_entry(&r, p, r.blobs[i].name, r.blobs[i].state,
					  r.blobs[i].error, r.blobs[i].size);
				free(p);
			}
		out->nrepos++;
	}
	for (size_t i = 0; i < sl.n; i++) {
		free(sl.v[i].path);
		free(sl.v[i].target_name);
	}
	free(sl.v);
	for (size_t i = 0; i < r.nblobs; i++) {
		free(r.blobs[i].real);
		free(r.blobs[i].name);
	}
	free(r.blobs);
	free(id);
	*cap_entries = r.cap_entries;
	return ret;
}

int ws_hf_audit(const char *dir, ws_hash_progress_fn progress, void *ctx,
		struct ws_hf_audit *out, char **msg)
{
	struct ws_hf_audit a = { 0 };
	size_t cap = 0;
	char real[PATH_MAX];
	int kind = ws_hf_kind(dir), ret = 0;

	if (kind == WS_HF_NONE || !realpath(dir, real))
		return ws_seterr(msg, WS_EFORMAT, "'%s' is not a Hugging Face cache, repository "
				 "or snapshot folder", dir);
	if (kind == WS_HF_REPO) {
		ret = audit_repo(real, NULL, progress, ctx, &a, &cap, msg);
	} else if (kind == WS_HF_SNAPSHOT) {
		/* real is REPO/snapshots/COMMIT */
		char *commit = strrchr(real, '/'), *snap;
		*commit = '\0';
		*strrchr(real, '/') = '\0';
		snap = xasprintf("snapshots/%s", commit + 1);
		ret = audit_repo(real, snap, progress, ctx, &a, &cap, msg);
		free(snap);
	} else {
		char **names = NULL;
		size_t n = 0;
		if ((ret = list_dir(real, &names, &n)))
			ws_seterr(msg, ret, "cannot read folder '%s': %s", real, ws_strerror(ret));
		for (size_t i = 0; i < n && !ret; i++) {
			char *sub = xasprintf("%s/%s", real, names[i]);
			if (repo_folder_name(names[i]) && is_repo(sub))
				ret = audit_repo(sub, NULL, progress, ctx, &a, &cap, msg);
			free(sub);
		}
		free_names(names, n);
	}
	if (ret) {
		ws_hf_audit_release(&a);
		return ret;
	}
	*out = a;
	return 0;
}

int ws_hf_audit_intact(const struct ws_hf_audit *a)
{
	return !a->count[WS_HF_MODIFIED] && !a->count[WS_HF_DANGLING] &&
	       !a->count[WS_HF_UNREADABLE];
}

void ws_hf_audit_release(struct ws_hf_audit *a)
{
	for (size_t i = 0; i < a->n; i++) {
		free(a->entries[i].repo);
		free(a->entries[i].path);
		free(a->entries[i].blob);
	}
	free(a->entries);
	memset(a, 0, sizeof(*a));
}
