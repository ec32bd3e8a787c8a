/*
 * catalog.h - a publisher's catalog: what it has published, for search.
 *
 * Part of proto/: pure formats, no disk, no network.  A publisher keeps the
 * catalog as an ordinary weightsync release named WS_CATALOG_NAME holding
 * one file, WS_CATALOG_FILE, signed with the publisher's own key: so only
 * that key can make it, a forged one fails its signature and an old one is
 * refused as a rollback, like any release (docs/trust.md).  The file is
 * JSON with one spelling (keys sorted, two-space indent, entries sorted by
 * name):
 *   { "releases": [ { "name": "N", "version": 3, "bytes": 123,
 *                     "license": "mit", "origin": "hf://org/n@abc",
 *                     "description": "one line", "manifest_sha256": "hex" } ] }
 * license, origin and description may be absent.  Text fields are at most
 * WS_CATALOG_TEXT_MAX bytes, the description one line.
 */
#ifndef WS_PROTO_CATALOG_H
#define WS_PROTO_CATALOG_H

#include <stddef.h>
#include <stdint.h>

#include "manifest.h"

#define WS_CATALOG_NAME "catalog"
#define WS_CATALOG_FILE "catalog.json"
#define WS_CATALOG_MAX (4u << 20)       /* bytes of catalog.json */
#define WS_CATALOG_ENTRIES_MAX 10000
#define WS_CATALOG_TEXT_MAX 300

struct ws_catalog_entry {
	char name[WS_NAME_MAX + 1];
	int64_t version;
	uint64_t bytes;
	char license[WS_CATALOG_TEXT_MAX + 1];     /* "" when absent */
	char origin[WS_CATALOG_TEXT_MAX + 1];
	char description[WS_CATALOG_TEXT_MAX + 1];
	uint8_t mhash[32];
};

/* A catalog, sorted by name; entries malloc'd (ws_catalog_release). */
struct ws_catalog {
	struct ws_catalog_entry *e;
	size_t n;
};

/* ws_catalog_parse - text (len bytes) into *out (written only on success;
 * the caller releases it).  WS_ETOOBIG or WS_EFORMAT with *msg. */
int ws_catalog_parse(const char *text, size_t len, struct ws_catalog *out,
		     char **msg);

/* ws_catalog_serialize - the one spelling of c; *out malloc'd. */
void ws_catalog_serialize(const struct ws_catalog *c, char **out, size_t *len);

/* ws_catalog_put - add e, or replace the entry of e->name.  WS_ETOOBIG
 * when the catalog is full; WS_EFORMAT when e's text is too long or the
 * description is not one line. */
int ws_catalog_put(struct ws_catalog *c, const struct ws_catalog_entry *e);

/* ws_catalog_find - the entry of name, or NULL. */
const struct ws_catalog_entry *ws_catalog_find(const struct ws_catalog *c,
					       const char *name);

/* ws_catalog_match - 1 when text occurs (ASCII case-insensitively) in the
 * entry's name, description, license or origin; every entry matches "". */
int ws_catalog_match(const struct ws_catalog_entry *e, const char *text);

void ws_catalog_release(struct ws_catalog *c);

#endif
