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

#include <stdint.h>

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

struct cmd {
	const char *name;
	int (*fn)(struct cli *c, int argc, char **argv);
	unsigned flags;
	const char *usage;      /* arguments, after "weightsync NAME " */
	const char *summary;    /* one line for --help */
};

/* The command table (main.c) and each command (cli/cmd_NAME.c). */
extern const struct cmd commands[];
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
int cmd_unfollow(struct cli *c, int argc, char **argv);

/* ---- network options shared by seed and fetch (netopts.c) ---- */

enum net_opt_ids {
	OPT_LISTEN = 1000, OPT_BOOTSTRAP, OPT_PEER, OPT_NO_DHT, OPT_UPNP,
	OPT_NATPMP, OPT_LSD, OPT_UPLOAD_LIMIT, OPT_DOWNLOAD_LIMIT,
};
#define NET_LONG_OPTIONS \
	{ "listen", required_argument, NULL, OPT_LISTEN }, \
	{ "bootstrap", required_argument, NULL, OPT_BOOTSTRAP }, \
	{ "peer", required_argument, NULL, OPT_PEER }, \
	{ "no-dht", no_argument, NULL, OPT_NO_DHT }, \
	{ "upnp", no_argument, NULL, OPT_UPNP }, \
	{ "natpmp", no_argument, NULL, OPT_NATPMP }, \
	{ "lsd", no_argument, NULL, OPT_LSD }, \
	{ "upload-limit", required_argument, NULL, OPT_UPLOAD_LIMIT }, \
	{ "download-limit", required_argument, NULL, OPT_DOWNLOAD_LIMIT }
#define NET_USAGE "[--listen ADDR:PORT] [--bootstrap ADDR:PORT]... [--peer ADDR:PORT]... " \
	"[--no-dht] [--upnp] [--natpmp] [--lsd] [--upload-limit B/s] [--download-limit B/s]"

/* net_option - apply one of the options above; 0 or EXIT_ERROR (printed). */
int net_option(const char *cmd, int opt, const char *arg, struct ws_net_opts *n);

/* ---- output (output.c) ---- */

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

/* warn_if_equivocated - warn when the publisher of name equivocated. */
void warn_if_equivocated(struct cli *c, const uint8_t pk[32], const char *name);

/* parse_pubkey_arg - a base64 public key or a .pub file's path. */
int parse_pubkey_arg(const char *arg, struct ws_pubkey *out);

#endif
