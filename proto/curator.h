/*
 * curator.h - a curator's name list: which publisher key each name means.
 *
 * Part of proto/: pure formats, no disk, no network.  A curator publishes
 * the list as an ordinary weightsync release named WS_CURATOR_NAME holding
 * one file, WS_CURATOR_FILE, signed with the curator's key, so versions,
 * chain rules and anti-rollback are the release's (docs/trust.md).  The
 * file is JSON (keys sorted, two-space indent):
 *   { "names": { "NAME": "PUBKEY-BASE64", ... } }
 * Every name passes ws_name_check and every key ws_pubkey_parse; anything
 * else (other keys, a duplicate name, over WS_CURATOR_MAX bytes or
 * WS_CURATOR_NAMES_MAX names) is refused.
 */
#ifndef WS_PROTO_CURATOR_H
#define WS_PROTO_CURATOR_H

#include <stddef.h>

#include "manifest.h"
#include "minisign.h"

#define WS_CURATOR_NAME "curator"
#define WS_CURATOR_FILE "names.json"
#define WS_CURATOR_MAX (1u << 20)       /* bytes of names.json */
#define WS_CURATOR_NAMES_MAX 10000

struct ws_curated {
	char name[WS_NAME_MAX + 1];
	struct ws_pubkey pk;
};

/* A list, sorted by name; entries malloc'd (ws_curator_list_release). */
struct ws_curator_list {
	struct ws_curated *e;
	size_t n;
};

/* ws_curator_parse - text (len bytes) into *out (written only on success;
 * the caller releases it).  WS_ETOOBIG or WS_EFORMAT, with *msg saying
 * what is wrong when msg is not NULL. */
int ws_curator_parse(const char *text, size_t len, struct ws_curator_list *out,
		     char **msg);

/* ws_curator_serialize - the one spelling of l; *out malloc'd (the caller
 * frees), *len its length (no NUL counted). */
void ws_curator_serialize(const struct ws_curator_list *l, char **out, size_t *len);

/* ws_curator_find - the entry for name, or NULL (valid until l changes). */
const struct ws_curated *ws_curator_find(const struct ws_curator_list *l,
					 const char *name);

/* ws_curator_set - map name to pk (replacing any key it had).  Returns 1
 * when the list changed, 0 when it already said so, or WS_ETOOBIG. */
int ws_curator_set(struct ws_curator_list *l, const char *name,
		   const struct ws_pubkey *pk);

/* ws_curator_drop - remove name.  1 when it was there, else 0. */
int ws_curator_drop(struct ws_curator_list *l, const char *name);

void ws_curator_list_release(struct ws_curator_list *l);

#endif
