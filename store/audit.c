/* audit.c - a folder against its manifest (see audit.h) */
#include "audit.h"
#include "walk.h"
#include "proto/error.h"
#include "proto/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const char *ws_audit_state_name(int state)
{
	static const char *const names[WS_AUDIT_NSTATES] = {
		"ok", "modified", "missing", "wrong size", "extra", "unreadable",
	};
	return state >= 0 && state < WS_AUDIT_NSTATES ? names[state] : "?";
}

int ws_audit_intact(const struct ws_audit *a)
{
	return a->count[WS_AUDIT_OK] == a->n;
}

int ws_audit_dir(const char *dir, const struct ws_manifest *m,
		 ws_hash_progress_fn progress, void *ctx, struct ws_audit *out,
		 char **msg)
{
	struct ws_hash_file *jobs = NULL;
	size_t *job_entry = NULL, njobs = 0, nextra = 0;
	char **found = NULL;
	size_t nfound = 0;
	struct stat st;
	int ret;

	memset(out, 0, sizeof(*out));
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return ws_seterr(msg, stat(dir, &st) < 0 ? -errno : -ENOTDIR,
				 "cannot audit '%s': %s", dir,
				 stat(dir, &st) < 0 ? strerror(errno) : "not a folder");
	if ((ret = ws_walk(dir, 0, &found, &nfound, msg)))
		return ret;
	for (size_t i = 0; i < nfound; i++)
		if (!ws_manifest_find(m, found[i]))
			nextra++;
	out->entries = xcalloc(m->nfiles + nextra + 1, sizeof(*out->entries));
	jobs = xcalloc(m->nfiles + 1, sizeof(*jobs));
	job_entry = xcalloc(m->nfiles + 1, sizeof(*job_entry));
	for (size_t i = 0; i < m->nfiles; i++) {
		const struct ws_manifest_file *f = &m->files[i];
		struct ws_audit_entry *e = &out->entries[out->n++];
		char *path = xasprintf("%s/%s", dir, f->path);

		e->path = xstrdup(f->path);
		e->expected_size = f->size;
		if (stat(path, &st) < 0) {
			e->state = errno == ENOENT ? WS_AUDIT_MISSING : WS_AUDIT_UNREADABLE;
			e->error = -errno;
			free(path);
		} else if (!S_ISREG(st.st_mode)) {
			e->state = WS_AUDIT_UNREADABLE;
			e->error = -EISDIR;
			free(path);
		} else if ((uint64_t)st.st_size != f->size) {
			e->state = WS_AUDIT_WRONG_SIZE;
			e->actual_size = (uint64_t)st.st_size;
			free(path);
		} else {
			e->actual_size = f->size;
			jobs[njobs].path = path;
			job_entry[njobs++] = out->n - 1;
		}
	}
	for (size_t i = 0; i < nfound; i++) {
		if (ws_manifest_find(m, found[i]))
			continue;
		struct ws_audit_entry *e = &out->entries[out->n++];
		char *path = xasprintf("%s/%s", dir, found[i]);
		e->path = xstrdup(found[i]);
		e->state = WS_AUDIT_EXTRA;
		if (stat(path, &st) == 0)
			e->actual_size = (uint64_t)st.st_size;
		free(path);
	}
	if ((ret = ws_hash_files(jobs, njobs, 0, progress, ctx))) {
		ws_seterr(msg, ret, "cannot start hashing: %s", ws_strerror(ret));
		ws_audit_release(out);
		goto out;
	}
	for (size_t j = 0; j < njobs; j++) {
		struct ws_audit_entry *e = &out->entries[job_entry[j]];
		const struct ws_manifest_file *f = &m->files[job_entry[j]];
		if (jobs[j].error) {
			e->state = WS_AUDIT_UNREADABLE;
			e->error = jobs[j].error;
		} else if (jobs[j].size != f->size) {
			e->state = WS_AUDIT_WRONG_SIZE;
			e->actual_size = jobs[j].size;
		} else if (f->size > 0 && memcmp(jobs[j].root, f->root, 32)) {
			e->state = WS_AUDIT_MODIFIED;
		}
		out->bytes_hashed += jobs[j].size;
	}
	for (size_t i = 0; i < out->n; i++)
		out->count[out->entries[i].state]++;
out:
	for (size_t j = 0; j < njobs; j++) {
		ws_hash_file_release(&jobs[j]);
		free((char *)jobs[j].path);
	}
	free(jobs);
	free(job_entry);
	ws_walk_free(found, nfound);
	return ret;
}

void ws_audit_release(struct ws_audit *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->entries[i].path);
	free(a->entries);
	memset(a, 0, sizeof(*a));
}
