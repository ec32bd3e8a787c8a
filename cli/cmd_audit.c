/* cmd_audit.c - weightsync audit: re-hash model files against signed manifests */
#include "cli.h"
#include "store/accept.h"
#include "proto/error.h"
#include "proto/modelfmt.h"
#include "proto/util.h"
#include "store/audit.h"
#include "store/hf_audit.h"
#include "node/hub.h"
#include "store/recover.h"
#include "store/walk.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Result of auditing one release, for the summary and the exit status. */
struct audit_run {
	int json;
	json_t *out;                /* array of release reports (--json) */
	int mismatches;             /* releases not intact or badly signed */
	int errors;                 /* releases that could not be audited */
	json_t *strays;             /* array of {path, kind} (--json) */
};

static void report_files(struct audit_run *run, json_t *rep, const struct ws_audit *a)
{
	json_t *files = json_array();
	char sz1[16], sz2[16];

	for (size_t i = 0; i < a->n; i++) {
		const struct ws_audit_entry *e = &a->entries[i];
		if (run->json) {
			json_t *f = json_pack("{s:s, s:s}", "path", e->path, "status",
					      ws_audit_state_name(e->state));
			if (e->state != WS_AUDIT_EXTRA)
				json_object_set_new(f, "expected_size",
						    json_integer((json_int_t)e->expected_size));
			if (e->state != WS_AUDIT_MISSING)
				json_object_set_new(f, "actual_size",
						    json_integer((json_int_t)e->actual_size));
			json_array_append_new(files, f);
			continue;
		}
		if (e->state == WS_AUDIT_WRONG_SIZE)
			printf("  %-11s %s (expected %s, found %s)\n", "wrong size", e->path,
			       human_size(e->expected_size, sz1), human_size(e->actual_size, sz2));
		else if (e->state == WS_AUDIT_UNREADABLE)
			printf("  %-11s %s (%s)\n", "unreadable", e->path, ws_strerror(e->error));
		else
			printf("  %-11s %s\n", ws_audit_state_name(e->state), e->path);
	}
	if (run->json) {
		json_t *sum = json_object();
		for (int s = 0; s < WS_AUDIT_NSTATES; s++)
			json_object_set_new(sum, ws_audit_state_name(s),
					    json_integer((json_int_t)a->count[s]));
		json_object_set_new(rep, "files", files);
		json_object_set_new(rep, "summary", sum);
	} else {
		json_decref(files);
		printf("  %zu files: %zu ok, %zu modified, %zu missing, %zu wrong size, "
		       "%zu extra", a->n, a->count[WS_AUDIT_OK], a->count[WS_AUDIT_MODIFIED],
		       a->count[WS_AUDIT_MISSING], a->count[WS_AUDIT_WRONG_SIZE],
		       a->count[WS_AUDIT_EXTRA]);
		if (a->count[WS_AUDIT_UNREADABLE])
			printf(", %zu unreadable", a->count[WS_AUDIT_UNREADABLE]);
		printf("\n");
	}
}

/*
 * Files whose hash is right are checked by format as well: a release can be
 * signed and still hold a malformed model file.  Returns how many are
 * malformed (printed, or listed under "format_errors" in rep).
 */
static int format_check_files(const char *dir, const struct ws_audit *a, json_t *rep)
{
	json_t *errs = rep ? json_array() : NULL;
	int bad = 0;

	for (size_t i = 0; i < a->n; i++) {
		const struct ws_audit_entry *e = &a->entries[i];
		char kind[16], *msg = NULL, *full;
		if (e->state != WS_AUDIT_OK || !strcmp(ws_modelfmt_kind(e->path), "other"))
			continue;
		full = xasprintf("%s/%s", dir, e->path);
		if (ws_modelfmt_check(full, kind, sizeof(kind), &msg) == WS_EFORMAT) {
			bad++;
			if (errs)
				json_array_append_new(errs, json_pack("{s:s, s:s}", "path", e->path,
								      "error", msg ? msg : "malformed"));
			else
				printf("  %-11s %s: %s\n", "malformed", e->path, msg ? msg : "?");
		}
		free(msg);
		free(full);
	}
	if (rep)
		json_object_set_new(rep, "format_errors", errs);
	return bad;
}

