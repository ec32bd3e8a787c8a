/* store.c - a node's home and its release folders (see store.h) */
#include "store.h"
#include "durable.h"
#include "recover.h"
#include "proto/error.h"
#include "proto/util.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

int ws_store_home(const char *override, char **out)
{
	const char *v;

	if (override && *override) {
		*out = xstrdup(override);
		return 0;
	}
	if ((v = getenv("WEIGHTSYNC_HOME")) && *v) {
		*out = xstrdup(v);
		return 0;
	}
	if ((v = getenv("XDG_DATA_HOME")) && *v == '/') {
		*out = xasprintf("%s/weightsync", v);
		return 0;
	}
	if ((v = getenv("HOME")) && *v) {
		*out = xasprintf("%s/.local/share/weightsync", v);
		return 0;
	}
	return WS_ENOTFOUND;
}

int ws_store_open(const char *home, struct ws_store **out, char **msg)
{
	struct ws_store *st = xcalloc(1, sizeof(*st));
	char *ixdir = NULL;
	int ret;

	st->home = xstrdup(home);
	if ((ret = ws_mkdir_p(home)) < 0) {
		ws_seterr(msg, ret, "cannot create home '%s': %s", home,
			  ws_strerror(ret));
		goto fail;
	}
	/* tmp/ exists from the start, so staging never changes the home's
	 * shape (and a read-only home still opens) */
	free(ixdir);
	ixdir = xasprintf("%s/tmp", home);
	mkdir(ixdir, 0755);
	free(ixdir);
	ixdir = xasprintf("%s/index", home);
	if ((ret = ws_index_open(ixdir, &st->index, msg)))
		goto fail;
	free(ixdir);
	/* every command that opens the home finishes what a crash cut short
	 * (recover.h); what it cannot do now, audit reports */
	ws_store_recover(st, NULL, NULL);
	*out = st;
	return 0;
fail:
	free(ixdir);
	ws_store_free(st);
	return ret;
}

void ws_store_free(struct ws_store *st)
{
	if (!st)
		return;
	ws_index_close(st->index);
	free(st->home);
	free(st);
}

char *ws_store_release_relpath(const uint8_t pk[32], const char *name,
			       int64_t version)
{
	char hex[65];
	ws_hex(pk, 32, hex);
	return xasprintf("releases/%s/%s@%lld", hex, name, (long long)version);
}

char *ws_store_path(const struct ws_store *st, const char *rel)
{
	return xasprintf("%s/%s", st->home, rel);
}

char *ws_store_default_key(const struct ws_store *st)
{
	return xasprintf("%s/keys/publisher.key", st->home);
}

int ws_store_stage(const struct ws_store *st, char **dir, char **msg)
{
	char *tmp = xasprintf("%s/tmp", st->home);
	/* the owner's PID in the name tells a stale folder from a live one */
	char *d = xasprintf("%s/tmp/stage.%ld.XXXXXX", st->home, (long)getpid());
	int ret = ws_mkdir_p(tmp);

	free(tmp);
	if (ret == 0 && !mkdtemp(d))
		ret = -errno;
	if (ret) {
		ws_seterr(msg, ret, "cannot create a staging folder in '%s': %s",
			  st->home, ws_strerror(ret));
		free(d);
		return ret;
	}
	*dir = d;
	return 0;
}

static int mkparent(const char *path)
{
	char *p = xstrdup(path);
	int ret = ws_mkdir_p(dirname(p));
	free(p);
	return ret;
}

static int copy_file(int in, int out)
{
	struct stat st;
	off_t off = 0;

	if (fstat(in, &st) < 0)
		return -errno;
	while (off < st.st_size) {
		ssize_t n = sendfile(out, in, &off, (size_t)(st.st_size - off));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
	}
	return 0;
}

int ws_store_link_file(const char *src, const char *dst, int copy_only,
		       char **msg)
{
	int in = -1, out = -1, ret;

	if ((ret = mkparent(dst)) < 0)
		goto fail;
	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		ret = -errno;
		goto fail;
	}
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (out < 0) {
		ret = -errno;
		goto fail;
	}
	if (ioctl(out, FICLONE, in) == 0)
		goto done;
	if (!copy_only) {
		/* a hard link shares the inode: free, but later in-place edits
		 * of the source show up in the store (and audit reports them) */
		close(out);
		out = -1;
		unlink(dst);
		/* follow a symlinked source (a Hugging Face snapshot links into
		 * blobs/): link the file, never the link */
		if (linkat(AT_FDCWD, src, AT_FDCWD, dst, AT_SYMLINK_FOLLOW) == 0)
			goto done;
		out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (out < 0) {
			ret = -errno;
			goto fail;
		}
	}
	if ((ret = copy_file(in, out)) < 0) {
		unlink(dst);
		goto fail;
	}
done:
	ret = 0;
	if (out >= 0 && close(out) < 0) {
		ret = -errno;
		out = -1;
		unlink(dst);
		goto fail;
	}
	close(in);
	return 0;
fail:
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return ws_seterr(msg, ret, "cannot place '%s' in the store: %s", src,
			 ws_strerror(ret));
}

int ws_store_write_meta(const char *dir, const char *manifest, size_t mlen,
			const char *sig, size_t slen, char **msg)
{
	char *meta = xasprintf("%s/" WS_META_DIR, dir);
	char *mp = xasprintf("%s/" WS_MANIFEST_FILE, dir);
	char *sp = xasprintf("%s/" WS_SIG_FILE, dir);
	int ret;

	if ((ret = ws_mkdir_p(meta)) < 0 ||
	    (ret = ws_write_file_atomic(mp, manifest, mlen, 0644, 0)) < 0 ||
	    (ret = ws_write_file_atomic(sp, sig, slen, 0644, 0)) < 0)
		ws_seterr(msg, ret, "cannot write the manifest into '%s': %s", dir,
			  ws_strerror(ret));
	free(meta);
	free(mp);
	free(sp);
	return ret;
}

int ws_store_read_meta(const char *dir, char **manifest, size_t *mlen,
		       char **sig, size_t *slen, char **msg)
{
	char *mp = xasprintf("%s/" WS_MANIFEST_FILE, dir);
	char *sp = xasprintf("%s/" WS_SIG_FILE, dir);
	char *m = NULL, *s = NULL;
	int ret;

	if ((ret = ws_read_file(mp, WS_MANIFEST_MAX, &m, mlen)) < 0) {
		if (ret == WS_ETOOBIG)
			ws_seterr(msg, ret, "cannot read '%s': larger than the limit of %u bytes",
				  mp, WS_MANIFEST_MAX);
		else
			ws_seterr(msg, ret, "cannot read '%s': %s", mp, ws_strerror(ret));
		goto out;
	}
	if ((ret = ws_read_file(sp, WS_SIGFILE_MAX, &s, slen)) < 0) {
		if (ret == WS_ETOOBIG)
			ws_seterr(msg, ret, "cannot read '%s': larger than the limit of %u bytes",
				  sp, WS_SIGFILE_MAX);
		else
			ws_seterr(msg, ret, "cannot read '%s': %s", sp, ws_strerror(ret));
		goto out;
	}
	*manifest = m;
	*sig = s;
	m = s = NULL;
out:
	free(m);
	free(s);
	free(mp);
	free(sp);
	return ret;
}
