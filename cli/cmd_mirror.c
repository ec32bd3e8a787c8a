/* cmd_mirror.c - weightsync mirror: a Hugging Face repository into a signed release */
#include "cli.h"
#include "node/hub.h"
#include "proto/error.h"
#include "proto/merkle.h"
#include "proto/util.h"
#include "store/hf.h"
#include "store/publish.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PATTERNS_MAX 64

enum { OPT_INCLUDE = 1, OPT_EXCLUDE, OPT_ENDPOINT, OPT_CONNECTIONS, OPT_STALL };

const struct cli_option mirror_options[] = {
	{ "name", 'n', 'n', required_argument, "NAME", "the release's name (required)" },
	{ "key", 'k', 'k', required_argument, "PATH",
	  "the secret key (default HOME/keys/publisher.key)" },
	{ "include", 0, OPT_INCLUDE, required_argument, "GLOB",
	  "only files matching this pattern (repeatable)" },
	{ "exclude", 0, OPT_EXCLUDE, required_argument, "GLOB",
	  "leave out files matching this pattern (repeatable)" },
	{ "endpoint", 0, OPT_ENDPOINT, required_argument, "URL",
	  "the hub (default $HF_ENDPOINT, else https://huggingface.co)" },
	{ "connections", 0, OPT_CONNECTIONS, required_argument, "N",
	  "files downloaded at once, 1 to 16 (default 4)" },
	{ "stall-timeout", 0, OPT_STALL, required_argument, "S",
	  "give up a download that sends nothing for S seconds (default 60)" },
	{ "json", 0, 'j', no_argument, NULL, "print the result as JSON" },
	{ NULL, 0, 0, 0, NULL, NULL },
};

/*
 * What the release holds must be what the hub recorded.  Files this run
 * downloaded were checked as they streamed, and publish takes their
 * hashes from that stream; a file verified by an earlier, interrupted run
 * is hashed again by publish (it was out of our hands in between), and
 * this checks the result: SHA-256 for LFS files, git blob id for the
 * others.
 */
static int check_against_record(const struct ws_publish *p, const struct ws_hub_repo *r,
				const char *files_dir, size_t nselected, char **msg)
{
	if (p->m.nfiles != nselected)
		return ws_seterr(msg, WS_EMISMATCH, "the release would hold %zu files, the "
				 "hub's record %zu", p->m.nfiles, nselected);
	for (size_t i = 0; i < p->m.nfiles; i++) {
		const struct ws_manifest_file *mf = &p->m.files[i];
		const struct ws_hub_file *f = NULL;
		for (size_t k = 0; k < r->nfiles && !f; k++)
			if (r->files[k].selected && !strcmp(r->files[k].path, mf->path))
				f = &r->files[k];
		if (!f || f->size != mf->size)
			return ws_seterr(msg, WS_EMISMATCH, "'%s' is not in the hub's record as "
					 "it is on disk", mf->path);
		if (f->lfs && memcmp(f->sha256, mf->sha256, 32))
			return ws_seterr(msg, WS_EBADHASH, "'%s' no longer matches the hub's "
					 "SHA-256", mf->path);
		if (!f->lfs) {
			uint8_t id[20];
			char *path = xasprintf("%s/%s", files_dir, f->path);
			int ret = ws_hf_git_blob_id(path, f->size, id);
			free(path);
			if (ret || memcmp(id, f->blob_id, 20))
				return ws_seterr(msg, WS_EBADHASH, "'%s' no longer matches the hub's "
						 "git blob id", mf->path);
		}
	}
	return 0;
}

/* link the selected verified files into a fresh folder to publish from:
 * files left by a run with other patterns stay out of the release */
static int make_release_dir(const struct ws_hub_repo *r, const char *work, char **out,
			    char **msg)
{
	char *rel = xasprintf("%s/release", work);
	int ret = ws_rm_rf(rel);

	if (ret && ret != -ENOENT) {
		ws_seterr(msg, ret, "cannot clear '%s': %s", rel, ws_strerror(ret));
		free(rel);
		return ret;
	}
	ret = 0;
	for (size_t i = 0; i < r->nfiles && !ret; i++) {
		if (!r->files[i].selected)
			continue;
		char *src = xasprintf("%s/files/%s", work, r->files[i].path);
		char *dst = xasprintf("%s/%s", rel, r->files[i].path);
		ret = ws_store_link_file(src, dst, 0, msg);
		free(src);
		free(dst);
	}
	if (ret) {
		free(rel);
		return ret;
	}
	*out = rel;
	return 0;
}

