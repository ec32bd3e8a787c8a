/*
 * lt_disk.cpp - the disk layer of node/lt_disk.hpp: a disk_interface that
 * hands each torrent to one of libtorrent's two back ends and forwards
 * every job of that torrent to it.
 *
 * Each torrent gets a slot: which back end holds it, and the back end's
 * own storage_holder (whose index the jobs are forwarded with).  Slots are
 * made and freed on libtorrent's network thread, the only thread that calls
 * a disk_interface; the set of complete torrents is read under its lock.
 */
#include "node/lt_disk.hpp"

#include <libtorrent/mmap_disk_io.hpp>
#include <libtorrent/posix_disk_io.hpp>
#include <libtorrent/storage_defs.hpp>

#include <utility>
#include <vector>

namespace lt = libtorrent;

namespace ws_disk {

void complete_set::mark(const lt::sha1_hash &ih)
{
	std::lock_guard<std::mutex> l(mu_);
	set_.insert(ih);
}

void complete_set::unmark(const lt::sha1_hash &ih)
{
	std::lock_guard<std::mutex> l(mu_);
	set_.erase(ih);
}

bool complete_set::has(const lt::sha1_hash &ih) const
{
	std::lock_guard<std::mutex> l(mu_);
	return set_.count(ih) > 0;
}

namespace {

class split_disk_io final : public lt::disk_interface {
public:
	split_disk_io(lt::io_context &ioc, lt::settings_interface const &sett,
		      lt::counters &cnt, mode m,
		      std::shared_ptr<const complete_set> complete)
		: mode_(m), complete_(std::move(complete))
	{
		if (m != mode::posix)
			mmap_ = lt::mmap_disk_io_constructor(ioc, sett, cnt);
		if (m != mode::mmap)
			posix_ = lt::posix_disk_io_constructor(ioc, sett, cnt);
	}

	lt::storage_holder new_torrent(lt::storage_params const &p,
				       std::shared_ptr<void> const &torrent) override
	{
		bool use_posix = mode_ == mode::posix ||
			(mode_ == mode::split && complete_->has(p.info_hash));
		lt::disk_interface &d = use_posix ? *posix_ : *mmap_;
		slot s{use_posix, d.new_torrent(p, torrent)};
		lt::storage_index_t idx;
		if (!free_.empty()) {
			idx = free_.back();
			free_.pop_back();
			slots_[static_cast<std::size_t>(static_cast<int>(idx))] = std::move(s);
		} else {
			idx = lt::storage_index_t(static_cast<int>(slots_.size()));
			slots_.push_back(std::move(s));
		}
		return lt::storage_holder(idx, *this);
	}

	void remove_torrent(lt::storage_index_t idx) override
	{
		at(idx).inner.reset();
		free_.push_back(idx);
	}

	void async_read(lt::storage_index_t st, lt::peer_request const &r,
			std::function<void(lt::disk_buffer_holder, lt::storage_error const &)> h,
			lt::disk_job_flags_t flags) override
	{
		slot &s = at(st);
		of(s).async_read(s.inner, r, std::move(h), flags);
	}

	bool async_write(lt::storage_index_t st, lt::peer_request const &r,
			 char const *buf, std::shared_ptr<lt::disk_observer> o,
			 std::function<void(lt::storage_error const &)> h,
			 lt::disk_job_flags_t flags) override
	{
		slot &s = at(st);
		return of(s).async_write(s.inner, r, buf, std::move(o), std::move(h), flags);
	}

	void async_hash(lt::storage_index_t st, lt::piece_index_t piece,
			lt::span<lt::sha256_hash> v2, lt::disk_job_flags_t flags,
			std::function<void(lt::piece_index_t, lt::sha1_hash const &,
					   lt::storage_error const &)> h) override
	{
		slot &s = at(st);
		of(s).async_hash(s.inner, piece, v2, flags, std::move(h));
	}

	void async_hash2(lt::storage_index_t st, lt::piece_index_t piece, int offset,
			 lt::disk_job_flags_t flags,
			 std::function<void(lt::piece_index_t, lt::sha256_hash const &,
					    lt::storage_error const &)> h) override
	{
		slot &s = at(st);
		of(s).async_hash2(s.inner, piece, offset, flags, std::move(h));
	}

