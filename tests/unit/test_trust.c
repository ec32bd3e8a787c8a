/* test_trust.c - curator lists, catalogs and peer evidence: formats and
 * hostile input (proto/curator.h, proto/catalog.h, node/evidence.h) */
#include "check.h"
#include "node/evidence.h"
#include "proto/catalog.h"
#include "proto/curator.h"
#include "proto/error.h"
#include "proto/pointer.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static const char *KEY = "RWQXdFGT0iIyx4P8OHWDzUcRFpclBFimcMM5vhqTxAX7m14cRTqdfAm2";

static int parse_curator(const char *text, struct ws_curator_list *l)
{
	return ws_curator_parse(text, strlen(text), l, NULL);
}

static void test_curator(void)
{
	struct ws_curator_list l = { 0 }, m = { 0 };
	struct ws_pubkey pk;
	char good[256], *out = NULL;
	size_t len = 0;

	snprintf(good, sizeof(good), "{\"names\": {\"qwen\": \"%s\", \"llama\": \"%s\"}}", KEY, KEY);
	CHECK(parse_curator(good, &l) == 0 && l.n == 2, "a curator list parses");
	CHECK(l.n == 2 && !strcmp(l.e[0].name, "llama"), "entries are sorted by name");
	CHECK(ws_curator_find(&l, "qwen") && !ws_curator_find(&l, "mistral"), "find");
	ws_curator_serialize(&l, &out, &len);
	CHECK(parse_curator(out, &m) == 0 && m.n == 2, "the serialized list parses again");
	ws_curator_list_release(&m);
	free(out);
	CHECK(ws_pubkey_parse(KEY, &pk) == 0 && ws_curator_set(&l, "llama", &pk) == 0,
	      "setting the same key changes nothing");
	CHECK(ws_curator_set(&l, "mistral", &pk) == 1 && l.n == 3, "setting a new name adds it");
	CHECK(ws_curator_drop(&l, "llama") == 1 && l.n == 2 && !ws_curator_find(&l, "llama"),
	      "drop removes");
	CHECK(ws_curator_drop(&l, "llama") == 0, "dropping an absent name is 0");
	ws_curator_list_release(&l);

	CHECK(parse_curator("{\"names\": {\"../x\": \"k\"}}", &l) == WS_EFORMAT, "a bad name is refused");
	CHECK(parse_curator("{\"names\": {\"llama\": \"not-a-key\"}}", &l) == WS_EFORMAT,
	      "a bad key is refused");
	CHECK(parse_curator("{\"names\": {}, \"extra\": 1}", &l) == WS_EFORMAT, "extra keys are refused");
	CHECK(parse_curator("[]", &l) == WS_EFORMAT, "not an object is refused");
	snprintf(good, sizeof(good), "{\"names\": {\"a\": \"%s\", \"a\": \"%s\"}}", KEY, KEY);
	CHECK(parse_curator(good, &l) == WS_EFORMAT, "a duplicate name is refused");
	CHECK(ws_curator_parse("{", WS_CURATOR_MAX + 1, &l, NULL) == WS_ETOOBIG, "over the cap");
}

static int parse_catalog(const char *text, struct ws_catalog *c)
{
	return ws_catalog_parse(text, strlen(text), c, NULL);
}

#define MH "\"manifest_sha256\": \"0000000000000000000000000000000000000000000000000000000000000000\""