int cmd_mirror(struct cli *c, int argc, char **argv)
{
	struct opts op;
	struct ws_hub hub = { 0 };
	struct ws_hub_repo r = { 0 };
	struct ws_publish p = { 0 };
	struct ws_seckey *sk = NULL;
	struct ws_hash_file *hashes = NULL;
	uint64_t *sizes = NULL, piece_size;
	struct progress prog;
	const char *include[PATTERNS_MAX], *exclude[PATTERNS_MAX], *endpoint = NULL;
	size_t ninc = 0, nexc = 0, nsel;
	uint64_t conns = 4, stall = 60, total = 0;
	char *keypath = NULL, *repo = NULL, *rev = NULL, *msg = NULL, *work = NULL;
	char *reldir = NULL, *origin = NULL, *files_dir = NULL, *rel = NULL, sz[16];
	int json = 0, o, ret, status = EXIT_ERROR;
	double t0 = now_seconds();

	opts_init(&op, "mirror", mirror_options, argc, argv, 0);
	while ((o = opts_next(&op)) > 0) {
		switch (o) {
		case 'n': p.name = op.arg; break;
		case 'k': free(keypath); keypath = xstrdup(op.arg); break;
		case 'j': json = 1; break;
		case OPT_ENDPOINT: endpoint = op.arg; break;
		case OPT_INCLUDE:
		case OPT_EXCLUDE:
			if ((o == OPT_INCLUDE ? ninc : nexc) == PATTERNS_MAX || !*op.arg) {
				usage_error("mirror", "%s takes a non-empty pattern, %d at most",
					    op.flagbuf, PATTERNS_MAX);
				goto out;
			}
			if (o == OPT_INCLUDE)
				include[ninc++] = op.arg;
			else
				exclude[nexc++] = op.arg;
			break;
		case OPT_CONNECTIONS:
			if (opt_uint(&op, 1, 16, &conns))
				goto out;
			break;
		case OPT_STALL:
			if (opt_uint(&op, 1, SECONDS_MAX, &stall))
				goto out;
			break;
		}
	}
	if (o < 0)
		goto out;
	if (op.ind + 1 != argc) {
		usage_error("mirror", "expected one hf://ORG/NAME[@REVISION]");
		goto out;
	}
	if (!p.name) {
		usage_error("mirror", "--name NAME is required");
		goto out;
	}
	if ((ret = ws_hub_parse_ref(argv[op.ind], &repo, &rev, &msg))) {
		usage_error("mirror", "%s", msg);
		goto out;
	}
	if (publish_key(c, keypath, p.name, &sk))
		goto out;
	if ((ret = ws_hub_init(&hub, endpoint, &msg))) {
		status = fail(ret, &msg, "bad endpoint");
		goto out;
	}
	hub.connections = (int)conns;
	hub.stall_seconds = (long)stall;
	if ((ret = ws_hub_info(&hub, repo, rev, &r, &msg))) {
		status = fail(ret, &msg, "cannot read the hub's record");
		goto out;
	}
	nsel = ws_hub_select(&r, include, ninc, exclude, nexc);
	if (!nsel) {
		err("no file of '%s' at %s matches the patterns given", repo, r.commit);
		goto out;
	}
	for (size_t i = 0; i < r.nfiles; i++)
		total += r.files[i].selected ? r.files[i].size : 0;
	fprintf(stderr, "weightsync: mirroring %s at %s: %zu files, %s\n", repo, r.commit, nsel,
		human_size(total, sz));

	/* one work folder per repository and commit: a run cut short is
	 * resumed by the next one for the same commit */
	rel = xasprintf("tmp/mirror-%.*s--%s@%s", (int)(strchr(repo, '/') - repo), repo,
			strchr(repo, '/') + 1, r.commit);
	work = ws_store_path(c->store, rel);
	if ((ret = ws_mkdir_p(work))) {
		err("cannot create '%s': %s", work, ws_strerror(ret));
		goto out;
	}
	/* the piece size publish will choose (the same files, the same
	 * sizes), so that the download hashes everything publish needs */
	sizes = xcalloc(r.nfiles + 1, sizeof(*sizes));
	for (size_t i = 0, k = 0; i < r.nfiles; i++)
		if (r.files[i].selected)
			sizes[k++] = r.files[i].size;
	piece_size = ws_piece_size_for_files(sizes, nsel);
	hashes = xcalloc(r.nfiles + 1, sizeof(*hashes));
	progress_init(&prog, "downloading");
	hub.progress = progress_update;
	hub.progress_ctx = &prog;
	ret = ws_hub_download(&hub, &r, work, piece_size, hashes, &msg);
	progress_done(&prog);
	if (ret) {
		status = fail(ret, &msg, "download failed");
		goto out;
	}
	if ((ret = make_release_dir(&r, work, &reldir, &msg))) {
		status = fail(ret, &msg, "cannot stage the release");
		goto out;
	}
	origin = xasprintf("hf://%s@%s", repo, r.commit);
	files_dir = xasprintf("%s/files", work);
	p.dir = reldir;
	p.origin = origin;
	p.sk = sk;
	p.for_swarm = 1;
	p.hashed = hashes;
	p.nhashed = r.nfiles;
	progress_init(&prog, "hashing");
	p.progress = progress_update;
	p.progress_ctx = &prog;
	ret = ws_publish_run(c->store, &p, &msg);
	progress_done(&prog);
	if (!ret && (ret = check_against_record(&p, &r, files_dir, nsel, &msg))) {
		/* a verified file changed on disk since: drop them all */
		ws_rm_rf(files_dir);
		ws_publish_release(&p);
	}
	if (ret) {
		status = fail(ret, &msg, "publish failed");
		goto out;
	}
	status = publish_finish(c, &p, NULL, 0, json, t0);
	if (status == 0)
		ws_rm_rf(work);
out:
	for (size_t i = 0; hashes && i < r.nfiles; i++)
		ws_hash_file_release(&hashes[i]);
	free(hashes);
	free(sizes);
	ws_hub_repo_release(&r);
	ws_hub_release(&hub);
	ws_seckey_free(sk);
	free(keypath);
	free(repo);
	free(rev);
	free(work);
	free(rel);
	free(reldir);
	free(origin);
	free(files_dir);
	free(msg);
	return status;
}
