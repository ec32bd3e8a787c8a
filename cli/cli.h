/*
 * cli.h - what the weightsync command's files share.
 *
 * Only cli/ decides the process's exit status: commands return it.
 *   0  success
 *   1  verification failed (bad signature, hash mismatch, rollback,
 *      equivocation, untrusted publisher, files that do not match)
 *   2  usage, I/O or network error
 */
#ifndef WS_CLI_H
#define WS_CLI_H

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>

#include "node/session.h"
#include "store/store.h"

#define EXIT_VERIFY 1
#define EXIT_ERROR 2

enum cmd_flags {
	NEEDS_STORE = 1 << 0,   /* open the home's store before running */
};

struct cli {
	const char *home;       /* --home, or NULL */
	struct ws_store *store; /* open when the command has NEEDS_STORE */
};

/*
 * One row of a command's option table: what getopt_long parses and what
 * `weightsync COMMAND --help` prints, from the same place.  A table ends
 * with a row whose name is NULL.
 */
struct cli_option {
	const char *name;       /* long name without "--" */
	char short_name;        /* '\0', or the letter of -X */
	int id;                 /* what opts_next returns: not 0, '?' or ':' */
	int has_arg;            /* no_argument, required_argument, optional_argument */
	const char *arg;        /* the value's name in help ("S", "DIR"), or NULL */
	const char *help;       /* one line */
};

struct cmd {
	const char *name;
	int (*fn)(struct cli *c, int argc, char **argv);
	unsigned flags;
	const char *usage;      /* operands, after "weightsync NAME " */
	const char *summary;    /* one line for --help */
	const struct cli_option *options; /* the command's flags, or NULL */
};

/* The command table (main.c) and each command (cli/cmd_NAME.c), with its
 * option table (json_options: --json alone). */
extern const struct cmd commands[];
extern const struct cli_option keygen_options[], publish_options[], audit_options[],
	json_options[], show_options[], fetch_options[], seed_options[],
	resolve_options[], follow_options[], export_options[], import_options[],
	transfers_options[], mirror_options[], curate_options[], search_options[],
	catalog_options[];
int cmd_keygen(struct cli *c, int argc, char **argv);
int cmd_publish(struct cli *c, int argc, char **argv);
int cmd_audit(struct cli *c, int argc, char **argv);
int cmd_trust(struct cli *c, int argc, char **argv);
int cmd_list(struct cli *c, int argc, char **argv);
int cmd_log(struct cli *c, int argc, char **argv);
int cmd_show(struct cli *c, int argc, char **argv);
int cmd_fetch(struct cli *c, int argc, char **argv);
int cmd_seed(struct cli *c, int argc, char **argv);
int cmd_status(struct cli *c, int argc, char **argv);
int cmd_follow(struct cli *c, int argc, char **argv);
int cmd_resolve(struct cli *c, int argc, char **argv);
int cmd_export(struct cli *c, int argc, char **argv);
int cmd_import(struct cli *c, int argc, char **argv);
/* hf_export - lay release r out as a Hugging Face cache under hub
 * (cmd_bundle.c; fetch --hf-cache uses it too). */
int hf_export(struct cli *c, const struct ws_release *r, const char *hub, char **msg);
/*
 * publish_key - load the publisher key (keypath, or the home's default)
 * into *sk and check that name is not trusted with another key here.
 * Returns 0, or EXIT_ERROR with the reason printed.
 */
struct ws_seckey;
int publish_key(struct cli *c, const char *keypath, const char *name, struct ws_seckey **sk);
/*
 * publish_finish - after ws_publish_run succeeded on p (p->sk set): build
 * its torrent (with nseeds web seeds), sign its name pointers, commit it
 * and print the result as publish does (t0: when the work began, from
 * now_seconds).  Releases p in every case; returns the exit status.
 */
struct ws_publish;
int publish_finish(struct cli *c, struct ws_publish *p, const char *const *seeds,
		   size_t nseeds, int json, double t0);
