/*
 * lt.h - weightsync's narrow C API over libtorrent-rasterbar 2.0.
 *
 * This is the only door to libtorrent: node/lt.cpp implements it and is the
 * only C++ in the tree.  No libtorrent type appears here.  Everything is
 * plain C structs and byte arrays; every function returns 0 or a negative
 * WS_E* / -errno code (proto/error.h) and may describe a failure in an
 * optional malloc'd *msg the caller frees.
 *
 * Threading: a ws_lt_session and its torrents may be used from several
 * threads at once (the node runs fetches on worker threads beside its
 * loop): the shim's own state is guarded by a mutex in the session, which
 * waits (ws_lt_wait, ws_lt_dht_get, ...) let go of while they sleep.  A
 * given ws_lt_torrent belongs to whoever added it: only its owner removes
 * it, and ws_lt_session_free must not race with any other call.
 * libtorrent runs its own threads;
 * no callback of ours runs on them (the DHT signing callback is called
 * synchronously).
 *
 * Every wait takes an explicit timeout in milliseconds; nothing here blocks
 * without a bound.
 */
#ifndef WS_NODE_LT_H
#define WS_NODE_LT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------- */
/* Torrent building (no session needed)                                   */

/*
 * File order and padding in a hybrid torrent (libtorrent 2.0.8).
 * tests/unit/test_lt.c hashes files by these rules, builds torrents with
 * ws_lt_torrent_build and has libtorrent re-verify the files against them;
 * the same torrents were found byte-identical to create_torrent +
 * set_piece_hashes output for the same files:
 *
 *  - Order.  Files are sorted by path, comparing the '/'-separated
 *    components one by one as byte strings (memcmp on unsigned bytes, a
 *    proper prefix first).  So "B" < "a" < "a/b/c" < "a/z" < "a-b" < "a.bin"
 *    < "\xc3\xa9": a directory's files come where the directory's own name
 *    sorts, not where "a/" would in a flat strcmp.  ws_lt_torrent_order()
 *    computes this order.  Empty files sort like any other file.
 *
 *  - Padding.  With two or more files (empty files count), every non-empty
 *    file starts on a piece boundary and is followed by a BEP 47 pad file
 *    ".pad/<n>" filling its last piece up to piece_size, *including the last
 *    file* (libtorrent >= 2.0.8 pads the tail too; 2.0.7 and older did not).
 *    No pad file follows a file whose size is a multiple of piece_size or an
 *    empty file.  A torrent of exactly one file has no pad files at all.
 *
 *  - Consequence for v1 piece hashes: they are per file and independent of
 *    the order.  Piece i of a file covers its bytes [i*piece_size,
 *    (i+1)*piece_size); the last piece is zero-filled up to piece_size
 *    before hashing -- unless the torrent has exactly one file, whose last
 *    piece is hashed at its real length.
 *
 *  - libtorrent file indices (ws_lt_set_file_priority, ws_lt_file_progress)
 *    count the pad files: walk the sorted files, one index per file, plus
 *    one more after each file that gets a pad file.  ws_lt_file_index()
 *    looks an index up in a live torrent.
 */

/*
 * One file of a torrent being built, with hashes computed by the caller
 * (weightsync hashes every byte once, then hands the results here, so the
 * files are not read again).
 *
 * path         relative path inside the torrent, '/' separated: no leading
 *              or trailing '/', no empty, "." or ".." component, no backslash
 * size         in bytes
 * pieces_root  v2 merkle root (BEP 52) over the file's 16 KiB blocks (last
 *              block hashed at its real length, zero-hash leaves up to a
 *              power of two); ignored (may be NULL) for empty files
 * v2_pieces    the file's v2 piece layer: for each piece of piece_size
 *              bytes, the root of the subtree of its blocks, the last
 *              piece's subtree padded with zero-hash leaves to
 *              piece_size / 16 KiB leaves; ceil(size / piece_size) entries.
 *              Only used when the file is larger than one piece: a file of
 *              one piece or less has no piece layer (its root stands in for
 *              it), and v2_pieces may be NULL then.
 * v1_pieces    SHA-1 of each v1 piece of this file, ceil(size / piece_size)
 *              entries of 20 bytes, the last piece zero-filled to piece_size
 *              unless the torrent has exactly one file (see above); may be
 *              NULL for empty files.
 */