static void test_catalog(void)
{
	struct ws_catalog c = { 0 }, d = { 0 };
	struct ws_catalog_entry e;
	char *out = NULL;
	size_t len = 0;

	CHECK(parse_catalog("{\"releases\": [{\"name\": \"a\", \"version\": 1, \"bytes\": 5, " MH
			    ", \"description\": \"Tiny LLAMA\"}, {\"name\": \"b\", \"version\": 2, "
			    "\"bytes\": 0, " MH "}]}", &c) == 0 && c.n == 2, "a catalog parses");
	CHECK(c.n == 2 && ws_catalog_match(&c.e[0], "llama") && !ws_catalog_match(&c.e[1], "llama"),
	      "search is case-insensitive and per entry");
	CHECK(c.n == 2 && ws_catalog_match(&c.e[1], ""), "the empty text matches everything");
	memset(&e, 0, sizeof(e));
	snprintf(e.name, sizeof(e.name), "aa");
	e.version = 3;
	CHECK(ws_catalog_put(&c, &e) == 0 && c.n == 3 && !strcmp(c.e[1].name, "aa"), "put sorts");
	snprintf(e.description, sizeof(e.description), "two\nlines");
	CHECK(ws_catalog_put(&c, &e) == WS_EFORMAT, "a two-line description is refused");
	ws_catalog_serialize(&c, &out, &len);
	CHECK(parse_catalog(out, &d) == 0 && d.n == 3, "the serialized catalog parses again");
	free(out);
	ws_catalog_release(&d);
	ws_catalog_release(&c);

	CHECK(parse_catalog("{\"releases\": [{\"name\": \"b\", \"version\": 1, \"bytes\": 1, " MH
			    "}, {\"name\": \"a\", \"version\": 1, \"bytes\": 1, " MH "}]}", &c) == WS_EFORMAT,
	      "unsorted entries are refused");
	CHECK(parse_catalog("{\"releases\": [{\"name\": \"a\", \"version\": 0, \"bytes\": 1, " MH "}]}",
			    &c) == WS_EFORMAT, "version 0 is refused");
	CHECK(parse_catalog("{\"releases\": [{\"name\": \"a\", \"version\": 1, \"bytes\": 1, " MH
			    ", \"evil\": 1}]}", &c) == WS_EFORMAT, "unknown fields are refused");
	CHECK(parse_catalog("{\"releases\": [{\"name\": \"a\", \"version\": 1, \"bytes\": 1, " MH
			    ", \"description\": \"x\\ny\"}]}", &c) == WS_EFORMAT,
	      "a two-line description is refused when parsed");
	CHECK(parse_catalog("{\"releases\": [{\"name\": \"a\", \"version\": 1, \"bytes\": 1, "
			    "\"manifest_sha256\": \"zz\"}]}", &c) == WS_EFORMAT, "a bad hash is refused");
	CHECK(parse_catalog("{\"releases\": [{\"name\": \"a\", \"version\": 1, \"bytes\": 1, " MH
			    ", \"description\": \"a\\u0000b\"}]}", &c) == WS_EFORMAT,
	      "a NUL inside a text field is refused");
}

static void test_evidence(void)
{
	uint8_t seed[32] = { 7 }, pk[32], sk[64], ih1[20] = { 1 }, ih2[32] = { 2 }, mh[32] = { 3 };
	struct ws_seckey key;
	struct ws_pointer p[2], got[WS_EVIDENCE_ITEMS];
	uint8_t *buf = malloc(WS_LT_EVIDENCE_MAX);
	size_t len, n = 0;

	crypto_sign_seed_keypair(pk, sk, seed);
	memset(&key, 0, sizeof(key));
	memcpy(key.sk, sk, 64);
	CHECK(ws_pointer_make(&key, "llama", 2, ih1, ih2, mh, &p[0]) == 0 &&
	      ws_pointer_make(&key, "llama@2", 2, ih1, ih2, mh, &p[1]) == 0, "two pointers signed");
	len = ws_evidence_encode(p, 2, buf);
	CHECK(ws_evidence_decode(buf, len, got, &n) == 0 && n == 2, "evidence decodes");
	CHECK(n == 2 && ws_pointer_check(&got[0]) == 0 && ws_pointer_check(&got[1]) == 0 &&
	      got[1].version == 2, "decoded items pass their signature check");
	{
		int whole = 1;
		/* every cut is refused, or (at the item boundary) one item */
		for (size_t cut = 0; cut < len; cut++) {
			int r = ws_evidence_decode(buf, cut, got, &n);
			if (r == 0 && n == 2)
				whole = 0;
			if (r && r != WS_EFORMAT)
				whole = 0;
		}
		CHECK(whole, "no truncation of the blob decodes as the whole");
	}
	buf[len - 1] ^= 1;
	CHECK(ws_evidence_decode(buf, len, got, &n) == 0 && ws_pointer_check(&got[1]) == WS_EBADSIG,
	      "a flipped signature byte decodes and then fails its check");
	memcpy(buf, "XXXX", 4);
	CHECK(ws_evidence_decode(buf, len, got, &n) == WS_EFORMAT, "a wrong magic is refused");
	free(buf);
}

int main(void)
{
	if (sodium_init() < 0)
		return 2;
	test_curator();
	test_catalog();
	test_evidence();
	return check_done();
}
