/*
 * lt.cpp - the C API of node/lt.h over libtorrent-rasterbar 2.0.
 *
 * With node/lt_disk.cpp, the only C++ in the tree.  Every entry point
 * catches exceptions: nothing thrown by libtorrent or the standard library
 * may cross into C.
 */
#include "node/lt.h"
#include "node/lt_disk.hpp"
#include "node/nodelay.h"
#include "node/utp_reset.h"

extern "C" {
#include "proto/error.h"
}

#include <libtorrent/add_torrent_params.hpp>
#include <libtorrent/alert_types.hpp>
#include <libtorrent/bdecode.hpp>
#include <libtorrent/bencode.hpp>
#include <libtorrent/create_torrent.hpp>
#include <libtorrent/entry.hpp>
#include <libtorrent/extensions.hpp>
#include <libtorrent/peer_connection_handle.hpp>
#include <libtorrent/file_storage.hpp>
#include <libtorrent/hex.hpp>
#include <libtorrent/ip_filter.hpp>
#include <libtorrent/magnet_uri.hpp>
#include <libtorrent/read_resume_data.hpp>
#include <libtorrent/session.hpp>
#include <libtorrent/session_params.hpp>
#include <libtorrent/session_stats.hpp>
#include <libtorrent/settings_pack.hpp>
#include <libtorrent/socket.hpp>
#include <libtorrent/torrent_handle.hpp>
#include <libtorrent/torrent_info.hpp>
#include <libtorrent/torrent_status.hpp>
#include <libtorrent/write_resume_data.hpp>

#include <algorithm>
#include <fcntl.h>
#include <unistd.h>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <map>
#include <memory>
#include <condition_variable>
#include <mutex>
#include <new>
#include <string>
#include <thread>
#include <atomic>
#include <vector>

namespace lt = libtorrent;
using steady = std::chrono::steady_clock;

#define WS_LT_BLOCK 16384
#define WS_LT_DHT_MAX_V 1000
#define WS_LT_DHT_MAX_SALT 64
#define WS_LT_TORRENT_MAX_BYTES (64 * 1024 * 1024)
#define WS_LT_TORRENT_MAX_PIECES (4 * 1024 * 1024)

/* ---------------------------------------------------------------------- */
/* State                                                                  */

struct ws_lt_torrent {
	ws_lt_session *s;
	lt::torrent_handle h;
	int hash_failures;
	std::string error;           /* last torrent/file error from alerts */
	/* pieces libtorrent reported passed and written (piece_finished_alert),
	 * for ws_lt_save_resume */
	lt::typed_bitfield<lt::piece_index_t> written;
	/* payload counted before the last ws_lt_pause (libtorrent restarts
	 * its counters when a torrent resumes) */
	std::int64_t down_base, up_base;
	/* the peers this side had dialed when ws_lt_pause dropped them, for
	 * ws_lt_force_recheck to dial again (s->mu) */
	std::vector<lt::tcp::endpoint> dialed;
	/* whole piece layers by file, kept once whole (whole_layers), and
	 * how many files were complete when libtorrent was last asked */
	std::mutex layers_mu;
	std::vector<std::vector<lt::sha256_hash>> layers;
	int layers_asked_at = -1;
};

/* Results of one DHT lookup, keyed by pk || salt. */
struct dht_lookup {
	bool done;                   /* the authoritative answer came */
	std::vector<struct ws_lt_dht_item> items;
};

/*
 * Evidence in the extension handshake (node/evidence.h).  The plugin's
 * callbacks run on libtorrent's network thread; the C side offers and
 * takes through this state under its mutex, keyed by the torrent's best
 * info-hash.  The handshake is sent before anything else on a connection,
 * so a peer's evidence is in before its metadata or data.
 */
struct evidence_state {
	std::mutex mu;
	std::map<lt::sha1_hash, std::string> offers;
	std::map<lt::sha1_hash, std::vector<std::string>> received;
	/* per peer: 1 its extension handshake came (evidence or not), 2 its
	 * connection ended without one (ws_lt_evidence_heard) */
	std::map<lt::sha1_hash, std::map<lt::tcp::endpoint, int>> heard;
};

namespace {
struct evidence_peer final : lt::peer_plugin {
	std::shared_ptr<evidence_state> st;
	lt::sha1_hash ih;
	lt::tcp::endpoint remote;
	evidence_peer(std::shared_ptr<evidence_state> s, lt::sha1_hash h,
		      lt::tcp::endpoint ep)
		: st(std::move(s)), ih(h), remote(ep) {}
	/* under st->mu; a handshake is not undone by the end of its
	 * connection.  Bounded: a seeding node meets many peers */
	void note(int what)
	{
		auto &who = st->heard[ih];
		auto it = who.find(remote);
		if (it != who.end()) {
			if (what == 1)
				it->second = 1;
		} else if (who.size() < 4096) {
			who.emplace(remote, what);
		}
	}
	void on_disconnect(lt::error_code const &) override
	{
		std::lock_guard<std::mutex> g(st->mu);
		note(2);
	}
	void add_handshake(lt::entry &h) override
	{
		std::lock_guard<std::mutex> g(st->mu);
		auto it = st->offers.find(ih);
		if (it != st->offers.end() && !it->second.empty())
			h["ws_evidence"] = it->second;
	}
	bool on_extension_handshake(lt::bdecode_node const &h) override
	{
		if (h.type() != lt::bdecode_node::dict_t)
			return true;
		lt::string_view v = h.dict_find_string_value("ws_evidence");
		std::lock_guard<std::mutex> g(st->mu);
		note(1);
		if (!v.empty() && v.size() <= WS_LT_EVIDENCE_MAX) {
			auto &q = st->received[ih];
			if (q.size() < 64)
				q.emplace_back(v.data(), v.size());
		}
		return true;
	}
};

struct evidence_torrent final : lt::torrent_plugin {
	std::shared_ptr<evidence_state> st;
	lt::sha1_hash ih;
	evidence_torrent(std::shared_ptr<evidence_state> s, lt::sha1_hash h)
		: st(std::move(s)), ih(h) {}
	std::shared_ptr<lt::peer_plugin> new_connection(lt::peer_connection_handle const &pc) override
	{
		return std::make_shared<evidence_peer>(st, ih, pc.remote());
	}
};

struct evidence_plugin final : lt::plugin {
	std::shared_ptr<evidence_state> st;
	explicit evidence_plugin(std::shared_ptr<evidence_state> s) : st(std::move(s)) {}
	std::shared_ptr<lt::torrent_plugin> new_torrent(lt::torrent_handle const &h,
							lt::client_data_t) override
	{
		/* info_hashes() reads the torrent directly: safe on this thread */
		return std::make_shared<evidence_torrent>(st, h.info_hashes().get_best());
	}
};
}

struct ws_lt_session {
	/* with defer_start: the io_context the session runs on, the thread
	 * that runs it (started by start_network), and what to do then */
	std::unique_ptr<lt::io_context> ioc;
	std::thread net;
	std::atomic<bool> net_done{false};
	bool started;
	std::string listen_desc;
	std::vector<std::string> bootstrap;
	std::vector<lt::tcp::endpoint> first_peers;
	/* the first add_torrent_alert, for a torrent added before the start */
	bool first_added;
	lt::torrent_handle first_handle;
	lt::error_code first_error;

	/* the shim's own state below (torrents, lookups, counters, and what
	 * alerts write into each ws_lt_torrent) is shared by every thread
	 * using the session: held by every entry point that reads or writes
	 * it, let go while waiting for alerts (pump) */
	std::mutex mu;
	/* one thread at a time waits on libtorrent (pumping); the others
	 * wait on cv for alerts_seen to move, so none sleeps through the
	 * alert it waits for because another thread popped it */
	bool pumping;
	unsigned long alerts_seen;
	std::condition_variable cv;
	std::unique_ptr<lt::session> ses;
	/* torrents added WS_LT_COMPLETE, for the disk layer */
	std::shared_ptr<ws_disk::complete_set> complete;
	std::shared_ptr<evidence_state> evidence;
	std::vector<std::unique_ptr<ws_lt_torrent>> torrents;
	/* lookups under way, by pk || salt; several threads may look the
	 * same item up at once, each with its own entry */
	std::multimap<std::string, dht_lookup *> lookups;
	bool listen_ok;
	std::string listen_error;
	/* last session_stats_alert, and how many have come */
	std::vector<std::int64_t> counters;
	unsigned stats_seq;
	/* ws_lt_config.peer_log, open for appending; NULL: no log */
	FILE *peer_log = nullptr;
	~ws_lt_session() { if (peer_log) fclose(peer_log); }
};

/* ---------------------------------------------------------------------- */
/* Small helpers                                                          */

/* ws_seterr() takes a format; messages from libtorrent may hold '%'. */
static int set_msg(char **msg, int code, const std::string &text)
{
	return ws_seterr(msg, code, "%s", text.c_str());
}

static int copy_out(const std::vector<char> &buf, uint8_t **data, size_t *len)
{
	uint8_t *p = static_cast<uint8_t *>(malloc(buf.empty() ? 1 : buf.size()));
	if (!p)
		return -ENOMEM;
	if (!buf.empty())
		memcpy(p, buf.data(), buf.size());
	*data = p;
	*len = buf.size();
	return 0;
}

static int ms_left(steady::time_point deadline)
{
	auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
		deadline - steady::now()).count();
	return left > 0 ? static_cast<int>(left) : 0;
}

/*
 * Split "host:port" or "[v6]:port".  Port must be 1..65535.
 */
static bool split_hostport(const char *hp, std::string &host, int &port)
{
	if (!hp)
		return false;
	std::string s(hp);
	size_t colon = s.rfind(':');
	if (colon == std::string::npos || colon == 0 || colon + 1 == s.size())
		return false;
	host = s.substr(0, colon);
	if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
		host = host.substr(1, host.size() - 2);
	else if (host.find(':') != std::string::npos)
		return false;                 /* bare IPv6 is ambiguous */
	if (host.empty())
		return false;
	char *end = nullptr;
	errno = 0;
	long p = strtol(s.c_str() + colon + 1, &end, 10);
	if (errno || *end || p < 1 || p > 65535)
		return false;
	port = static_cast<int>(p);
	return true;
}

/* "IP:PORT" (no name lookup) -> ep; false when it is not one */
static bool parse_endpoint(const char *hp, lt::tcp::endpoint &ep)
{
	std::string host;
	int port;
	lt::error_code ec;

	if (!split_hostport(hp, host, port))
		return false;
	lt::address addr = lt::make_address(host, ec);
	if (ec)
		return false;
	ep = lt::tcp::endpoint(addr, static_cast<std::uint16_t>(port));
	return true;
}