/*
 * Audit folder dir against manifest bytes signed by sig.  label names the
 * release for people.  expected, when set, is the key the manifest must
 * carry.
 */
static void audit_one(struct cli *c, struct audit_run *run, const char *dir,
		      const char *manifest, size_t mlen, const char *sig,
		      size_t slen, const struct ws_pubkey *expected)
{
	struct ws_manifest m;
	struct ws_audit a;
	struct progress prog;
	char *msg = NULL;
	json_t *rep = run->json ? json_object() : NULL;
	int ret, intact, untrusted = 0;

	/* decided as fetch and import decide; an untrusted key is a warning
	 * here, since audit only reports */
	ret = ws_release_accept(c->store->index, manifest, mlen, sig, slen,
				&(struct ws_accept){ NULL, expected, 1 }, &m, &untrusted, &msg);
	if (ret) {
		if (run->json) {
			json_object_set_new(rep, "path", json_string(dir));
			json_object_set_new(rep, "signature", json_string("bad"));
			json_object_set_new(rep, "error", json_string(msg ? msg : ws_strerror(ret)));
			json_object_set_new(rep, "intact", json_false());
			json_array_append_new(run->out, rep);
		} else {
			printf("%s: manifest refused: %s\n", dir, msg ? msg : ws_strerror(ret));
		}
		err("'%s': %s", dir, msg ? msg : ws_strerror(ret));
		free(msg);
		/* a manifest that does not parse or verify is a failed check,
		 * whatever the reason */
		run->mismatches++;
		return;
	}
	if (!run->json)
		printf("%s@%lld  %s\n", m.name, (long long)m.version, dir);
	if (warn_if_equivocated(c, m.publisher.pk, m.name))
		run->errors++;
	if (untrusted)
		warn("'%s' is signed by a key that is not trusted for '%s' here",
		     dir, m.name);
	progress_init(&prog, "auditing");
	ret = ws_audit_dir(dir, &m, progress_update, &prog, &a, &msg);
	progress_done(&prog);
	if (ret) {
		err("%s", msg ? msg : ws_strerror(ret));
		free(msg);
		run->errors++;
		if (rep)
			json_decref(rep);
		ws_manifest_release(&m);
		return;
	}
	intact = ws_audit_intact(&a);
	if (run->json) {
		char pk[WS_PUBKEY_B64_LEN + 1];
		ws_pubkey_to_b64(&m.publisher, pk);
		json_object_set_new(rep, "name", json_string(m.name));
		json_object_set_new(rep, "version", json_integer(m.version));
		json_object_set_new(rep, "publisher", json_string(pk));
		json_object_set_new(rep, "path", json_string(dir));
		json_object_set_new(rep, "signature", json_string("ok"));
	}
	report_files(run, rep, &a);
	if (format_check_files(dir, &a, rep))
		intact = 0;
	if (rep) {
		json_object_set_new(rep, "intact", json_boolean(intact));
		json_array_append_new(run->out, rep);
	}
	if (!intact)
		run->mismatches++;
	ws_audit_release(&a);
	ws_manifest_release(&m);
}

static void audit_release(struct cli *c, struct audit_run *run,
			  const struct ws_release *r, const char *dir)
{
	struct ws_release full = *r;
	struct ws_pubkey expected = { 0 };
	char *folder = dir ? NULL : ws_store_path(c->store, r->path);
	int ret;

	full.path = NULL;
	full.manifest = full.sig = NULL;
	if ((ret = ws_index_load(c->store->index, &full))) {
		index_fail(c, ret);
		run->errors++;
	} else {
		/* the index keys releases by the key it verified them with */
		struct ws_manifest m;
		if (ws_manifest_parse(full.manifest, full.manifest_len, &m, NULL) == 0) {
			expected = m.publisher;
			ws_manifest_release(&m);
		}
		memcpy(expected.pk, r->pk, 32);
		audit_one(c, run, dir ? dir : folder, full.manifest, full.manifest_len,
			  full.sig, full.sig_len, &expected);
	}
	free(full.manifest);
	free(full.sig);
	free(folder);
}

