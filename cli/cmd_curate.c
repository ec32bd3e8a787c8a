/* cmd_curate.c - weightsync curate (a curator's signed name list), trust
 * subscribe / unsubscribe, and bare names resolved through curators
 * (docs/trust.md) */
#include "cli.h"
#include "node/curator.h"
#include "node/docrel.h"
#include "node/names.h"
#include "proto/catalog.h"
#include "proto/error.h"
#include "proto/util.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* a curator list refresh waits this long for the DHT and the swarm */
#define REFRESH_RESOLVE_MS 5000
#define REFRESH_STALL_S 30

const struct cli_option curate_options[] = {
	{ "key", 'k', 'k', required_argument, "PATH",
	  "the curator's secret key (default HOME/keys/publisher.key)" },
	{ "json", 0, 'j', no_argument, NULL, "print the list as JSON ('curate list')" },
	NET_OPTIONS,
	{ NULL, 0, 0, 0, NULL, NULL },
};

const struct cli_option subscribe_options[] = {
	{ "timeout", 0, 'T', required_argument, "S",
	  "give up fetching the list after S seconds without progress (default 30)" },
	NET_OPTIONS,
	{ NULL, 0, 0, 0, NULL, NULL },
};

static void key_b64(const struct ws_pubkey *pk, char out[WS_PUBKEY_B64_LEN + 1])
{
	ws_pubkey_to_b64(pk, out);
}

/* print a list, one "NAME  KEY" line each, or as JSON */
static void print_list(const struct ws_curator_list *l, int64_t version, int json)
{
	char b64[WS_PUBKEY_B64_LEN + 1];

	if (json) {
		json_t *names = json_object();
		for (size_t i = 0; i < l->n; i++) {
			key_b64(&l->e[i].pk, b64);
			json_object_set_new(names, l->e[i].name, json_string(b64));
		}
		json_t *o = json_pack("{s:I, s:o}", "version", (json_int_t)version,
				      "names", names);
		json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
		json_decref(o);
		return;
	}
	for (size_t i = 0; i < l->n; i++) {
		key_b64(&l->e[i].pk, b64);
		printf("%-24s %s\n", esc(l->e[i].name), b64);
	}
}

static int curate_list(struct cli *c, int argc, char **argv, const char *keypath,
		       int json)
{
	struct ws_curator_list l = { 0 };
	struct ws_pubkey pk;
	char *msg = NULL, *path = NULL;
	int64_t v = 0;
	int ret;

	if (argc > 2)
		return usage_error("curate", "usage: weightsync curate list [CURATOR_KEY]");
	if (argc == 2) {
		if (parse_pubkey_arg(argv[1], &pk))
			return EXIT_ERROR;
	} else {
		/* one's own list: the public key next to the secret one */
		path = keypath ? xasprintf("%s.pub", keypath) : NULL;
		if (!path) {
			char *k = ws_store_default_key(c->store);
			path = xasprintf("%s.pub", k);
			free(k);
		}
		ret = parse_pubkey_arg(path, &pk);
		free(path);
		if (ret)
			return EXIT_ERROR;
	}
	ret = ws_curator_read(c->store, pk.pk, 0, &l, &v, &msg);
	if (ret == WS_ENOTFOUND) {
		err("no list of that curator in this store");
		return EXIT_ERROR;
	}
	if (ret)
		return fail(ret, &msg, "cannot read the curator list");
	if (!json)
		printf("curator list version %lld, %zu names\n", (long long)v, l.n);
	print_list(&l, v, json);
	ws_curator_list_release(&l);
	return 0;
}