int cmd_mirror(struct cli *c, int argc, char **argv);
int cmd_unfollow(struct cli *c, int argc, char **argv);
int cmd_transfers(struct cli *c, int argc, char **argv);
int cmd_pause(struct cli *c, int argc, char **argv);
int cmd_resume(struct cli *c, int argc, char **argv);
int cmd_cancel(struct cli *c, int argc, char **argv);
/* curators and catalogs (cmd_curate.c, cmd_search.c; docs/trust.md) */
int cmd_curate(struct cli *c, int argc, char **argv);
int cmd_search(struct cli *c, int argc, char **argv);
int cmd_catalog(struct cli *c, int argc, char **argv);
/* publish_catalog - after publish: the next version of sk's catalog with
 * name (and its description, when not NULL); puts its pointer into the
 * DHT when net is not NULL.  Returns an exit status, the error printed. */
struct ws_net_opts;
int publish_catalog(struct cli *c, const struct ws_seckey *sk, const char *name,
		    const char *description, const struct ws_net_opts *net);
/* trust subscribe / unsubscribe CURATOR_KEY [network options] */
int trust_subscribe(struct cli *c, int argc, char **argv);
int trust_unsubscribe(struct cli *c, int argc, char **argv);

/* ---- option parsing (options.c) ---- */

#define OPTS_MAX 48

/* A getopt_long loop over one command's table. */
struct opts {
	const char *cmd;        /* for messages; NULL for the global options */
	const struct cli_option *table;
	int argc;
	char **argv;
	struct option longopts[OPTS_MAX + 1];
	char shortopts[2 * OPTS_MAX + 3];
	const char *arg;        /* the current option's value, or NULL */
	char flagbuf[64];       /* the current option, "--timeout" or "-o" */
	int ind;                /* after the loop: the index of the first operand */
};

/*
 * opts_init - parse argv[1..argc) (argv[0] is the command's name) against
 * table.  With in_order, parsing stops at the first operand (the global
 * options before the command); otherwise flags and operands may mix and
 * operands are moved to the end, as getopt_long does.  "--" ends flags.
 */
void opts_init(struct opts *o, const char *cmd, const struct cli_option *table,
	       int argc, char **argv, int in_order);

/*
 * opts_next - the next flag's id, with its value in o->arg; 0 once the
 * flags end (operands are argv[o->ind..argc)); -1 after printing why the
 * command line is wrong (an unknown flag, a missing value, a value given
 * to a flag that takes none): the caller exits with EXIT_ERROR.
 */
int opts_next(struct opts *o);

/* opts_help - heading, then a line per row of table: "  -o, --output DIR  help". */
void opts_help(FILE *f, const char *heading, const struct cli_option *table);

/*
 * opt_uint - arg as an unsigned decimal number from min to max: no sign,
 * no space, no trailing characters, no overflow.  On error prints
 * "invalid value 'ARG' for FLAG: REASON" and returns EXIT_ERROR; *out is
 * written only on success.
 */
int opt_uint(const struct opts *o, uint64_t min, uint64_t max, uint64_t *out);

/*
 * opt_size - as opt_uint, with an optional suffix k, M or G (powers of
 * 1000, either case) multiplying the number: "5M" is 5000000.
 */
int opt_size(const struct opts *o, uint64_t min, uint64_t max, uint64_t *out);

/*
 * opts_json - parse a command whose only flag is --json (json_options):
 * sets *json; returns the index of the first operand, or -1 after
 * printing a usage error.
 */
int opts_json(const char *cmd, int argc, char **argv, int *json);

/* The most seconds a timeout or interval flag takes: one week. */
#define SECONDS_MAX 604800

/* ---- network options shared by seed, fetch, resolve and publish (netopts.c) ---- */

