/* bundle.c - offline bundles with libarchive (see bundle.h) */
#include "bundle.h"
#include "accept.h"
#include "recover.h"
#include "proto/error.h"
#include "proto/merkle.h"
#include "proto/util.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <signal.h>
#include <limits.h>
#include <glob.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define IO_BLOCK (1u << 20)
#define PUB_FILE WS_META_DIR "/publisher.pub"

static int has_suffix(const char *s, const char *suf)
{
	size_t n = strlen(s), m = strlen(suf);
	return n >= m && !strcmp(s + n - m, suf);
}

static int add_bytes(struct archive *a, const char *name, const void *data,
		     size_t len)
{
	struct archive_entry *e = archive_entry_new();
	int ret = 0;

	archive_entry_set_pathname(e, name);
	archive_entry_set_size(e, (la_int64_t)len);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	if (archive_write_header(a, e) != ARCHIVE_OK ||
	    archive_write_data(a, data, len) != (la_ssize_t)len)
		ret = WS_EFORMAT;
	archive_entry_free(e);
	return ret;
}

static int add_file(struct archive *a, const char *name, const char *src,
		    uint64_t size, uint8_t *buf, char **msg)
{
	struct archive_entry *e = archive_entry_new();
	int fd = open(src, O_RDONLY | O_CLOEXEC), ret = 0;
	uint64_t done = 0;

	if (fd < 0) {
		archive_entry_free(e);
		return ws_seterr(msg, -errno, "cannot read '%s': %s", src, strerror(errno));
	}
	archive_entry_set_pathname(e, name);
	archive_entry_set_size(e, (la_int64_t)size);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	if (archive_write_header(a, e) != ARCHIVE_OK) {
		ret = ws_seterr(msg, WS_EFORMAT, "cannot write the bundle: %s",
				archive_error_string(a));
		goto out;
	}
	while (done < size) {
		ssize_t r = read(fd, buf, IO_BLOCK);
		if (r <= 0) {
			ret = ws_seterr(msg, r < 0 ? -errno : -EIO, "cannot read '%s'%s", src,
					r < 0 ? "" : ": it shrank");
			goto out;
		}
		if ((uint64_t)r > size - done)
			r = (ssize_t)(size - done);
		if (archive_write_data(a, buf, (size_t)r) != r) {
			ret = ws_seterr(msg, WS_EFORMAT, "cannot write the bundle: %s",
					archive_error_string(a));
			goto out;
		}
		done += (uint64_t)r;
	}
out:
	close(fd);
	archive_entry_free(e);
	return ret;
}

/* A bundle an export killed with -9 left half-written beside path (named
 * path.tmp.PID, its PID gone): removed before the next export of path. */
static void remove_dead_partials(const char *path)
{
	char *pat = xasprintf("%s.tmp.*", path);
	glob_t g;

	if (glob(pat, GLOB_NOSORT, NULL, &g) == 0) {
		for (size_t i = 0; i < g.gl_pathc; i++) {
			const char *dot = strrchr(g.gl_pathv[i], '.');
			char *end;
			long pid = strtol(dot + 1, &end, 10);
			if (*end || pid <= 0 || pid > INT_MAX)
				continue;
			if (kill((pid_t)pid, 0) < 0 && errno == ESRCH)
				unlink(g.gl_pathv[i]);
		}
		globfree(&g);
	}
	free(pat);
}