/*
 * A relative torrent path: components separated by single '/', none empty,
 * ".", ".." or holding a backslash or NUL (NUL cannot occur in a C string).
 */
static bool split_path(const char *path, std::vector<std::string> &out)
{
	out.clear();
	if (!path || !*path)
		return false;
	std::string cur;
	for (const char *p = path;; p++) {
		if (*p == '/' || *p == '\0') {
			if (cur.empty() || cur == "." || cur == "..")
				return false;
			out.push_back(cur);
			cur.clear();
			if (*p == '\0')
				break;
		} else if (*p == '\\') {
			return false;
		} else {
			cur += *p;
		}
	}
	return true;
}

/*
 * libtorrent's canonical order (file_storage::canonicalize, path_compare):
 * component by component, each compared as bytes.  std::string::compare
 * uses char_traits<char>, which compares as unsigned char.
 */
static bool path_less(const std::vector<std::string> &a,
		      const std::vector<std::string> &b)
{
	return std::lexicographical_compare(a.begin(), a.end(),
					    b.begin(), b.end(),
		[](const std::string &x, const std::string &y) {
			return x.compare(y) < 0;
		});
}

/* ---------------------------------------------------------------------- */
/* Torrent building                                                       */

extern "C" int ws_lt_torrent_order(const char *const *paths, size_t n,
				   size_t *order)
{
	try {
		std::vector<std::vector<std::string>> comp(n);
		for (size_t i = 0; i < n; i++)
			if (!split_path(paths[i], comp[i]))
				return WS_EPATH;
		std::vector<size_t> idx(n);
		for (size_t i = 0; i < n; i++)
			idx[i] = i;
		std::stable_sort(idx.begin(), idx.end(),
			[&](size_t a, size_t b) {
				return path_less(comp[a], comp[b]);
			});
		std::copy(idx.begin(), idx.end(), order);
		return 0;
	} catch (const std::bad_alloc &) {
		return -ENOMEM;
	} catch (...) {
		return -EINVAL;
	}
}

static int build_validate(const struct ws_lt_file *files, size_t nfiles,
			  uint32_t piece_size, const char *name,
			  std::map<std::string, size_t> &by_path, char **msg)
{
	std::vector<std::string> comp;

	if (nfiles == 0)
		return ws_seterr(msg, -EINVAL, "no files");
	if (piece_size < WS_LT_BLOCK || (piece_size & (piece_size - 1)) ||
	    piece_size > (1u << 30))
		return ws_seterr(msg, -EINVAL, "bad piece size %u", piece_size);
	if (!split_path(name, comp) || comp.size() != 1)
		return ws_seterr(msg, WS_EPATH, "bad torrent name '%s'",
				 name ? name : "");
	for (size_t i = 0; i < nfiles; i++) {
		const struct ws_lt_file *f = &files[i];
		uint64_t npieces = (f->size + piece_size - 1) / piece_size;

		if (!split_path(f->path, comp))
			return ws_seterr(msg, WS_EPATH, "bad path '%s'",
					 f->path ? f->path : "");
		if (!by_path.emplace(f->path, i).second)
			return ws_seterr(msg, WS_EEXIST, "duplicate path '%s'",
					 f->path);
		if (f->size == 0)
			continue;
		if (!f->pieces_root || !f->v1_pieces ||
		    (npieces > 1 && !f->v2_pieces))
			return ws_seterr(msg, -EINVAL, "missing hashes for '%s'",
					 f->path);
	}
	return 0;
}

/*
 * Hand the caller's hashes to create_torrent.  ct has already put the files
 * in canonical order and inserted pad files; match them back by path.
 */
static int build_set_hashes(lt::create_torrent &ct,
			    const struct ws_lt_file *files,
			    const std::map<std::string, size_t> &by_path,
			    const std::string &prefix, char **msg)
{
	lt::file_storage const &fs = ct.files();
	std::int64_t const plen = fs.piece_length();

	for (lt::file_index_t i : fs.file_range()) {
		if (fs.pad_file_at(i) || fs.file_size(i) == 0)
			continue;
		std::string p = fs.file_path(i);
		if (p.compare(0, prefix.size(), prefix) != 0)
			return ws_seterr(msg, WS_EFORMAT, "unexpected path '%s'",
					 p.c_str());
		auto it = by_path.find(p.substr(prefix.size()));
		if (it == by_path.end())
			return ws_seterr(msg, WS_EFORMAT, "unexpected path '%s'",
					 p.c_str());
		const struct ws_lt_file *f = &files[it->second];
		std::int64_t const npieces = (fs.file_size(i) + plen - 1) / plen;
		lt::peer_request const start = fs.map_file(i, 0, 0);

		/* BEP 52 alignment: every file starts a piece */
		if (start.start != 0)
			return ws_seterr(msg, WS_EFORMAT,
					 "'%s' is not piece aligned", f->path);
		for (std::int64_t k = 0; k < npieces; k++) {
			lt::piece_index_t pi(static_cast<int>(start.piece) +
					     static_cast<int>(k));
			ct.set_hash(pi, lt::sha1_hash(reinterpret_cast<const char *>(
				f->v1_pieces + 20 * k)));
		}
		/*
		 * A file of one piece has no piece layer: create_torrent takes
		 * the single "piece hash" as the root, so it must be the root
		 * (over the file's own blocks), not the piece-sized subtree.
		 */
		if (npieces == 1) {
			ct.set_hash2(i, 0, lt::sha256_hash(
				reinterpret_cast<const char *>(f->pieces_root)));
			continue;
		}
		for (std::int64_t k = 0; k < npieces; k++)
			ct.set_hash2(i, static_cast<int>(k), lt::sha256_hash(
				reinterpret_cast<const char *>(f->v2_pieces + 32 * k)));
	}
	return 0;
}

/* The roots create_torrent computed from the piece layers must be the
 * caller's: a mismatch means the caller's hashes are inconsistent. */
static int build_check_roots(const lt::torrent_info &ti,
			     const struct ws_lt_file *files,
			     const std::map<std::string, size_t> &by_path,
			     const std::string &prefix, char **msg)
{
	lt::file_storage const &fs = ti.files();

	for (lt::file_index_t i : fs.file_range()) {
		if (fs.pad_file_at(i) || fs.file_size(i) == 0)
			continue;
		auto it = by_path.find(fs.file_path(i).substr(prefix.size()));
		if (it == by_path.end())
			return ws_seterr(msg, WS_EFORMAT, "file list changed");
		const struct ws_lt_file *f = &files[it->second];
		lt::sha256_hash want(reinterpret_cast<const char *>(f->pieces_root));
		if (fs.root(i) != want)
			return ws_seterr(msg, WS_EBADHASH,
					 "pieces root of '%s' does not match its piece layer",
					 f->path);
	}
	return 0;
}

extern "C" int ws_lt_torrent_build(const struct ws_lt_file *files,
				   size_t nfiles, uint32_t piece_size,
				   const char *name,
				   const char *const *web_seeds,
				   size_t n_web_seeds, uint8_t **torrent,
				   size_t *len, uint8_t info_v2[32],
				   uint8_t info_v1[20], char **msg)
{
	try {
		std::map<std::string, size_t> by_path;
		int ret = build_validate(files, nfiles, piece_size, name,
					 by_path, msg);
		if (ret)
			return ret;

		std::string const prefix = std::string(name) + "/";
		lt::file_storage fs;
		for (size_t i = 0; i < nfiles; i++)
			fs.add_file(prefix + files[i].path,
				    static_cast<std::int64_t>(files[i].size));

		/* neither v1_only nor v2_only: hybrid.  The constructor sorts
		 * the files and inserts pad files (canonicalize). */
		lt::create_torrent ct(fs, static_cast<int>(piece_size));
		ct.set_creation_date(0);
		ret = build_set_hashes(ct, files, by_path, prefix, msg);
		if (ret)
			return ret;
		for (size_t i = 0; i < n_web_seeds; i++) {
			if (!web_seeds[i] || !*web_seeds[i])
				return ws_seterr(msg, -EINVAL, "empty web seed");
			ct.add_url_seed(web_seeds[i]);
		}

		std::vector<char> buf;
		try {
			buf = ct.generate_buf();
		} catch (const std::system_error &e) {
			return set_msg(msg, WS_EFORMAT,
				       std::string("cannot create torrent: ") + e.what());
		}

		lt::error_code ec;
		lt::torrent_info ti(lt::span<char const>(buf), ec, lt::from_span);
		if (ec)
			return set_msg(msg, WS_EFORMAT,
				       "created torrent does not parse: " + ec.message());
		ret = build_check_roots(ti, files, by_path, prefix, msg);
		if (ret)
			return ret;
		lt::info_hash_t const ih = ti.info_hashes();
		if (!ih.has_v1() || !ih.has_v2())
			return ws_seterr(msg, WS_EFORMAT, "torrent is not hybrid");

		ret = copy_out(buf, torrent, len);
		if (ret)
			return ret;
		memcpy(info_v2, ih.v2.data(), 32);
		memcpy(info_v1, ih.v1.data(), 20);
		return 0;
	} catch (const std::bad_alloc &) {
		return -ENOMEM;
	} catch (const std::exception &e) {
		/* create_torrent and set_hash* throw on layouts v2 cannot
		 * express, such as a file and a directory of one name */
		return set_msg(msg, WS_EFORMAT,
			       std::string("cannot create torrent: ") + e.what());
	}
}

/* ---------------------------------------------------------------------- */
/* Alerts                                                                 */

static ws_lt_torrent *find_torrent(ws_lt_session *s, const lt::torrent_handle &h)
{
	for (auto &t : s->torrents)
		if (t->h == h)
			return t.get();
	return nullptr;
}

static std::string lookup_key(const std::array<char, 32> &pk,
			      const std::string &salt)
{
	return std::string(pk.data(), pk.size()) + salt;
}

static void dht_lookup_add(dht_lookup &l, const lt::dht_mutable_item_alert *a);

/* nobody may be asking (any more): then the item is dropped */
static void on_dht_item(ws_lt_session *s, const lt::dht_mutable_item_alert *a)
{
	auto range = s->lookups.equal_range(lookup_key(a->key, a->salt));
	for (auto it = range.first; it != range.second; ++it)
		dht_lookup_add(*it->second, a);
}