struct ws_lt_file {
	const char *path;
	uint64_t size;
	const uint8_t *pieces_root;   /* 32 bytes */
	const uint8_t *v2_pieces;     /* 32 * npieces bytes, or NULL */
	const uint8_t *v1_pieces;     /* 20 * npieces bytes */
};

/*
 * ws_lt_torrent_order - the order files take in a hybrid torrent.
 *
 * paths are n relative paths as in struct ws_lt_file.  On success order[k]
 * (n entries, caller-allocated) is the index into paths of the k-th file in
 * the torrent.  Returns 0, or WS_EPATH for an invalid path (n == 0 is
 * fine).  Duplicates are not detected here (ws_lt_torrent_build does).
 */
int ws_lt_torrent_order(const char *const *paths, size_t n, size_t *order);

/*
 * ws_lt_torrent_build - build a hybrid v1+v2 .torrent without reading any
 * file.
 *
 * files may be given in any order: libtorrent puts them in the order
 * ws_lt_torrent_order() describes and this function matches hashes to
 * files by path.  piece_size is a power of two >= 16 KiB.  name is the
 * torrent's top directory name (one path component); every file lives
 * under it, even when there is only one.  web_seeds are BEP 19 URLs (may
 * be NULL when n_web_seeds is 0).
 *
 * The result is deterministic: no creation date, no "created by", no
 * comment.  Before returning, the torrent is parsed back and every file's
 * pieces root, as libtorrent recomputes it from v2_pieces, is compared with
 * the caller's pieces_root.
 *
 * On success *torrent (malloc'd, caller frees) holds the bencoded torrent,
 * *len its length, and info_v2 / info_v1 the info-hashes (32 / 20 bytes).
 * Errors: -EINVAL (bad piece size, missing hash array, no files), WS_EPATH
 * (bad name or path), WS_EEXIST (duplicate path), WS_EBADHASH (a pieces
 * root disagrees with its piece layer), WS_EFORMAT (libtorrent refused:
 * e.g. every file is empty, or a file and a directory share a name),
 * -ENOMEM.
 */
int ws_lt_torrent_build(const struct ws_lt_file *files, size_t nfiles,
			uint32_t piece_size, const char *name,
			const char *const *web_seeds, size_t n_web_seeds,
			uint8_t **torrent, size_t *len,
			uint8_t info_v2[32], uint8_t info_v1[20], char **msg);

/* ---------------------------------------------------------------------- */
/* Sessions                                                               */

typedef struct ws_lt_session ws_lt_session;

/* ws_lt_config.disk_io: which of libtorrent's disk back ends serves which
 * torrent (node/lt_disk.hpp, docs/datapath.md) */
enum {
	WS_LT_DISK_SPLIT = 0,  /* WS_LT_COMPLETE torrents: pread; others: mmap */
	WS_LT_DISK_MMAP = 1,   /* every torrent: mmap */
	WS_LT_DISK_POSIX = 2,  /* every torrent: pread */
};

struct ws_lt_config {
	const char *listen;          /* listen_interfaces, e.g.
				      * "127.0.0.2:6881"; port 0 picks one;
				      * NULL means "0.0.0.0:0" */
	int enable_dht;              /* run a DHT node */
	const char *const *bootstrap; /* "host:port" DHT nodes added to the
				      * routing table (add_dht_node) */
	size_t n_bootstrap;
	int public_bootstrap;        /* also use libtorrent's default public
				      * bootstrap routers; 0 in every test */
	int private_network;         /* loopback/LAN swarm: turn off the DHT's
				      * one-node-per-/24 Sybil limits and allow
				      * several peers per IP */
	int enable_upnp, enable_natpmp, enable_lsd; /* opt-in, 0 by default */
	int disk_io;                 /* WS_LT_DISK_SPLIT (0), WS_LT_DISK_MMAP
				      * or WS_LT_DISK_POSIX; docs/datapath.md
				      * compares them */
	int upload_rate_limit;       /* bytes/s, 0 = unlimited */
	int download_rate_limit;     /* bytes/s, 0 = unlimited */
	int defer_start;             /* start the network when the first
				      * torrent is added, with first_peers
				      * already in it (see ws_lt_session_new) */
	const char *const *first_peers; /* "host:port" peers for the first
				      * torrent (defer_start only) */
	size_t n_first_peers;
	const char *peer_log;        /* append one line per peer event
				      * (connect, disconnect and why, ban,
				      * failed piece) to this file; NULL: none.
				      * For diagnosis: WEIGHTSYNC_PEER_LOG */
};

