/*
 * index.h - the node's append-only index of releases, in LMDB.
 *
 * Part of store/: knows LMDB and nothing of the swarm.  The layout of the
 * databases is in docs/index.md.  In short, per publisher key and name it
 * keeps every version ever accepted (manifest bytes, signature, time first
 * seen, where its files are), every conflicting manifest kept as evidence,
 * the trust store, and an event log.  Nothing here deletes a release: the
 * only mutations of an existing entry are "complete" going 0 -> 1 and the
 * path being set, and name flags being raised.
 *
 * Many processes may open one index; LMDB serialises writers, and every
 * write transaction here is short.  Never keep a ws_index across fork().
 *
 * Memory returned in structs is malloc'd and owned by the caller (free with
 * the matching _release/_free function) unless said otherwise.
 *
 * Damage (docs/index.md, "Damage"): ws_index_open refuses a damaged
 * data.mdb; after that, every function that reads a record returns
 * WS_ECORRUPT when the record is not what this code writes (wrong size,
 * field out of range, hash not matching its key), and an LMDB failure part
 * way through a scan is an error, never a shorter answer.  Out-parameters
 * are written only on success.  Besides the errors listed below, every
 * function may return WS_ECORRUPT, -ENOSPC or another negated errno, or
 * WS_ESTORE.
 */
#ifndef WS_STORE_INDEX_H
#define WS_STORE_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "proto/manifest.h"
#include "proto/pointer.h"

typedef struct ws_index ws_index;

/*
 * ws_index_open - open the LMDB environment in directory dir, creating dir
 * and a new index when dir holds no data.mdb.  Before any page is read
 * through LMDB's map, the file is checked: a 0-byte data.mdb, one shorter
 * than the pages its meta page names, or a page whose structure is broken
 * is WS_ECORRUPT, and *msg (when msg is not NULL; the caller frees it)
 * names the file and says what to do.  *out is the index on success; close
 * it with ws_index_close (NULL is accepted).
 */
int ws_index_open(const char *dir, ws_index **out, char **msg);
void ws_index_close(ws_index *ix);

enum ws_release_status {
	WS_REL_ACCEPTED = 1,  /* part of the name's chain */
	WS_REL_EVIDENCE = 2,  /* conflicting manifest kept as proof of equivocation */
};

/* One version of one name, as the index knows it. */
struct ws_release {
	uint8_t pk[32];
	char name[WS_NAME_MAX + 1];
	int64_t version;
	uint8_t mhash[32];          /* SHA-256 of the manifest bytes */
	uint8_t previous[32];       /* the manifest's "previous", zero for v1 */
	int status;                 /* enum ws_release_status */
	int complete;               /* every file present and verified */
	int64_t first_seen;
	char *path;                 /* release folder, relative to the home; "" if none */
	char *manifest;             /* manifest bytes (NUL-terminated), when loaded */
	size_t manifest_len;
	char *sig;                  /* .minisig text (NUL-terminated), when loaded */
	size_t sig_len;
};
void ws_release_release(struct ws_release *r);
void ws_releases_free(struct ws_release *r, size_t n);

/*
 * ws_index_add - record a verified manifest (the caller has checked its
 * signature: ws_manifest_verify) under the chain rules:
 *   - the same manifest again: WS_EEXIST, nothing changes (except that
 *     complete/path are set if given and not yet set);
 *   - another manifest for a version already held: kept as evidence, the
 *     name flagged as equivocating, WS_EEQUIVOCATION;
 *   - the first version seen of a name: accepted, whatever its number;
 *   - highest + 1: accepted when its "previous" is the hash of the
 *     accepted highest, else WS_EFORK;
 *   - beyond highest + 1: WS_EGAP (fetch the missing versions first);
 *   - below highest: accepted only when the accepted version above it names
 *     it as "previous" (filling the chain downwards), else WS_EROLLBACK.
 * Refusals and equivocations are written to the event log (a refusal
 * stands even when logging it fails; *msg then says so).  Returns 0 when
 * the release was added.  path may be NULL.  A names record that says a
 * version is the highest when the index holds no such version is
 * WS_ECORRUPT, never a fork.  On any failure *msg (when msg is not NULL) is
 * set; the caller frees it.
 */
int ws_index_add(ws_index *ix, const char *manifest, size_t mlen,
		 const char *sig, size_t slen, const struct ws_manifest *m,
		 const char *path, int complete, char **msg);

/* ws_index_set_complete - mark an accepted release complete at path
 * (relative to the home).  Already complete: 0, the first path kept.
 * WS_ENOTFOUND when (pk, name, version, mhash) is not held. */
