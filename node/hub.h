/*
 * hub.h - the Hugging Face hub as an origin: read a repository's record
 * for a revision, and download its files with libcurl, each verified
 * while it streams against that record.
 *
 * Part of node/.  What the hub documents and this client relies on
 * (docs/hf.md):
 *   GET {endpoint}/api/models/ORG/NAME/revision/REV?blobs=true
 *       -> {"sha": COMMIT, "siblings": [{"rfilename", "size", "blobId",
 *          "lfs": {"sha256", "size", "pointerSize"}}]}
 *   GET {endpoint}/ORG/NAME/resolve/COMMIT/PATH
 *       -> the file (small files), or 302 to a CDN (LFS files); headers
 *          X-Repo-Commit, ETag (git blob id), X-Linked-Etag (the LFS
 *          SHA-256), X-Linked-Size; Range honoured.
 * The endpoint is $HF_ENDPOINT (a mirror) or https://huggingface.co; a
 * gated or private repository needs $HF_TOKEN, sent as "Authorization:
 * Bearer" to the endpoint's host only (libcurl drops it on a redirect to
 * another host, as the hub's client does).  Proxies come from the
 * environment (http_proxy, https_proxy, no_proxy), as libcurl reads them.
 *
 * Everything the hub or a CDN sends is hostile until checked: the API
 * answer is bounded (64 MiB) and every path in it checked
 * (ws_path_check); a download may only use http(s), also after a
 * redirect; a body longer than the record's size is cut off; a server
 * sending nothing for stall_seconds is given up.
 */
#ifndef WS_NODE_HUB_H
#define WS_NODE_HUB_H

#include <stddef.h>
#include <stdint.h>

#include "store/audit.h"
#include "store/hasher.h"

struct ws_hub_file {
	char *path;                 /* "rfilename": a checked relative path */
	uint64_t size;
	int lfs;                    /* an LFS file: sha256 is its record */
	uint8_t sha256[32];         /* when lfs */
	uint8_t blob_id[20];        /* the git blob id ("blobId") */
	int selected;               /* to download (ws_hub_select) */
};

struct ws_hub_repo {
	char *repo;                 /* "ORG/NAME" */
	char commit[41];            /* the revision's commit, 40 hex digits */
	struct ws_hub_file *files;
	size_t nfiles;
};

struct ws_hub {
	char *endpoint;             /* without a trailing '/' */
	char *token;                /* or NULL (wiped when released) */
	int connections;            /* downloads at once (1 to 16) */
	long stall_seconds;         /* give up a transfer idle this long */
	ws_hash_progress_fn progress; /* bytes done / to do, may be NULL */
	void *progress_ctx;
};

/*
 * ws_hub_init - endpoint (NULL: $HF_ENDPOINT, else https://huggingface.co),
 * the token from $HF_TOKEN, 4 connections, a 60 s stall limit.  Returns 0,
 * or WS_EFORMAT when the endpoint is not an http(s) URL.  Free with
 * ws_hub_release.
 */
int ws_hub_init(struct ws_hub *h, const char *endpoint, char **msg);
void ws_hub_release(struct ws_hub *h);

/*
 * ws_hub_parse_ref - split "hf://ORG/NAME[@REVISION]" into a malloc'd
 * "ORG/NAME" and revision (default "main").  ORG and NAME are 1 to 96 of
 * [A-Za-z0-9._-], not starting with '.' or '-', with no ".." or "--" (the
 * hub's rules, and what a cache folder name can hold).  Returns 0 or
 * WS_EFORMAT.
 */
int ws_hub_parse_ref(const char *ref, char **repo, char **revision, char **msg);

/*
 * ws_hub_info - the hub's record of repo at revision (a branch, tag or
 * commit).  Returns 0, -EACCES (401/403: gated or private, the message
 * says to set HF_TOKEN), WS_ENOTFOUND (404), WS_EFORMAT (an answer that is
 * not a well-formed record), WS_ENETWORK (anything else).  Every file is
 * selected.  Release out with ws_hub_repo_release.
 */
int ws_hub_info(const struct ws_hub *h, const char *repo, const char *revision,
		struct ws_hub_repo *out, char **msg);
void ws_hub_repo_release(struct ws_hub_repo *r);

/*
 * ws_hub_parse_record - the API's answer (body, len bytes, untrusted) as
 * ws_hub_info reads it: a 40-hex "sha", every "rfilename" a safe relative
 * path listed once, a size and blob id for each, and for LFS files a
 * SHA-256 and the same size.  Returns 0 or WS_EFORMAT / WS_EPATH (*out
 * untouched but zeroed).  ws_hub_repo_release frees out.
 */
