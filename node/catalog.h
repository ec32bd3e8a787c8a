/*
 * catalog.h - publishers' catalogs (proto/catalog.h): kept as signed
 * document releases (node/docrel.h) named WS_CATALOG_NAME, so a catalog is
 * found in the DHT under its publisher's key like any name, re-put by
 * every node that keeps it, and an old or forged one is refused like any
 * release.
 *
 * Part of node/.
 */
#ifndef WS_NODE_CATALOG_H
#define WS_NODE_CATALOG_H

#include <stddef.h>
#include <stdint.h>

#include "proto/catalog.h"
#include "store/store.h"

/*
 * ws_catalog_update - publish the next version of the catalog of sk's key
 * when it would change: one entry per name that key has released in this
 * store (not the catalog or a curator list), at its highest accepted
 * version, with license, origin and size from the signed manifest; the
 * description of name becomes description when that is not NULL, every
 * other description is kept from the previous catalog.  *version (may be
 * NULL) is the catalog's version now (unchanged when nothing changed).
 * WS_EFORMAT for a description that is too long or not one line.
 */
int ws_catalog_update(struct ws_store *st, const struct ws_seckey *sk,
		      const char *name, const char *description, int64_t *version,
		      char **msg);

/*
 * ws_catalog_read - the catalog of pk as the store holds it (the highest
 * complete version, checked against its signed manifest) into *out (the
 * caller releases it), its version into *version (may be NULL).
 * WS_ENOTFOUND when the store has none.
 */
int ws_catalog_read(struct ws_store *st, const uint8_t pk[32],
		    struct ws_catalog *out, int64_t *version, char **msg);

/*
 * ws_catalog_keys - every publisher key this node trusts (trust entries in
 * force, curators included) or has seen (releases in the index), and the
 * keys the subscribed curators' lists name; each once.  *out malloc'd.
 */
int ws_catalog_keys(struct ws_store *st, struct ws_pubkey **out, size_t *n);

#endif
