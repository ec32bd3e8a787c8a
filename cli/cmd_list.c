/* cmd_list.c - weightsync list: the releases in the store */
#include "cli.h"
#include "proto/error.h"
#include "proto/util.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *state_of(const struct ws_release *r)
{
	if (r->status == WS_REL_EVIDENCE)
		return "evidence";
	return r->complete ? "complete" : "incomplete";
}

int cmd_list(struct cli *c, int argc, char **argv)
{
	struct ws_release *rels = NULL;
	size_t n = 0;
	int json, ind = opts_json("list", argc, argv, &json);
	json_t *arr;
	int ret;

	if (ind < 0)
		return EXIT_ERROR;
	if (ind != argc)
		return usage_error("list", "unexpected argument '%s'", argv[ind]);
	arr = json ? json_array() : NULL;
	if ((ret = ws_index_list(c->store->index, NULL, NULL, &rels, &n)))
		return index_fail(c, ret);
	for (size_t i = 0; i < n; i++) {
		struct ws_release *r = &rels[i];
		struct ws_manifest m;
		char hex[65], seen[21], sz[16], pk[WS_PUBKEY_B64_LEN + 1] = "?";
		uint64_t bytes = 0;
		size_t files = 0;

		/* a manifest the index cannot give back is damage: stop, never
		 * a row of zeros that looks like an empty release */
		if ((ret = ws_index_load(c->store->index, r)) ||
		    (ret = ws_manifest_parse(r->manifest, r->manifest_len, &m, NULL) ?
			   WS_ECORRUPT : 0)) {
			json_decref(arr);
			ws_releases_free(rels, n);
			return index_fail(c, ret);
		}
		bytes = ws_manifest_total_size(&m);
		files = m.nfiles;
		ws_pubkey_to_b64(&m.publisher, pk);
		ws_manifest_release(&m);
		ws_hex(r->mhash, 32, hex);
		ws_format_time(r->first_seen, seen);
		if (json) {
			json_t *o = json_pack("{s:s, s:I, s:s, s:s, s:s, s:I, s:I, s:s}",
					      "name", r->name, "version", (json_int_t)r->version,
					      "state", state_of(r), "publisher", pk,
					      "manifest_sha256", hex, "files", (json_int_t)files,
					      "bytes", (json_int_t)bytes, "first_seen", seen);
			json_array_append_new(arr, o);
		} else {
			char ref[WS_NAME_MAX + 24];
			snprintf(ref, sizeof(ref), "%s@%lld", r->name, (long long)r->version);
			printf("%-32s %-10s %5zu files %10s  %.12s  %s\n", ref, state_of(r),
			       files, human_size(bytes, sz), hex, seen);
		}
	}
	if (json) {
		json_dumpf(arr, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
		json_decref(arr);
	} else if (n == 0) {
		printf("no releases in the store\n");
	}
	ws_releases_free(rels, n);
	return 0;
}
