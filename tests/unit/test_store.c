/* test_store.c - unit tests for store/: the index's chain rules, trust,
 * events, publishing into a home, and an index that is damaged */
#include "check.h"
#include "proto/error.h"
#include "proto/util.h"
#include "store/index.h"
#include "store/publish.h"
#include "store/store.h"

#include <fcntl.h>
#include <lmdb.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[] = "/tmp/ws-test-store.XXXXXX";

/* A signed manifest: text, signature, parsed form and hash. */
struct signed_m {
	char *text, *sig;
	size_t len;
	struct ws_manifest m;
	uint8_t hash[32];
};

static void make_signed(struct signed_m *s, const struct ws_seckey *sk,
			const char *name, int64_t version,
			const uint8_t *previous, int64_t created)
{
	uint8_t h[32];
	char tc[WS_TRUSTED_COMMENT_MAX];

	memset(s, 0, sizeof(*s));
	ws_manifest_init(&s->m);
	ws_seckey_public(sk, &s->m.publisher);
	snprintf(s->m.name, sizeof(s->m.name), "%s", name);
	s->m.version = version;
	s->m.created = created;
	if (previous) {
		s->m.has_previous = 1;
		memcpy(s->m.previous, previous, 32);
	}
	memset(h, (int)version, 32);
	ws_manifest_add_file(&s->m, "model.safetensors", 1000 + (uint64_t)version, h, h);
	if (ws_manifest_serialize(&s->m, &s->text, &s->len, NULL))
		abort();
	ws_manifest_hash(s->text, s->len, s->hash);
	ws_manifest_trusted_comment(&s->m, s->hash, tc);
	ws_sig_sign(sk, (const uint8_t *)s->text, s->len, tc, &s->sig);
}

static void free_signed(struct signed_m *s)
{
	free(s->text);
	free(s->sig);
	ws_manifest_release(&s->m);
}

static int add(ws_index *ix, struct signed_m *s)
{
	return ws_index_add(ix, s->text, s->len, s->sig, strlen(s->sig), &s->m,
			    NULL, 0, NULL);
}

static size_t count_status(ws_index *ix, const char *name, int status)
{
	struct ws_release *r;
	size_t n, c = 0;
	if (ws_index_list(ix, NULL, name, &r, &n))
		return (size_t)-1;
	for (size_t i = 0; i < n; i++)
		c += r[i].status == status;
	ws_releases_free(r, n);
	return c;
}

static int count_events(ws_index *ix, const char *name, int kind)
{
	struct ws_event *e;
	size_t n;
	int c = 0;
	if (ws_index_events(ix, name, &e, &n))
		return -1;
	for (size_t i = 0; i < n; i++)
		c += e[i].kind == kind;
	free(e);
	return c;
}

struct blob_hits { int n; uint8_t mhash[32]; char path[64]; };

static int count_blob(void *arg, const uint8_t mhash[32], const char *path)
{
	struct blob_hits *h = arg;
	h->n++;
	memcpy(h->mhash, mhash, 32);
	snprintf(h->path, sizeof(h->path), "%s", path);
	return 0;
}