int ws_bundle_export(struct ws_store *st, const struct ws_release *r,
		     const char *path, uint64_t *bytes, char **msg)
{
	struct ws_manifest m;
	struct archive *a = NULL;
	char *tmp = xasprintf("%s.tmp.%d", path, (int)getpid());
	char *folder = ws_store_path(st, r->path), *top = strrchr(folder, '/') + 1;
	char b64[WS_PUBKEY_B64_LEN + 1], idhex[17], *pub = NULL, *name;
	uint8_t *buf = xmalloc(IO_BLOCK);
	int ret;

	*bytes = 0;
	remove_dead_partials(path);
	if ((ret = ws_manifest_parse(r->manifest, r->manifest_len, &m, msg)))
		goto out_free;
	a = archive_write_new();
	archive_write_set_format_pax_restricted(a);
	if ((has_suffix(path, ".zst") || has_suffix(path, ".tzst")) &&
	    archive_write_add_filter_zstd(a) != ARCHIVE_OK) {
		ret = ws_seterr(msg, WS_EUNSUPPORTED, "zstd is not available: %s",
				archive_error_string(a));
		goto out;
	}
	if (archive_write_open_filename(a, tmp) != ARCHIVE_OK) {
		ret = ws_seterr(msg, -errno ? -errno : -EIO, "cannot create '%s': %s", path,
				archive_error_string(a));
		goto out;
	}
	ws_pubkey_to_b64(&m.publisher, b64);
	ws_pubkey_keyid_hex(&m.publisher, idhex);
	pub = xasprintf("untrusted comment: minisign public key %s\n%s\n", idhex, b64);
	name = xasprintf("%s/" WS_MANIFEST_FILE, top);
	ret = add_bytes(a, name, r->manifest, r->manifest_len);
	free(name);
	if (!ret) {
		name = xasprintf("%s/" WS_SIG_FILE, top);
		ret = add_bytes(a, name, r->sig, r->sig_len);
		free(name);
	}
	if (!ret) {
		name = xasprintf("%s/" PUB_FILE, top);
		ret = add_bytes(a, name, pub, strlen(pub));
		free(name);
	}
	if (ret) {
		ws_seterr(msg, ret, "cannot write the bundle: %s", archive_error_string(a));
		goto out;
	}
	for (size_t i = 0; i < m.nfiles && !ret; i++) {
		char *src = xasprintf("%s/%s", folder, m.files[i].path);
		name = xasprintf("%s/%s", top, m.files[i].path);
		ret = add_file(a, name, src, m.files[i].size, buf, msg);
		ws_crash_point("export:partial");
		*bytes += m.files[i].size;
		free(src);
		free(name);
	}
	if (!ret && archive_write_close(a) != ARCHIVE_OK)
		ret = ws_seterr(msg, -EIO, "cannot finish the bundle: %s", archive_error_string(a));
	if (!ret) {
		/* the bytes on disk before the name says the bundle is whole */
		int fd = open(tmp, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || fsync(fd) < 0)
			ret = ws_seterr(msg, -errno, "cannot write '%s': %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
	}
	if (!ret)
		ws_crash_point("export:written");
	if (!ret && rename(tmp, path) < 0)
		ret = ws_seterr(msg, -errno, "cannot write '%s': %s", path, strerror(errno));
	if (!ret)
		ws_crash_point("export:after-rename");
out:
	if (a)
		archive_write_free(a);
	if (ret)
		unlink(tmp);
	ws_manifest_release(&m);
out_free:
	free(pub);
	free(buf);
	free(tmp);
	free(folder);
	return ret;
}

/* Read the current entry's data whole (small files: the manifest). */
static int read_small(struct archive *a, struct archive_entry *e, size_t cap,
		      char **out, size_t *len, char **msg)
{
	la_int64_t size = archive_entry_size(e);
	char *buf;

	if (!archive_entry_size_is_set(e) || size < 0 || (uint64_t)size > cap)
		return ws_seterr(msg, WS_ETOOBIG, "'%s' is missing a size or too large",
				 archive_entry_pathname(e));
	buf = xmalloc((size_t)size + 1);
	if (archive_read_data(a, buf, (size_t)size) != size) {
		free(buf);
		return ws_seterr(msg, WS_EFORMAT, "truncated bundle");
	}
	buf[size] = '\0';
	*out = buf;
	*len = (size_t)size;
	return 0;
}

/* Entry name NAME@V/<rest>: the rest, or NULL when it is outside. */
static const char *inside(const char *name, const char *top)
{
	size_t n = strlen(top);
	if (strncmp(name, top, n) || name[n] != '/')
		return NULL;
	return name + n + 1;
}

static int is_complete(struct ws_store *st, const struct ws_manifest *m,
		       const uint8_t mhash[32], char **relpath)
{
	struct ws_release r;
	int yes = 0;
	if (ws_index_get(st->index, m->publisher.pk, m->name, m->version, &r) == 0) {
		yes = r.complete && !memcmp(r.mhash, mhash, 32);
		if (yes)
			*relpath = xstrdup(r.path);
		ws_release_release(&r);
	}
	return yes;
}

/* Stream one model file into dst, hashing it; checks size and SHA-256. */
static int take_file(struct archive *a, struct archive_entry *e,
		     const struct ws_manifest_file *f, const char *dst,
		     uint8_t *buf, char **msg)
{
	ws_sha *h = ws_sha256_new();
	uint8_t got[32];
	uint64_t done = 0;
	int fd = -1, ret = 0;
	char *dir = xstrdup(dst), *slash = strrchr(dir, '/');

	if (slash)
		*slash = '\0';
	if (!archive_entry_size_is_set(e) || (uint64_t)archive_entry_size(e) != f->size) {
		ret = ws_seterr(msg, WS_EMISMATCH, "'%s' has %lld bytes in the bundle, the "
				"manifest says %llu", f->path, (long long)archive_entry_size(e),
				(unsigned long long)f->size);
		goto out;
	}
	if ((ret = ws_mkdir_p(dir)) < 0 ||
	    (fd = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)) < 0) {
		ret = ws_seterr(msg, ret ? ret : -errno, "cannot write '%s': %s", dst,
				strerror(ret ? -ret : errno));
		goto out;
	}
	for (;;) {
		la_ssize_t r = archive_read_data(a, buf, IO_BLOCK);
		if (r < 0) {
			ret = ws_seterr(msg, WS_EFORMAT, "bad bundle: %s", archive_error_string(a));
			goto out;
		}
		if (r == 0)
			break;
		ws_sha_update(h, buf, (size_t)r);
		for (la_ssize_t w = 0; w < r;) {
			ssize_t k = write(fd, buf + w, (size_t)(r - w));
			if (k < 0) {
				ret = ws_seterr(msg, -errno, "cannot write '%s': %s", dst,
						strerror(errno));
				goto out;
			}
			w += k;
		}
		done += (uint64_t)r;
	}
	ws_sha_final(h, got);
	if (done != f->size)
		ret = ws_seterr(msg, WS_EMISMATCH, "'%s' is truncated in the bundle", f->path);
	else if (memcmp(got, f->sha256, 32))
		ret = ws_seterr(msg, WS_EBADHASH, "'%s' failed its SHA-256 check against the "
				"manifest", f->path);
	else if (fsync(fd) < 0)
		ret = ws_seterr(msg, -errno, "cannot write '%s': %s", dst, strerror(errno));
out:
	if (fd >= 0)
		close(fd);
	ws_sha_free(h);
	free(dir);
	return ret;
}

