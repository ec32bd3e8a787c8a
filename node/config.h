/*
 * config.h - HOME/node.conf: the node's options in a file (docs/control.md
 * has the list).
 *
 * Part of node/.  One `key = value` per line; '#' starts a comment; blank
 * lines are ignored; a key that takes addresses (bootstrap, peer) may be
 * given on several lines and each line may hold several addresses
 * separated by spaces or commas.  Unknown keys and bad values are errors
 * naming the file and the line: a node does not start on a config it
 * does not understand.  Flags on `weightsync seed` override what the file
 * says (cli/cmd_seed.c).  The follow list is not here: it is in the index
 * (`weightsync follow`).
 */
#ifndef WS_NODE_CONFIG_H
#define WS_NODE_CONFIG_H

#include <stdint.h>

#include "seeder.h"

#define WS_NODE_CONFIG_FILE "node.conf"

struct ws_node_config {
	char *path;                 /* the file read; NULL when there is none */
	char *listen, *http;        /* NULL: not set */
	char *bootstrap[WS_MAX_ADDRS];
	size_t nbootstrap;
	char *peers[WS_MAX_ADDRS];
	size_t npeers;
	int dht, upnp, natpmp, lsd; /* -1: not set, else 0 / 1 */
	int64_t upload_limit, download_limit; /* bytes/s; -1: not set */
	int follow_interval, reput_interval, max_transfers; /* 0: not set */
};

/*
 * ws_node_config_load - read home/node.conf into *cf (everything "not set"
 * when the file does not exist: then cf->path is NULL and 0 is returned).
 * Errors: WS_EFORMAT with *msg ("'PATH' line N: why"), WS_ETOOBIG, or an
 * I/O error.  Release *cf with ws_node_config_release in every case.
 */
int ws_node_config_load(const char *home, struct ws_node_config *cf, char **msg);

/*
 * ws_node_config_apply - set o's options from cf where cf sets them.  The
 * strings stay cf's: cf must outlive o's use.
 */
void ws_node_config_apply(const struct ws_node_config *cf, struct ws_seed_opts *o);

void ws_node_config_release(struct ws_node_config *cf);

#endif
