/* test_http.c - the HTTP server's request parsing (node/http_int.h): the
 * release a path names and the one range of a Range header. */
#include "check.h"
#include "node/http_int.h"
#include "proto/error.h"

#include <string.h>

static int range(const char *h, uint64_t size, uint64_t *s, uint64_t *e)
{
	*s = *e = 777;
	return http_range_parse(h, size, s, e);
}

static void test_ranges(void)
{
	uint64_t s, e;

	CHECK_EQ_INT(range(NULL, 100, &s, &e), 0, "no header: the whole content");
	CHECK(range("bytes=0-0", 100, &s, &e) == 1 && s == 0 && e == 0, "the first byte");
	CHECK(range("bytes=10-19", 100, &s, &e) == 1 && s == 10 && e == 19, "A-B");
	CHECK(range("bytes=90-", 100, &s, &e) == 1 && s == 90 && e == 99, "A- to the end");
	CHECK(range("bytes=90-1000", 100, &s, &e) == 1 && s == 90 && e == 99,
	      "an end past the content is clipped");
	CHECK(range("bytes=-10", 100, &s, &e) == 1 && s == 90 && e == 99, "the last N bytes");
	CHECK(range("bytes=-1000", 100, &s, &e) == 1 && s == 0 && e == 99,
	      "a suffix longer than the content is all of it");
	CHECK(range("bytes= 5-6 ", 100, &s, &e) == 1 && s == 5 && e == 6, "spaces around");
	CHECK_EQ_INT(range("bytes=100-", 100, &s, &e), -1, "a start at the end: 416");
	CHECK_EQ_INT(range("bytes=100-200", 100, &s, &e), -1, "a start past the end: 416");
	CHECK_EQ_INT(range("bytes=-0", 100, &s, &e), -1, "an empty suffix: 416");
	CHECK_EQ_INT(range("bytes=0-", 0, &s, &e), -1, "any range of empty content: 416");
	CHECK_EQ_INT(range("bytes=-5", 0, &s, &e), -1, "a suffix of empty content: 416");
	CHECK_EQ_INT(range("bytes=0-1,5-6", 100, &s, &e), 0, "several ranges: the whole");
	CHECK_EQ_INT(range("bytes=9-3", 100, &s, &e), 0, "end before start: ignored");
	CHECK_EQ_INT(range("bytes=-", 100, &s, &e), 0, "no numbers: ignored");
	CHECK_EQ_INT(range("bytes=abc", 100, &s, &e), 0, "not numbers: ignored");
	CHECK_EQ_INT(range("items=0-5", 100, &s, &e), 0, "another unit: ignored");
	CHECK_EQ_INT(range("bytes=1-2x", 100, &s, &e), 0, "trailing text: ignored");
	CHECK_EQ_INT(range("bytes=99999999999999999999999-", 100, &s, &e), 0,
		     "a number past 64 bits: ignored");
	CHECK(s == 777 && e == 777, "outputs untouched when ignored");
	CHECK(range("bytes=18446744073709551614-", UINT64_MAX, &s, &e) == 1 &&
	      s == UINT64_MAX - 1 && e == UINT64_MAX - 1, "offsets near 2^64");
}

static int url(const char *u, char *key, int *has_pk, char *name, int64_t *v,
	       const char **path)
{
	uint8_t pk[32];
	return http_url_parse(u, key, pk, has_pk, name, v, path);
}

static void test_urls(void)
{
	char key[HTTP_KEY_MAX], name[WS_NAME_MAX + 1], long_url[300];
	const char *path;
	int has_pk;
	int64_t v;

	CHECK(url("/llama-3@12/model/a.safetensors", key, &has_pk, name, &v, &path) == 0 &&
	      !strcmp(key, "llama-3@12") && !has_pk && !strcmp(name, "llama-3") && v == 12 &&
	      !strcmp(path, "model/a.safetensors"), "NAME@VERSION/PATH");
	CHECK(url("/llama-3@12/", key, &has_pk, name, &v, &path) == 0 && !strcmp(path, ""),
	      "the folder");
	CHECK(url("/llama-3@12", key, &has_pk, name, &v, &path) == 0 && path == NULL,
	      "the folder without its slash");
	CHECK(url("/00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff/m@1/x",
		  key, &has_pk, name, &v, &path) == 0 && has_pk && !strcmp(name, "m") &&
	      !strcmp(key, "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff/m@1") &&
	      !strcmp(path, "x"), "PKHEX/NAME@VERSION/PATH");
	CHECK(url("/m@1/../../etc/passwd", key, &has_pk, name, &v, &path) == 0 &&
	      !strcmp(path, "../../etc/passwd"), "PATH is left to the manifest lookup");
	static const char *const bad[] = {
		"/", "/api", "/m", "/m@", "/@1/x", "/m@0/x", "/m@01/x", "/m@1x/x", "/m@-1/x",
		"/M@1/x", "/.m@1/x", "/m@9007199254740992/x", "/m@99999999999999999999/x",
		"//etc/passwd", "/../m@1/x", "/%2e%2e/m@1",
		"/00112233445566778899aabbccddeeff00112233445566778899aabbccddeefg/m@1/x",
		NULL,
	};
	for (int i = 0; bad[i]; i++) {
		char what[128];
		snprintf(what, sizeof(what), "refused: %s", bad[i]);
		CHECK_EQ_INT(url(bad[i], key, &has_pk, name, &v, &path), WS_ENOTFOUND, what);
	}
	/* a 48-character name and a 15-digit version: the longest salt */
	snprintf(long_url, sizeof(long_url), "/%064d/%s@%s/x", 0,
		 "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuv", "123456789012345");
	CHECK(url(long_url, key, &has_pk, name, &v, &path) == 0 && strlen(key) == 64 + 1 + 64,
	      "the longest key fits");
	snprintf(long_url, sizeof(long_url), "/%s@%s/x",
		 "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuv", "1234567890123456");
	CHECK_EQ_INT(url(long_url, key, &has_pk, name, &v, &path), WS_ENOTFOUND,
		     "NAME@VERSION longer than a BEP 44 salt: refused");
}

int main(void)
{
	test_ranges();
	test_urls();
	return check_done();
}
