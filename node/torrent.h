/*
 * torrent.h - a release's hybrid v1+v2 torrent.
 *
 * Part of node/.  The torrent holds the model files and the release's
 * .weightsync/manifest.json and its signature, under a top folder named
 * like the release folder (NAME@VERSION), so a release folder's parent is
 * the torrent's save path.  It is built from the hashes publishing already
 * computed (ws_publish keeps them): no model byte is read twice.
 */
#ifndef WS_NODE_TORRENT_H
#define WS_NODE_TORRENT_H

#include <stddef.h>
#include <stdint.h>

#include "store/publish.h"

struct ws_release_torrent {
	uint8_t *torrent;           /* bencoded (malloc'd) */
	size_t len;
	uint8_t v2[32], v1[20];     /* info-hashes */
	char *link;                 /* release link (proto/link.h), malloc'd */
};

/*
 * ws_torrent_from_publish - build the torrent of a release p being
 * published (p->for_swarm set; staged, or committed), with web_seeds
 * (BEP 19 URLs, may be NULL), and return it.  ws_publish_commit keeps it
 * in the index.  Free with ws_release_torrent_release.
 */
int ws_torrent_from_publish(struct ws_store *st, const struct ws_publish *p,
			    const char *const *web_seeds, size_t n_web_seeds,
			    struct ws_release_torrent *out, char **msg);

/*
 * ws_torrent_link - the release link of an indexed release r (its torrent
 * must be kept).  *link malloc'd.  WS_ENOTFOUND when no torrent is kept.
 */
int ws_torrent_link(struct ws_store *st, const struct ws_release *r,
		    const struct ws_manifest *m, char **link);

void ws_release_torrent_release(struct ws_release_torrent *t);

#endif