int ws_index_set_complete(ws_index *ix, const uint8_t pk[32], const char *name,
			  int64_t version, const uint8_t mhash[32], const char *path);

/*
 * ws_index_find_blob - the accepted releases that list a file whose SHA-256
 * is sha256: fn(arg, mhash, path) for each, path being the file's path in
 * that release (valid during the call only); fn returns nonzero to stop.
 * The release may not be complete: look it up (ws_index_find_release) and
 * check.  Returns 0 (also when none), WS_ECORRUPT, or an I/O error.  Cost:
 * one range lookup, whatever the size of the store.
 */
typedef int (*ws_blob_fn)(void *arg, const uint8_t mhash[32], const char *path);
int ws_index_find_blob(ws_index *ix, const uint8_t sha256[32], ws_blob_fn fn,
		       void *arg);

/*
 * ws_index_find_release - the accepted release whose manifest hashes to
 * mhash, as ws_index_get gives it (release it with ws_release_release).
 * WS_ENOTFOUND when the index has no such manifest or holds it only as
 * evidence; WS_ECORRUPT; an I/O error.
 */
int ws_index_find_release(ws_index *ix, const uint8_t mhash[32],
			  struct ws_release *out);

/*
 * ws_index_get - the accepted release of (pk, name) at version, or the
 * highest accepted one when version is 0, with manifest and signature
 * loaded; the caller frees it with ws_release_release.  WS_ENOTFOUND when
 * there is none; WS_ECORRUPT when the manifest kept does not hash to its
 * key, or the highest version the names record gives is missing.
 */
int ws_index_get(ws_index *ix, const uint8_t pk[32], const char *name,
		 int64_t version, struct ws_release *out);

/*
 * ws_index_highest - the highest accepted version of (pk, name) into
 * *highest, 0 when the name is unknown.  Returns 0, or an error (the index
 * cannot be read, WS_ECORRUPT) and then *highest is untouched: a rollback
 * check must refuse rather than take "nothing known" for an answer.
 */
int ws_index_highest(ws_index *ix, const uint8_t pk[32], const char *name,
		     int64_t *highest);

/*
 * ws_index_list - every release entry (accepted and evidence), ordered by
 * publisher, name, version.  With name not NULL, only that name (any
 * publisher); with pk not NULL, only that publisher.  Manifests are not
 * loaded.  *out is an array of *n entries: ws_releases_free(*out, *n).
 */
int ws_index_list(ws_index *ix, const uint8_t *pk, const char *name,
		  struct ws_release **out, size_t *n);

/* ws_index_load - load manifest and signature into r (from ws_index_list),
 * replacing any already loaded; r is unchanged on failure.  WS_ECORRUPT when
 * the manifest does not hash to r->mhash or a blob is empty or over its cap. */
int ws_index_load(ws_index *ix, struct ws_release *r);

enum ws_name_flags {
	WS_NAME_EQUIVOCATED = 1 << 0,
};

/* ws_index_name_flags - flags of (pk, name); 0 for an unknown name. */
int ws_index_name_flags(ws_index *ix, const uint8_t pk[32], const char *name,
			unsigned *flags);

/* ---- torrents ---- */

/*
 * ws_index_put_torrent - keep the release torrent of manifest mhash (with
 * its info-hashes).  A torrent already kept for mhash is not replaced
 * (WS_EEXIST).
 */
int ws_index_put_torrent(ws_index *ix, const uint8_t mhash[32],
			 const uint8_t *torrent, size_t len,
			 const uint8_t v2[32], const uint8_t v1[20]);

/*
 * ws_index_get_torrent - the torrent of manifest mhash: *torrent malloc'd
 * (caller frees), info-hashes into v2/v1 (either may be NULL).
 * WS_ENOTFOUND when none is kept.
 */
int ws_index_get_torrent(ws_index *ix, const uint8_t mhash[32],
			 uint8_t **torrent, size_t *len, uint8_t v2[32],
			 uint8_t v1[20]);

/* ---- signed name pointers (proto/pointer.h) ---- */

/*
 * ws_index_put_pointer - keep a checked pointer (ws_pointer_check passed).
 * WS_EEXIST when the same item is already kept.  A different value signed
 * for a (key, salt, seq) already held is kept too, as evidence: the name is
 * flagged equivocated, the event logged, and WS_EEQUIVOCATION returned.
 */
int ws_index_put_pointer(ws_index *ix, const struct ws_pointer *p, char **msg);
/* (Any other failure sets *msg too, when msg is not NULL.) */