/* curate add NAME KEY / curate remove NAME: the next version of one's list */
static int curate_change(struct cli *c, int argc, char **argv, const char *keypath,
			 const struct ws_net_opts *net, int announce)
{
	int add = !strcmp(argv[0], "add");
	struct ws_curator_list l = { 0 };
	struct ws_seckey *sk = NULL;
	struct ws_pubkey me, pk;
	char *kp = NULL, *msg = NULL, *text = NULL, b64[WS_PUBKEY_B64_LEN + 1];
	size_t len = 0;
	int64_t v = 0;
	int ret, status = EXIT_ERROR, changed;

	if (argc != (add ? 3 : 2))
		return usage_error("curate", add ? "usage: weightsync curate add NAME PUBKEY|PUBFILE"
				   : "usage: weightsync curate remove NAME");
	if (ws_name_check(argv[1])) {
		err("invalid release name '%s'", argv[1]);
		return EXIT_ERROR;
	}
	if (!strcmp(argv[1], WS_CURATOR_NAME) || !strcmp(argv[1], WS_CATALOG_NAME)) {
		err("'%s' is a reserved name: it is never resolved through a curator", argv[1]);
		return EXIT_ERROR;
	}
	if (add && parse_pubkey_arg(argv[2], &pk))
		return EXIT_ERROR;
	kp = keypath ? xstrdup(keypath) : ws_store_default_key(c->store);
	if (load_seckey(kp, &sk))
		goto out;
	ws_seckey_public(sk, &me);
	/* the list so far: the newest version this store holds of one's own
	 * (a curator publishes from one home, as a publisher does) */
	ret = ws_curator_read(c->store, me.pk, 0, &l, &v, &msg);
	if (ret && ret != WS_ENOTFOUND) {
		status = fail(ret, &msg, "cannot read the curator list");
		goto out;
	}
	changed = add ? ws_curator_set(&l, argv[1], &pk) : ws_curator_drop(&l, argv[1]);
	if (changed < 0) {
		status = fail(changed, &msg, "cannot change the curator list");
		goto out;
	}
	if (!changed && !add) {
		err("'%s' is not in the curator list", argv[1]);
		goto out;
	}
	if (!changed) {
		key_b64(&pk, b64);
		printf("the curator list (version %lld) already maps '%s' to %s\n",
		       (long long)v, argv[1], b64);
		status = 0;
		goto out;
	}
	ws_curator_serialize(&l, &text, &len);
	if ((ret = ws_docrel_publish(c->store, sk, WS_CURATOR_NAME, WS_CURATOR_FILE,
				     text, len, &v, &msg))) {
		status = fail(ret, &msg, "cannot publish the curator list");
		goto out;
	}
	if (add) {
		key_b64(&pk, b64);
		printf("curator list version %lld: '%s' means %s\n", (long long)v, argv[1], b64);
	} else {
		printf("curator list version %lld: '%s' dropped\n", (long long)v, argv[1]);
	}
	status = 0;
	if (announce && !net->no_dht) {
		int nodes = 0;
		if ((ret = ws_names_announce(c->store, net, WS_CURATOR_NAME, 15000, &nodes, &msg))) {
			warn("the list's pointer was not put into the DHT (%s); a node on this "
			     "home ('weightsync seed') will put it", msg ? msg : ws_strerror(ret));
			free(msg);
			msg = NULL;
		}
	}
out:
	free(text);
	free(kp);
	ws_curator_list_release(&l);
	ws_seckey_free(sk);
	return status;
}

int cmd_curate(struct cli *c, int argc, char **argv)
{
	struct opts op;
	struct ws_net_opts net;
	const char *keypath = NULL;
	int o, json = 0, announce = 0;

	memset(&net, 0, sizeof(net));
	opts_init(&op, "curate", curate_options, argc, argv, 0);
	while ((o = opts_next(&op)) > 0) {
		if (o == 'k') {
			keypath = op.arg;
		} else if (o == 'j') {
			json = 1;
		} else {
			if (net_option(&op, o, &net))
				return EXIT_ERROR;
			announce = announce || o == OPT_BOOTSTRAP;
		}
	}
	if (o < 0)
		return EXIT_ERROR;
	argc -= op.ind;
	argv += op.ind;
	if (argc < 1)
		return usage_error("curate", "expected add, remove or list");
	if (!strcmp(argv[0], "list"))
		return curate_list(c, argc, argv, keypath, json);
	if (json)
		return usage_error("curate", "--json is for 'curate list'");
	if (!strcmp(argv[0], "add") || !strcmp(argv[0], "remove"))
		return curate_change(c, argc, argv, keypath, &net, announce);
	return usage_error("curate", "unknown subcommand '%s'", argv[0]);
}

/*
 * Fetch the newest list of each curator in keys through the DHT and the
 * swarm, then note what changed.  A list that cannot be fetched leaves the
 * one the store holds in use; one refused (an old list replayed, a fork)
 * is said so.  Returns the worst exit status seen.
 */
static int refresh_curators(struct cli *c, const struct ws_net_opts *net,
			    const struct ws_pubkey *keys, size_t n, int stall_s)
{
	ws_lt_session *s = NULL;
	char *msg = NULL, b64[WS_PUBKEY_B64_LEN + 1];
	int ret, status = 0;

	if (n == 0)
		return 0;
	if ((ret = ws_net_session(net, &s, &msg))) {
		warn("cannot refresh the curator lists: %s", msg ? msg : ws_strerror(ret));
		free(msg);
		return EXIT_ERROR;
	}
	for (size_t i = 0; i < n; i++) {
		int64_t v = 0;
		key_b64(&keys[i], b64);
		ret = ws_docrel_refresh(c->store, s, &keys[i], WS_CURATOR_NAME,
					REFRESH_RESOLVE_MS, stall_s, &v, &msg);
		if (ret) {
			int st = ws_error_is_verification(ret) ? EXIT_VERIFY : EXIT_ERROR;
			warn("the list of curator %s was not refreshed: %s%s", b64,
			     msg ? msg : ws_strerror(ret),
			     st == EXIT_VERIFY ? " (refused)" : "");
			free(msg);
			msg = NULL;
			if (st > status || st == EXIT_VERIFY)
				status = st;
		}
		ws_curator_note(c->store, &keys[i]);
	}
	ws_lt_session_free(s);
	return status;
}