static void test_chain(void)
{
	struct ws_seckey *sk;
	struct signed_m v1, v2, v3, v2b, v3fork, v2old;
	ws_index *ix;
	struct ws_release r;
	unsigned flags = 0;
	char *dir = xasprintf("%s/chain", tmpdir), *msg = NULL;

	ws_seckey_generate(&sk);
	make_signed(&v1, sk, "m", 1, NULL, 100);
	make_signed(&v2, sk, "m", 2, v1.hash, 200);
	make_signed(&v3, sk, "m", 3, v2.hash, 300);
	make_signed(&v2b, sk, "m", 2, v1.hash, 201);   /* equivocation */
	uint8_t bogus[32];
	memset(bogus, 7, 32);
	make_signed(&v3fork, sk, "m", 3, bogus, 301);  /* fork */
	make_signed(&v2old, sk, "m", 2, bogus, 199);   /* not in the chain */

	CHECK(ws_index_open(dir, &ix, NULL) == 0, "open index");
	CHECK_EQ_INT(add(ix, &v1), 0, "first version accepted");
	CHECK_EQ_INT(add(ix, &v1), WS_EEXIST, "same manifest again is a no-op");
	CHECK_EQ_INT(add(ix, &v3), WS_EGAP, "version 3 before 2 is a gap");
	CHECK_EQ_INT(add(ix, &v2), 0, "version 2 follows 1");
	CHECK_EQ_INT(ws_index_add(ix, v3fork.text, v3fork.len, v3fork.sig, strlen(v3fork.sig),
				  &v3fork.m, NULL, 0, &msg), WS_EFORK, "version 3 naming another previous is a fork");
	CHECK(msg && strstr(msg, "does not follow"), "fork message says what is wrong");
	free(msg);
	msg = NULL;
	CHECK_EQ_INT(add(ix, &v3), 0, "version 3 follows 2");
	CHECK_EQ_INT(ws_index_add(ix, v2b.text, v2b.len, v2b.sig, strlen(v2b.sig), &v2b.m,
				  NULL, 0, &msg), WS_EEQUIVOCATION, "second manifest for version 2 is equivocation");
	CHECK(msg && strstr(msg, "equivocation"), "equivocation message");
	free(msg);
	CHECK(ws_index_name_flags(ix, v1.m.publisher.pk, "m", &flags) == 0 &&
	      (flags & WS_NAME_EQUIVOCATED), "name flagged");
	CHECK_EQ_INT(count_status(ix, "m", WS_REL_EVIDENCE), 1, "the conflicting manifest is kept as evidence");
	CHECK_EQ_INT(count_status(ix, "m", WS_REL_ACCEPTED), 3, "the accepted chain is untouched");
	CHECK(ws_index_get(ix, v1.m.publisher.pk, "m", 2, &r) == 0 &&
	      !memcmp(r.mhash, v2.hash, 32) && r.manifest_len == v2.len &&
	      !memcmp(r.manifest, v2.text, v2.len), "version 2 is still the first one");
	ws_release_release(&r);
	CHECK(ws_index_get(ix, v1.m.publisher.pk, "m", 0, &r) == 0 && r.version == 3,
	      "latest is version 3");
	ws_release_release(&r);
	CHECK_EQ_INT(count_events(ix, "m", WS_EV_EQUIVOCATION), 1, "equivocation logged");
	CHECK_EQ_INT(count_events(ix, "m", WS_EV_FORK_REFUSED), 1, "fork refusal logged");
	CHECK_EQ_INT(count_events(ix, "m", WS_EV_GAP_REFUSED), 1, "gap refusal logged");
	ws_index_close(ix);

	/* a node that first sees version 3 fills the chain downwards */
	free(dir);
	dir = xasprintf("%s/fill", tmpdir);
	CHECK(ws_index_open(dir, &ix, NULL) == 0, "open second index");
	CHECK_EQ_INT(add(ix, &v3), 0, "a first sight of version 3 is accepted");
	CHECK_EQ_INT(add(ix, &v1), WS_EROLLBACK, "version 1 cannot be linked yet: rollback refused");
	CHECK_EQ_INT(add(ix, &v2old), WS_EROLLBACK, "an older version outside the chain is refused");
	CHECK_EQ_INT(add(ix, &v2), 0, "version 2 named by version 3 is accepted");
	CHECK_EQ_INT(add(ix, &v1), 0, "then version 1 named by version 2");
	CHECK(ws_index_get(ix, v1.m.publisher.pk, "m", 0, &r) == 0 && r.version == 3,
	      "filling below does not lower the latest");
	ws_release_release(&r);
	CHECK_EQ_INT(count_events(ix, "m", WS_EV_ROLLBACK_REFUSED), 2, "rollback refusals logged");
	CHECK(ws_index_set_complete(ix, v1.m.publisher.pk, "m", 2, v2.hash, "releases/x/m/2") == 0,
	      "mark complete");
	CHECK(ws_index_get(ix, v1.m.publisher.pk, "m", 2, &r) == 0 && r.complete &&
	      !strcmp(r.path, "releases/x/m/2"), "complete with its path");
	ws_release_release(&r);
	{
		/* dedup: a file's SHA-256 leads to the releases that list it */
		uint8_t sha[32];
		struct blob_hits hits = {0};
		memset(sha, 2, 32);
		CHECK_EQ_INT(ws_index_find_blob(ix, sha, count_blob, &hits), 0, "find a blob");
		CHECK(hits.n == 1 && !memcmp(hits.mhash, v2.hash, 32) &&
		      !strcmp(hits.path, "model.safetensors"), "the blob is version 2's file");
		memset(sha, 9, 32);
		hits.n = 0;
		CHECK(ws_index_find_blob(ix, sha, count_blob, &hits) == 0 && hits.n == 0,
		      "an unknown blob finds nothing");
		CHECK(ws_index_find_release(ix, v2.hash, &r) == 0 && r.version == 2 &&
		      r.complete, "a release found by its manifest hash");
		ws_release_release(&r);
		CHECK_EQ_INT(ws_index_find_release(ix, v2old.hash, &r), WS_ENOTFOUND,
			     "a refused manifest is not a release");
	}
	ws_index_close(ix);

	free(dir);
	free_signed(&v1);
	free_signed(&v2);
	free_signed(&v3);
	free_signed(&v2b);
	free_signed(&v3fork);
	free_signed(&v2old);
	ws_seckey_free(sk);
}