/*
 * ws_lt_session_new - start a session: TCP only in a private network
 * (uTP on besides TCP otherwise), tuned for
 * throughput, torrents not auto-managed (no queueing: every added torrent
 * runs), UPnP / NAT-PMP / LSD only when asked.  Waits (at most 5 s) until
 * the TCP listen socket is open, so ws_lt_listen_port() is valid on return.
 * Errors: -EINVAL, WS_ENETWORK (cannot listen; *msg says why).
 *
 * With cfg->defer_start, the network does not start until the first
 * torrent is added (or anything else needs it): that torrent and
 * cfg->first_peers are then in the session before its first round of
 * connections, which libtorrent makes once a second (session_impl::
 * on_tick; there is no "connect now"), so the peers are dialled ~0.1 s
 * after the start instead of up to a second later (docs/datapath.md).
 * The first ws_lt_add* then reports a listen failure.  The session is
 * one fetch's; cfg's strings are copied.
 */
int ws_lt_session_new(const struct ws_lt_config *cfg, ws_lt_session **out,
		      char **msg);

/*
 * ws_lt_session_free - stop the session and free it with every
 * ws_lt_torrent it owns.  Shutdown is bounded by libtorrent's own timeouts
 * (tracker stop announces are cut to 1 s).  NULL is a no-op.
 */
void ws_lt_session_free(ws_lt_session *s);

/* ws_lt_listen_port - the TCP port actually listened on, or 0. */
int ws_lt_listen_port(ws_lt_session *s);

/*
 * ws_lt_add_dht_node - add "host:port" (IPv6 as "[addr]:port") to the DHT
 * routing table; the node enters it once it answers a ping.  -EINVAL for a
 * malformed string.
 */
int ws_lt_add_dht_node(ws_lt_session *s, const char *hostport);

/* Session-wide numbers for `weightsync status`. */
struct ws_lt_session_stats {
	int dht_nodes;               /* nodes in the DHT routing table */
	uint64_t bytes_up, bytes_down; /* payload totals since start */
	int peers;                   /* connected peers, all torrents */
};
/*
 * ws_lt_session_stats - fill *st.  Asks libtorrent for fresh counters and
 * waits for them (at most 2 s, processing alerts as ws_lt_wait does);
 * WS_ETIMEOUT if they did not come.
 */
int ws_lt_session_stats(ws_lt_session *s, struct ws_lt_session_stats *st);

/* ---------------------------------------------------------------------- */
/* Torrents                                                               */

typedef struct ws_lt_torrent ws_lt_torrent; /* owned by its session */

enum ws_lt_add_flags {
	WS_LT_SEED_MODE = 1 << 0,  /* files are complete: serve at once, verify
				    * each piece the first time a peer asks
				    * for it (an unverified piece is never
				    * served); on a hash failure libtorrent
				    * leaves seed mode and rechecks every
				    * file */
	WS_LT_PAUSED = 1 << 1,     /* add paused */
	WS_LT_NO_FILES = 1 << 2,   /* start with every file priority 0 */
	WS_LT_COMPLETE = 1 << 3,   /* a complete release (the store's): its
				    * files are read with pread on libtorrent's
				    * network thread, not through mappings
				    * (WS_LT_DISK_SPLIT, node/lt_disk.hpp) */
};

/*
 * ws_lt_add - add a torrent to the session.
 *
 * torrent/len   bencoded .torrent (required: fetch gets it from the store
 *               or from the peers via ws_lt_add_magnet)
 * save_path     directory the torrent's top folder lives in
 * resume/rlen   resume data from ws_lt_save_resume, or NULL
 * flags         ws_lt_add_flags
 *
 * The torrent is parsed with caps (64 MiB, 4 Mi pieces).  When no resume
 * data is given and the flags lack WS_LT_SEED_MODE, the files already on
 * disk are checked first (state WS_LT_CHECKING), which is how a full
 * re-verification is done.  Errors: WS_EFORMAT (bad torrent or resume
 * data), WS_EMISMATCH (resume data is for another torrent), WS_EEXIST
 * (already in this session), WS_ENETWORK (libtorrent refused).  *out is
 * owned by the session: valid until ws_lt_remove or ws_lt_session_free.
 */
int ws_lt_add(ws_lt_session *s, const uint8_t *torrent, size_t len,
	      const char *save_path, const uint8_t *resume, size_t rlen,
	      unsigned flags, ws_lt_torrent **out, char **msg);

