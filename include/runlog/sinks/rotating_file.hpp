#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "../detail/build.hpp"
#include "../detail/chrono.hpp"
#include "../detail/level_enum.hpp"
#include "sink.hpp"

namespace runlog {
inline namespace v0 {

/// Options of the rotating file sink: when to start a new file and how many old ones to keep.
struct rotating_options {
    std::uint64_t max_size = 0;          ///< bytes per file before a new one starts; 0 = no size limit
    std::chrono::seconds interval{0};    ///< start a new file at each multiple of this since the epoch (UTC); 0 = never
    std::size_t max_files = 5;           ///< rotated files kept besides the active one (path.1 ... path.max_files)
    std::size_t buffer_size = 64 * 1024; ///< bytes kept before a write(2); 0 writes every record at once
    level flush_on = level::error;       ///< a record at this level or above is written out at once
    std::chrono::milliseconds flush_every{1000};  ///< a buffered record is written out within this; 0: no timer
    std::chrono::system_clock::time_point (*clock)() noexcept = nullptr;  ///< the time source; nullptr = system_clock::now
};

/// Appends records to a file and moves it aside as path.1, path.2, ... when it grows too big or its interval ends.
///
/// Files hold whole records only. Copies share one open file, like file_sink.
class rotating_file_sink {
public:
    static constexpr bool thread_safe = true;  ///< its state is locked inside; copies share it
    /// Opens path (appending); throws std::invalid_argument on bad options, std::system_error naming the path when it
    /// cannot be created or opened.
    RUNLOG_INLINE rotating_file_sink(std::string path, rotating_options options);

    /// Buffers bytes (whole records), first starting a new file if they would not fit or the interval has ended.
    void write(std::string_view bytes) noexcept { write(bytes, level::trace); }
    /// As write(bytes), and writes everything out when lvl reaches flush_on.
    RUNLOG_INLINE void write(std::string_view bytes, level lvl) noexcept;
    /// Writes everything buffered to the active file.
    RUNLOG_INLINE void flush() noexcept;
    /// Files are never terminals: no colours.
    bool is_terminal() const noexcept { return false; }
    /// The active file; rotated ones are this path with `.1` (newest) to `.max_files` (oldest) appended.
    RUNLOG_INLINE const std::string& path() const noexcept;
    /// How many writes, renames and deletions failed.
    RUNLOG_INLINE std::uint64_t failures() const noexcept;
    /// How many records were lost with failed writes (a failed rotation loses none).
    RUNLOG_INLINE std::uint64_t lost_records() const noexcept;

private:
    struct state;
    std::shared_ptr<state> state_;
};

}  // namespace v0
}  // namespace runlog

#if RUNLOG_DEFINITIONS
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <mutex>
#include <stdexcept>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../detail/flusher.hpp"
#include "../detail/log_file.hpp"