static void dht_lookup_add(dht_lookup &l, const lt::dht_mutable_item_alert *a)
{
	if (a->authoritative)
		l.done = true;

	/* the final answer of a lookup that found nothing is an empty item */
	static const std::array<char, 64> zero_sig{};
	if (a->item.type() == lt::entry::undefined_t || a->signature == zero_sig)
		return;

	std::vector<char> v;
	lt::bencode(std::back_inserter(v), a->item);
	if (v.size() > WS_LT_DHT_MAX_V || a->salt.size() > WS_LT_DHT_MAX_SALT)
		return;

	struct ws_lt_dht_item item;
	memset(&item, 0, sizeof(item));
	memcpy(item.pk, a->key.data(), 32);
	memcpy(item.salt, a->salt.data(), a->salt.size());
	item.seq = a->seq;
	memcpy(item.sig, a->signature.data(), 64);
	memcpy(item.v, v.data(), v.size());
	item.vlen = v.size();
	for (const auto &o : l.items)
		if (o.seq == item.seq && o.vlen == item.vlen &&
		    !memcmp(o.v, item.v, item.vlen) && !memcmp(o.sig, item.sig, 64))
			return;
	l.items.push_back(item);
}

/* One line per peer event, for ws_lt_config.peer_log: when, and libtorrent's
 * own description (it names the torrent, the peer and the reason). */
static void log_peer_event(ws_lt_session *s, lt::alert *a)
{
	switch (a->type()) {
	case lt::peer_connect_alert::alert_type:
	case lt::incoming_connection_alert::alert_type:
	case lt::peer_disconnected_alert::alert_type:
	case lt::peer_error_alert::alert_type:
	case lt::peer_ban_alert::alert_type:
	case lt::peer_snubbed_alert::alert_type:
	case lt::hash_failed_alert::alert_type:
		break;
	default:
		return;
	}
	auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
		std::chrono::system_clock::now().time_since_epoch()).count();
	time_t sec = static_cast<time_t>(ms / 1000);
	struct tm tm;
	char when[32];
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", gmtime_r(&sec, &tm));
	fprintf(s->peer_log, "%s.%03dZ %s %s\n", when, static_cast<int>(ms % 1000),
		a->what(), a->message().c_str());
	fflush(s->peer_log);
}

/* Alert pointers die at the next pop_alerts(): copy everything out here. */
static void handle_alert(ws_lt_session *s, lt::alert *a)
{
	if (s->peer_log)
		log_peer_event(s, a);
	if (auto *x = lt::alert_cast<lt::add_torrent_alert>(a)) {
		if (!s->first_added) {
			s->first_added = true;
			s->first_handle = x->handle;
			s->first_error = x->error;
		}
		return;
	}

	if (auto *x = lt::alert_cast<lt::piece_finished_alert>(a)) {
		/* posted from torrent::we_have: passed and written */
		if (ws_lt_torrent *t = find_torrent(s, x->handle)) {
			if (t->written.end_index() <= x->piece_index)
				t->written.resize(static_cast<int>(x->piece_index) + 1, false);
			t->written.set_bit(x->piece_index);
		}
	} else if (auto *x = lt::alert_cast<lt::hash_failed_alert>(a)) {
		if (ws_lt_torrent *t = find_torrent(s, x->handle))
			t->hash_failures++;
	} else if (auto *x = lt::alert_cast<lt::torrent_error_alert>(a)) {
		if (ws_lt_torrent *t = find_torrent(s, x->handle))
			t->error = x->message();
	} else if (auto *x = lt::alert_cast<lt::file_error_alert>(a)) {
		if (ws_lt_torrent *t = find_torrent(s, x->handle))
			t->error = x->message();
	} else if (auto *x = lt::alert_cast<lt::dht_mutable_item_alert>(a)) {
		on_dht_item(s, x);
	} else if (auto *x = lt::alert_cast<lt::session_stats_alert>(a)) {
		auto c = x->counters();
		s->counters.assign(c.begin(), c.end());
		s->stats_seq++;
	} else if (auto *x = lt::alert_cast<lt::listen_succeeded_alert>(a)) {
		if (x->socket_type == lt::socket_type_t::tcp)
			s->listen_ok = true;
	} else if (auto *x = lt::alert_cast<lt::listen_failed_alert>(a)) {
		s->listen_error = x->message();
	}
}

using lock_t = std::unique_lock<std::mutex>;

/*
 * Wait up to ms for alerts and handle every one that is queued.  lk holds
 * s->mu; it is let go during the wait, so other threads use the session
 * meanwhile.  When several threads pump, one waits on libtorrent and
 * handles what comes for all; the others wake as soon as it has, and find
 * their answers in the shared state.
 */
static void pump(ws_lt_session *s, int ms, lock_t &lk)
{
	std::vector<lt::alert *> alerts;

	if (s->pumping) {
		/* another thread waits on libtorrent: wake when it has handled
		 * what came (its alerts may be ours) */
		unsigned long const seen = s->alerts_seen;
		s->cv.wait_for(lk, std::chrono::milliseconds(ms),
			       [s, seen] { return s->alerts_seen != seen || !s->pumping; });
		if (s->pumping || s->alerts_seen != seen)
			return;
		ms = 0; /* it gave up pumping: look at the queue ourselves */
	}
	s->pumping = true;
	lk.unlock();
	try {
		s->ses->wait_for_alert(std::chrono::milliseconds(ms));
	} catch (...) {
		lk.lock();
		s->pumping = false;
		s->cv.notify_all();
		throw;
	}
	lk.lock();
	s->pumping = false;
	/* alert pointers die at the next pop_alerts: handled under the lock */
	s->ses->pop_alerts(&alerts);
	for (lt::alert *a : alerts)
		handle_alert(s, a);
	s->alerts_seen++;
	s->cv.notify_all();
}

/*
 * Run the session's network: with defer_start, start the thread that runs
 * its io_context; then wait (at most 5 s) for the TCP listen socket and
 * add the DHT nodes.  Done once; later calls return 0.  lk holds s->mu.
 */
static int start_network(ws_lt_session *s, char **msg, lock_t &lk)
{
	if (s->started)
		return 0;
	s->started = true;
	if (s->ioc) {
		lt::io_context *ioc = s->ioc.get();
		std::atomic<bool> *done = &s->net_done;
		s->net = std::thread([ioc, done] {
			ioc->run();
			done->store(true);
		});
	}
	auto deadline = steady::now() + std::chrono::seconds(5);
	while (!s->listen_ok && steady::now() < deadline) {
		pump(s, std::min(ms_left(deadline), 100), lk);
		if (!s->listen_error.empty() && !s->listen_ok)
			break;
	}
	if (!s->listen_ok)
		return set_msg(msg, WS_ENETWORK, "cannot listen on '" + s->listen_desc +
			       "': " + (s->listen_error.empty() ? "timed out"
					: s->listen_error));
	for (const std::string &b : s->bootstrap) {
		std::string host;
		int port;
		if (split_hostport(b.c_str(), host, port))
			s->ses->add_dht_node({host, port});
	}
	return 0;
}

/* The session, its network running (a deferred one starts here).  lk
 * holds s->mu. */
static lt::session &live(ws_lt_session *s, lock_t &lk)
{
	if (!s->started)
		start_network(s, nullptr, lk);
	return *s->ses;
}

extern "C" int ws_lt_wait(ws_lt_session *s, int timeout_ms)
{
	try {
		lock_t lk(s->mu);
		live(s, lk);
		pump(s, timeout_ms > 0 ? timeout_ms : 0, lk);
		return 0;
	} catch (const std::bad_alloc &) {
		return -ENOMEM;
	} catch (...) {
		return WS_ENETWORK;
	}
}

/* ---------------------------------------------------------------------- */
/* Sessions                                                               */

static lt::settings_pack make_settings(const struct ws_lt_config *cfg)
{
	lt::settings_pack sp;
	using S = lt::settings_pack;

	sp.set_str(S::listen_interfaces, cfg->listen ? cfg->listen : "0.0.0.0:0");

	/* uTP on loopback/LAN is ~25x slower than TCP (FACTS.md): off in a
	 * private swarm.  On the internet it is what many clients try first
	 * (qBittorrent's default is "TCP and uTP", and it stalls ~5 s on a
	 * node that refuses uTP), so it is on there, with libtorrent's mixed
	 * mode sharing the link fairly with TCP. */
	sp.set_bool(S::enable_outgoing_utp, !cfg->private_network);
	sp.set_bool(S::enable_incoming_utp, !cfg->private_network);
	sp.set_int(S::mixed_mode_algorithm, S::peer_proportional);

	sp.set_bool(S::enable_dht, cfg->enable_dht != 0);
	/* routers in this list never enter the routing table, and the default
	 * one is on the internet: empty unless asked for */
	if (!cfg->public_bootstrap)
		sp.set_str(S::dht_bootstrap_nodes, "");
	sp.set_bool(S::enable_upnp, cfg->enable_upnp != 0);
	sp.set_bool(S::enable_natpmp, cfg->enable_natpmp != 0);
	sp.set_bool(S::enable_lsd, cfg->enable_lsd != 0);

	if (cfg->private_network) {
		/* Sybil defences keep one node per /24 and one peer per IP:
		 * a loopback or LAN swarm is all in one /24 */
		sp.set_bool(S::dht_restrict_routing_ips, false);
		sp.set_bool(S::dht_restrict_search_ips, false);
		sp.set_bool(S::dht_prefer_verified_node_ids, false);
		sp.set_bool(S::allow_multiple_connections_per_ip, true);
		/* a handful of local nodes exchange far more than 5 packets/s
		 * each during a lookup; the default bans them */
		sp.set_int(S::dht_block_ratelimit, 1000);
		/* peers restart often in tests; 60 s back-off is too long */
		sp.set_int(S::min_reconnect_time, 1);
		sp.set_int(S::peer_connect_timeout, 5);
	}

	/* libtorrent connects to new peers, unchokes and re-requests on its
	 * tick: at the default 500 ms, the metadata, manifest and data phases
	 * of a small fetch each wait for ticks (docs/datapath.md) */
	sp.set_int(S::tick_interval, 100);

	/* throughput tuning measured in FACTS.md */
	sp.set_int(S::send_buffer_watermark, 4 * 1024 * 1024);
	sp.set_int(S::send_buffer_watermark_factor, 150);
	sp.set_int(S::max_queued_disk_bytes, 16 * 1024 * 1024);
	sp.set_int(S::aio_threads, 4);
	sp.set_int(S::hashing_threads, 2);
	sp.set_int(S::max_out_request_queue, 1500);

	sp.set_int(S::upload_rate_limit, std::max(cfg->upload_rate_limit, 0));
	sp.set_int(S::download_rate_limit, std::max(cfg->download_rate_limit, 0));

	/* a fetch wants the manifest files first and the model files after:
	 * between the two phases the torrent is briefly "finished", and with
	 * this on libtorrent would drop every seed and only dial again after
	 * min_reconnect_time (about 2.5 s lost per fetch, measured) */
	sp.set_bool(S::close_redundant_connections, false);

	/* shutdown waits for tracker "stopped" announces: keep it bounded */
	sp.set_int(S::stop_tracker_timeout, 1);

	sp.set_int(S::alert_mask, static_cast<int>(static_cast<std::uint32_t>(
		lt::alert_category::status | lt::alert_category::error |
		lt::alert_category::piece_progress |
		lt::alert_category::storage | lt::alert_category::dht |
		(cfg->peer_log ? lt::alert_category::peer | lt::alert_category::connect :
		 lt::alert_category_t{}))));
	return sp;
}