/*
 * ws_lt_add_resumed - ws_lt_add, but the files whose libtorrent indices are
 * in distrust[0..ndistrust) (changed on disk since the resume data was
 * saved, or gone) lose the pieces the resume data says they have: they
 * are downloaded again.  *nlost (when nlost is not NULL) is how many of
 * them had such pieces: a file not yet begun is missing from the disk
 * too, and loses nothing.  distrust is ignored without resume data.
 * Errors as ws_lt_add.
 */
int ws_lt_add_resumed(ws_lt_session *s, const uint8_t *torrent, size_t len,
		      const char *save_path, const uint8_t *resume, size_t rlen,
		      const int *distrust, size_t ndistrust, size_t *nlost,
		      unsigned flags, ws_lt_torrent **out, char **msg);

/*
 * ws_lt_add_magnet - add by info-hash only; metadata comes from peers.
 * info_v2 may be NULL (then info_v1 is required) and vice versa.  Files are
 * not downloaded until priorities are set (WS_LT_NO_FILES is implied).
 * name may be NULL.  Dial peers with ws_lt_connect_peer (or let the DHT
 * find them).  Errors as ws_lt_add.
 */
int ws_lt_add_magnet(ws_lt_session *s, const uint8_t info_v2[32],
		     const uint8_t info_v1[20], const char *name,
		     const char *save_path, ws_lt_torrent **out, char **msg);

/*
 * ws_lt_metadata - once known, the bencoded .torrent (malloc'd, caller
 * frees).  Returns WS_ENOTFOUND while metadata is not yet received.
 *
 * The result is "d4:info<info>12:piece layers<...>e": the info dictionary
 * is byte-for-byte the one the info-hashes were computed over.  The piece
 * layers are included only when libtorrent has all of them (always for a
 * torrent added from a .torrent or once seeding; a magnet download gets
 * them from peers as it goes); before that the torrent holds only "info",
 * which is enough to check the info-hashes and the file list.  Web seeds
 * are not included.
 */
int ws_lt_metadata(ws_lt_torrent *t, uint8_t **torrent, size_t *len);

/*
 * ws_lt_connect_peer - dial "ip:port" (numeric; IPv6 as "[addr]:port") for
 * this torrent.  -EINVAL for anything else.
 */
int ws_lt_connect_peer(ws_lt_torrent *t, const char *hostport);

/*
 * ws_lt_forget_peers - disconnect every peer of t and forget them, bans
 * included (torrent_handle::clear_peers); they must be dialled again.  For
 * a download left with no peer after failed pieces: libtorrent 2.0.8 bans
 * every peer that sent a block of a failed piece when it cannot tell which
 * block was bad (torrent::piece_failed), so an honest peer that shared a
 * piece with a liar is banned with it (docs/datapath.md).  0, -ENOMEM or
 * WS_ENETWORK (libtorrent refused).
 */
int ws_lt_forget_peers(ws_lt_torrent *t);

/*
 * ws_lt_set_file_priority - 0 = skip, 1..7 = download.  file is the index
 * in the torrent's own file list (pad files included, as libtorrent counts;
 * see ws_lt_file_index).  WS_ENOTFOUND before metadata, -EINVAL for an
 * index or priority out of range.
 */
int ws_lt_set_file_priority(ws_lt_torrent *t, int file, int prio);

/*
 * ws_lt_file_index - libtorrent's index of the file at `path` (relative to
 * the torrent's top directory, as in struct ws_lt_file).  WS_ENOTFOUND
 * before metadata or when no such file exists.
 */
int ws_lt_file_index(ws_lt_torrent *t, const char *path, int *index);

/* One real (not pad) file of a torrent, as ws_lt_files lists it. */
struct ws_lt_file_info {
	char *path;               /* relative to the top folder (malloc'd) */
	uint64_t size;
	uint8_t root[32];         /* v2 pieces root, when has_root */
	int has_root;             /* 0 for empty files */
	int index;                /* libtorrent's file index */
};

/*
 * ws_lt_files - the torrent's files in torrent order, pad files left out,
 * and its top folder name into name (namelen bytes).  WS_ENOTFOUND before
 * metadata.  Free *out with ws_lt_files_free(*out, *n).
 */
int ws_lt_files(ws_lt_torrent *t, char *name, size_t namelen,
		struct ws_lt_file_info **out, size_t *n);