static void test_trust(void)
{
	struct ws_seckey *a, *b;
	struct ws_pubkey pa, pb, got;
	struct ws_trust *list;
	size_t n;
	ws_index *ix;
	char *dir = xasprintf("%s/trust", tmpdir);

	ws_seckey_generate(&a);
	ws_seckey_generate(&b);
	ws_seckey_public(a, &pa);
	ws_seckey_public(b, &pb);
	CHECK(ws_index_open(dir, &ix, NULL) == 0, "open index");
	CHECK_EQ_INT(ws_index_trust_lookup(ix, "llama", &got), WS_ENOTFOUND, "unknown name");
	CHECK_EQ_INT(ws_index_trust_add(ix, "llama", &pa), 0, "trust add");
	CHECK_EQ_INT(ws_index_trust_add(ix, "llama", &pa), WS_EEXIST, "trust add twice");
	CHECK(ws_index_trust_lookup(ix, "llama", &got) == 0 && ws_pubkey_equal(&got, &pa), "lookup");
	CHECK_EQ_INT(ws_index_trust_check(ix, "llama", pa.pk), 0, "check trusted key");
	CHECK_EQ_INT(ws_index_trust_check(ix, "llama", pb.pk), WS_EUNTRUSTED, "check other key");
	CHECK_EQ_INT(ws_index_trust_add(ix, "llama", &pb), 0, "trust a second key");
	CHECK_EQ_INT(ws_index_trust_lookup(ix, "llama", &got), WS_EAMBIGUOUS, "two keys are ambiguous");
	CHECK_EQ_INT(ws_index_trust_remove(ix, "llama", pa.pk), 0, "remove one");
	CHECK(ws_index_trust_lookup(ix, "llama", &got) == 0 && ws_pubkey_equal(&got, &pb),
	      "the other remains");
	CHECK(ws_index_trust_list(ix, &list, &n) == 0 && n == 2, "removal is recorded, not erased");
	free(list);
	CHECK_EQ_INT(ws_index_trust_remove(ix, "llama", pa.pk), WS_ENOTFOUND, "remove twice");
	CHECK_EQ_INT(ws_index_trust_add(ix, "llama", &pa), 0, "trust again after removal");
	CHECK_EQ_INT(count_events(ix, "llama", WS_EV_TRUST_REMOVE), 1, "removal event");
	ws_index_close(ix);
	free(dir);
	ws_seckey_free(a);
	ws_seckey_free(b);
}

static void write_file(const char *path, size_t size, unsigned seed)
{
	FILE *f = fopen(path, "wb");
	for (size_t i = 0; i < size; i++)
		fputc((int)((i * 131 + seed) & 0xff), f);
	fclose(f);
}