extern "C" int ws_lt_session_new(const struct ws_lt_config *cfg,
				 ws_lt_session **out, char **msg)
{
	ws_lt_session *s = nullptr;

	if (!cfg || !out)
		return -EINVAL;
	try {
		std::unique_ptr<ws_lt_session> sp(new ws_lt_session());
		s = sp.get();
		s->listen_ok = false;
		s->stats_seq = 0;
		s->started = false;
		s->first_added = false;
		s->pumping = false;
		s->alerts_seen = 0;
		if (cfg->peer_log && !(s->peer_log = fopen(cfg->peer_log, "ae")))
			return ws_seterr(msg, -errno, "cannot open the peer log '%s': %s",
					 cfg->peer_log, strerror(errno));

		lt::session_params params(make_settings(cfg));
		s->complete = std::make_shared<ws_disk::complete_set>();
		params.disk_io_constructor = ws_disk::constructor(
			cfg->disk_io == WS_LT_DISK_POSIX ? ws_disk::mode::posix :
			cfg->disk_io == WS_LT_DISK_MMAP ? ws_disk::mode::mmap :
			ws_disk::mode::split, s->complete);
		/* Nagle off on every peer connection (node/nodelay.c) */
		(void)ws_nodelay_linked();
		/* uTP refused: connection attempts get a reset, not silence
		 * (node/utp_reset.c) */
		ws_utp_reset_refused(cfg->private_network);
		s->listen_desc = cfg->listen ? cfg->listen : "0.0.0.0:0";
		for (size_t i = 0; i < cfg->n_bootstrap; i++) {
			std::string host;
			int port;
			if (!cfg->bootstrap[i] || !split_hostport(cfg->bootstrap[i], host, port))
				return ws_seterr(msg, -EINVAL, "bad DHT node '%s'",
						 cfg->bootstrap[i] ? cfg->bootstrap[i] : "");
			s->bootstrap.push_back(cfg->bootstrap[i]);
		}
		s->evidence = std::make_shared<evidence_state>();
		params.extensions.push_back(std::make_shared<evidence_plugin>(s->evidence));
		if (cfg->defer_start) {
			for (size_t i = 0; i < cfg->n_first_peers; i++) {
				lt::tcp::endpoint ep;
				if (parse_endpoint(cfg->first_peers[i], ep))
					s->first_peers.push_back(ep);
			}
			/* the session runs on our thread, started later
			 * (start_network): nothing runs until then */
			s->ioc.reset(new lt::io_context(1));
			s->ses.reset(new lt::session(std::move(params), *s->ioc));
		} else {
			s->ses.reset(new lt::session(std::move(params)));
		}
		if (cfg->upload_rate_limit > 0 || cfg->download_rate_limit > 0) {
			/* libtorrent exempts peers on the local network from the
			 * session's rate limits (they go to its "local" peer
			 * class); a limit the user asked for covers every peer */
			lt::ip_filter f;
			std::uint32_t const global = 1u << static_cast<std::uint32_t>(
				lt::session::global_peer_class_id);
			f.add_rule(lt::make_address("0.0.0.0"),
				   lt::make_address("255.255.255.255"), global);
			f.add_rule(lt::make_address("::"),
				   lt::make_address("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
				   global);
			s->ses->set_peer_class_filter(f);
		}
		if (!cfg->defer_start) {
			lock_t lk(s->mu);
			int ret = start_network(s, msg, lk);
			if (ret)
				return ret;
		}
		*out = sp.release();
		return 0;
	} catch (const std::bad_alloc &) {
		return -ENOMEM;
	} catch (const std::exception &e) {
		return set_msg(msg, WS_ENETWORK, e.what());
	}
}

extern "C" void ws_lt_session_free(ws_lt_session *s)
{
	if (!s)
		return;
	try {
		s->torrents.clear();
		if (s->ses) {
			/* a deferred session that never started: start it, so
			 * that its shutdown runs */
			{
				lock_t lk(s->mu);
				live(s, lk);
			}
			/* abort() starts the shutdown without blocking.  The
			 * proxy keeps the session's internals alive until the
			 * network thread is done with them: its destructor joins
			 * libtorrent's own thread; for a deferred session the
			 * proxy must outlive our thread (handlers still refer to
			 * the internals while the loop winds down) */
			lt::session_proxy proxy = s->ses->abort();
			s->ses.reset();
			if (s->net.joinable()) {
				auto deadline = steady::now() + std::chrono::seconds(5);
				while (!s->net_done.load() && steady::now() < deadline)
					std::this_thread::sleep_for(std::chrono::milliseconds(2));
				if (!s->net_done.load())
					s->ioc->stop();  /* bounded, as libtorrent's is */
				s->net.join();
			}
		}
	} catch (...) {
	}
	delete s;
}

extern "C" int ws_lt_listen_port(ws_lt_session *s)
{
	try {
		lock_t lk(s->mu);
		return live(s, lk).listen_port();
	} catch (...) {
		return 0;
	}
}

extern "C" int ws_lt_add_dht_node(ws_lt_session *s, const char *hostport)
{
	std::string host;
	int port;

	if (!split_hostport(hostport, host, port))
		return -EINVAL;
	try {
		s->ses->add_dht_node({host, port});
		return 0;
	} catch (const std::bad_alloc &) {
		return -ENOMEM;
	} catch (...) {
		return WS_ENETWORK;
	}
}

extern "C" int ws_lt_session_stats(ws_lt_session *s,
				   struct ws_lt_session_stats *st)
{
	try {
		static const int i_nodes = lt::find_metric_idx("dht.dht_nodes");
		static const int i_up = lt::find_metric_idx("net.sent_payload_bytes");
		static const int i_down = lt::find_metric_idx("net.recv_payload_bytes");
		static const int i_peers = lt::find_metric_idx("peer.num_peers_connected");

		lock_t lk(s->mu);
		unsigned const want = s->stats_seq + 1;
		live(s, lk).post_session_stats();
		auto deadline = steady::now() + std::chrono::seconds(2);
		while (s->stats_seq < want && steady::now() < deadline)
			pump(s, std::min(ms_left(deadline), 100), lk);
		if (s->stats_seq < want)
			return WS_ETIMEOUT;

		auto get = [&](int i) -> std::int64_t {
			return i >= 0 && i < static_cast<int>(s->counters.size())
				? s->counters[i] : 0;
		};
		st->dht_nodes = static_cast<int>(get(i_nodes));
		st->bytes_up = static_cast<uint64_t>(get(i_up));
		st->bytes_down = static_cast<uint64_t>(get(i_down));
		st->peers = static_cast<int>(get(i_peers));
		return 0;
	} catch (const std::bad_alloc &) {
		return -ENOMEM;
	} catch (...) {
		return WS_ENETWORK;
	}
}

/* ---------------------------------------------------------------------- */
/* Torrents                                                               */

static int add_params(ws_lt_session *s, lt::add_torrent_params &p,
		      ws_lt_torrent **out, char **msg)
{
	/*
	 * Not auto-managed: libtorrent's queue would pause all but a few
	 * seeds (active_seeds), and weightsync serves every release it has.
	 * default_flags has paused set for the queue to clear; clear it
	 * ourselves.
	 */
	p.flags &= ~lt::torrent_flags::auto_managed;
	p.flags |= lt::torrent_flags::duplicate_is_error;

	lt::error_code ec;
	lock_t lk(s->mu);
	lt::torrent_handle h;
	if (!s->started) {
		/* a deferred session: the torrent and its first peers go in
		 * before the network runs (ws_lt_session_new) */
		for (const lt::tcp::endpoint &e : s->first_peers)
			p.peers.push_back(e);
		s->ses->async_add_torrent(std::move(p));
		int ret = start_network(s, msg, lk);
		if (ret)
			return ret;
		auto deadline = steady::now() + std::chrono::seconds(10);
		while (!s->first_added && steady::now() < deadline)
			pump(s, std::min(ms_left(deadline), 100), lk);
		if (!s->first_added)
			return set_msg(msg, WS_ENETWORK, "cannot add torrent: timed out");
		h = s->first_handle;
		ec = s->first_error;
	} else {
		h = s->ses->add_torrent(std::move(p), ec);
	}
	if (ec == lt::errors::duplicate_torrent)
		return set_msg(msg, WS_EEXIST, "torrent already added");
	if (ec)
		return set_msg(msg, WS_ENETWORK, "cannot add torrent: " + ec.message());

	std::unique_ptr<ws_lt_torrent> t(new ws_lt_torrent());
	t->s = s;
	t->h = h;
	t->hash_failures = 0;
	t->down_base = t->up_base = 0;
	*out = t.get();
	s->torrents.push_back(std::move(t));
	return 0;
}

/*
 * Resume data says which pieces were verified; for the files in distrust
 * (changed on disk since it was saved) that is no longer true: forget
 * their pieces, so they are downloaded again rather than served or kept.
 * Files never share a piece in a hybrid or v2 torrent.
 */
static size_t forget_files(lt::add_torrent_params &p, lt::torrent_info const &ti,
			   const int *distrust, size_t n)
{
	lt::file_storage const &fs = ti.files();
	size_t lost = 0;
	for (size_t k = 0; k < n; k++) {
		if (distrust[k] < 0 || distrust[k] >= fs.num_files())
			continue;
		lt::file_index_t const f(distrust[k]);
		if (fs.file_size(f) == 0)
			continue;
		int const first = static_cast<int>(fs.map_file(f, 0, 0).piece);
		int const last = static_cast<int>(
			fs.map_file(f, fs.file_size(f) - 1, 0).piece);
		bool had = false;
		for (int i = first; i <= last; i++) {
			lt::piece_index_t const pi(i);
			if (pi < p.have_pieces.end_index() && p.have_pieces.get_bit(pi)) {
				had = true;
				p.have_pieces.clear_bit(pi);
			}
			if (pi < p.verified_pieces.end_index())
				p.verified_pieces.clear_bit(pi);
		}
		/* the merkle tree stays: its hashes were checked against
		 * the pieces root and describe the right data */
		for (int i = first; i <= last; i++)
			had |= p.unfinished_pieces.erase(lt::piece_index_t(i)) > 0;
		lost += had;
	}
	return lost;
}

extern "C" int ws_lt_add(ws_lt_session *s, const uint8_t *torrent, size_t len,
			 const char *save_path, const uint8_t *resume,
			 size_t rlen, unsigned flags, ws_lt_torrent **out,
			 char **msg)
{
	return ws_lt_add_resumed(s, torrent, len, save_path, resume, rlen,
				 nullptr, 0, nullptr, flags, out, msg);
}

extern "C" int ws_lt_add_resumed(ws_lt_session *s, const uint8_t *torrent,
				 size_t len, const char *save_path,
				 const uint8_t *resume, size_t rlen,
				 const int *distrust, size_t ndistrust, size_t *nlost,
				 unsigned flags, ws_lt_torrent **out, char **msg)
{
	if (!s || !torrent || !save_path || !out)
		return -EINVAL;
	if (len > WS_LT_TORRENT_MAX_BYTES)
		return ws_seterr(msg, WS_ETOOBIG, "torrent of %zu bytes", len);
	try {
		lt::load_torrent_limits lim;
		lim.max_buffer_size = WS_LT_TORRENT_MAX_BYTES;
		lim.max_pieces = WS_LT_TORRENT_MAX_PIECES;
		std::shared_ptr<lt::torrent_info> ti;
		try {
			ti = std::make_shared<lt::torrent_info>(lt::span<char const>(
				reinterpret_cast<const char *>(torrent),
				static_cast<std::ptrdiff_t>(len)), lim, lt::from_span);
		} catch (const std::system_error &e) {
			return set_msg(msg, WS_EFORMAT,
				       std::string("bad torrent: ") + e.what());
		}

		lt::add_torrent_params p;
		if (resume) {
			lt::error_code ec;
			p = lt::read_resume_data(lt::span<char const>(
				reinterpret_cast<const char *>(resume),
				static_cast<std::ptrdiff_t>(rlen)), ec);
			if (ec)
				return set_msg(msg, WS_EFORMAT,
					       "bad resume data: " + ec.message());
			/* compare the hashes the resume data has: a v1-only
			 * resume has no v2 hash and vice versa */
			lt::info_hash_t const &a = p.info_hashes, b = ti->info_hashes();
			if ((a.has_v1() && a.v1 != b.v1) || (a.has_v2() && a.v2 != b.v2))
				return ws_seterr(msg, WS_EMISMATCH,
						 "resume data is for another torrent");
		}
		size_t lost = resume && ndistrust ? forget_files(p, *ti, distrust, ndistrust) : 0;
		if (nlost)
			*nlost = lost;
		p.ti = ti;
		p.save_path = save_path;
		if (flags & WS_LT_SEED_MODE)
			p.flags |= lt::torrent_flags::seed_mode;
		else
			p.flags &= ~lt::torrent_flags::seed_mode;
		if (flags & WS_LT_COMPLETE)
			s->complete->mark(ti->info_hashes().get_best());
		if (flags & WS_LT_PAUSED)
			p.flags |= lt::torrent_flags::paused;
		else
			p.flags &= ~lt::torrent_flags::paused;
		if (flags & WS_LT_NO_FILES)
			p.file_priorities.assign(
				static_cast<size_t>(ti->files().num_files()),
				lt::dont_download);
		return add_params(s, p, out, msg);
	} catch (const std::bad_alloc &) {
		return -ENOMEM;
	} catch (const std::exception &e) {
		return set_msg(msg, WS_ENETWORK, e.what());
	}
}

extern "C" int ws_lt_add_magnet(ws_lt_session *s, const uint8_t info_v2[32],
				const uint8_t info_v1[20], const char *name,
				const char *save_path, ws_lt_torrent **out,
				char **msg)
{
	if (!s || (!info_v2 && !info_v1) || !save_path || !out)
		return -EINVAL;
	try {
		lt::add_torrent_params p;
		if (info_v1)
			p.info_hashes.v1 = lt::sha1_hash(
				reinterpret_cast<const char *>(info_v1));
		if (info_v2)
			p.info_hashes.v2 = lt::sha256_hash(
				reinterpret_cast<const char *>(info_v2));
		if (name)
			p.name = name;
		p.save_path = save_path;
		p.flags &= ~lt::torrent_flags::paused;
		/* the file count is unknown until the metadata comes: make
		 * "not wanted" the default for files without a priority */
		p.flags |= lt::torrent_flags::default_dont_download;
		return add_params(s, p, out, msg);
	} catch (const std::bad_alloc &) {
		return -ENOMEM;
	} catch (const std::exception &e) {
		return set_msg(msg, WS_ENETWORK, e.what());
	}
}

static void append_bstr(std::string &out, const char *p, size_t n)
{
	out += std::to_string(n);
	out += ':';
	out.append(p, n);
}

/* Files that have a piece layer: not pad files, larger than one piece
 * (a smaller file is checked against its root itself). */
static bool has_layer(lt::file_storage const &fs, lt::file_index_t i)
{
	return !fs.pad_file_at(i) && fs.file_size(i) > fs.piece_length();
}

/* pl (torrent_handle::piece_layers) holds file i's whole layer: one hash
 * for each of its pieces, none of them unknown (zeros). */
static bool whole_layer(lt::file_storage const &fs, lt::file_index_t i,
			std::vector<std::vector<lt::sha256_hash>> const &pl)
{
	std::int64_t const plen = fs.piece_length();
	size_t const want = static_cast<size_t>((fs.file_size(i) + plen - 1) / plen);
	size_t const k = static_cast<size_t>(static_cast<int>(i));
	return k < pl.size() && pl[k].size() == want &&
	       std::none_of(pl[k].begin(), pl[k].end(),
			    [](lt::sha256_hash const &h) { return h.is_all_zeros(); });
}

/*
 * The whole piece layers libtorrent holds (every hash in them verified
 * against its file's pieces root), by file; empty for a file whose layer
 * is not whole (or that has none).  libtorrent 2.0.8 computes a complete
 * file's layer from its block hashes at every piece_layers() call
 * (merkle_tree::get_piece_layer, block_layer mode): about 64k SHA-256 per
 * GiB of complete files, on its network thread, which every other call
 * into libtorrent then waits for.  Asked at each save and poll, that was
 * most of the time from a fetch's last byte to its exit (0.45 of 0.55 s
 * on 1 GiB).  A whole layer never changes, so each is kept once seen, and
 * libtorrent is asked again only when a file lacks its layer and more
 * files are complete than when it was last asked.
 */
static std::vector<std::vector<lt::sha256_hash>>
whole_layers(ws_lt_torrent *t, lt::torrent_info const &ti)
{
	lt::file_storage const &fs = ti.files();
	std::lock_guard<std::mutex> g(t->layers_mu);
	t->layers.resize(static_cast<size_t>(fs.num_files()));
	bool lacking = false;
	for (lt::file_index_t i : fs.file_range())
		lacking |= has_layer(fs, i) && t->layers[static_cast<size_t>(static_cast<int>(i))].empty();
	if (!lacking)
		return t->layers;
	std::vector<std::int64_t> progress;
	t->h.file_progress(progress, lt::torrent_handle::piece_granularity);
	int complete = 0;
	for (lt::file_index_t i : fs.file_range()) {
		size_t const k = static_cast<size_t>(static_cast<int>(i));
		complete += k < progress.size() && progress[k] == fs.file_size(i);
	}
	if (complete == t->layers_asked_at)
		return t->layers;
	std::vector<std::vector<lt::sha256_hash>> pl = t->h.piece_layers();
	for (lt::file_index_t i : fs.file_range()) {
		size_t const k = static_cast<size_t>(static_cast<int>(i));
		if (has_layer(fs, i) && t->layers[k].empty() && whole_layer(fs, i, pl))
			t->layers[k] = std::move(pl[k]);
	}
	t->layers_asked_at = complete;
	return t->layers;
}

/*
 * The torrent's whole v2 piece layers, keyed by pieces root.  True when
 * every file larger than one piece has its whole layer.
 */
static bool collect_layers(ws_lt_torrent *t, lt::torrent_info const &ti,
			   std::map<std::string, std::string> &layers)
{
	if (!ti.info_hashes().has_v2())
		return true;
	std::vector<std::vector<lt::sha256_hash>> pl = whole_layers(t, ti);
	lt::file_storage const &fs = ti.files();
	for (lt::file_index_t i : fs.file_range()) {
		size_t const k = static_cast<size_t>(static_cast<int>(i));
		if (!has_layer(fs, i))
			continue;
		if (pl[k].empty())
			return false;
		std::string bytes;
		for (const auto &h : pl[k])
			bytes.append(h.data(), h.size());
		lt::sha256_hash const root = fs.root(i);
		layers[std::string(root.data(), root.size())] = bytes;
	}
	return true;
}

/* proven[k] for each libtorrent file k: 1 when every piece of it the
 * torrent has is v2-proven (ws_lt_pieces_v2_proven).  Throws what
 * libtorrent throws; WS_ENOTFOUND before metadata. */
static int files_proven(ws_lt_torrent *t, std::vector<unsigned char> &proven)
{
	std::shared_ptr<const lt::torrent_info> ti = t->h.torrent_file();
	if (!ti || !ti->is_valid())
		return WS_ENOTFOUND;
	lt::file_storage const &fs = ti->files();
	proven.assign(static_cast<size_t>(fs.num_files()), 1);
	if (!ti->info_hashes().has_v2())
		return 0;
	lt::torrent_status const st = t->h.status(lt::torrent_handle::query_pieces);
	lt::typed_bitfield<lt::piece_index_t> const &have = st.pieces;
	std::vector<std::vector<lt::sha256_hash>> pl = whole_layers(t, *ti);
	std::int64_t const plen = fs.piece_length();
	for (lt::file_index_t i : fs.file_range()) {
		size_t const k = static_cast<size_t>(static_cast<int>(i));
		if (!has_layer(fs, i) || !pl[k].empty())
			continue;
		/* no whole layer: none of its pieces may be had */
		int const first = static_cast<int>(fs.map_file(i, 0, 0).piece);
		int const n = static_cast<int>((fs.file_size(i) + plen - 1) / plen);
		for (int j = 0; j < n && proven[k]; j++) {
			lt::piece_index_t const pi(first + j);
			if (pi < have.end_index() && have.get_bit(pi))
				proven[k] = 0;
		}
	}
	return 0;
}

extern "C" int ws_lt_pieces_v2_proven(ws_lt_torrent *t)
{
	try {
		std::vector<unsigned char> proven;
		if (files_proven(t, proven))
			return 0;
		return std::all_of(proven.begin(), proven.end(),
				   [](unsigned char p) { return p != 0; }) ? 1 : 0;
	} catch (...) {
		return 0;
	}
}

extern "C" int ws_lt_files_v2_proven(ws_lt_torrent *t, unsigned char *proven, size_t n)
{
	if (!t || (!proven && n))
		return -EINVAL;
	try {
		std::vector<unsigned char> p;
		int ret = files_proven(t, p);
		if (ret)
			return ret;
		for (size_t k = 0; k < n; k++)
			proven[k] = k < p.size() ? p[k] : 0;
		return 0;
	} catch (const std::bad_alloc &) {
		return -ENOMEM;
	} catch (...) {
		return WS_ENETWORK;
	}
}

extern "C" int ws_lt_metadata(ws_lt_torrent *t, uint8_t **torrent, size_t *len)
{
	try {
		std::shared_ptr<const lt::torrent_info> ti = t->h.torrent_file();
		if (!ti || !ti->is_valid())
			return WS_ENOTFOUND;
		lt::span<char const> info = ti->info_section();
		if (info.empty())
			return WS_ENOTFOUND;

		/*
		 * Built by hand rather than with create_torrent(ti): this keeps
		 * the info dict as received, and writes piece layers only when
		 * complete instead of failing.  Keys sorted: "info" < "piece
		 * layers"; layer keys are pieces roots, sorted as bytes.
		 */
		std::map<std::string, std::string> layers;
		bool const complete = collect_layers(t, *ti, layers);

		std::string out = "d4:info";
		out.append(info.data(), static_cast<size_t>(info.size()));
		if (complete && !layers.empty()) {
			out += "12:piece layersd";
			for (const auto &kv : layers) {
				append_bstr(out, kv.first.data(), kv.first.size());
				append_bstr(out, kv.second.data(), kv.second.size());
			}
			out += 'e';
		}
		out += 'e';
		return copy_out(std::vector<char>(out.begin(), out.end()), torrent, len);
	} catch (const std::bad_alloc &) {
		return -ENOMEM;
	} catch (...) {
		return WS_ENETWORK;
	}
}

extern "C" int ws_lt_connect_peer(ws_lt_torrent *t, const char *hostport)
{
	lt::tcp::endpoint ep;

	if (!parse_endpoint(hostport, ep))
		return -EINVAL;
	try {
		/* not with pex_lt_v2: a v2 handshake makes libtorrent 2.0.8 ask
		 * for piece-layer hashes as it goes, and a layer hash that comes
		 * while a piece's v1 check is still running stops a hybrid
		 * torrent with "v1 and v2 hashes do not describe the same data"
		 * (torrent::add_hashes); docs/datapath.md */
		t->h.connect_peer(ep);
		return 0;
	} catch (const std::bad_alloc &) {
		return -ENOMEM;
	} catch (...) {
		return WS_ENETWORK;
	}
}

extern "C" int ws_lt_forget_peers(ws_lt_torrent *t)
{
	try {
		t->h.clear_peers();
		return 0;
	} catch (const std::bad_alloc &) {
		return -ENOMEM;
	} catch (...) {
		return WS_ENETWORK;
	}
}

extern "C" int ws_lt_evidence_heard(ws_lt_torrent *t, const char *hostport)
{
	lt::tcp::endpoint ep;

	if (!t || !parse_endpoint(hostport, ep))
		return -EINVAL;
	try {
		lt::sha1_hash ih = t->h.info_hashes().get_best();
		std::lock_guard<std::mutex> g(t->s->evidence->mu);
		auto it = t->s->evidence->heard.find(ih);
		if (it == t->s->evidence->heard.end())
			return 0;
		auto p = it->second.find(ep);
		return p == it->second.end() ? 0 : p->second;
	} catch (const std::bad_alloc &) {
		return -ENOMEM;
	} catch (...) {
		return WS_ENETWORK;
	}
}

/* The torrent's file list, or null before metadata. */
static std::shared_ptr<const lt::torrent_info> metadata_of(ws_lt_torrent *t)
{
	std::shared_ptr<const lt::torrent_info> ti = t->h.torrent_file();
	if (!ti || !ti->is_valid())
		return nullptr;
	return ti;
}

extern "C" int ws_lt_set_file_priority(ws_lt_torrent *t, int file, int prio)
{
	try {
		auto ti = metadata_of(t);
		if (!ti)
			return WS_ENOTFOUND;
		if (file < 0 || file >= ti->files().num_files() ||
		    prio < 0 || prio > 7)
			return -EINVAL;
		t->h.file_priority(lt::file_index_t(file),
				   lt::download_priority_t(static_cast<std::uint8_t>(prio)));
		return 0;
	} catch (const std::bad_alloc &) {
		return -ENOMEM;
	} catch (...) {
		return WS_ENETWORK;
	}
}

extern "C" int ws_lt_piece_count(ws_lt_torrent *t, int *npieces)
{
	try {
		auto ti = metadata_of(t);
		if (!ti)
			return WS_ENOTFOUND;
		*npieces = ti->num_pieces();
		return 0;
	} catch (...) {
		return WS_ENETWORK;
	}
}

extern "C" int ws_lt_piece_span(ws_lt_torrent *t, int piece, int *file, uint64_t *offset,
				uint32_t *len, uint32_t *piece_len)
{
	try {
		auto ti = metadata_of(t);
		if (!ti)
			return WS_ENOTFOUND;
		lt::file_storage const &fs = ti->files();
		if (piece < 0 || piece >= fs.num_pieces())
			return -EINVAL;
		lt::piece_index_t const pi(piece);
		int const plen = fs.piece_size(pi);
		std::vector<lt::file_slice> const sl = fs.map_block(pi, 0, plen);
		/* a piece holds one real file's bytes, then (maybe) a pad file */
		for (lt::file_slice const &f : sl) {
			if (fs.pad_file_at(f.file_index))
				continue;
			*file = static_cast<int>(f.file_index);
			*offset = static_cast<uint64_t>(f.offset);
			*len = static_cast<uint32_t>(f.size);
			*piece_len = static_cast<uint32_t>(plen);
			return 0;
		}
		return WS_ENOTFOUND;
	} catch (const std::bad_alloc &) {
		return -ENOMEM;
	} catch (...) {
		return WS_ENETWORK;
	}
}

extern "C" int ws_lt_have_pieces(ws_lt_torrent *t, uint8_t *have, int n)
{
	try {
		lt::torrent_status const st = t->h.status(lt::torrent_handle::query_pieces);
		for (int i = 0; i < n; i++) {
			lt::piece_index_t const pi(i);
			have[i] = pi < st.pieces.end_index() && st.pieces.get_bit(pi);
		}
		return 0;
	} catch (...) {
		return WS_ENETWORK;
	}
}

extern "C" int ws_lt_add_piece(ws_lt_torrent *t, int piece, const uint8_t *data, size_t len)
{
	try {
		auto ti = metadata_of(t);
		if (!ti)
			return WS_ENOTFOUND;
		if (piece < 0 || piece >= ti->num_pieces() ||
		    len != static_cast<size_t>(ti->piece_size(lt::piece_index_t(piece))))
			return -EINVAL;
		/* the vector overload hands the buffer over and returns at once */
		std::vector<char> buf(reinterpret_cast<const char *>(data),
				      reinterpret_cast<const char *>(data) + len);
		t->h.add_piece(lt::piece_index_t(piece), std::move(buf));
		return 0;
	} catch (const std::bad_alloc &) {
		return -ENOMEM;
	} catch (...) {
		return WS_ENETWORK;
	}
}

extern "C" int ws_lt_swarm_data(ws_lt_torrent *t, int on)
{
	try {
		if (on)
			t->h.unset_flags(lt::torrent_flags::upload_mode);
		else
			t->h.set_flags(lt::torrent_flags::upload_mode);
		return 0;
	} catch (...) {
		return WS_ENETWORK;
	}
}

extern "C" int ws_lt_file_index(ws_lt_torrent *t, const char *path, int *index)
{
	try {
		std::vector<std::string> comp;
		if (!split_path(path, comp))
			return WS_EPATH;
		auto ti = metadata_of(t);
		if (!ti)
			return WS_ENOTFOUND;
		lt::file_storage const &fs = ti->files();
		/* file_path() of a multi-file torrent starts with its name */
		std::string const want = fs.num_files() == 1 &&
			fs.file_path(lt::file_index_t(0)) == fs.name()
			? std::string(path) : fs.name() + "/" + path;
		for (lt::file_index_t i : fs.file_range()) {
			if (!fs.pad_file_at(i) && fs.file_path(i) == want) {
				*index = static_cast<int>(i);
				return 0;
			}
		}
		return WS_ENOTFOUND;
	} catch (const std::bad_alloc &) {
		return -ENOMEM;
	} catch (...) {
		return WS_ENETWORK;
	}
}

extern "C" int ws_lt_files(ws_lt_torrent *t, char *name, size_t namelen,
			   struct ws_lt_file_info **out, size_t *n)
{
	try {
		auto ti = metadata_of(t);
		if (!ti)
			return WS_ENOTFOUND;
		lt::file_storage const &fs = ti->files();
		std::string const top = fs.name();
		if (top.size() + 1 > namelen)
			return WS_ETOOBIG;
		std::vector<struct ws_lt_file_info> v;
		for (lt::file_index_t i : fs.file_range()) {
			if (fs.pad_file_at(i))
				continue;
			std::string path = fs.file_path(i);
			/* strip the top folder: multi-file paths start with it */
			if (path.compare(0, top.size() + 1, top + "/") == 0)
				path = path.substr(top.size() + 1);
			struct ws_lt_file_info f;
			std::memset(&f, 0, sizeof(f));
			f.index = static_cast<int>(i);
			f.size = static_cast<uint64_t>(fs.file_size(i));
			f.path = static_cast<char *>(std::malloc(path.size() + 1));
			if (!f.path)
				throw std::bad_alloc();
			std::memcpy(f.path, path.c_str(), path.size() + 1);
			lt::sha256_hash const root = fs.root(i);
			if (!root.is_all_zeros()) {
				std::memcpy(f.root, root.data(), 32);
				f.has_root = 1;
			}
			v.push_back(f);
		}
		*out = static_cast<struct ws_lt_file_info *>(
			std::malloc((v.empty() ? 1 : v.size()) * sizeof(**out)));
		if (!*out) {
			for (auto &f : v)
				std::free(f.path);
			return -ENOMEM;
		}
		std::copy(v.begin(), v.end(), *out);
		*n = v.size();
		std::memcpy(name, top.c_str(), top.size() + 1);
		return 0;
	} catch (const std::bad_alloc &) {
		return -ENOMEM;
	} catch (...) {
		return WS_ENETWORK;
	}
}

extern "C" void ws_lt_files_free(struct ws_lt_file_info *files, size_t n)
{
	for (size_t i = 0; i < n; i++)
		std::free(files[i].path);
	std::free(files);
}

extern "C" int ws_lt_info_hashes(ws_lt_torrent *t, uint8_t v2[32], uint8_t v1[20],
				 int *has_v2, int *has_v1)
{
	try {
		lt::info_hash_t const ih = t->h.info_hashes();
		*has_v2 = ih.has_v2();
		*has_v1 = ih.has_v1();
		if (ih.has_v2())
			std::memcpy(v2, ih.v2.data(), 32);
		if (ih.has_v1())
			std::memcpy(v1, ih.v1.data(), 20);
		return 0;
	} catch (...) {
		return WS_ENETWORK;
	}
}

/* Append to out the peers of t that this side dialed (connected now). */
static void add_dialed(ws_lt_torrent *t, std::vector<lt::tcp::endpoint> &out)
{
	std::vector<lt::peer_info> peers;
	t->h.get_peer_info(peers);
	for (const lt::peer_info &p : peers)
		if (p.flags & lt::peer_info::local_connection)
			out.push_back(p.ip);
}

extern "C" int ws_lt_force_recheck(ws_lt_torrent *t)
{
	try {
		/* a recheck drops every peer, and libtorrent dials a peer it
		 * dropped again only min_reconnect_time later (counted in whole
		 * seconds: up to 1 s in a private swarm, 60 s by default), so a
		 * fetch that linked a file in from the store lost that much
		 * (bench/node.sh).  A fresh peer list has no back-off: forget
		 * the old one and dial again the peers we had dialed; they
		 * connect as soon as the check is done. */
		std::vector<lt::tcp::endpoint> dial;
		{
			lock_t lk(t->s->mu);
			dial.swap(t->dialed);
		}
		add_dialed(t, dial);
		t->h.force_recheck();
		t->h.clear_peers();
		for (const lt::tcp::endpoint &ep : dial)
			t->h.connect_peer(ep);
		return 0;
	} catch (...) {
		return WS_ENETWORK;
	}
}

extern "C" int ws_lt_force_dht_announce(ws_lt_torrent *t)
{
	try {
		t->h.force_dht_announce();
		return 0;
	} catch (...) {
		return WS_ENETWORK;
	}
}

extern "C" int ws_lt_pause(ws_lt_torrent *t)
{
	try {
		lock_t lk(t->s->mu);
		/* payload counters restart when the torrent resumes: keep what
		 * was counted so far */
		lt::torrent_status st = t->h.status();
		if (!(st.flags & lt::torrent_flags::paused)) {
			t->dialed.clear();
			add_dialed(t, t->dialed);
			t->down_base += st.total_payload_download;
			t->up_base += st.total_payload_upload;
			t->h.pause();
		}
		return 0;
	} catch (const std::bad_alloc &) {
		return -ENOMEM;
	} catch (...) {
		return WS_ENETWORK;
	}
}

extern "C" int ws_lt_resume(ws_lt_torrent *t)
{
	try {
		t->h.resume();
		return 0;
	} catch (...) {
		return WS_ENETWORK;
	}
}

static enum ws_lt_state map_state(const lt::torrent_status &st)
{
	switch (st.state) {
	case lt::torrent_status::checking_files:
		return WS_LT_CHECKING;
	case lt::torrent_status::checking_resume_data:
		return WS_LT_CHECKING_RESUME;
	case lt::torrent_status::downloading_metadata:
		return WS_LT_METADATA;
	case lt::torrent_status::finished:
		return WS_LT_FINISHED;
	case lt::torrent_status::seeding:
		return WS_LT_SEEDING;
	default:
		return WS_LT_DOWNLOADING;
	}
}

extern "C" int ws_lt_status(ws_lt_torrent *t, struct ws_lt_status *out)
{
	try {
		lock_t lk(t->s->mu);
		lt::torrent_status st = t->h.status();
		struct ws_lt_status r;
		memset(&r, 0, sizeof(r));

		r.state = map_state(st);
		if (st.errc) {
			std::string e = !t->error.empty() ? t->error : st.errc.message();
			r.state = WS_LT_ERROR;
			snprintf(r.error, sizeof(r.error), "%s", e.c_str());
		}
		r.total_wanted = static_cast<uint64_t>(st.total_wanted);
		r.total_wanted_done = static_cast<uint64_t>(st.total_wanted_done);
		r.payload_down = static_cast<uint64_t>(t->down_base + st.total_payload_download);
		r.payload_up = static_cast<uint64_t>(t->up_base + st.total_payload_upload);
		r.rate_down = st.download_payload_rate;
		r.rate_up = st.upload_payload_rate;
		r.peers = st.num_peers;
		r.seeds = st.num_seeds;
		r.hash_failures = t->hash_failures;
		*out = r;
		return 0;
	} catch (const std::bad_alloc &) {
		return -ENOMEM;
	} catch (...) {
		return WS_ENETWORK;
	}
}

extern "C" int ws_lt_file_progress(ws_lt_torrent *t, int file, uint64_t *done)
{
	try {
		auto ti = metadata_of(t);
		if (!ti)
			return WS_ENOTFOUND;
		if (file < 0 || file >= ti->files().num_files())
			return -EINVAL;
		std::vector<std::int64_t> p;
		t->h.file_progress(p, lt::torrent_handle::piece_granularity);
		if (static_cast<size_t>(file) >= p.size())
			return WS_ENOTFOUND;
		*done = static_cast<uint64_t>(p[static_cast<size_t>(file)]);
		return 0;
	} catch (const std::bad_alloc &) {
		return -ENOMEM;
	} catch (...) {
		return WS_ENETWORK;
	}
}

extern "C" int ws_lt_files_progress(ws_lt_torrent *t, uint64_t *done, size_t n)
{
	try {
		auto ti = metadata_of(t);
		if (!ti)
			return WS_ENOTFOUND;
		std::vector<std::int64_t> p;
		t->h.file_progress(p, lt::torrent_handle::piece_granularity);
		for (size_t i = 0; i < n; i++)
			done[i] = i < p.size() ? static_cast<uint64_t>(p[i]) : 0;
		return 0;
	} catch (const std::bad_alloc &) {
		return -ENOMEM;
	} catch (...) {
		return WS_ENETWORK;
	}
}

/*
 * libtorrent counts a piece in file_progress once its hash passes, and it
 * hashes from the blocks it still holds in memory while its disk threads
 * write them (mmap_disk_io's store buffer): a piece passes before it is in
 * the file.  It leaves the download queue only when every block is written
 * (piece_picker::we_have), so a piece still queued is not in the file yet.
 */
extern "C" int ws_lt_file_written(ws_lt_torrent *t, int file)
{
	try {
		auto ti = metadata_of(t);
		if (!ti)
			return WS_ENOTFOUND;
		lt::file_storage const &fs = ti->files();
		if (file >= fs.num_files())
			return -EINVAL;
		std::vector<lt::partial_piece_info> q;
		t->h.get_download_queue(q);
		if (file < 0)
			return q.empty() ? 1 : 0;
		lt::file_index_t const fi(file);
		if (fs.file_size(fi) == 0)
			return 1;
		lt::piece_index_t const first = fs.map_file(fi, 0, 0).piece;
		lt::piece_index_t const last = fs.map_file(fi, fs.file_size(fi) - 1, 0).piece;
		for (lt::partial_piece_info const &p : q)
			if (p.piece_index >= first && p.piece_index <= last)
				return 0;
		return 1;
	} catch (const std::bad_alloc &) {
		return -ENOMEM;
	} catch (...) {
		return WS_ENETWORK;
	}
}

/*
 * The merkle trees of the resume data: each file's piece layer, when
 * libtorrent holds all of it, as a sparse tree (the layer's nodes and a
 * mask over the whole tree, numbered as libtorrent does: the root 0, the
 * children of n at 2n+1 and 2n+2, so a layer of L nodes starts at L - 1).
 * Files of one piece or less, and files whose layer is incomplete, get an
 * empty tree: libtorrent knows their roots from the info dictionary and
 * asks peers for what it lacks.
 */
static void piece_layer_trees(ws_lt_torrent *t, lt::torrent_info const &ti,
			      lt::add_torrent_params &p)
{
	if (!ti.info_hashes().has_v2())
		return;
	std::vector<std::vector<lt::sha256_hash>> layers = whole_layers(t, ti);
	lt::file_storage const &fs = ti.files();
	int const bpp = std::max(fs.piece_length() / WS_LT_BLOCK, 1);
	p.merkle_trees.resize(fs.num_files());
	p.merkle_tree_mask.resize(fs.num_files());
	for (lt::file_index_t f : fs.file_range()) {
		std::vector<lt::sha256_hash> &layer = layers[static_cast<size_t>(static_cast<int>(f))];
		if (layer.empty())
			continue;
		std::size_t leaves = 1;
		while (leaves < static_cast<std::size_t>(fs.file_num_blocks(f)))
			leaves <<= 1;
		std::size_t const width = leaves / static_cast<std::size_t>(bpp);
		std::vector<bool> mask(2 * leaves - 1, false);
		std::fill_n(mask.begin() + static_cast<std::ptrdiff_t>(width - 1), layer.size(), true);
		p.merkle_tree_mask[f] = std::move(mask);
		p.merkle_trees[f] = std::move(layer);
	}
}

/*
 * Resume data built from the torrent's state, not with save_resume_data:
 * libtorrent 2.0.8 puts every 16 KiB block hash it holds in that (4 MB per
 * GiB), and Debian's build (deprecated API on) also encodes it into an
 * entry inside the alert, so one save held three copies of 84 MB for a
 * 20 GiB release (docs/datapath.md).  A restart needs the pieces that are
 * on disk and the piece layers; a piece that was partly there is fetched
 * again.  "On disk" is libtorrent's own have_piece (passed and written):
 * the pieces it reported with piece_finished_alert, and any other piece
 * that status counts as passed is asked for one by one.
 */
extern "C" int ws_lt_save_resume(ws_lt_torrent *t, uint8_t **data, size_t *len)
{
	try {
		ws_lt_session *s = t->s;
		lock_t lk(s->mu);
		/* the alerts so far, piece_finished among them */
		pump(s, 0, lk);
		std::shared_ptr<const lt::torrent_info> ti = t->h.torrent_file();
		if (!ti)
			return WS_ENOTFOUND;
		lt::torrent_status const st = t->h.status(lt::torrent_handle::query_pieces |
							   lt::torrent_handle::query_save_path |
							   lt::torrent_handle::query_name);
		lt::add_torrent_params p;
		p.ti = std::const_pointer_cast<lt::torrent_info>(ti);
		p.info_hashes = ti->info_hashes();
		p.name = st.name;
		p.save_path = st.save_path;
		p.flags = t->h.flags();
		p.file_priorities = t->h.get_file_priorities();
		p.piece_priorities = t->h.get_piece_priorities();
		if (std::all_of(p.piece_priorities.begin(), p.piece_priorities.end(),
				[](lt::download_priority_t x) { return x == lt::default_priority; }))
			p.piece_priorities.clear();
		p.have_pieces.resize(ti->num_pieces(), false);
		for (lt::piece_index_t i : ti->piece_range()) {
			if (!(i < st.pieces.end_index() && st.pieces.get_bit(i)))
				continue;
			if (st.is_seeding || (i < t->written.end_index() && t->written.get_bit(i)))
				p.have_pieces.set_bit(i);
			else if (t->h.have_piece(i)) {
				/* had from resume data or a check: asked once */
				if (t->written.end_index() < ti->end_piece())
					t->written.resize(ti->num_pieces(), false);
				t->written.set_bit(i);
				p.have_pieces.set_bit(i);
			}
		}
		piece_layer_trees(t, *ti, p);
		return copy_out(lt::write_resume_data_buf(p), data, len);
	} catch (const std::bad_alloc &) {
		return -ENOMEM;
	} catch (...) {
		return WS_ENETWORK;
	}
}

extern "C" int ws_lt_remove(ws_lt_torrent *t)
{
	if (!t)
		return -EINVAL;
	ws_lt_session *s = t->s;
	int ret = 0;
	lock_t lk(s->mu);
	try {
		lt::sha1_hash ih = t->h.info_hashes().get_best();
		{
			/* what was offered and received for it goes with it */
			std::lock_guard<std::mutex> g(s->evidence->mu);
			s->evidence->offers.erase(ih);
			s->evidence->received.erase(ih);
			s->evidence->heard.erase(ih);
		}
		s->ses->remove_torrent(t->h);
		s->complete->unmark(ih);
	} catch (...) {
		ret = WS_ENETWORK;
	}
	for (auto it = s->torrents.begin(); it != s->torrents.end(); ++it) {
		if (it->get() == t) {
			s->torrents.erase(it);
			break;
		}
	}
	return ret;
}

/* ---------------------------------------------------------------------- */
/* DHT mutable items                                                      */

/* BEP 44: the signature covers "4:salt<len>:<salt>3:seqi<seq>e1:v<v>",
 * the salt part left out when there is no salt. */
static std::string bep44_buffer(const std::string &salt, std::int64_t seq,
				const std::vector<char> &v)
{
	std::string b;
	if (!salt.empty()) {
		b += "4:salt";
		append_bstr(b, salt.data(), salt.size());
	}
	b += "3:seqi" + std::to_string(seq) + "e1:v";
	b.append(v.data(), v.size());
	return b;
}

extern "C" int ws_lt_dht_put(ws_lt_session *s, const uint8_t pk[32],
			     const char *salt, int64_t seq, const uint8_t *v,
			     size_t vlen, ws_lt_sign_fn sign, void *ctx,
			     const uint8_t sig[64])
{
	if (!s || !pk || !v || seq < 0 || (!sign && !sig))
		return -EINVAL;
	std::string const salt_s = salt ? salt : "";
	if (vlen > WS_LT_DHT_MAX_V || salt_s.size() > WS_LT_DHT_MAX_SALT)
		return WS_ETOOBIG;
	try {
		if (!s->ses->is_dht_running())
			return WS_ENETWORK;

		/*
		 * libtorrent bencodes the entry it sends, and nodes check the
		 * signature against those bytes: v must survive the round trip
		 * through lt::entry unchanged.
		 */
		std::vector<char> vbuf(v, v + vlen);
		lt::error_code ec;
		lt::bdecode_node n = lt::bdecode(vbuf, ec);
		if (ec)
			return WS_EFORMAT;
		lt::entry e(n);
		std::vector<char> again;
		lt::bencode(std::back_inserter(again), e);
		if (again != vbuf)
			return WS_EFORMAT;

		std::array<char, 64> sigarr;
		if (sign) {
			std::string const buf = bep44_buffer(salt_s, seq, vbuf);
			uint8_t out[64];
			if (sign(ctx, reinterpret_cast<const uint8_t *>(buf.data()),
				 buf.size(), out) != 0)
				return WS_ECRYPTO;
			memcpy(sigarr.data(), out, 64);
		} else {
			memcpy(sigarr.data(), sig, 64);
		}

		std::array<char, 32> key;
		memcpy(key.data(), pk, 32);
		std::int64_t const sq = seq;
		/*
		 * Runs on libtorrent's network thread after its lookup; it only
		 * copies values captured here, so nothing of the caller's is
		 * touched after we return.  Whatever the lookup found is
		 * replaced: we put exactly the item we were given.
		 */
		s->ses->dht_put_item(key,
			[e, sigarr, sq](lt::entry &ev, std::array<char, 64> &sg,
					std::int64_t &sqo, std::string const &) {
				ev = e;
				sg = sigarr;
				sqo = sq;
			}, salt_s);
		return 0;
	} catch (const std::bad_alloc &) {
		return -ENOMEM;
	} catch (...) {
		return WS_ENETWORK;
	}
}

extern "C" int ws_lt_dht_get(ws_lt_session *s, const uint8_t pk[32],
			     const char *salt, int timeout_ms, int first_only,
			     struct ws_lt_dht_item *items, size_t max, size_t *n)
{
	if (!s || !pk || !n || (max && !items))
		return -EINVAL;
	std::string const salt_s = salt ? salt : "";
	if (salt_s.size() > WS_LT_DHT_MAX_SALT)
		return WS_ETOOBIG;
	try {
		*n = 0;
		if (!s->ses->is_dht_running())
			return WS_ENETWORK;
		std::array<char, 32> key;
		memcpy(key.data(), pk, 32);
		std::string const lk = lookup_key(key, salt_s);
		dht_lookup l{false, {}};
		lock_t guard(s->mu);
		/* erased on every way out, exceptions included */
		struct unlist {
			ws_lt_session *s;
			std::multimap<std::string, dht_lookup *>::iterator it;
			~unlist() { s->lookups.erase(it); }
		} entry{s, s->lookups.emplace(lk, &l)};
		s->ses->dht_get_item(key, salt_s);

		auto deadline = steady::now() +
			std::chrono::milliseconds(std::max(timeout_ms, 0));
		for (;;) {
			if (l.done || (first_only && !l.items.empty()))
				break;
			if (steady::now() >= deadline)
				break;
			pump(s, std::min(ms_left(deadline), 100), guard);
		}

		if (l.items.empty())
			return l.done ? WS_ENOTFOUND : WS_ETIMEOUT;
		std::stable_sort(l.items.begin(), l.items.end(),
			[](const ws_lt_dht_item &a, const ws_lt_dht_item &b) {
				return a.seq > b.seq;
			});
		size_t const k = std::min(max, l.items.size());
		std::copy(l.items.begin(), l.items.begin() + static_cast<std::ptrdiff_t>(k),
			  items);
		*n = k;
		return 0;
	} catch (const std::bad_alloc &) {
		return -ENOMEM;
	} catch (...) {
		return WS_ENETWORK;
	}
}

/* ---------------------------------------------------------------------- */
/* evidence between peers                                                 */

extern "C" int ws_lt_evidence_offer(ws_lt_torrent *t, const uint8_t *data, size_t len)
{
	if (!t || len > WS_LT_EVIDENCE_MAX || (len && !data))
		return -EINVAL;
	try {
		lt::sha1_hash ih = t->h.info_hashes().get_best();
		std::lock_guard<std::mutex> g(t->s->evidence->mu);
		t->s->evidence->offers[ih].assign(reinterpret_cast<const char *>(data), len);
		return 0;
	} catch (const std::bad_alloc &) {
		return -ENOMEM;
	} catch (...) {
		return WS_ENETWORK;
	}
}

extern "C" int ws_lt_evidence_take(ws_lt_torrent *t, struct ws_lt_blob **out, size_t *n)
{
	std::vector<std::string> got;

	if (!t || !out || !n)
		return -EINVAL;
	try {
		lt::sha1_hash ih = t->h.info_hashes().get_best();
		std::lock_guard<std::mutex> g(t->s->evidence->mu);
		auto it = t->s->evidence->received.find(ih);
		if (it != t->s->evidence->received.end())
			got.swap(it->second);
	} catch (const std::bad_alloc &) {
		return -ENOMEM;
	} catch (...) {
		return WS_ENETWORK;
	}
	*out = nullptr;
	*n = 0;
	if (got.empty())
		return 0;
	struct ws_lt_blob *b = static_cast<struct ws_lt_blob *>(calloc(got.size(), sizeof(*b)));
	if (!b)
		return -ENOMEM;
	for (size_t i = 0; i < got.size(); i++) {
		b[i].data = static_cast<uint8_t *>(malloc(got[i].size() ? got[i].size() : 1));
		if (!b[i].data) {
			for (size_t j = 0; j < i; j++)
				free(b[j].data);
			free(b);
			return -ENOMEM;
		}
		memcpy(b[i].data, got[i].data(), got[i].size());
		b[i].len = got[i].size();
	}
	*out = b;
	*n = got.size();
	return 0;
}