static int find_release(struct cli *c, const char *ref, struct ws_release *out)
{
	char name[WS_NAME_MAX + 1];
	int64_t version;
	struct ws_pubkey pk;
	int ret;

	if ((ret = parse_ref(ref, name, &version)) ||
	    (ret = resolve_publisher(c, name, &pk)))
		return ret;
	ret = ws_index_get(c->store->index, pk.pk, name, version, out);
	if (ret == WS_ENOTFOUND) {
		if (version)
			err("no version %lld of '%s' in this store", (long long)version, name);
		else
			err("no release of '%s' in this store", name);
	} else if (ret) {
		index_fail(c, ret);
	}
	return ret;
}

/*
 * audit --format DIR: check the structure of every model file under dir
 * (proto/modelfmt.h); files of no model format are passed over.
 */
static int audit_format(const char *dir, int json)
{
	char **paths = NULL, *msg = NULL;
	size_t n = 0, nmodel = 0, nok = 0, nbad = 0, nerr = 0;
	json_t *files = json ? json_array() : NULL;
	int ret;

	if ((ret = ws_walk(dir, 0, &paths, &n, &msg))) {
		json_decref(files);
		return fail(ret, &msg, "cannot read the folder");
	}
	for (size_t i = 0; i < n; i++) {
		char kind[16] = "other";
		char *full = xasprintf("%s/%s", dir, paths[i]);
		const char *status;

		ret = ws_modelfmt_check(full, kind, sizeof kind, &msg);
		free(full);
		if (!ret && !strcmp(kind, "other"))
			continue;
		if (ret && !strcmp(kind, "other"))
			strcpy(kind, ws_modelfmt_kind(paths[i]));
		if (ret && !strcmp(kind, "other")) {
			/* unreadable, and nothing says it is a model file */
			free(msg);
			msg = NULL;
			continue;
		}
		nmodel++;
		if (!ret) {
			status = "ok";
			nok++;
		} else if (ret == WS_EFORMAT) {
			status = "malformed";
			nbad++;
		} else {
			status = "unreadable";
			nerr++;
		}
		if (json) {
			json_t *f = json_pack("{s:s, s:s, s:s}", "path", paths[i],
					      "format", kind, "status", status);
			json_object_set_new(f, "error", ret ? json_string(msg ? msg :
						ws_strerror(ret)) : json_null());
			json_array_append_new(files, f);
		} else if (!ret) {
			printf("  %-11s %s (%s)\n", status, paths[i], kind);
		} else {
			printf("  %-11s %s: %s\n", status, paths[i],
			       msg ? msg : ws_strerror(ret));
		}
		free(msg);
		msg = NULL;
	}
	ws_walk_free(paths, n);
	if (json) {
		json_t *o = json_pack("{s:o, s:b}", "files", files, "intact",
				      !nbad && !nerr);
		json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
		json_decref(o);
	} else {
		printf("%zu model files: %zu ok, %zu malformed", nmodel, nok, nbad);
		if (nerr)
			printf(", %zu unreadable", nerr);
		printf("\n");
	}
	if (nbad)
		return EXIT_VERIFY;
	return nerr ? EXIT_ERROR : 0;
}

/*
 * What no index entry or live process accounts for is reported, and does
 * not change the exit status: no signed release is damaged by it, and the
 * releases themselves were just audited (docs/index.md).
 */
