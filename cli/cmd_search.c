/* cmd_search.c - weightsync search TEXT and weightsync catalog KEY: what
 * publishers list in their signed catalogs (docs/trust.md) */
#include "cli.h"
#include "node/catalog.h"
#include "node/docrel.h"
#include "node/names.h"
#include "proto/error.h"
#include "proto/util.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CATALOG_STALL_S 30

const struct cli_option search_options[] = {
	{ "timeout", 0, 'T', required_argument, "S",
	  "wait at most S seconds for each catalog in the DHT (default 5)" },
	{ "json", 0, 'j', no_argument, NULL, "print the result as JSON" },
	NET_OPTIONS,
	{ NULL, 0, 0, 0, NULL, NULL },
};

const struct cli_option catalog_options[] = {
	{ "timeout", 0, 'T', required_argument, "S",
	  "wait at most S seconds for the catalog in the DHT (default 15)" },
	{ "json", 0, 'j', no_argument, NULL, "print the result as JSON" },
	NET_OPTIONS,
	{ NULL, 0, 0, 0, NULL, NULL },
};

struct catalog_args {
	struct ws_net_opts net;
	int timeout_ms;
	int json;
	int ind;
};

/* parse a command line of search or catalog; EXIT_ERROR when wrong */
static int parse_args(const char *cmd, const struct cli_option *table, int argc,
		      char **argv, struct catalog_args *a)
{
	struct opts op;
	uint64_t secs;
	int o;

	opts_init(&op, cmd, table, argc, argv, 0);
	while ((o = opts_next(&op)) > 0) {
		if (o == 'T') {
			if (opt_uint(&op, 1, SECONDS_MAX, &secs))
				return EXIT_ERROR;
			a->timeout_ms = (int)secs * 1000;
		} else if (o == 'j') {
			a->json = 1;
		} else if (net_option(&op, o, &a->net)) {
			return EXIT_ERROR;
		}
	}
	if (o < 0)
		return EXIT_ERROR;
	if (op.ind + 1 != argc)
		return usage_error(cmd, "expected one %s", !strcmp(cmd, "search") ? "TEXT" : "KEY");
	a->ind = op.ind;
	return 0;
}

/*
 * Fetch the newest catalog of pk into the store (through the DHT and the
 * swarm), when the command was given DHT nodes.  Returns the fetch's error;
 * a key with no catalog in the DHT is WS_ENOTFOUND.
 */
static int refresh(struct cli *c, ws_lt_session *s, const struct ws_pubkey *pk,
		   int timeout_ms, char **msg)
{
	return ws_docrel_refresh(c->store, s, pk, WS_CATALOG_NAME, timeout_ms,
				 CATALOG_STALL_S, NULL, msg);
}

static json_t *entry_json(const struct ws_catalog_entry *e, const char *b64)
{
	char hex[65];
	json_t *o;

	ws_hex(e->mhash, 32, hex);
	o = json_pack("{s:s, s:I, s:I, s:s, s:s, s:s, s:s}", "name", e->name,
		      "version", (json_int_t)e->version, "bytes", (json_int_t)e->bytes,
		      "license", e->license, "origin", e->origin,
		      "description", e->description, "manifest_sha256", hex);
	if (b64)
		json_object_set_new(o, "publisher", json_string(b64));
	return o;
}

static void entry_line(const struct ws_catalog_entry *e, const char *b64)
{
	char sz[16], ref[WS_NAME_MAX + 24];

	snprintf(ref, sizeof(ref), "%s@%lld", e->name, (long long)e->version);
	printf("%-32s %10s  %-12s", esc(ref), human_size(e->bytes, sz),
	       e->license[0] ? esc(e->license) : "-");
	if (b64)
		printf("  %s", b64);
	if (e->description[0])
		printf("  %s", esc(e->description));
	putchar('\n');
}

static int want_network(const struct ws_net_opts *net)
{
	return net->nbootstrap > 0 && !net->no_dht;
}