static int trust_subscription(struct cli *c, int argc, char **argv, int on)
{
	const char *cmd = on ? "subscribe" : "unsubscribe";
	struct ws_net_opts net;
	struct ws_pubkey pk;
	struct opts op;
	uint64_t secs;
	char b64[WS_PUBKEY_B64_LEN + 1];
	int o, ret, stall = REFRESH_STALL_S;

	memset(&net, 0, sizeof(net));
	/* argv[0] is "subscribe": the options table's command */
	opts_init(&op, "trust", subscribe_options, argc, argv, 0);
	while ((o = opts_next(&op)) > 0) {
		if (o == 'T') {
			if (opt_uint(&op, 1, SECONDS_MAX, &secs))
				return EXIT_ERROR;
			stall = (int)secs;
		} else if (net_option(&op, o, &net)) {
			return EXIT_ERROR;
		}
	}
	if (o < 0)
		return EXIT_ERROR;
	if (op.ind + 1 != argc)
		return usage_error("trust", "usage: weightsync trust %s CURATOR_PUBKEY|PUBFILE", cmd);
	if (parse_pubkey_arg(argv[op.ind], &pk))
		return EXIT_ERROR;
	key_b64(&pk, b64);
	if (!on) {
		ret = ws_index_trust_remove(c->store->index, WS_CURATOR_NAME, pk.pk);
		if (ret == WS_ENOTFOUND) {
			err("not subscribed to curator %s", b64);
			return EXIT_ERROR;
		}
		if (ret) {
			err("cannot update the trust store: %s", ws_strerror(ret));
			return EXIT_ERROR;
		}
		printf("unsubscribed from curator %s (recorded; its names no longer "
		       "resolve here)\n", b64);
		return 0;
	}
	ret = ws_index_trust_add(c->store->index, WS_CURATOR_NAME, &pk);
	if (ret && ret != WS_EEXIST) {
		err("cannot update the trust store: %s", ws_strerror(ret));
		return EXIT_ERROR;
	}
	printf("%s curator %s\n", ret ? "already subscribed to" : "subscribed to", b64);
	if (net.nbootstrap && !net.no_dht) {
		struct ws_curator_list l = { 0 };
		int64_t v = 0;
		int status = refresh_curators(c, &net, &pk, 1, stall);
		if (ws_curator_read(c->store, pk.pk, 0, &l, &v, NULL) == 0) {
			printf("curator list version %lld: %zu names\n", (long long)v, l.n);
			ws_curator_list_release(&l);
		}
		return status;
	}
	return 0;
}

int trust_subscribe(struct cli *c, int argc, char **argv)
{
	return trust_subscription(c, argc, argv, 1);
}

int trust_unsubscribe(struct cli *c, int argc, char **argv)
{
	return trust_subscription(c, argc, argv, 0);
}

int resolve_name(struct cli *c, const char *name, const struct ws_net_opts *net,
		 struct ws_pubkey *out)
{
	struct ws_pubkey *subs = NULL, pk;
	struct ws_curator_hit *hits = NULL;
	size_t ns = 0, nh = 0, keys = 0;
	char b64[WS_PUBKEY_B64_LEN + 1], cb64[WS_PUBKEY_B64_LEN + 1];
	int ret = ws_index_trust_lookup(c->store->index, name, &pk), status = EXIT_ERROR;

	/* a local trust decision always wins over every curator */
	if (ret == 0) {
		*out = pk;
		return 0;
	}
	if (ret != WS_ENOTFOUND || (ret = ws_curators_subscribed(c->store, &subs, &ns)) ||
	    ns == 0) {
		free(subs);
		return resolve_trusted(c, name, out) ? EXIT_ERROR : 0;
	}
	if (net && !net->no_dht)
		refresh_curators(c, net, subs, ns, REFRESH_STALL_S);
	for (size_t i = 0; i < ns; i++)
		ws_curator_note(c->store, &subs[i]);
	if ((ret = ws_curator_lookup(c->store, name, &hits, &nh, NULL))) {
		err("cannot read the curator lists: %s", ws_strerror(ret));
		goto out;
	}
	for (size_t i = 0; i < nh; i++) {
		size_t j = 0;
		while (j < i && !ws_pubkey_equal(&hits[j].publisher, &hits[i].publisher))
			j++;
		keys += j == i;
	}
	if (nh == 0) {
		err("unknown name '%s': no publisher key is trusted for it and none of "
		    "the %zu curators subscribed to names it; add one with 'weightsync "
		    "trust add %s PUBKEY' or pass --publisher KEY", name, ns, name);
	} else if (keys > 1) {
		/* never pick one: say who says what, and how to decide */
		err("curators disagree on '%s'; decide with --publisher KEY or "
		    "'weightsync trust add %s KEY':", name, name);
		for (size_t i = 0; i < nh; i++) {
			key_b64(&hits[i].curator, cb64);
			key_b64(&hits[i].publisher, b64);
			fprintf(stderr, "  curator %s (list version %lld) says %s\n", cb64,
				(long long)hits[i].list_version, b64);
		}
		status = EXIT_VERIFY;
	} else {
		key_b64(&hits[0].curator, cb64);
		key_b64(&hits[0].publisher, b64);
		fprintf(stderr, "weightsync: '%s' is %s, as curator %s says (list version "
			"%lld)\n", esc(name), b64, cb64, (long long)hits[0].list_version);
		*out = hits[0].publisher;
		status = 0;
	}
out:
	free(hits);
	free(subs);
	return status;
}