int ws_hub_parse_record(const char *body, size_t len, const char *repo, struct ws_hub_repo *out,
			char **msg);

/*
 * ws_hub_select - select the files matched by any include pattern (all
 * when there is none) and by no exclude pattern.  Patterns are shell
 * globs matched against the whole path where '*' also matches '/', and a
 * pattern ending in '/' matches everything under that folder (as
 * `hf download --include/--exclude`).  Returns how many are selected.
 */
size_t ws_hub_select(struct ws_hub_repo *r, const char *const *include, size_t ninc,
		     const char *const *exclude, size_t nexc);

/*
 * ws_hub_download - download the selected files of r into dir:
 *   dir/files/PATH     verified files (renamed there only after the whole
 *                      file matched the record: size and SHA-256 for LFS
 *                      files, git blob id for the others, and was fsynced)
 *   dir/partial/PATH   files being downloaded
 * A file already in dir/files with its recorded size is kept; a partial
 * file is read back once into the hashes and continued with a Range
 * request.  Up to h->connections files download at once.
 *
 * Each byte is hashed once, as it arrives (ws_hash_stream): with hashes
 * (NULL, or r->nfiles entries, zeroed here), hashes[i] receives what
 * publish needs of r->files[i] - SHA-256, v2 merkle tree and chunk roots,
 * v1 pieces of piece_size bytes (0: none), the last one padded - as
 * ws_hash_files would compute them, for every file this call verified and
 * put in place; its path is then r->files[i].path (borrowed).  Entries of
 * other files (not selected, or kept in dir/files from an earlier run,
 * which this call does not read) have a NULL path.  The caller releases
 * every entry with ws_hash_file_release, also on failure.
 *
 * Returns 0 when every selected file is in dir/files, or the first
 * failure, named in *msg: WS_EBADHASH (content differs from the record),
 * WS_EMISMATCH (wrong size), -EACCES (401/403), WS_ENOTFOUND (404),
 * WS_ETIMEOUT (stalled), WS_EPATH (a redirect to a scheme other than
 * http(s)), WS_ENETWORK, WS_EFORMAT (piece_size not a power of two of
 * at least 16 KiB), or -errno for local I/O.  A file that failed a check
 * is removed; other partial files are left for the next run.
 */
int ws_hub_download(const struct ws_hub *h, const struct ws_hub_repo *r, const char *dir,
		    uint64_t piece_size, struct ws_hash_file *hashes, char **msg);

/*
 * ws_hub_audit_dir - check the local folder dir (an `hf download
 * --local-dir` folder, say) against r, the hub's record of a commit: each
 * selected file's presence, size, and SHA-256 (LFS files, on every core)
 * or git blob id; files the record does not list are extra (the top-level
 * .cache, .git and .weightsync folders are not looked at).  Offline once r
 * is read.  Returns 0 when the audit ran (see out->count), or an error
 * when dir cannot be read.  Release out with ws_audit_release.
 */
int ws_hub_audit_dir(const struct ws_hub_repo *r, const char *dir, ws_hash_progress_fn progress,
		     void *ctx, struct ws_audit *out, char **msg);

/*
 * Ranged reads of one commit's files, several at once, for a fetch that
 * takes pieces from the origin (node/fetch_origin.c).  The same rules as
 * above: http(s) only, the token to the endpoint's host only, a stall
 * limit.  A request succeeds when exactly the bytes asked for came (a 206
 * whose Content-Range starts where asked, or a 200 from offset 0 cut off
 * at len); what the bytes are worth is the caller's to check.
 *
 * ws_hub_ranges_new - a set of requests for repo at commit (h must outlive it).
 * ws_hub_range_start - read bytes [off, off + len) of path into buf (len > 0
 *   bytes, the caller's, untouched once the request is reported or the set
 *   freed); tag comes back with the result.
 * ws_hub_ranges_poll - drive the requests, waiting up to timeout_ms for
 *   activity; returns 1 with *tag and *result (0, or an error with *msg)
 *   when a request ended, 0 when none did.
 * ws_hub_ranges_active - requests still running.
 * ws_hub_ranges_free - drop every request and free the set.
 */
struct ws_hub_ranges;
int ws_hub_ranges_new(const struct ws_hub *h, const char *repo, const char *commit,
		      struct ws_hub_ranges **out);
void ws_hub_range_start(struct ws_hub_ranges *rs, const char *path, uint64_t off, size_t len,
			uint8_t *buf, void *tag);
int ws_hub_ranges_poll(struct ws_hub_ranges *rs, int timeout_ms, void **tag, int *result,
		       char **msg);
size_t ws_hub_ranges_active(const struct ws_hub_ranges *rs);
void ws_hub_ranges_free(struct ws_hub_ranges *rs);

#endif