int cmd_catalog(struct cli *c, int argc, char **argv)
{
	struct catalog_args a = { .timeout_ms = 15000 };
	struct ws_catalog cat = { 0 };
	struct ws_pubkey pk;
	ws_lt_session *s = NULL;
	char *msg = NULL, b64[WS_PUBKEY_B64_LEN + 1];
	int64_t v = 0;
	int ret;

	if (parse_args("catalog", catalog_options, argc, argv, &a))
		return EXIT_ERROR;
	if (parse_pubkey_arg(argv[a.ind], &pk))
		return EXIT_ERROR;
	ws_pubkey_to_b64(&pk, b64);
	if (want_network(&a.net)) {
		if ((ret = ws_net_session(&a.net, &s, &msg)))
			return fail(ret, &msg, "cannot join the swarm");
		ret = refresh(c, s, &pk, a.timeout_ms, &msg);
		ws_lt_session_free(s);
		if (ret == WS_ENOTFOUND) {
			/* what the store holds, if anything, still answers */
			warn("%s", msg ? msg : ws_strerror(ret));
			free(msg);
			msg = NULL;
		} else if (ret) {
			return fail(ret, &msg, "cannot fetch the catalog");
		}
	}
	ret = ws_catalog_read(c->store, pk.pk, &cat, &v, &msg);
	if (ret == WS_ENOTFOUND) {
		err("no catalog of %s in this store%s", b64, want_network(&a.net) ? "" :
		    "; give --bootstrap HOST:PORT to look in the DHT");
		return EXIT_ERROR;
	}
	if (ret)
		return fail(ret, &msg, "cannot read the catalog");
	if (a.json) {
		json_t *arr = json_array();
		for (size_t i = 0; i < cat.n; i++)
			json_array_append_new(arr, entry_json(&cat.e[i], NULL));
		json_t *o = json_pack("{s:s, s:I, s:o}", "publisher", b64,
				      "catalog_version", (json_int_t)v, "releases", arr);
		json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
		json_decref(o);
	} else {
		printf("catalog of %s, version %lld: %zu releases\n", b64, (long long)v, cat.n);
		for (size_t i = 0; i < cat.n; i++)
			entry_line(&cat.e[i], NULL);
	}
	ws_catalog_release(&cat);
	return 0;
}

int cmd_search(struct cli *c, int argc, char **argv)
{
	struct catalog_args a = { .timeout_ms = 5000 };
	struct ws_pubkey *keys = NULL;
	ws_lt_session *s = NULL;
	json_t *arr = NULL;
	const char *text;
	char *msg = NULL;
	size_t nk = 0, found = 0;
	int ret, status = 0;

	if (parse_args("search", search_options, argc, argv, &a))
		return EXIT_ERROR;
	text = argv[a.ind];
	if ((ret = ws_catalog_keys(c->store, &keys, &nk))) {
		err("cannot read the index: %s", ws_strerror(ret));
		return EXIT_ERROR;
	}
	if (want_network(&a.net) && (ret = ws_net_session(&a.net, &s, &msg))) {
		free(keys);
		return fail(ret, &msg, "cannot join the swarm");
	}
	arr = a.json ? json_array() : NULL;
	for (size_t i = 0; i < nk; i++) {
		struct ws_catalog cat = { 0 };
		char b64[WS_PUBKEY_B64_LEN + 1];
		ws_pubkey_to_b64(&keys[i], b64);
		if (s && (ret = refresh(c, s, &keys[i], a.timeout_ms, &msg)) &&
		    ret != WS_ENOTFOUND) {
			/* an old or forged catalog is refused; the one the store
			 * holds (if any) still counts */
			warn("the catalog of %s was refused: %s", b64, msg ? msg : ws_strerror(ret));
			if (ws_error_is_verification(ret))
				status = EXIT_VERIFY;
		}
		free(msg);
		msg = NULL;
		if ((ret = ws_catalog_read(c->store, keys[i].pk, &cat, NULL, &msg))) {
			if (ret != WS_ENOTFOUND)
				warn("the catalog of %s cannot be read: %s", b64,
				     msg ? msg : ws_strerror(ret));
			free(msg);
			msg = NULL;
			continue;
		}
		for (size_t j = 0; j < cat.n; j++) {
			if (!ws_catalog_match(&cat.e[j], text))
				continue;
			found++;
			if (a.json)
				json_array_append_new(arr, entry_json(&cat.e[j], b64));
			else
				entry_line(&cat.e[j], b64);
		}
		ws_catalog_release(&cat);
	}
	ws_lt_session_free(s);
	free(keys);
	if (a.json) {
		json_dumpf(arr, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(arr);
	} else if (!found) {
		fprintf(stderr, "weightsync: no release in the catalogs of %zu publishers "
			"matches '%s'\n", nk, esc(text));
	}
	return status;
}

int publish_catalog(struct cli *c, const struct ws_seckey *sk, const char *name,
		    const char *description, const struct ws_net_opts *net)
{
	char *msg = NULL;
	int64_t v = 0;
	int ret, nodes = 0, printable = 1;

	if (description) {
		char *e = ws_escape(description);
		printable = !strcmp(e, description);
		free(e);
	}
	if (description && (strlen(description) > WS_CATALOG_TEXT_MAX ||
			    strpbrk(description, "\r\n") || !printable)) {
		err("a description is one printable line of at most %d bytes: the "
		    "release is published, the catalog is not", WS_CATALOG_TEXT_MAX);
		return EXIT_ERROR;
	}
	if ((ret = ws_catalog_update(c->store, sk, name, description, &v, &msg)))
		return fail(ret, &msg, "the release is published, but the catalog is not");
	fprintf(stderr, "weightsync: catalog version %lld lists '%s'\n", (long long)v, name);
	if (net && !net->no_dht &&
	    (ret = ws_names_announce(c->store, net, WS_CATALOG_NAME, 15000, &nodes, &msg))) {
		warn("the catalog's pointer was not put into the DHT (%s); a node on "
		     "this home ('weightsync seed') will put it", msg ? msg : ws_strerror(ret));
		free(msg);
	}
	return 0;
}
