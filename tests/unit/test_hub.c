/* test_hub.c - node/hub.c without a network: references and file patterns */
#include "check.h"
#include "node/hub.h"
#include "proto/error.h"
#include "proto/util.h"

#include <stdlib.h>
#include <string.h>

static int ref_ok(const char *ref, const char *repo, const char *rev)
{
	char *r = NULL, *v = NULL;
	int ok = ws_hub_parse_ref(ref, &r, &v, NULL) == 0 && !strcmp(r, repo) && !strcmp(v, rev);
	free(r);
	free(v);
	return ok;
}

static int ref_bad(const char *ref)
{
	char *r = NULL, *v = NULL, *msg = NULL;
	int bad = ws_hub_parse_ref(ref, &r, &v, &msg) == WS_EFORMAT && !r && !v && msg;
	free(msg);
	return bad;
}

static size_t pick(const char *const *inc, size_t ninc, const char *const *exc, size_t nexc,
		   char *out, size_t cap)
{
	static const char *paths[] = { "config.json", "model-00001.safetensors",
		"onnx/model.onnx", "onnx/sub/x.json", "tokenizer.json", "README.md" };
	struct ws_hub_file files[6];
	struct ws_hub_repo r = { .files = files, .nfiles = 6 };
	size_t n;

	memset(files, 0, sizeof(files));
	for (int i = 0; i < 6; i++)
		files[i].path = (char *)paths[i];
	n = ws_hub_select(&r, inc, ninc, exc, nexc);
	out[0] = '\0';
	for (int i = 0; i < 6; i++)
		if (files[i].selected) {
			strncat(out, paths[i], cap - strlen(out) - 2);
			strncat(out, " ", cap - strlen(out) - 1);
		}
	return n;
}

int main(void)
{
	char got[256];

	CHECK(ref_ok("hf://acme/tiny-llm", "acme/tiny-llm", "main"), "no revision means main");
	CHECK(ref_ok("hf://acme/tiny@v1.0", "acme/tiny", "v1.0"), "a tag");
	CHECK(ref_ok("hf://Org_1/Name.x@refs/pr/1", "Org_1/Name.x", "refs/pr/1"),
	      "a revision may hold '/'");
	CHECK(ref_bad("acme/tiny"), "no hf:// scheme");
	CHECK(ref_bad("hf://acme"), "no NAME");
	CHECK(ref_bad("hf://acme/"), "empty NAME");
	CHECK(ref_bad("hf://acme/../x"), "'..' refused");
	CHECK(ref_bad("hf://acme/a--b"), "'--' refused (a cache folder could not hold it)");
	CHECK(ref_bad("hf://.acme/x"), "a leading '.' refused");
	CHECK(ref_bad("hf://acme/x y"), "a space refused");
	CHECK(ref_bad("hf://acme/x@"), "an empty revision refused");
	CHECK(ref_bad("hf://acme/x@a\tb"), "a control character in the revision refused");

	CHECK_EQ_INT(pick(NULL, 0, NULL, 0, got, sizeof(got)), 6, "no pattern: every file");
	{
		const char *inc[] = { "*.json" };
		CHECK_EQ_INT(pick(inc, 1, NULL, 0, got, sizeof(got)), 3,
			     "'*' matches '/' as in hf download");
		CHECK(!strcmp(got, "config.json onnx/sub/x.json tokenizer.json "), got);
	}
	{
		const char *inc[] = { "onnx/" };
		CHECK_EQ_INT(pick(inc, 1, NULL, 0, got, sizeof(got)), 2, "'DIR/' takes the folder");
	}
	{
		const char *inc[] = { "*.json", "*.safetensors" }, *exc[] = { "tokenizer*", "onnx/*" };
		CHECK_EQ_INT(pick(inc, 2, exc, 2, got, sizeof(got)), 2, "exclude wins over include");
		CHECK(!strcmp(got, "config.json model-00001.safetensors "), got);
	}
	{
		const char *inc[] = { "model-0000[0-9].safetensors" };
		CHECK_EQ_INT(pick(inc, 1, NULL, 0, got, sizeof(got)), 1, "character classes");
	}
	return check_done();
}