static void report_strays(struct cli *c, struct audit_run *run)
{
	static const char *why[] = {
		[WS_STRAY_RELEASE] = "no index entry names it",
		[WS_STRAY_STAGE] = "staging folder no live process owns",
		[WS_STRAY_JOURNAL] = "commit not yet finished: run again with write access",
	};
	struct ws_stray *s = NULL;
	size_t n = 0;
	int ret = ws_store_strays(c->store, &s, &n);

	if (ret) {
		/* fail closed: a home that cannot be searched is not clean */
		if (ret == WS_ECORRUPT || ret == WS_ESTORE)
			index_fail(c, ret);
		else
			err("cannot look for stray folders in '%s': %s", c->store->home,
			    ws_strerror(ret));
		run->errors++;
		return;
	}
	if (run->json)
		run->strays = json_array();
	for (size_t i = 0; i < n; i++) {
		const char *kind = ws_stray_kind_name(s[i].kind);
		/* a folder name made by another hand is not ours to print raw */
		const char *path = ws_utf8_printable(s[i].path, strlen(s[i].path)) ?
				   s[i].path : "(a name that is not printable UTF-8)";
		if (run->json)
			json_array_append_new(run->strays, json_pack("{s:s, s:s}", "path",
								     path, "kind", kind));
		else
			printf("%-11s %s (%s)\n", kind, path, why[s[i].kind]);
	}
	ws_strays_free(s, n);
}

