/* durable.c - fsync a tree, files first, folders after (see durable.h) */
#include "durable.h"
#include "proto/error.h"
#include "proto/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* fsync the file or folder at path (opened with flags, read-only) */
static int sync_path(const char *path, int flags)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | flags);
	int ret = 0;

	if (fd < 0)
		return -errno;
	/* fsync rather than fdatasync: the size and times become durable too,
	 * and the fetch's resume check reads them */
	if (fsync(fd) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

int ws_sync_dir(const char *path)
{
	return sync_path(path, O_DIRECTORY);
}

static void keep_first(int *first, char **msg, int ret, const char *path)
{
	if (ret && !*first) {
		*first = ret;
		ws_seterr(msg, ret, "cannot sync '%s' to disk: %s", path, ws_strerror(ret));
	}
}

static void sync_walk(const char *dir, int *first, char **msg)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d) {
		keep_first(first, msg, -errno, dir);
		return;
	}
	while ((e = readdir(d))) {
		struct stat sb;
		char *p;
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		p = xasprintf("%s/%s", dir, e->d_name);
		if (lstat(p, &sb) < 0)
			keep_first(first, msg, -errno, p);
		else if (S_ISDIR(sb.st_mode))
			sync_walk(p, first, msg);
		else if (S_ISREG(sb.st_mode))
			keep_first(first, msg, sync_path(p, O_NOFOLLOW), p);
		free(p);
	}
	closedir(d);
	/* the folder after what is in it: its entries name synced files */
	keep_first(first, msg, ws_sync_dir(dir), dir);
}

int ws_sync_fs(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (syncfs(fd) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/* regular files under dir, counted up to limit + 1 */
static size_t count_files(const char *dir, size_t limit)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	if (!d)
		return 0;
	while (n <= limit && (e = readdir(d))) {
		struct stat sb;
		char *p;
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		p = xasprintf("%s/%s", dir, e->d_name);
		if (lstat(p, &sb) == 0) {
			if (S_ISDIR(sb.st_mode))
				n += count_files(p, limit - n);
			else if (S_ISREG(sb.st_mode))
				n++;
		}
		free(p);
	}
	closedir(d);
	return n;
}

int ws_sync_tree(const char *dir, char **msg)
{
	int first = 0;

	if (count_files(dir, WS_SYNCFS_FILES) > WS_SYNCFS_FILES) {
		keep_first(&first, msg, ws_sync_fs(dir), dir);
		return first;
	}
	sync_walk(dir, &first, msg);
	return first;
}