enum net_opt_ids {
	OPT_LISTEN = 1000, OPT_BOOTSTRAP, OPT_PEER, OPT_NO_DHT, OPT_UPNP,
	OPT_NATPMP, OPT_LSD, OPT_UPLOAD_LIMIT, OPT_DOWNLOAD_LIMIT,
};
#define NET_OPTIONS \
	{ "listen", 0, OPT_LISTEN, required_argument, "ADDR:PORT", \
	  "listen on this address (IPv4 or [IPv6]; port 0 picks one)" }, \
	{ "bootstrap", 0, OPT_BOOTSTRAP, required_argument, "HOST:PORT", \
	  "a DHT node to start from (repeatable)" }, \
	{ "peer", 0, OPT_PEER, required_argument, "ADDR:PORT", \
	  "a peer to connect to, IPv4 or [IPv6] (repeatable)" }, \
	{ "no-dht", 0, OPT_NO_DHT, no_argument, NULL, "do not join the DHT" }, \
	{ "upnp", 0, OPT_UPNP, no_argument, NULL, "map the port with UPnP" }, \
	{ "natpmp", 0, OPT_NATPMP, no_argument, NULL, "map the port with NAT-PMP" }, \
	{ "lsd", 0, OPT_LSD, no_argument, NULL, "local service discovery" }, \
	{ "upload-limit", 0, OPT_UPLOAD_LIMIT, required_argument, "BYTES/S", \
	  "upload rate limit; suffixes k, M, G (0: none)" }, \
	{ "download-limit", 0, OPT_DOWNLOAD_LIMIT, required_argument, "BYTES/S", \
	  "download rate limit; suffixes k, M, G (0: none)" }

/* net_option - apply one of the options above; 0 or EXIT_ERROR (printed). */
int net_option(const struct opts *o, int id, struct ws_net_opts *n);

/*
 * hostport_check - NULL when s is ADDR:PORT (an IPv4 address or a
 * bracketed IPv6 address; with allow_name also a host name) and its port
 * is from min_port to 65535; else why not, for a message.
 */
const char *hostport_check(const char *s, int allow_name, int min_port);

/* ---- the node on this home, over its control socket (control_client.c) ---- */

#include <jansson.h>
#include <signal.h>

/*
 * node_open - connect to the node running on c's home: 0 with *fd; 1 when
 * none runs there (the command works in-process); EXIT_ERROR (printed)
 * when the socket is there but cannot be used.
 */
int node_open(struct cli *c, int *fd);

/*
 * node_call - send req (consumed) on fd and read until the reply (a line
 * with "ok"; *reply, a new reference); lines before it (progress) go to
 * on_event (may be NULL).  Waits timeout_ms for each line, or, with stop,
 * until *stop is set (then WS_EINTERRUPTED: closing fd tells the node).
 * 0, or a transport error (-EPIPE: the node closed the connection).
 */
int node_call(int fd, json_t *req, int timeout_ms, volatile sig_atomic_t *stop,
	      void (*on_event)(void *ctx, json_t *ev), void *ctx, json_t **reply);

/*
 * node_request - one request (req consumed, "cmd" added) to the node of c's
 * home, 30 s at most.  The reply (new reference), or NULL after printing
 * why (no node runs, it did not answer).
 */
json_t *node_request(struct cli *c, const char *cmd, json_t *req);

/* node_fail - print a failed reply's error as fail() does; its exit status. */
int node_fail(const json_t *reply, const char *what);

/* fetch_via_node - cmd_fetch's work done by the node (fetch_node.c). */
struct ws_fetch_opts;
struct ws_fetch_result;
struct fetch_target {
	const char *link;           /* a release link, or */
	const uint8_t *torrent;     /* a .torrent's bytes, or */
	size_t torrent_len;
	const char *name;           /* NAME (version, named: the key it means) */
	int64_t version;
	const struct ws_pubkey *named;
	int resolve_ms;
	int detach;
	int json;
};
int fetch_via_node(struct cli *c, int fd, const struct fetch_target *t,
		   const struct ws_fetch_opts *fo, struct ws_fetch_result *res,
		   char **msg, int *detached_id);

/* ---- output (output.c) ---- */

/*
 * esc - s made printable for a terminal (ws_escape): names, paths and
 * text from outside go through it before they are printed.  The string is
 * the CLI's and stays valid for the next ESC_RING - 1 calls.
 */