static int is_dir(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/*
 * audit of a Hugging Face cache, repository or snapshot folder: no
 * release, every blob checked against its own name (store/hf_audit.h)
 */
static int audit_hf(const char *dir, int json)
{
	struct ws_hf_audit a;
	struct progress prog;
	char *msg = NULL, sz[16];
	const char *repo = NULL;
	int ret, intact;

	progress_init(&prog, "auditing");
	ret = ws_hf_audit(dir, progress_update, &prog, &a, &msg);
	progress_done(&prog);
	if (ret)
		return fail(ret, &msg, "cannot audit the folder");
	intact = ws_hf_audit_intact(&a);
	if (json) {
		json_t *files = json_array(), *sum = json_object(), *o;
		for (size_t i = 0; i < a.n; i++) {
			const struct ws_hf_audit_entry *e = &a.entries[i];
			json_t *f = json_pack("{s:s, s:s, s:s, s:I}", "repo", e->repo, "path", e->path,
					      "status", ws_hf_state_name(e->state),
					      "size", (json_int_t)e->size);
			json_object_set_new(f, "blob", e->blob ? json_string(e->blob) : json_null());
			if (e->state == WS_HF_UNREADABLE)
				json_object_set_new(f, "error", json_string(ws_strerror(e->error)));
			json_array_append_new(files, f);
		}
		for (int s = 0; s < WS_HF_NSTATES; s++)
			json_object_set_new(sum, ws_hf_state_name(s), json_integer((json_int_t)a.count[s]));
		o = json_pack("{s:s, s:s, s:I, s:o, s:o, s:b}", "path", dir, "kind", "huggingface",
			      "repos", (json_int_t)a.nrepos, "files", files, "summary", sum,
			      "intact", intact);
		json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
		json_decref(o);
	} else {
		for (size_t i = 0; i < a.n; i++) {
			const struct ws_hf_audit_entry *e = &a.entries[i];
			if (!repo || strcmp(repo, e->repo))
				printf("%s  (Hugging Face cache: blobs checked by their names)\n",
				       esc(e->repo));
			repo = e->repo;
			if (e->state == WS_HF_DANGLING)
				printf("  %-11s %s (blob %s is missing)\n", "dangling", esc(e->path),
				       esc(e->blob));
			else if (e->state == WS_HF_MODIFIED)
				printf("  %-11s %s (content does not match blob name %s)\n",
				       "modified", esc(e->path), esc(e->blob));
			else if (e->state == WS_HF_UNREADABLE)
				printf("  %-11s %s (%s)\n", "unreadable", esc(e->path),
				       ws_strerror(e->error));
			else
				printf("  %-11s %s\n", ws_hf_state_name(e->state), esc(e->path));
		}
		printf("%zu files in %zu repositories (%s hashed): %zu ok, %zu modified, "
		       "%zu dangling, %zu incomplete, %zu unchecked", a.n, a.nrepos,
		       human_size(a.bytes_hashed, sz), a.count[WS_HF_OK], a.count[WS_HF_MODIFIED],
		       a.count[WS_HF_DANGLING], a.count[WS_HF_INCOMPLETE], a.count[WS_HF_UNCHECKED]);
		if (a.count[WS_HF_UNREADABLE])
			printf(", %zu unreadable", a.count[WS_HF_UNREADABLE]);
		printf("\n");
	}
	ret = intact ? 0 : (a.count[WS_HF_MODIFIED] || a.count[WS_HF_DANGLING]) ?
	      EXIT_VERIFY : EXIT_ERROR;
	ws_hf_audit_release(&a);
	return ret;
}

const struct cli_option audit_options[] = {
	{ "release", 'r', 'r', required_argument, "NAME[@V]",
	  "audit DIR against this release's manifest" },
	{ "format", 0, 'F', no_argument, NULL,
	  "check DIR's model files by format, with no manifest" },
	{ "against", 0, 'A', required_argument, "hf://ORG/NAME@REV",
	  "audit DIR against the Hugging Face hub's record of that revision" },
	{ "json", 0, 'j', no_argument, NULL, "print the result as JSON" },
	{ NULL, 0, 0, 0, NULL, NULL },
};

/* audit DIR --against hf://ORG/NAME@REV: the hub's record, read once */
static int audit_against(struct audit_run *run, const char *dir, const char *ref)
{
	struct ws_hub hub = { 0 };
	struct ws_hub_repo r = { 0 };
	struct ws_audit a;
	struct progress prog;
	char *repo = NULL, *rev = NULL, *msg = NULL;
	json_t *rep = run->json ? json_object() : NULL;
	int ret, status;

	if ((ret = ws_hub_parse_ref(ref, &repo, &rev, &msg))) {
		json_decref(rep);
		status = usage_error("audit", "%s", msg);
		free(msg);
		return status;
	}
	if ((ret = ws_hub_init(&hub, NULL, &msg)) ||
	    (ret = ws_hub_info(&hub, repo, rev, &r, &msg))) {
		status = fail(ret, &msg, "cannot read the hub's record");
		goto out;
	}
	progress_init(&prog, "auditing");
	ret = ws_hub_audit_dir(&r, dir, progress_update, &prog, &a, &msg);
	progress_done(&prog);
	if (ret) {
		status = fail(ret, &msg, "cannot audit the folder");
		goto out;
	}
	if (rep) {
		json_object_set_new(rep, "path", json_string(dir));
		json_object_set_new(rep, "origin", json_string(ref));
		json_object_set_new(rep, "commit", json_string(r.commit));
	} else {
		printf("hf://%s@%s  %s\n", repo, r.commit, esc(dir));
	}
	report_files(run, rep, &a);
	status = ws_audit_intact(&a) ? 0 : EXIT_VERIFY;
	if (rep) {
		json_t *o = json_pack("{s:[o], s:b}", "releases", rep, "intact", status == 0);
		rep = NULL;
		json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
		json_decref(o);
	}
	ws_audit_release(&a);
out:
	json_decref(rep);
	ws_hub_repo_release(&r);
	ws_hub_release(&hub);
	free(repo);
	free(rev);
	return status;
}

int cmd_audit(struct cli *c, int argc, char **argv)
{
	struct opts op;
	struct audit_run run = { 0 };
	const char *release = NULL, *arg = NULL, *against = NULL;
	struct ws_release r;
	int o, ret, format = 0;

	opts_init(&op, "audit", audit_options, argc, argv, 0);
	while ((o = opts_next(&op)) > 0) {
		switch (o) {
		case 'r': release = op.arg; break;
		case 'j': run.json = 1; break;
		case 'F': format = 1; break;
		case 'A': against = op.arg; break;
		}
	}
	if (o < 0)
		return EXIT_ERROR;
	if (argc - op.ind > 1)
		return usage_error("audit", "expected at most one NAME[@V] or folder");
	if (op.ind < argc)
		arg = argv[op.ind];
	if (against) {
		if (release || format || !arg || !is_dir(arg))
			return usage_error("audit", "--against takes one folder, and no --release "
					   "or --format");
		return audit_against(&run, arg, against);
	}
	if (format) {
		if (release || !arg)
			return usage_error("audit", "--format takes one folder and no --release");
		return audit_format(arg, run.json);
	}
	if (release && (!arg || !is_dir(arg)))
		return usage_error("audit", "--release needs a folder to audit");
	if (run.json)
		run.out = json_array();

	if (release) {
		if ((ret = find_release(c, release, &r)))
			return ws_error_is_verification(ret) ? EXIT_VERIFY : EXIT_ERROR;
		audit_release(c, &run, &r, arg);
		ws_release_release(&r);
	} else if (arg && (strchr(arg, '/') || is_dir(arg))) {
		char *manifest = NULL, *sig = NULL, *msg = NULL;
		size_t mlen, slen;
		char *mp0 = xasprintf("%s/" WS_MANIFEST_FILE, arg);
		int hf = access(mp0, F_OK) != 0 && ws_hf_kind(arg) != WS_HF_NONE;
		free(mp0);
		if (hf) {
			json_decref(run.out);
			return audit_hf(arg, run.json);
		}
		if ((ret = ws_store_read_meta(arg, &manifest, &mlen, &sig, &slen, &msg))) {
			char *mp = xasprintf("%s/" WS_MANIFEST_FILE, arg);
			int has_manifest = access(mp, F_OK) == 0;
			int st = fail(ret, &msg, "cannot read the release folder");
			/* a release folder whose manifest is oversized or whose
			 * signature is gone fails verification; a folder with no
			 * manifest at all is just not a release folder */
			if (has_manifest && (ret == WS_ETOOBIG || ret == -ENOENT))
				st = EXIT_VERIFY;
			if (is_dir(arg) && !has_manifest)
				err("to audit a folder without its own manifest, name the "
				    "release: 'weightsync audit %s --release NAME[@V]'", arg);
			free(mp);
			json_decref(run.out);
			return st;
		}
		audit_one(c, &run, arg, manifest, mlen, sig, slen, NULL);
		free(manifest);
		free(sig);
	} else if (arg) {
		if ((ret = find_release(c, arg, &r)))
			return ws_error_is_verification(ret) ? EXIT_VERIFY : EXIT_ERROR;
		audit_release(c, &run, &r, NULL);
		ws_release_release(&r);
	} else {
		struct ws_release *rels = NULL;
		size_t n = 0, done = 0;
		if ((ret = ws_index_list(c->store->index, NULL, NULL, &rels, &n)))
			return index_fail(c, ret);
		for (size_t i = 0; i < n; i++)
			if (rels[i].status == WS_REL_ACCEPTED && rels[i].complete) {
				audit_release(c, &run, &rels[i], NULL);
				done++;
			}
		ws_releases_free(rels, n);
		if (!done && !run.json)
			printf("no releases in the store\n");
		report_strays(c, &run);
	}
	if (run.json) {
		json_t *o2 = json_pack("{s:o, s:b}", "releases", run.out, "intact",
				       !run.mismatches && !run.errors);
		if (run.strays)
			json_object_set_new(o2, "strays", run.strays);
		json_dumpf(o2, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
		json_decref(o2);
	}
	if (run.mismatches)
		return EXIT_VERIFY;
	return run.errors ? EXIT_ERROR : 0;
}
