/* walk.c - list a model folder's files (see walk.h) */
#include "walk.h"
#include "proto/error.h"
#include "proto/manifest.h"
#include "proto/util.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct walk {
	char **paths;
	size_t n, cap;
	int strict;
	char **msg;
};

static int skipped_top(const char *name)
{
	return !strcmp(name, WS_META_DIR) || !strcmp(name, ".git") ||
	       !strcmp(name, ".cache");
}

static int walk_dir(struct walk *w, const char *root, const char *rel)
{
	char *full = *rel ? xasprintf("%s/%s", root, rel) : xstrdup(root);
	DIR *d = opendir(full);
	struct dirent *e;
	int ret = 0;

	if (!d) {
		ret = ws_seterr(w->msg, -errno, "cannot read folder '%s': %s", full,
				strerror(errno));
		free(full);
		return ret;
	}
	while (!ret && (e = readdir(d))) {
		struct stat lst, st;
		char *sub, *path;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (!*rel && skipped_top(e->d_name))
			continue;
		sub = *rel ? xasprintf("%s/%s", rel, e->d_name) : xstrdup(e->d_name);
		path = xasprintf("%s/%s", root, sub);
		if (lstat(path, &lst) < 0) {
			ret = ws_seterr(w->msg, -errno, "cannot stat '%s': %s", path,
					strerror(errno));
		} else if (S_ISDIR(lst.st_mode)) {
			ret = walk_dir(w, root, sub);
		} else if (S_ISLNK(lst.st_mode) || S_ISREG(lst.st_mode)) {
			int is_file = stat(path, &st) == 0 && S_ISREG(st.st_mode);
			if (!is_file || ws_path_check(sub)) {
				if (w->strict)
					ret = ws_seterr(w->msg, is_file ? WS_EPATH : WS_EFORMAT,
							is_file ? "'%s' is not a valid file name for a release" :
							"'%s' is a link that does not lead to a file", sub);
			} else {
				if (w->n == w->cap) {
					w->cap = w->cap ? 2 * w->cap : 64;
					w->paths = xrealloc(w->paths, w->cap * sizeof(char *));
				}
				w->paths[w->n++] = sub;
				sub = NULL;
			}
		} else if (w->strict) {
			ret = ws_seterr(w->msg, WS_EFORMAT,
					"'%s' is not a regular file or folder", sub);
		}
		free(sub);
		free(path);
	}
	closedir(d);
	free(full);
	return ret;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int ws_walk(const char *dir, int strict, char ***paths, size_t *n, char **msg)
{
	struct walk w = { .strict = strict, .msg = msg };
	int ret = walk_dir(&w, dir, "");

	if (ret) {
		ws_walk_free(w.paths, w.n);
		return ret;
	}
	if (w.n)
		qsort(w.paths, w.n, sizeof(char *), cmp_str);
	*paths = w.paths;
	*n = w.n;
	return 0;
}

void ws_walk_free(char **paths, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
}