static void test_publish(void)
{
	struct ws_store *st;
	struct ws_seckey *sk;
	struct ws_publish p = { 0 }, p2 = { 0 };
	char *home = xasprintf("%s/home", tmpdir), *src = xasprintf("%s/model", tmpdir);
	char *msg = NULL, *f;
	struct stat sb;

	ws_seckey_generate(&sk);
	ws_mkdir_p(src);
	f = xasprintf("%s/a.safetensors", src);
	write_file(f, 5u << 20, 1);
	free(f);
	f = xasprintf("%s/sub", src);
	ws_mkdir_p(f);
	free(f);
	f = xasprintf("%s/sub/config.json", src);
	write_file(f, 100, 2);
	free(f);
	CHECK(ws_store_open(home, &st, NULL) == 0, "open store");
	p.dir = src;
	p.name = "tiny";
	p.sk = sk;
	CHECK(ws_publish_run(st, &p, &msg) == 0, "publish");
	CHECK(ws_publish_commit(st, &p, NULL, 0, NULL, NULL, NULL, 0, 0, &msg) == 0,
	      "commit");
	CHECK(p.m.version == 1 && p.m.nfiles == 2 && !strcmp(p.m.files[1].path, "sub/config.json"),
	      "manifest lists the files");
	f = xasprintf("%s/%s/.weightsync/manifest.json", home, p.relpath);
	CHECK(stat(f, &sb) == 0 && (size_t)sb.st_size == p.manifest_len, "manifest in the release folder");
	free(f);
	p2.dir = src;
	p2.name = "tiny";
	p2.sk = sk;
	CHECK(ws_publish_run(st, &p2, &msg) == 0 && p2.m.version == 2 &&
	      ws_publish_commit(st, &p2, NULL, 0, NULL, NULL, NULL, 0, 0, &msg) == 0,
	      "publish again is version 2");
	uint8_t h1[32];
	ws_manifest_hash(p.manifest, p.manifest_len, h1);
	CHECK(p2.m.has_previous && !memcmp(p2.m.previous, h1, 32), "version 2 names version 1");
	ws_publish_release(&p2);
	memset(&p2, 0, sizeof(p2));
	p2.dir = src;
	p2.name = "tiny";
	p2.sk = sk;
	p2.version = 2;
	CHECK_EQ_INT(ws_publish_run(st, &p2, &msg), WS_EROLLBACK, "publishing version 2 twice refused");
	free(msg);
	msg = NULL;
	p2.version = 4;
	CHECK_EQ_INT(ws_publish_run(st, &p2, &msg), WS_EGAP, "skipping version 3 refused");
	free(msg);
	msg = NULL;
	f = xasprintf("%s/tmp", home);
	char *cmd = xasprintf("test -z \"$(ls -A %s)\"", f);
	CHECK(system(cmd) == 0, "no staging folders left behind");
	free(cmd);
	free(f);
	p2.version = 0;
	p2.name = "Bad Name";
	CHECK_EQ_INT(ws_publish_run(st, &p2, &msg), WS_ENAME, "invalid name refused");
	free(msg);
	ws_publish_release(&p);
	ws_store_free(st);
	ws_seckey_free(sk);
	free(home);
	free(src);
}

static void test_pointers(void)
{
	struct ws_seckey *sk;
	struct ws_pointer a, b, got, *all;
	uint8_t ih1[20] = { 1 }, ih2[32] = { 2 }, m1[32] = { 3 }, m2[32] = { 4 };
	ws_index *ix;
	unsigned flags = 0;
	size_t n;
	char *dir = xasprintf("%s/pointers", tmpdir);

	ws_seckey_generate(&sk);
	CHECK(ws_index_open(dir, &ix, NULL) == 0, "open index");
	ws_pointer_make(sk, "llm", 1, ih1, ih2, m1, &a);
	ws_pointer_make(sk, "llm", 2, ih1, ih2, m1, &b);
	CHECK_EQ_INT(ws_index_put_pointer(ix, &a, NULL), 0, "keep pointer seq 1");
	CHECK_EQ_INT(ws_index_put_pointer(ix, &a, NULL), WS_EEXIST, "the same pointer again");
	CHECK_EQ_INT(ws_index_put_pointer(ix, &b, NULL), 0, "keep pointer seq 2");
	CHECK(ws_index_get_pointer(ix, a.pk, "llm", &got) == 0 && got.seq == 2 && got.version == 2,
	      "the highest pointer is returned");
	ws_pointer_make(sk, "llm", 2, ih1, ih2, m2, &b);
	CHECK_EQ_INT(ws_index_put_pointer(ix, &b, NULL), WS_EEQUIVOCATION,
		     "another value for seq 2 is equivocation");
	CHECK(ws_index_name_flags(ix, a.pk, "llm", &flags) == 0 && (flags & WS_NAME_EQUIVOCATED),
	      "the name is flagged");
	CHECK_EQ_INT(count_events(ix, "llm", WS_EV_POINTER_EQUIVOCATION), 1, "and the event logged");
	CHECK(ws_index_pointers(ix, &all, &n) == 0 && n == 1 && all[0].seq == 2,
	      "one pointer per salt to re-put");
	free(all);
	ws_index_close(ix);
	ws_seckey_free(sk);
	free(dir);
}

/* ---- damage: records and files as a broken disk or a stray write leaves
 * them, written with LMDB itself (the index closed meanwhile) ---- */

