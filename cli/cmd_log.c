/* cmd_log.c - weightsync log: a name's history, refusals included */
#include "cli.h"
#include "proto/error.h"
#include "proto/util.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cmd_log(struct cli *c, int argc, char **argv)
{
	struct ws_release *rels = NULL;
	struct ws_event *evs = NULL;
	size_t n = 0, nev = 0;
	const char *name = NULL;
	int json, ret, ind = opts_json("log", argc, argv, &json);
	json_t *jv = NULL, *je = NULL;

	if (ind < 0)
		return EXIT_ERROR;
	if (ind + 1 != argc)
		return usage_error("log", ind == argc ? "expected a NAME" : "expected one NAME");
	name = argv[ind];
	if (ws_name_check(name)) {
		err("invalid release name '%s'", name);
		return EXIT_ERROR;
	}
	if ((ret = ws_index_list(c->store->index, NULL, name, &rels, &n)) ||
	    (ret = ws_index_events(c->store->index, name, &evs, &nev))) {
		ws_releases_free(rels, n);
		return index_fail(c, ret);
	}
	if (n == 0 && nev == 0) {
		err("no history of '%s' in this store", name);
		return EXIT_ERROR;
	}
	for (size_t i = 0; i < n; i++)
		if (i == 0 || memcmp(rels[i].pk, rels[i - 1].pk, 32))
			if (warn_if_equivocated(c, rels[i].pk, name)) {
				ws_releases_free(rels, n);
				free(evs);
				return EXIT_ERROR;
			}
	if (json) {
		jv = json_array();
		je = json_array();
	} else {
		printf("versions of '%s':\n", name);
	}
	for (size_t i = 0; i < n; i++) {
		char hex[65], prev[65], seen[21], pkhex[17];
		ws_hex(rels[i].mhash, 32, hex);
		ws_hex(rels[i].previous, 32, prev);
		ws_hex(rels[i].pk, 8, pkhex);
		ws_format_time(rels[i].first_seen, seen);
		const char *st = rels[i].status == WS_REL_EVIDENCE ? "evidence" :
				 rels[i].complete ? "complete" : "incomplete";
		if (json) {
			json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:s}", "version",
					      (json_int_t)rels[i].version, "manifest_sha256", hex,
					      "state", st, "first_seen", seen, "publisher_pk", pkhex);
			json_object_set_new(o, "previous", rels[i].version > 1 ?
					    json_string(prev) : json_null());
			json_array_append_new(jv, o);
		} else {
			printf("  %-6lld %s  %-10s key %s...  sha256:%.16s  prev %.16s\n",
			       (long long)rels[i].version, seen, st, pkhex, hex,
			       rels[i].version > 1 ? prev : "-");
		}
	}
	if (!json)
		printf("events:\n");
	for (size_t i = 0; i < nev; i++) {
		char t[21], hex[65];
		ws_format_time(evs[i].time, t);
		ws_hex(evs[i].mhash, 32, hex);
		if (json) {
			json_t *o = json_pack("{s:s, s:s, s:I, s:s}", "time", t, "event",
					      ws_event_kind_name(evs[i].kind), "version",
					      (json_int_t)evs[i].version, "detail", evs[i].detail);
			json_array_append_new(je, o);
		} else {
			printf("  %s  %-16s", t, ws_event_kind_name(evs[i].kind));
			if (evs[i].version)
				printf(" v%-5lld sha256:%.16s", (long long)evs[i].version, hex);
			if (evs[i].detail[0])
				printf("  %s", esc(evs[i].detail));
			printf("\n");
		}
	}
	if (json) {
		json_t *o = json_pack("{s:s, s:o, s:o}", "name", name, "versions", jv,
				      "events", je);
		json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
		json_decref(o);
	}
	ws_releases_free(rels, n);
	free(evs);
	return 0;
}
