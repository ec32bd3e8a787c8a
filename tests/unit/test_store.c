/* test_store.c - unit tests for store/: the index's chain rules, trust,
 * events, and publishing into a home */
#include "check.h"
#include "proto/error.h"
#include "proto/util.h"
#include "store/index.h"
#include "store/publish.h"
#include "store/store.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

int main(void)
{
	if (sodium_init() < 0 || !mkdtemp(tmpdir))
		return 2;
	test_chain();
	test_trust();
	test_publish();
	test_pointers();
	ws_rm_rf(tmpdir);
	return check_done();
}