namespace runlog {
inline namespace v0 {

namespace detail {

/// Which interval of `interval` seconds since the epoch a time falls in (floored, also before 1970).
inline std::int64_t interval_index(std::int64_t seconds_since_epoch, std::int64_t interval) noexcept {
    std::int64_t q = seconds_since_epoch / interval;
    if (seconds_since_epoch % interval != 0 && seconds_since_epoch < 0) --q;
    return q;
}
inline std::int64_t interval_index(std::chrono::system_clock::time_point t, std::int64_t interval) noexcept {
    return interval_index(std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count(), interval);
}

}  // namespace detail

struct rotating_file_sink::state {
    state(std::string p, rotating_options o)
        : options(o), file(std::move(p), O_APPEND, o.buffer_size), path(file.path()) {}
    std::mutex mutex;
    rotating_options options;
    // Counts the bytes of the active file toward max_size (written or attempted, and buffered).
    detail::log_file file;
    const std::string& path;
    std::chrono::system_clock::time_point next_boundary = std::chrono::system_clock::time_point::max();

    std::uint64_t pending() const noexcept { return file.written() + file.buffered(); }
    std::int64_t interval_seconds() const noexcept { return static_cast<std::int64_t>(options.interval.count()); }
    std::chrono::system_clock::time_point now() const noexcept {
        return options.clock ? options.clock() : std::chrono::system_clock::now();
    }

    /// The first multiple of interval after t, or time_point::max() when that is out of range.
    std::chrono::system_clock::time_point boundary_after(std::chrono::system_clock::time_point t) const noexcept {
        using namespace std::chrono;
        const std::int64_t iv = interval_seconds();
        const std::int64_t q = detail::interval_index(t, iv);
        const std::int64_t max_s = floor<seconds>(system_clock::time_point::max().time_since_epoch()).count();
        if (q >= max_s / iv) return system_clock::time_point::max();
        return system_clock::time_point(duration_cast<system_clock::duration>(seconds((q + 1) * iv)));
    }

    int open_active() const noexcept {
        return detail::open_file(path, O_RDWR | O_CREAT | O_APPEND);
    }
    std::string numbered(std::size_t n) const { return path + "." + std::to_string(n); }

    void report(const char* what, const std::string& name, int err, std::uint64_t lost) noexcept {
        try {
            file.errors().report(std::string(what) + " \"" + name + "\"", err, lost);
        } catch (...) {
            file.errors().report(what, err, lost);
        }
    }

    /// Renames path.N to path.N+1 (the last onto path.max_files, replacing it) and path to path.1, then opens a
    /// new path. A failure is reported and records keep going to the current file; counting its size starts over,
    /// so the next attempt comes max_size bytes later rather than on every write.
    void rotate() noexcept {
        file.write_out();
        file.reset_written();
        try {
            // Only the run of existing files path.1 ... path.k moves.
            std::size_t k = 0;
            struct stat st {};
            while (k + 1 < options.max_files && ::lstat(numbered(k + 1).c_str(), &st) == 0) ++k;
            for (std::size_t i = k; i >= 1; --i) {
                const std::string from = numbered(i), to = numbered(i + 1);
                if (std::rename(from.c_str(), to.c_str()) != 0 && errno != ENOENT) {
                    // Stop: moving path.i-1 onto path.i now would destroy path.i.
                    const int err = errno;
                    return report("cannot rename old log file", from, err, 0);
                }
            }
            const std::string to = numbered(1);
            if (std::rename(path.c_str(), to.c_str()) != 0 && errno != ENOENT) {
                const int err = errno;
                return report("cannot rename log file", path, err, 0);
            }
        } catch (...) {
            return report("cannot rotate log file", path, ENOMEM, 0);
        }
        const int fresh = open_active();
        if (fresh < 0) {
            // The old descriptor still works (now path.1): writing on there loses nothing.
            const int err = errno;
            return report("cannot open new log file", path, err, 0);
        }
        file.replace_fd(fresh);
    }

    /// Deletes path.N for N > max_files, left by an earlier run with a larger max_files.
    void delete_extra_files() noexcept {
        try {
            const auto slash = path.find_last_of('/');
            const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
            const std::string prefix = (slash == std::string::npos ? path : path.substr(slash + 1)) + ".";
            DIR* d = ::opendir(dir.c_str());
            if (d == nullptr) {
                const int err = errno;
                return report("cannot list the directory of log file", path, err, 0);
            }
            std::unique_ptr<DIR, int (*)(DIR*)> guard(d, &::closedir);
            while (const dirent* e = ::readdir(d)) {
                const std::string_view name = e->d_name;
                if (!name.starts_with(prefix)) continue;
                const std::string_view digits = name.substr(prefix.size());
                // Only names this sink makes: path.N with N written without leading zeros.
                if (digits.empty() || digits[0] == '0') continue;
                std::uint64_t n = 0;
                auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
                if (ec != std::errc() || end != digits.data() + digits.size()) continue;
                if (n <= options.max_files) continue;
                const std::string victim = dir + "/" + std::string(name);
                if (::unlink(victim.c_str()) != 0 && errno != ENOENT) {
                    const int err = errno;
                    report("cannot delete old log file", victim, err, 0);
                }
            }
        } catch (...) {
            report("cannot delete old log files of", path, ENOMEM, 0);
        }
    }
};

RUNLOG_INLINE rotating_file_sink::rotating_file_sink(std::string path, rotating_options options) {
    if (options.interval.count() < 0)
        throw std::invalid_argument("rotating_options::interval must not be negative");
    const bool rotates = options.max_size > 0 || options.interval.count() > 0;
    if (rotates && options.max_files == 0)
        throw std::invalid_argument(
            "rotating_options::max_files must be at least 1 when max_size or interval is set (rotating would "
            "delete the log)");
    state_ = std::make_shared<state>(std::move(path), options);
    state& s = *state_;
    detail::periodic_flusher::instance().add_file_state(state_, options.buffer_size, options.flush_every);
    struct stat st {};
    if (::fstat(s.file.fd(), &st) == 0) s.file.reset_written(static_cast<std::uint64_t>(st.st_size));
    if (!rotates) return;
    s.delete_extra_files();
    if (options.interval.count() > 0) {
        const auto now = s.now();
        // A file last written in an earlier interval belongs to that interval, not this one.
        if (s.pending() > 0 && detail::interval_index(st.st_mtim.tv_sec, s.interval_seconds()) <
                              detail::interval_index(now, s.interval_seconds()))
            s.rotate();
        s.next_boundary = s.boundary_after(now);
    }
}

RUNLOG_INLINE void rotating_file_sink::write(std::string_view bytes, level lvl) noexcept {
    state& s = *state_;
    std::lock_guard lock(s.mutex);
    if (s.options.interval.count() > 0) {
        const auto now = s.now();
        if (now >= s.next_boundary) {
            if (s.pending() > 0) s.rotate();
            s.next_boundary = s.boundary_after(now);
        }
    }
    // A record larger than max_size still goes into a file: alone.
    if (s.options.max_size > 0 && s.pending() > 0 && s.pending() + bytes.size() > s.options.max_size) s.rotate();
    s.file.append(bytes, lvl >= s.options.flush_on);
}

RUNLOG_INLINE void rotating_file_sink::flush() noexcept {
    std::lock_guard lock(state_->mutex);
    state_->file.write_out();
}

RUNLOG_INLINE const std::string& rotating_file_sink::path() const noexcept { return state_->file.path(); }
RUNLOG_INLINE std::uint64_t rotating_file_sink::failures() const noexcept { return state_->file.errors().failures(); }
RUNLOG_INLINE std::uint64_t rotating_file_sink::lost_records() const noexcept {
    return state_->file.errors().lost_records();
}

}  // namespace v0
}  // namespace runlog
#endif