int ws_bundle_import(struct ws_store *st, const char *path,
		     ws_bundle_accept_fn accept, void *ctx,
		     struct ws_bundle_import *out, char **msg)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	char *manifest = NULL, *sig = NULL, *stage = NULL, top[WS_NAME_MAX + 32];
	char *data = NULL;
	uint8_t mhash[32], *buf = xmalloc(IO_BLOCK), *seen = NULL;
	size_t mlen = 0, slen = 0, nseen = 0;
	int ret = 0, r, have_m = 0;

	memset(out, 0, sizeof(*out));
	archive_read_support_format_tar(a);
	archive_read_support_filter_all(a);
	/* a file that cannot be read is an I/O error (exit 2); one that can
	 * but is no bundle (empty, another format) is refused input */
	{
		struct stat sb;
		int fd = -1;
		/* a pipe is not opened twice: its writer would see the first
		 * reader go */
		if (stat(path, &sb) < 0 ||
		    (S_ISREG(sb.st_mode) && (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)) {
			ret = ws_seterr(msg, -errno, "cannot open '%s': %s", path, strerror(errno));
			goto out;
		}
		if (fd >= 0)
			close(fd);
		if (!S_ISREG(sb.st_mode) && !S_ISFIFO(sb.st_mode) && !S_ISCHR(sb.st_mode)) {
			ret = ws_seterr(msg, -EISDIR, "cannot open '%s': not a file", path);
			goto out;
		}
		if (S_ISREG(sb.st_mode) && sb.st_size == 0) {
			ret = ws_seterr(msg, WS_EFORMAT, "not a weightsync bundle: '%s' is empty",
					path);
			goto out;
		}
	}
	if (archive_read_open_filename(a, path, IO_BLOCK) != ARCHIVE_OK) {
		ret = ws_seterr(msg, WS_EFORMAT, "not a weightsync bundle: '%s': %s", path,
				archive_error_string(a));
		goto out;
	}
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		const char *name = archive_entry_pathname(e), *rest;
		const struct ws_manifest_file *f;

		int regular = name && archive_entry_filetype(e) == AE_IFREG &&
			      !archive_entry_hardlink(e) && !archive_entry_symlink(e);
		if (!have_m) {
			/* the manifest and its signature come first */
			const char *slash = name ? strchr(name, '/') : NULL;
			if (!regular || !slash || (size_t)(slash - name) >= sizeof(top) ||
			    strcmp(slash + 1, manifest ? WS_SIG_FILE : WS_MANIFEST_FILE)) {
				ret = ws_seterr(msg, WS_EFORMAT, "not a weightsync bundle: "
						"it must start with the manifest and its signature");
				goto out;
			}
			if (!manifest) {
				memcpy(top, name, (size_t)(slash - name));
				top[slash - name] = '\0';
				if ((ret = read_small(a, e, WS_MANIFEST_MAX, &manifest, &mlen, msg)))
					goto out;
				continue;
			}
			/* the signature must sit in the manifest's folder; a
			 * refusal here is an error, never a quiet success */
			if ((size_t)(slash - name) != strlen(top) ||
			    strncmp(name, top, strlen(top))) {
				ret = ws_seterr(msg, WS_EFORMAT, "not a weightsync bundle: the "
						"manifest and its signature are in different folders");
				goto out;
			}
			if ((ret = read_small(a, e, WS_SIGFILE_MAX, &sig, &slen, msg)))
				goto out;
			/* decided as fetch and audit decide; trust is the
			 * caller's accept callback (it knows --publisher) */
			if ((ret = ws_release_accept(st->index, manifest, mlen, sig, slen,
						     &(struct ws_accept){ NULL, NULL, 1 },
						     &out->m, NULL, msg)))
				goto out;
			have_m = 1;
			ws_manifest_hash(manifest, mlen, mhash);
			char want[WS_NAME_MAX + 32];
			snprintf(want, sizeof(want), "%s@%lld", out->m.name, (long long)out->m.version);
			if (strcmp(top, want)) {
				ret = ws_seterr(msg, WS_EMISMATCH, "the bundle's folder '%s' is not '%s'",
						ws_utf8_printable(top, strlen(top)) ? top : "?", want);
				goto out;
			}
			if (accept && (ret = accept(ctx, &out->m, msg)))
				goto out;
			if (is_complete(st, &out->m, mhash, &out->relpath)) {
				/* already here: nothing to write, no disk spent */
				out->already = 1;
				goto out;
			}
			if ((ret = ws_store_stage(st, &stage, msg)))
				goto out;
			data = xasprintf("%s/%s", stage, top);
			seen = xcalloc(out->m.nfiles + 1, 1);
			continue;
		}
		if (!regular) {
			ret = ws_seterr(msg, WS_EPATH, "bundle entry '%s' is not a regular file",
					name && ws_utf8_printable(name, strlen(name)) ? name : "?");
			goto out;
		}
		rest = inside(name, top);
		if (rest && !strcmp(rest, PUB_FILE)) {
			archive_read_data_skip(a);
			continue;
		}
		f = rest ? ws_manifest_find(&out->m, rest) : NULL;
		if (!f) {
			ret = ws_seterr(msg, WS_EMISMATCH, "the bundle has a file the manifest does "
					"not list: '%s'", ws_utf8_printable(name, strlen(name)) ? name : "?");
			goto out;
		}
		size_t idx = (size_t)(f - out->m.files);
		if (seen[idx]) {
			ret = ws_seterr(msg, WS_EMISMATCH, "'%s' appears twice in the bundle", f->path);
			goto out;
		}
		seen[idx] = 1;
		nseen++;
		char *dst = xasprintf("%s/%s", data, f->path);
		ret = take_file(a, e, f, dst, buf, msg);
		free(dst);
		if (ret)
			goto out;
		ws_crash_point("import:partial");
		out->bytes += f->size;
	}
	if (r != ARCHIVE_EOF) {
		ret = ws_seterr(msg, WS_EFORMAT, "bad bundle: %s", archive_error_string(a));
		goto out;
	}
	if (!have_m) {
		ret = ws_seterr(msg, WS_EFORMAT, "not a weightsync bundle: no signed manifest");
		goto out;
	}
	if (nseen != out->m.nfiles) {
		for (size_t i = 0; i < out->m.nfiles; i++)
			if (!seen[i]) {
				ret = ws_seterr(msg, WS_EMISMATCH, "'%s' is missing from the bundle",
						out->m.files[i].path);
				goto out;
			}
	}
	if ((ret = ws_store_write_meta(data, manifest, mlen, sig, slen, msg)))
		goto out;
	/* journaled: a kill from here on is finished by the next command */
	ret = ws_release_commit(st, &(struct ws_journal){ .op = "import", .stage = data,
				.manifest = manifest, .mlen = mlen, .sig = sig, .slen = slen },
				&out->m, &out->relpath, &out->already, msg);
	/* another import of it committed first: say what a second import
	 * after it says (nothing of this one was kept) */
	if (ret == 0 && out->already)
		out->bytes = 0;
out:
	archive_read_free(a);
	if (stage)
		ws_rm_rf(stage);
	if (ret)
		ws_bundle_import_release(out);
	free(manifest);
	free(sig);
	free(stage);
	free(data);
	free(seen);
	free(buf);
	return ret;
}

void ws_bundle_import_release(struct ws_bundle_import *b)
{
	ws_manifest_release(&b->m);
	free(b->relpath);
	b->relpath = NULL;
}