void ws_lt_files_free(struct ws_lt_file_info *files, size_t n);

/* ws_lt_info_hashes - the torrent's info-hashes (which of them it has). */
int ws_lt_info_hashes(ws_lt_torrent *t, uint8_t v2[32], uint8_t v1[20],
		      int *has_v2, int *has_v1);

/*
 * ws_lt_force_recheck - hash the files on disk again (state
 * WS_LT_CHECKING until done): pieces found good count as downloaded.  Used
 * after files were placed under the torrent by other means.  The check
 * drops the torrent's peers: those this side had dialed (or had dialed
 * when ws_lt_pause dropped them) are dialed again, without libtorrent's
 * reconnect back-off; others must come back through the DHT or their own
 * dialing.  On a paused torrent the check waits for ws_lt_resume, and no
 * piece is asked for before it ends.
 */
int ws_lt_force_recheck(ws_lt_torrent *t);

/*
 * ws_lt_force_dht_announce - announce the torrent to the DHT now (an
 * announce made while the routing table was empty reached nobody, and
 * libtorrent's next one is minutes away).
 */
int ws_lt_force_dht_announce(ws_lt_torrent *t);

/*
 * ws_lt_pause, ws_lt_resume - stop exchanging data for t (peers are
 * disconnected, and those this side had dialed are remembered for
 * ws_lt_force_recheck; nothing is lost: what is verified stays), and start
 * again.
 * payload_down / payload_up in ws_lt_status keep counting across a pause.
 */
int ws_lt_pause(ws_lt_torrent *t);
int ws_lt_resume(ws_lt_torrent *t);

enum ws_lt_state {
	WS_LT_CHECKING = 1, WS_LT_METADATA, WS_LT_DOWNLOADING,
	WS_LT_FINISHED,  /* every wanted file is done */
	WS_LT_SEEDING,   /* every file is done */
	WS_LT_ERROR,
	WS_LT_CHECKING_RESUME, /* reading resume data (no file is read) */
};

struct ws_lt_status {
	enum ws_lt_state state;
	uint64_t total_wanted, total_wanted_done; /* bytes */
	uint64_t payload_down, payload_up;        /* bytes, since added */
	int rate_down, rate_up;                   /* bytes/s */
	int peers, seeds;
	int hash_failures;        /* pieces from peers that failed their hash
				   * check (a local check that finds bad data
				   * just leaves pieces missing) */
	char error[256];          /* set when state == WS_LT_ERROR */
};

/*
 * ws_lt_status - fill *st with a snapshot.  Errors are libtorrent's torrent
 * error (disk full, file unreadable, v1/v2 hashes describing different
 * data ...), reported as state WS_LT_ERROR with the message in st->error,
 * not as a return code.  The counters come from alerts: call ws_lt_wait.
 */
int ws_lt_status(ws_lt_torrent *t, struct ws_lt_status *st);

/*
 * ws_lt_file_progress - bytes of file index `file` downloaded and verified
 * (whole pieces only: hybrid files never share a piece, so this is exact).
 * WS_ENOTFOUND before metadata, -EINVAL for a bad index.
 */
int ws_lt_file_progress(ws_lt_torrent *t, int file, uint64_t *done);

/*
 * ws_lt_files_progress - ws_lt_file_progress for every file at once (one
 * call into libtorrent, not one per file): done[i] for libtorrent's file
 * index i (pad files count), i < n; entries past the torrent's file count
 * are 0.  WS_ENOTFOUND before metadata.
 */
int ws_lt_files_progress(ws_lt_torrent *t, uint64_t *done, size_t n);

/*
 * ws_lt_file_written - 1 when no piece of libtorrent file index `file`
 * (of any file when file < 0) has blocks still on their way to disk, else
 * 0.  ws_lt_file_progress counts a piece as soon as its hash passes, which
 * libtorrent checks from the blocks it holds in memory, possibly before
 * its disk threads wrote them: until this says 1, the file on disk may
 * hold zeros where such a piece goes (kill -9 then loses the piece).
 * Read a file only once both say it is complete.  WS_ENOTFOUND before
 * metadata, -EINVAL for a bad index.
 */
int ws_lt_file_written(ws_lt_torrent *t, int file);