/* raw_txn - open dir's environment and database db for one write. */
static int raw_txn(const char *dir, const char *db, MDB_env **env, MDB_txn **txn,
		   MDB_dbi *dbi)
{
	int rc;

	if ((rc = mdb_env_create(env)))
		return rc;
	if ((rc = mdb_env_set_maxdbs(*env, 16)) ||
	    (rc = mdb_env_set_mapsize(*env, 4ULL << 30)) ||
	    (rc = mdb_env_open(*env, dir, MDB_NOTLS, 0644)) ||
	    (rc = mdb_txn_begin(*env, NULL, 0, txn))) {
		mdb_env_close(*env);
		return rc;
	}
	if ((rc = mdb_dbi_open(*txn, db, 0, dbi))) {
		mdb_txn_abort(*txn);
		mdb_env_close(*env);
	}
	return rc;
}

static int raw_done(MDB_env *env, MDB_txn *txn, int rc)
{
	if (rc)
		mdb_txn_abort(txn);
	else
		rc = mdb_txn_commit(txn);
	mdb_env_close(env);
	return rc;
}

/* A record: key and value bytes. */
struct raw_rec {
	uint8_t k[512], v[8192];
	size_t klen, vlen;
};

/* raw_first - the first record of db into r. */
static int raw_first(const char *dir, const char *db, struct raw_rec *r)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_cursor *c;
	MDB_val k, v;
	int rc = raw_txn(dir, db, &env, &txn, &dbi);

	if (rc)
		return rc;
	if ((rc = mdb_cursor_open(txn, dbi, &c)) == 0) {
		rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
		if (rc == 0 && (k.mv_size > sizeof(r->k) || v.mv_size > sizeof(r->v)))
			rc = MDB_BAD_VALSIZE;
		if (rc == 0) {
			memcpy(r->k, k.mv_data, r->klen = k.mv_size);
			memcpy(r->v, v.mv_data, r->vlen = v.mv_size);
		}
		mdb_cursor_close(c);
	}
	mdb_txn_abort(txn);
	mdb_env_close(env);
	return rc;
}

/* raw_put - write key k with value v (vlen bytes) into db. */
static int raw_put(const char *dir, const char *db, const struct raw_rec *r,
		   const void *v, size_t vlen)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val key = { r->klen, (void *)r->k }, val = { vlen, (void *)v };
	int rc = raw_txn(dir, db, &env, &txn, &dbi);

	if (rc)
		return rc;
	return raw_done(env, txn, mdb_put(txn, dbi, &key, &val, 0));
}

/* damage_first - replace the value of db's first record with vlen bytes
 * of v (the old value, one byte flipped, when v is NULL); *saved keeps
 * the record as it was. */
static int damage_first(const char *dir, const char *db, const void *v, size_t vlen,
			struct raw_rec *saved)
{
	uint8_t buf[8192];
	int rc = raw_first(dir, db, saved);

	if (rc)
		return rc;
	if (!v) {
		memcpy(buf, saved->v, saved->vlen);
		buf[saved->vlen / 2] ^= 0x55;
		v = buf;
		vlen = saved->vlen;
	}
	return raw_put(dir, db, saved, v, vlen);
}

static int restore(const char *dir, const char *db, const struct raw_rec *saved)
{
	return raw_put(dir, db, saved, saved->v, saved->vlen);
}