#define ESC_RING 16
const char *esc(const char *s);

/*
 * print_path - a path alone on a line of stdout, the line scripts read: as
 * it is into a pipe or file, through esc() on a terminal.
 */
void print_path(const char *path);

/* err, warn and usage_error pass the whole message through ws_escape. */

/* err - "weightsync: MESSAGE" on stderr. */
void err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* warn - "weightsync: warning: MESSAGE" on stderr. */
void warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * fail - report a library error: prints *msg if set (else the code's
 * description after `what`), frees *msg, and returns the exit status the
 * code calls for (EXIT_VERIFY or EXIT_ERROR).
 */
int fail(int code, char **msg, const char *what);

/* usage_error - "weightsync: MESSAGE" and a pointer to --help; EXIT_ERROR. */
int usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* human_size - "1.5 GiB" into buf (at least 16 bytes). */
const char *human_size(uint64_t n, char *buf);

/* ---- progress on stderr (progress.c) ---- */

struct progress {
	const char *label;
	int enabled;            /* stderr is a terminal */
	double start;
	int drawn;
};
void progress_init(struct progress *p, const char *label);
/* a ws_hash_progress_fn */
void progress_update(void *ctx, uint64_t done, uint64_t total);
void progress_done(struct progress *p);
double now_seconds(void);

/* ---- shared command helpers (common.c) ---- */

/*
 * read_password - a password from $WEIGHTSYNC_PASSWORD, else from a prompt
 * on the terminal (twice when confirm is set).  Returns a malloc'd string
 * or NULL with an error printed.  The caller wipes and frees it.
 */
char *read_password(const char *prompt, int confirm);

/* load_seckey - load a secret key, asking for its password if needed. */
int load_seckey(const char *path, struct ws_seckey **out);

/*
 * parse_ref - split "NAME" or "NAME@VERSION"; *version is 0 without '@'.
 * Returns 0 or WS_ENAME / WS_EFORMAT (message printed).
 */
int parse_ref(const char *ref, char name[WS_NAME_MAX + 1], int64_t *version);

/*
 * resolve_publisher - which key NAME means: the one key the trust store
 * holds for it, else the one publisher the index knows it from.  Prints how
 * to fix an unknown or ambiguous name.  Returns 0 or the error.
 */
int resolve_publisher(struct cli *c, const char *name, struct ws_pubkey *out);

/*
 * resolve_trusted - the one key the trust store holds for name (fetch by
 * name: only an explicit trust decision counts).  Prints how to fix an
 * unknown or ambiguous name; returns 0 or the error.
 */
int resolve_trusted(struct cli *c, const char *name, struct ws_pubkey *out);

/*
 * warn_if_equivocated - warn when the publisher of name equivocated.
 * Returns 0, or EXIT_ERROR after index_fail when the index cannot say:
 * the caller fails closed.
 */
int warn_if_equivocated(struct cli *c, const uint8_t pk[32], const char *name);

/*
 * index_fail - print why an index call failed with ret, naming the index's
 * file (for WS_ECORRUPT with what to do, as at open: docs/index.md), and
 * return EXIT_ERROR.  Every command fails closed this way: an index that
 * cannot be read is never taken for one that holds nothing.
 */
int index_fail(struct cli *c, int ret);

/*
 * resolve_name - which key a bare NAME means for fetch and resolve: the
 * one key the trust store holds for it (a local decision always wins),
 * else what the subscribed curators' lists say, refreshed first through
 * the DHT and the swarm when net allows (cmd_curate.c).  Returns an exit
 * status: 0 with *out set; EXIT_VERIFY when curators disagree (every one
 * is named, nothing is picked); EXIT_ERROR for an unknown name.  Prints
 * what went wrong and how to fix it.
 */
struct ws_net_opts;
int resolve_name(struct cli *c, const char *name, const struct ws_net_opts *net,
		 struct ws_pubkey *out);

/* parse_pubkey_arg - a base64 public key or a .pub file's path. */
int parse_pubkey_arg(const char *arg, struct ws_pubkey *out);

#endif