/*
 * ws_lt_pieces_v2_proven - 1 when every piece the torrent has was checked
 * against the v2 merkle tree: it lies in a file of one piece (checked
 * against the file's pieces root directly), or libtorrent holds the
 * file's whole piece layer (a layer hash is only kept once it is proven
 * against the root, and a piece that came before its layer hash is checked
 * when the hash comes; one that disagrees then stops the torrent with an
 * error).  In a hybrid torrent a piece can pass on its v1 SHA-1 alone
 * while its layer hash is still on the way: this says when that is over.
 * A file with part of its layer counts as unproven until the rest comes
 * (over the v1 connections a fetch makes, a layer comes whole, when the
 * file's last piece is in).  0 before metadata; 1 for a v1-only torrent.
 * Whole layers are kept once seen: libtorrent is asked for them again
 * only when more files are complete (lt.cpp, whole_layers).
 */
int ws_lt_pieces_v2_proven(ws_lt_torrent *t);

/*
 * ws_lt_files_v2_proven - the same, file by file: proven[k] = 1 when
 * every piece of libtorrent file index k that the torrent has is proven,
 * else 0, for k < n (0 for a k past libtorrent's file count, pad files
 * counted).  -EINVAL, WS_ENOTFOUND before metadata, WS_ENETWORK.
 */
int ws_lt_files_v2_proven(ws_lt_torrent *t, unsigned char *proven, size_t n);

/*
 * Pieces from elsewhere (node/fetch_origin.c: an HTTP origin).
 *
 * ws_lt_piece_count - the torrent's number of pieces.  WS_ENOTFOUND
 * before metadata.
 *
 * ws_lt_piece_span - what piece holds: the real (not pad) file of
 * libtorrent index *file, its bytes [*offset, *offset + *len), and the
 * piece's length *piece_len (the bytes ws_lt_add_piece takes: the file's
 * bytes, then zeros for a pad file).  -EINVAL for a bad index.
 *
 * ws_lt_have_pieces - have[i] = 1 for each of the first n pieces the
 * torrent has (verified), 0 otherwise.
 *
 * ws_lt_add_piece - hand a whole piece (len = its piece_len) to
 * libtorrent as if a peer had sent it: it is hash-checked like any piece
 * (a failure counts in hash_failures and the piece stays missing), then
 * written.  A piece the torrent has is left alone.  Returns at once (the
 * data is copied).
 *
 * ws_lt_swarm_data - on = 0: ask peers for no piece (upload mode; the
 * torrent still serves, and takes pieces from ws_lt_add_piece); on = 1:
 * back to normal.
 */
int ws_lt_piece_count(ws_lt_torrent *t, int *npieces);
int ws_lt_piece_span(ws_lt_torrent *t, int piece, int *file, uint64_t *offset,
		     uint32_t *len, uint32_t *piece_len);
int ws_lt_have_pieces(ws_lt_torrent *t, uint8_t *have, int n);
int ws_lt_add_piece(ws_lt_torrent *t, int piece, const uint8_t *data, size_t len);
int ws_lt_swarm_data(ws_lt_torrent *t, int on);
/*
 * ws_lt_save_resume - resume data for t, in libtorrent's format, built from
 * its state (node/lt.cpp says why not with save_resume_data): the pieces
 * passed and written, each file's v2 piece layer when all of it is known,
 * the file priorities, and the info dictionary (so it is usable for
 * magnet-added torrents too).  No 16 KiB block hashes.  *data is malloc'd;
 * the caller frees it.  WS_ENOTFOUND before metadata, WS_ENETWORK when
 * libtorrent could not answer.
 */
int ws_lt_save_resume(ws_lt_torrent *t, uint8_t **data, size_t *len);

/*
 * ws_lt_remove - remove the torrent from the session and free t; files
 * stay on disk.  t must not be used afterwards.
 */
int ws_lt_remove(ws_lt_torrent *t);

/*
 * ws_lt_wait - process libtorrent's alerts for up to timeout_ms (returns
 * sooner when something changed).  Call it regularly: statuses and DHT
 * results are updated from alerts here.  Returns 0.
 */
int ws_lt_wait(ws_lt_session *s, int timeout_ms);

/* ---------------------------------------------------------------------- */
/* DHT mutable items (BEP 44)                                             */

/*
 * Signing callback for a put: sign `msg` (msglen bytes, the BEP 44
 * "4:salt<len>:<salt>3:seqi<seq>e1:v<value>" buffer, the salt part left out
 * when the salt is empty) into sig[64] with the publisher's Ed25519 key
 * (libsodium crypto_sign_detached with its seed||pk secret key).  It is
 * called once, synchronously, from ws_lt_dht_put on the caller's thread
 * (Ed25519 is deterministic, so signing ahead of libtorrent's own get-then-
 * put is equivalent): ctx only has to live for that call.  Return 0 on
 * success.
 */