static void test_damaged_records(void)
{
	struct ws_seckey *sk;
	struct signed_m v1, v2, v3;
	struct ws_pubkey pub;
	struct ws_pointer p, got, *ps;
	struct ws_release r, *rels;
	struct ws_trust *tl;
	struct ws_follow *fl;
	struct ws_event *ev;
	struct raw_rec saved;
	uint8_t ih1[20] = { 1 }, ih2[32] = { 2 }, *tor;
	const uint8_t junk[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	int64_t highest = 77;
	size_t n, tlen;
	int bad;
	ws_index *ix;
	char *dir = xasprintf("%s/records", tmpdir);

	ws_seckey_generate(&sk);
	ws_seckey_public(sk, &pub);
	make_signed(&v1, sk, "m", 1, NULL, 100);
	make_signed(&v2, sk, "m", 2, v1.hash, 200);
	make_signed(&v3, sk, "m", 3, v2.hash, 300);
	ws_pointer_make(sk, "m", 2, ih1, ih2, v2.hash, &p);
	CHECK(ws_index_open(dir, &ix, NULL) == 0 && add(ix, &v1) == 0 && add(ix, &v2) == 0 &&
	      ws_index_trust_add(ix, "m", &pub) == 0 && ws_index_follow(ix, "m", &pub, 1) == 0 &&
	      ws_index_put_pointer(ix, &p, NULL) == 0 &&
	      ws_index_put_torrent(ix, v1.hash, (const uint8_t *)"d1:ai1ee", 8, ih2, ih1) == 0,
	      "records: a small index");
	ws_index_close(ix);

	/* names: the record the rollback checks read */
	CHECK(damage_first(dir, "names", junk, 8, &saved) == 0, "names record cut to 8 bytes");
	CHECK(ws_index_open(dir, &ix, NULL) == 0, "the index still opens");
	CHECK_EQ_INT(ws_index_highest(ix, v1.m.publisher.pk, "m", &highest), WS_ECORRUPT,
		     "highest: a short names record is an error, not version 0");
	CHECK_EQ_INT(highest, 77, "highest: nothing written on failure");
	CHECK_EQ_INT(ws_index_get(ix, v1.m.publisher.pk, "m", 0, &r), WS_ECORRUPT,
		     "get: the latest version cannot be known");
	CHECK_EQ_INT(add(ix, &v3), WS_ECORRUPT, "add: nothing accepted past a damaged record");
	CHECK_EQ_INT(ws_index_add(ix, v1.text, v1.len, v1.sig, strlen(v1.sig), &v1.m,
				  NULL, 0, NULL), WS_ECORRUPT, "add: an old version is not let in either");
	ws_index_close(ix);
	CHECK(restore(dir, "names", &saved) == 0, "names restored");
	CHECK(ws_index_open(dir, &ix, NULL) == 0 &&
	      ws_index_highest(ix, v1.m.publisher.pk, "m", &highest) == 0 && highest == 2,
	      "highest reads 2 again");
	highest = 77;
	CHECK(ws_index_highest(ix, v1.m.publisher.pk, "other", &highest) == 0 && highest == 0,
	      "highest: an unknown name is 0");
	ws_index_close(ix);

	/* versions: shorter than its header, then a status out of range */
	CHECK(damage_first(dir, "versions", junk, 8, &saved) == 0, "versions record cut to 8 bytes");
	CHECK(ws_index_open(dir, &ix, NULL) == 0, "the index still opens");
	CHECK_EQ_INT(ws_index_list(ix, NULL, NULL, &rels, &n), WS_ECORRUPT, "list: an error");
	CHECK_EQ_INT(ws_index_get(ix, v1.m.publisher.pk, "m", 1, &r), WS_ECORRUPT, "get: an error");
	ws_index_close(ix);
	memcpy(saved.v + 1, "\x55", 1);
	CHECK(raw_put(dir, "versions", &saved, saved.v, saved.vlen) == 0, "versions status set to 0x55");
	CHECK(ws_index_open(dir, &ix, NULL) == 0 &&
	      ws_index_list(ix, NULL, NULL, &rels, &n) == WS_ECORRUPT, "list: an error");
	ws_index_close(ix);
	saved.v[1] = WS_REL_ACCEPTED;
	CHECK(restore(dir, "versions", &saved) == 0, "versions restored");

	/* manifests: one byte changed, the size kept */
	CHECK(damage_first(dir, "manifests", NULL, 0, &saved) == 0, "a manifest byte flipped");
	CHECK(ws_index_open(dir, &ix, NULL) == 0, "the index still opens");
	bad = 0;
	for (int64_t v = 1; v <= 2; v++) {
		int ret = ws_index_get(ix, v1.m.publisher.pk, "m", v, &r);
		if (ret == 0)
			ws_release_release(&r);
		bad += ret == WS_ECORRUPT;
	}
	CHECK_EQ_INT(bad, 1, "get: the manifest no longer matching its hash is an error");
	ws_index_close(ix);
	CHECK(restore(dir, "manifests", &saved) == 0, "manifest restored");

	/* trust, follows, events, pointers, torrents */
	CHECK(damage_first(dir, "trust", junk, 5, &saved) == 0, "trust record cut to 5 bytes");
	CHECK(ws_index_open(dir, &ix, NULL) == 0, "the index still opens");
	CHECK_EQ_INT(ws_index_trust_list(ix, &tl, &n), WS_ECORRUPT, "trust list: an error");
	CHECK_EQ_INT(ws_index_trust_check(ix, "m", pub.pk), WS_ECORRUPT, "trust check: an error");
	CHECK_EQ_INT(ws_index_trust_remove(ix, "m", NULL), WS_ECORRUPT, "trust remove: an error");
	ws_index_close(ix);
	CHECK(restore(dir, "trust", &saved) == 0, "trust restored");
	CHECK(damage_first(dir, "follows", junk, 3, &saved) == 0, "follows record cut to 3 bytes");
	CHECK(ws_index_open(dir, &ix, NULL) == 0 &&
	      ws_index_follows(ix, &fl, &n) == WS_ECORRUPT, "follows: an error");
	ws_index_close(ix);
	CHECK(restore(dir, "follows", &saved) == 0, "follows restored");
	CHECK(damage_first(dir, "events", junk, 8, &saved) == 0, "event record cut to 8 bytes");
	CHECK(ws_index_open(dir, &ix, NULL) == 0 &&
	      ws_index_events(ix, NULL, &ev, &n) == WS_ECORRUPT, "events: an error");
	ws_index_close(ix);
	CHECK(restore(dir, "events", &saved) == 0, "events restored");
	CHECK(damage_first(dir, "pointers", NULL, 0, &saved) == 0, "a pointer byte flipped");
	CHECK(ws_index_open(dir, &ix, NULL) == 0, "the index still opens");
	CHECK_EQ_INT(ws_index_get_pointer(ix, p.pk, "m", &got), WS_ECORRUPT, "get pointer: an error");
	CHECK_EQ_INT(ws_index_pointers(ix, &ps, &n), WS_ECORRUPT, "pointers: an error");
	ws_index_close(ix);
	CHECK(restore(dir, "pointers", &saved) == 0, "pointer restored");
	CHECK(damage_first(dir, "torrents", junk, 8, &saved) == 0, "torrent record cut to 8 bytes");
	CHECK(ws_index_open(dir, &ix, NULL) == 0 &&
	      ws_index_get_torrent(ix, v1.hash, &tor, &tlen, NULL, NULL) == WS_ECORRUPT,
	      "get torrent: an error");
	ws_index_close(ix);
	CHECK(restore(dir, "torrents", &saved) == 0, "torrent restored");

	CHECK(ws_index_open(dir, &ix, NULL) == 0, "restored: opens");
	CHECK(ws_index_list(ix, NULL, NULL, &rels, &n) == 0 && n == 2, "restored: two releases");
	ws_releases_free(rels, n);
	CHECK(ws_index_get_pointer(ix, p.pk, "m", &got) == 0 && got.seq == 2, "restored: pointer");
	CHECK(ws_index_events(ix, NULL, &ev, &n) == 0 && n > 0, "restored: events");
	free(ev);
	ws_index_close(ix);
	free_signed(&v1);
	free_signed(&v2);
	free_signed(&v3);
	ws_seckey_free(sk);
	free(dir);
}

static uint8_t *slurp(const char *path, size_t *len)
{
	char *buf = NULL;
	if (ws_read_file(path, 1u << 30, &buf, len) < 0)
		return NULL;
	return (uint8_t *)buf;
}

static int spit(const char *path, const uint8_t *buf, size_t len)
{
	FILE *f = fopen(path, "wb");
	int ok = f && fwrite(buf, 1, len, f) == len;
	if (f && fclose(f))
		ok = 0;
	return ok ? 0 : -1;
}

/* open_fails - the index in dir is refused as damaged, naming its file */
static int open_fails(const char *dir)
{
	ws_index *ix = NULL;
	char *msg = NULL;
	int ret = ws_index_open(dir, &ix, &msg);
	int ok = ret == WS_ECORRUPT && msg && strstr(msg, "data.mdb") &&
		 strstr(msg, "damaged") && !ix;

	if (!ok)
		printf("#   open: %d %s\n", ret, msg ? msg : "(no message)");
	ws_index_close(ix);
	free(msg);
	return ok;
}

/* The main DB's root page of the newest meta page: a leaf in a small
 * index (LMDB 0.9's layout, as index_check.c reads it). */
static uint64_t main_root(const uint8_t *file, size_t psize)
{
	uint64_t t0, t1, root;
	const uint8_t *m;

	memcpy(&t0, file + 16 + 128, 8);
	memcpy(&t1, file + psize + 16 + 128, 8);
	m = file + (t1 > t0 ? psize : 0);
	memcpy(&root, m + 16 + 24 + 48 + 40, 8);
	return root;
}

static void test_damaged_file(void)
{
	struct ws_seckey *sk;
	struct signed_m v1, v2;
	struct ws_release *rels;
	ws_index *ix;
	size_t len, n, psize = (size_t)sysconf(_SC_PAGESIZE);
	uint8_t *good, *bad;
	char *dir = xasprintf("%s/file", tmpdir);
	char *file = xasprintf("%s/data.mdb", dir);

	ws_seckey_generate(&sk);
	make_signed(&v1, sk, "m", 1, NULL, 100);
	make_signed(&v2, sk, "m", 2, v1.hash, 200);
	CHECK(ws_index_open(dir, &ix, NULL) == 0 && add(ix, &v1) == 0 && add(ix, &v2) == 0,
	      "file: an index with two releases");
	ws_index_close(ix);
	good = slurp(file, &len);
	CHECK(good && len > 4 * psize, "file: read it");
	if (!good)
		return;

	CHECK(truncate(file, 0) == 0 && open_fails(dir), "cut to 0 bytes: damaged, not empty");
	CHECK(truncate(file, 0) == 0 && open_fails(dir), "and stays so: nothing was written");
	CHECK(truncate(file, 8192) == 0 && open_fails(dir), "cut to 8 KiB: damaged");
	CHECK(spit(file, good, len - psize) == 0 && open_fails(dir), "one page short: damaged");
	CHECK(spit(file, good, psize) == 0 && open_fails(dir), "one meta page only: damaged");

	bad = xmalloc(len);
	uint64_t root = main_root(good, psize);
	CHECK(root > 1 && root < len / psize, "the main database's root page");
	size_t offs[] = { 10, 13, 16, 17, 20 };  /* flags, bounds, record offsets */
	for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		char what[80];
		memcpy(bad, good, len);
		bad[root * psize + offs[i]] ^= 0x55;
		snprintf(what, sizeof(what), "leaf page byte %zu flipped: damaged", offs[i]);
		CHECK(spit(file, bad, len) == 0 && open_fails(dir), what);
	}
	free(bad);

	CHECK(spit(file, good, len) == 0 && ws_index_open(dir, &ix, NULL) == 0, "restored: opens");
	CHECK(ws_index_list(ix, NULL, NULL, &rels, &n) == 0 && n == 2, "restored: both releases");
	ws_releases_free(rels, n);
	ws_index_close(ix);
	free(good);
	free_signed(&v1);
	free_signed(&v2);
	ws_seckey_free(sk);
	free(dir);
	free(file);
}