/* ws_index_get_pointer - the kept pointer of (pk, salt) with the highest
 * seq (the first one kept, when several share it).  WS_ENOTFOUND if none;
 * WS_ECORRUPT when a kept pointer no longer passes ws_pointer_check or its
 * value no longer has the hash in its key. */
int ws_index_get_pointer(ws_index *ix, const uint8_t pk[32], const char *salt,
			 struct ws_pointer *out);

/* ws_index_pointers - the highest pointer of every (key, salt) kept: what a
 * node re-puts into the DHT.  *out malloc'd (free()). */
int ws_index_pointers(ws_index *ix, struct ws_pointer **out, size_t *n);

/*
 * ws_index_name_pointers - every pointer kept for (pk, name): salt "NAME"
 * and every "NAME@V", every value (evidence included), ordered by salt
 * then seq.  *out malloc'd (free()).  What a node tells its peers
 * (node/evidence.h).
 */
int ws_index_name_pointers(ws_index *ix, const uint8_t pk[32], const char *name,
			   struct ws_pointer **out, size_t *n);

/* ---- followed names ---- */

/* ws_index_follow - mirror every new version of name by key pk; with
 * on = 0, stop (WS_ENOTFOUND if not followed; WS_EEXIST if already).
 * ws_index_follows lists them (*out malloc'd: free()). */
int ws_index_follow(ws_index *ix, const char *name, const struct ws_pubkey *pk,
		    int on);
struct ws_follow {
	char name[WS_NAME_MAX + 1];
	struct ws_pubkey pk;
};
int ws_index_follows(ws_index *ix, struct ws_follow **out, size_t *n);

/* ---- trust ---- */

struct ws_trust {
	char name[WS_NAME_MAX + 1];
	uint8_t pk[32];
	uint8_t keyid[8];
	int64_t added;
	int64_t removed;            /* 0 while in force */
};

/* ws_index_trust_add - NAME means key pk.  WS_EEXIST if already in force. */
int ws_index_trust_add(ws_index *ix, const char *name, const struct ws_pubkey *pk);

/* ws_index_trust_remove - stop trusting; the entry is kept, marked removed.
 * With pk NULL, every key of name.  WS_ENOTFOUND if nothing was in force. */
int ws_index_trust_remove(ws_index *ix, const char *name, const uint8_t *pk);

/* ws_index_trust_list - every entry, removed ones included. */
int ws_index_trust_list(ws_index *ix, struct ws_trust **out, size_t *n);

/* ws_index_trust_lookup - the one key in force for name: WS_ENOTFOUND,
 * WS_EAMBIGUOUS (several), or 0. */
int ws_index_trust_lookup(ws_index *ix, const char *name, struct ws_pubkey *out);

/* ws_index_trust_check - 0 when pk is in force for name, WS_EUNTRUSTED
 * when it is not, or the error that kept the index from saying (callers
 * treat any nonzero as "not trusted"). */
int ws_index_trust_check(ws_index *ix, const char *name, const uint8_t pk[32]);

/* ---- events ---- */

enum ws_event_kind {
	WS_EV_ACCEPTED = 1, WS_EV_COMPLETE, WS_EV_EQUIVOCATION,
	WS_EV_ROLLBACK_REFUSED, WS_EV_FORK_REFUSED, WS_EV_GAP_REFUSED,
	WS_EV_TRUST_ADD, WS_EV_TRUST_REMOVE, WS_EV_POINTER_EQUIVOCATION,
	WS_EV_FOLLOW, WS_EV_UNFOLLOW,
	WS_EV_CURATED,          /* a subscribed curator maps the name to pk */
	WS_EV_UNCURATED,        /* ... and no longer does */
	WS_EV_CURATOR_LIST,     /* a curator list version was read (name "curator") */
	WS_EV_NEWER_SEEN,       /* a peer showed a newer signed pointer */
};

struct ws_event {
	uint64_t seq;
	int64_t time;
	int kind;
	uint8_t pk[32];
	char name[WS_NAME_MAX + 1];
	int64_t version;
	uint8_t mhash[32];
	char detail[256];
};

/* ws_event_kind_name - "accepted", "equivocation", ... */
const char *ws_event_kind_name(int kind);

/*
 * ws_index_log - append an event of kind (with pk, name, version, detail;
 * pk and detail may be NULL) in a transaction of its own: for what the
 * node learns outside the index's own rules (curator lists, evidence from
 * peers).  Returns 0 or an error.
 */
int ws_index_log(ws_index *ix, int kind, const uint8_t *pk, const char *name,
		 int64_t version, const char *detail);

/* ws_index_events - events of name (every name when NULL), oldest first. */
int ws_index_events(ws_index *ix, const char *name, struct ws_event **out,
		    size_t *n);

#endif