typedef int (*ws_lt_sign_fn)(void *ctx, const uint8_t *msg, size_t msglen,
			     uint8_t sig[64]);

/*
 * ws_lt_dht_put - put a mutable item: public key pk, salt (NULL or "" for
 * none, at most 64 bytes), sequence seq >= 0, value v (canonical bencoding,
 * at most 1000 bytes).  With sign == NULL the item is re-put as given with
 * the existing signature sig (a mirror keeping a publisher's pointer alive
 * without the key).  Does not wait for completion: libtorrent first looks
 * the item up, then stores it on the closest nodes; nodes refuse a lower
 * seq than they hold and a bad signature.  Errors: -EINVAL, WS_ETOOBIG,
 * WS_EFORMAT (v is not canonical bencoding), WS_ECRYPTO (sign failed),
 * WS_ENETWORK (DHT off).
 */
int ws_lt_dht_put(ws_lt_session *s, const uint8_t pk[32], const char *salt,
		  int64_t seq, const uint8_t *v, size_t vlen,
		  ws_lt_sign_fn sign, void *ctx, const uint8_t sig[64]);

/* One mutable item as received from the DHT; signature already checked
 * by libtorrent against pk. */
struct ws_lt_dht_item {
	uint8_t pk[32];
	char salt[65];
	int64_t seq;
	uint8_t sig[64];
	uint8_t v[1000];
	size_t vlen;
	char from[64];            /* always "": libtorrent 2.0 does not say
				   * which node answered */
};

/*
 * ws_lt_dht_get - look up (pk, salt).  Waits at most timeout_ms for results
 * and returns up to max items in items (distinct (seq, v, sig) values seen,
 * highest seq first; several when nodes disagree).  *n is the count;
 * WS_ETIMEOUT with *n == 0 when nothing came in time, WS_ENOTFOUND with
 * *n == 0 when the lookup finished without finding the item.  Returns as
 * soon as the first valid item arrives when first_only is set, otherwise
 * when the lookup is done (or at the timeout with what came so far, which
 * is then a success).  Processes alerts as ws_lt_wait does.  Items whose
 * value bencodes to more than 1000 bytes are dropped.
 */
int ws_lt_dht_get(ws_lt_session *s, const uint8_t pk[32], const char *salt,
		  int timeout_ms, int first_only, struct ws_lt_dht_item *items,
		  size_t max, size_t *n);

/* ---- evidence between peers (node/evidence.h) ---- */

/* the most bytes one peer's evidence may hold; more is dropped unread */
#define WS_LT_EVIDENCE_MAX 16384

/*
 * ws_lt_evidence_offer - the bytes (len at most WS_LT_EVIDENCE_MAX; 0
 * offers nothing) this session sends, in the BitTorrent extension
 * handshake (key "ws_evidence"), to every peer it meets in t's swarm from
 * now on.  Replaces what was offered before.  Returns 0, -EINVAL.
 */
int ws_lt_evidence_offer(ws_lt_torrent *t, const uint8_t *data, size_t len);

/* One peer's evidence, as it came: untrusted bytes. */
struct ws_lt_blob {
	uint8_t *data;              /* malloc'd */
	size_t len;
};

/*
 * ws_lt_evidence_take - what peers of t sent in their extension handshakes
 * since the last call (at most 64 kept between calls), taken: *out is a
 * malloc'd array of *n blobs (free each data, then the array; *out is NULL
 * when *n is 0).  Nothing in it is checked here.
 */
int ws_lt_evidence_take(ws_lt_torrent *t, struct ws_lt_blob **out, size_t *n);

/*
 * ws_lt_evidence_heard - whether the peer at hostport ("ADDR:PORT", the
 * address this side dialled) has sent t's swarm its extension handshake:
 * 1 it has, with evidence or without (which is then among what
 * ws_lt_evidence_take gives); 2 its connection ended without one (refused,
 * closed, or the peer lacks the torrent: nothing to wait for); 0 not yet,
 * or never dialled; -EINVAL for a bad address.
 */
int ws_lt_evidence_heard(ws_lt_torrent *t, const char *hostport);

#ifdef __cplusplus
}
#endif

#endif