/* A healthy index with branch pages, overflow values and a free list in
 * use must pass the page walk: a false alarm would lock a user out. */
static void test_large_index(void)
{
	char *dir = xasprintf("%s/large", tmpdir), *file = xasprintf("%s/data.mdb", dir);
	static uint8_t val[3 * 4096 + 100];
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	ws_index *ix;
	uint8_t *tor = NULL, key[32];
	size_t tlen = 0;
	int rc = 0;
	struct stat sb;

	CHECK(ws_index_open(dir, &ix, NULL) == 0, "large: a new index");
	ws_index_close(ix);
	for (size_t i = 0; i < sizeof(val); i++)
		val[i] = (uint8_t)(i * 7);
	/* two rounds of puts, then a third of the first round deleted */
	for (int round = 0; round < 3 && rc == 0; round++) {
		if ((rc = raw_txn(dir, "torrents", &env, &txn, &dbi)))
			break;
		for (uint32_t i = 0; i < 3000 && rc == 0; i++) {
			MDB_val k = { 32, key }, v = { 60 + (i * 37) % 2000, val };
			memset(key, 0, 32);
			memcpy(key, &i, 4);
			key[31] = (uint8_t)(round & 1);
			if (i % 50 == 0)
				v.mv_size = sizeof(val);   /* overflow pages */
			if (round < 2)
				rc = mdb_put(txn, dbi, &k, &v, 0);
			else if (i % 3)
				rc = mdb_del(txn, dbi, &k, NULL);
		}
		rc = raw_done(env, txn, rc);
	}
	CHECK_EQ_INT(rc, 0, "large: thousands of records written, a third deleted");
	CHECK(ws_index_open(dir, &ix, NULL) == 0, "large: the page walk passes it");
	memset(key, 0, 32);
	key[31] = 1;
	CHECK(ws_index_get_torrent(ix, key, &tor, &tlen, NULL, NULL) == 0 &&
	      tlen == sizeof(val) - 52, "large: an overflow value reads back");
	free(tor);
	ws_index_close(ix);
	CHECK(stat(file, &sb) == 0 && truncate(file, sb.st_size - 4096) == 0 && open_fails(dir),
	      "large: one page short is damaged");
	free(dir);
	free(file);
}

int main(void)
{
	if (sodium_init() < 0 || !mkdtemp(tmpdir))
		return 2;
	test_chain();
	test_trust();
	test_publish();
	test_pointers();
	test_damaged_records();
	test_damaged_file();
	test_large_index();
	ws_rm_rf(tmpdir);
	return check_done();
}