	void async_move_storage(lt::storage_index_t st, std::string p, lt::move_flags_t flags,
				std::function<void(lt::status_t, std::string const &,
						   lt::storage_error const &)> h) override
	{
		slot &s = at(st);
		of(s).async_move_storage(s.inner, std::move(p), flags, std::move(h));
	}

	void async_release_files(lt::storage_index_t st, std::function<void()> h) override
	{
		slot &s = at(st);
		of(s).async_release_files(s.inner, std::move(h));
	}

	void async_check_files(lt::storage_index_t st, lt::add_torrent_params const *resume,
			       lt::aux::vector<std::string, lt::file_index_t> links,
			       std::function<void(lt::status_t, lt::storage_error const &)> h) override
	{
		slot &s = at(st);
		of(s).async_check_files(s.inner, resume, std::move(links), std::move(h));
	}

	void async_stop_torrent(lt::storage_index_t st, std::function<void()> h) override
	{
		slot &s = at(st);
		of(s).async_stop_torrent(s.inner, std::move(h));
	}

	void async_rename_file(lt::storage_index_t st, lt::file_index_t index, std::string name,
			       std::function<void(std::string const &, lt::file_index_t,
						  lt::storage_error const &)> h) override
	{
		slot &s = at(st);
		of(s).async_rename_file(s.inner, index, std::move(name), std::move(h));
	}

	void async_delete_files(lt::storage_index_t st, lt::remove_flags_t options,
				std::function<void(lt::storage_error const &)> h) override
	{
		slot &s = at(st);
		of(s).async_delete_files(s.inner, options, std::move(h));
	}

	void async_set_file_priority(lt::storage_index_t st,
				     lt::aux::vector<lt::download_priority_t, lt::file_index_t> prio,
				     std::function<void(lt::storage_error const &,
							lt::aux::vector<lt::download_priority_t,
									lt::file_index_t>)> h) override
	{
		slot &s = at(st);
		of(s).async_set_file_priority(s.inner, std::move(prio), std::move(h));
	}

	void async_clear_piece(lt::storage_index_t st, lt::piece_index_t index,
			       std::function<void(lt::piece_index_t)> h) override
	{
		slot &s = at(st);
		of(s).async_clear_piece(s.inner, index, std::move(h));
	}

	std::vector<lt::open_file_state> get_status(lt::storage_index_t st) const override
	{
		const slot &s = slots_[static_cast<std::size_t>(static_cast<int>(st))];
		return (s.posix ? *posix_ : *mmap_).get_status(s.inner);
	}

	/* the rest goes to both back ends */
	void update_stats_counters(lt::counters &c) const override
	{
		each([&](lt::disk_interface &d) { d.update_stats_counters(c); });
	}
	void abort(bool wait) override
	{
		each([&](lt::disk_interface &d) { d.abort(wait); });
	}
	void submit_jobs() override
	{
		each([&](lt::disk_interface &d) { d.submit_jobs(); });
	}
	void settings_updated() override
	{
		each([&](lt::disk_interface &d) { d.settings_updated(); });
	}

	~split_disk_io() override
	{
		/* the back ends' holders free their storage in the back ends,
		 * which must still exist */
		slots_.clear();
	}

private:
	struct slot {
		bool posix;
		lt::storage_holder inner;
	};

	slot &at(lt::storage_index_t idx)
	{
		return slots_[static_cast<std::size_t>(static_cast<int>(idx))];
	}
	lt::disk_interface &of(const slot &s) { return s.posix ? *posix_ : *mmap_; }
	template <class F> void each(F f) const
	{
		if (mmap_)
			f(*mmap_);
		if (posix_)
			f(*posix_);
	}

	mode mode_;
	std::shared_ptr<const complete_set> complete_;
	std::unique_ptr<lt::disk_interface> mmap_, posix_;
	std::vector<slot> slots_;
	std::vector<lt::storage_index_t> free_;
};

} // namespace

lt::disk_io_constructor_type constructor(mode m, std::shared_ptr<const complete_set> complete)
{
	return [m, complete](lt::io_context &ioc, lt::settings_interface const &sett,
			     lt::counters &cnt) -> std::unique_ptr<lt::disk_interface> {
		return std::unique_ptr<lt::disk_interface>(
			new split_disk_io(ioc, sett, cnt, m, complete));
	};
}

} // namespace ws_disk
