/* hub_audit.c - a local folder against the hub's record of a commit (see hub.h) */
#include "hub.h"
#include "proto/error.h"
#include "proto/util.h"
#include "store/hf.h"
#include "store/walk.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int cmp_path(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int ws_hub_audit_dir(const struct ws_hub_repo *r, const char *dir, ws_hash_progress_fn progress,
		     void *ctx, struct ws_audit *out, char **msg)
{
	struct ws_hash_file *jobs = xcalloc(r->nfiles + 1, sizeof(*jobs));
	size_t *job_entry = xcalloc(r->nfiles + 1, sizeof(*job_entry)), njobs = 0;
	size_t *job_file = xcalloc(r->nfiles + 1, sizeof(*job_file));
	const char **listed = xcalloc(r->nfiles + 1, sizeof(*listed));
	char **found = NULL;
	size_t nfound = 0;
	struct stat st;
	int ret;

	memset(out, 0, sizeof(*out));
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		ret = ws_seterr(msg, stat(dir, &st) < 0 ? -errno : -ENOTDIR, "cannot audit '%s': %s",
				dir, stat(dir, &st) < 0 ? strerror(errno) : "not a folder");
		goto out;
	}
	if ((ret = ws_walk(dir, 0, &found, &nfound, msg)))
		goto out;
	out->entries = xcalloc(r->nfiles + nfound + 1, sizeof(*out->entries));
	for (size_t i = 0; i < r->nfiles; i++) {
		const struct ws_hub_file *f = &r->files[i];
		struct ws_audit_entry *e;
		char *path;
		if (!f->selected)
			continue;
		e = &out->entries[out->n++];
		path = xasprintf("%s/%s", dir, f->path);
		e->path = xstrdup(f->path);
		e->expected_size = f->size;
		if (stat(path, &st) < 0) {
			e->state = errno == ENOENT ? WS_AUDIT_MISSING : WS_AUDIT_UNREADABLE;
			e->error = -errno;
		} else if (!S_ISREG(st.st_mode)) {
			e->state = WS_AUDIT_UNREADABLE;
			e->error = -EISDIR;
		} else if ((e->actual_size = (uint64_t)st.st_size) != f->size) {
			e->state = WS_AUDIT_WRONG_SIZE;
		} else if (f->lfs) {
			/* large files on every core, below */
			jobs[njobs].path = path;
			jobs[njobs].want_sha256 = 1;
			jobs[njobs].sha256_only = 1;
			job_file[njobs] = i;
			job_entry[njobs++] = out->n - 1;
			path = NULL;
		} else {
			uint8_t id[20];
			int e2 = ws_hf_git_blob_id(path, f->size, id);
			if (e2) {
				e->state = WS_AUDIT_UNREADABLE;
				e->error = e2;
			} else {
				e->state = memcmp(id, f->blob_id, 20) ? WS_AUDIT_MODIFIED : WS_AUDIT_OK;
			}
			out->bytes_hashed += f->size;
		}
		free(path);
	}
	if (njobs && (ret = ws_hash_files(jobs, njobs, 0, progress, ctx))) {
		ws_seterr(msg, ret, "cannot start hashing: %s", ws_strerror(ret));
		goto out;
	}
	for (size_t k = 0; k < njobs; k++) {
		struct ws_audit_entry *e = &out->entries[job_entry[k]];
		const struct ws_hub_file *f = &r->files[job_file[k]];
		if (jobs[k].error) {
			e->state = WS_AUDIT_UNREADABLE;
			e->error = jobs[k].error;
		} else {
			e->state = memcmp(jobs[k].sha256, f->sha256, 32) ? WS_AUDIT_MODIFIED : WS_AUDIT_OK;
		}
		out->bytes_hashed += jobs[k].size;
	}
	/* what the record does not list (sorted, searched: a repository can
	 * hold many thousand files) */
	for (size_t k = 0; k < r->nfiles; k++)
		listed[k] = r->files[k].path;
	qsort(listed, r->nfiles, sizeof(*listed), cmp_path);
	for (size_t i = 0; i < nfound; i++) {
		const char *key = found[i];
		if (bsearch(&key, listed, r->nfiles, sizeof(*listed), cmp_path))
			continue;
		struct ws_audit_entry *e = &out->entries[out->n++];
		e->path = xstrdup(found[i]);
		e->state = WS_AUDIT_EXTRA;
		char *path = xasprintf("%s/%s", dir, found[i]);
		if (stat(path, &st) == 0)
			e->actual_size = (uint64_t)st.st_size;
		free(path);
	}
	for (size_t i = 0; i < out->n; i++)
		out->count[out->entries[i].state]++;
out:
	for (size_t k = 0; k < njobs; k++) {
		ws_hash_file_release(&jobs[k]);
		free((char *)jobs[k].path);
	}
	free(jobs);
	free(job_entry);
	free(job_file);
	free(listed);
	ws_walk_free(found, nfound);
	if (ret)
		ws_audit_release(out);
	return ret;
}
