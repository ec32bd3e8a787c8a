/*
 * lt_disk.hpp - the disk layer lt.cpp gives libtorrent: complete releases
 * read through libtorrent's pread back end, everything else through its
 * mmap back end (docs/datapath.md, "Disk I/O").
 *
 * C++ only, used by node/lt.cpp.  A torrent is served by the pread back
 * end (posix_disk_io: each read is a pread on libtorrent's network thread)
 * when its info-hash was marked complete before it was added; any other
 * torrent (a fetch's) by the mmap back end (mmap_disk_io: writes, and the
 * SHA-1 and SHA-256 of arriving pieces, on its own threads).  On a warm
 * page cache a seeder's CPU per GiB served is less than half that of the
 * mmap back end, which faults in each page of its mappings and hands
 * every 16 KiB read to another thread and back.
 */
#ifndef WS_NODE_LT_DISK_HPP
#define WS_NODE_LT_DISK_HPP

#include <libtorrent/disk_interface.hpp>
#include <libtorrent/session_params.hpp>
#include <libtorrent/sha1_hash.hpp>

#include <memory>
#include <mutex>
#include <set>

namespace ws_disk {

/* which back end serves which torrent */
enum class mode {
	split,  /* complete releases: pread; the rest: mmap (the default) */
	mmap,   /* every torrent: mmap (WS_DISK_IO=mmap) */
	posix,  /* every torrent: pread (WS_DISK_IO=posix) */
};

/*
 * complete_set - the info-hashes (info_hash_t::get_best(), what libtorrent
 * hands the disk layer in storage_params::info_hash) of torrents whose
 * files are complete.  Shared by the session's owner, which marks a
 * torrent before adding it, and the disk layer, which reads the mark on
 * libtorrent's network thread when the torrent's storage is made.  A mark
 * stays until unmark: a torrent removed and added again keeps it.
 */
class complete_set {
public:
	void mark(const libtorrent::sha1_hash &ih);
	void unmark(const libtorrent::sha1_hash &ih);
	bool has(const libtorrent::sha1_hash &ih) const;

private:
	mutable std::mutex mu_;
	std::set<libtorrent::sha1_hash> set_;
};

/*
 * constructor - a disk_io_constructor for session_params: the back ends
 * chosen by m, the split read from *complete.  complete must not be null.
 */
libtorrent::disk_io_constructor_type
constructor(mode m, std::shared_ptr<const complete_set> complete);

} // namespace ws_disk

#endif
