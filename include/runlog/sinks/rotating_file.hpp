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
    std::chrono::seconds interval{0};    ///< start a new file at each multiple of this since the epoch; 0 = never
    /// Count intervals in local time (a day starts at local midnight, as spdlog's daily sink does) instead of UTC.
    bool local_time = false;
    std::size_t max_files = 5;           ///< old files kept besides the active one (path.1 ... path.max_files)
    std::size_t buffer_size = 256 * 1024; ///< bytes kept before a write(2); 0 writes every record at once
    level flush_on = level::error;       ///< a record at this level or above is written out at once
    std::chrono::milliseconds flush_every{1000};  ///< a buffered record is written out within this; 0: no timer
    std::chrono::system_clock::time_point (*clock)() noexcept = nullptr;  ///< the time source; nullptr = system_clock::now
};

/// Appends records to a file and moves it aside as path.1, path.2, ... when it grows too big or its interval ends.
///
/// A path holding `%` is a dated name instead (`logs/app_%Y-%m-%d.log`, with %Y %m %d %H %M %S %j and %%): each
/// interval writes the file named by its start (in local time with `.local_time`), nothing is renamed, and the
/// oldest dated files beyond max_files are deleted. A dated name needs an interval and takes no max_size.
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
    /// The active file; rotated ones are this path with `.1` (newest) to `.max_files` (oldest) appended (or, for a
    /// dated name, the file of the current interval).
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
#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <stdexcept>
#include <vector>

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

/// Seconds east of UTC of the local time zone at t (0 when it cannot be known).
inline std::int64_t utc_offset(std::int64_t t) noexcept {
    const std::time_t tt = static_cast<std::time_t>(t);
    std::tm tm{};
    return ::localtime_r(&tt, &tm) ? static_cast<std::int64_t>(tm.tm_gmtoff) : 0;
}

/// Whether a dated file name uses only the conversions a dated rotating file supports.
inline bool dated_pattern_ok(std::string_view p) noexcept {
    for (std::size_t i = 0; i < p.size(); ++i) {
        if (p[i] != '%') continue;
        if (i + 1 >= p.size() || std::string_view("YmdHMSj%").find(p[i + 1]) == std::string_view::npos) return false;
        ++i;
    }
    return true;
}

/// Whether name is what pattern makes for some time: %Y four digits, %j three, the others two, %% a '%'.
inline bool matches_dated(std::string_view pattern, std::string_view name) noexcept {
    std::size_t n = 0;
    for (std::size_t i = 0; i < pattern.size(); ++i) {
        if (pattern[i] != '%') {
            if (n >= name.size() || name[n++] != pattern[i]) return false;
            continue;
        }
        const char c = pattern[++i];
        if (c == '%') {
            if (n >= name.size() || name[n++] != '%') return false;
            continue;
        }
        const std::size_t digits = c == 'Y' ? 4 : c == 'j' ? 3 : 2;
        for (std::size_t d = 0; d < digits; ++d, ++n)
            if (n >= name.size() || name[n] < '0' || name[n] > '9') return false;
    }
    return n == name.size();
}

}  // namespace detail

struct rotating_file_sink::state {
    state(std::string p, rotating_options o)
        : options(o),
          pattern(p.find('%') != std::string::npos ? p : std::string()),
          file(pattern.empty() ? std::move(p) : dated_path(pattern, o, now_of(o)), O_APPEND, o.buffer_size),
          path(file.path()) {}
    std::mutex mutex;
    rotating_options options;
    std::string pattern;  ///< a dated name (path with %); empty for numbered files
    // Counts the bytes of the active file toward max_size (written or attempted, and buffered).
    detail::log_file file;
    const std::string& path;
    std::chrono::system_clock::time_point next_boundary = std::chrono::system_clock::time_point::max();

    std::uint64_t pending() const noexcept { return file.written() + file.buffered(); }
    std::int64_t interval_seconds() const noexcept { return static_cast<std::int64_t>(options.interval.count()); }
    static std::chrono::system_clock::time_point now_of(const rotating_options& o) noexcept {
        return o.clock ? o.clock() : std::chrono::system_clock::now();
    }
    std::chrono::system_clock::time_point now() const noexcept { return now_of(options); }

    /// Seconds since the epoch of t on the clock intervals are counted on: UTC, or local time.
    static std::int64_t counted(const rotating_options& o, std::int64_t t) noexcept {
        return o.local_time ? t + detail::utc_offset(t) : t;
    }
    static std::int64_t seconds_of(std::chrono::system_clock::time_point t) noexcept {
        return std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count();
    }
    /// Which interval t falls in.
    std::int64_t index_of(std::int64_t t) const noexcept {
        return detail::interval_index(counted(options, t), interval_seconds());
    }

    /// The first start of an interval after t, or time_point::max() when that is out of range.
    std::chrono::system_clock::time_point boundary_after(std::chrono::system_clock::time_point t) const noexcept {
        using namespace std::chrono;
        const std::int64_t iv = interval_seconds();
        const std::int64_t q = index_of(seconds_of(t));
        const std::int64_t max_s = floor<seconds>(system_clock::time_point::max().time_since_epoch()).count();
        if (q >= max_s / iv - 1) return system_clock::time_point::max();
        std::int64_t b = (q + 1) * iv;  // on the counting clock
        if (options.local_time) {
            // Back to UTC with the offset in force at the boundary (a DST change in between moves it).
            const std::int64_t guess = b - detail::utc_offset(seconds_of(t));
            b = b - detail::utc_offset(guess);
        }
        return system_clock::time_point(duration_cast<system_clock::duration>(seconds(b)));
    }

    /// The dated file of the interval t falls in: the pattern with the interval's start.
    static std::string dated_path(const std::string& pattern, const rotating_options& o,
                                  std::chrono::system_clock::time_point t) {
        const std::int64_t iv = o.interval.count() > 0 ? static_cast<std::int64_t>(o.interval.count()) : 1;
        const std::int64_t start = detail::interval_index(counted(o, seconds_of(t)), iv) * iv;  // counting clock
        const std::time_t tt = static_cast<std::time_t>(start);
        std::tm tm{};
        ::gmtime_r(&tt, &tm);  // start is already shifted to local time when intervals are local
        std::string out(pattern.size() + 64, '\0');
        const std::size_t n = std::strftime(out.data(), out.size(), pattern.c_str(), &tm);
        out.resize(n);
        return out;
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

    /// A dated name: writes out, then opens the file of the interval t falls in and deletes the oldest beyond
    /// max_files. A failure is reported and records keep going to the current file.
    void rotate_dated(std::chrono::system_clock::time_point t) noexcept {
        file.write_out();
        try {
            std::string next = dated_path(pattern, options, t);
            if (next == path) return;
            const int fresh = detail::open_file(next, O_RDWR | O_CREAT | O_APPEND);
            if (fresh < 0) {
                const int err = errno;
                return report("cannot open new log file", next, err, 0);
            }
            file.retarget(fresh, std::move(next));
            struct stat st {};
            file.reset_written(::fstat(file.fd(), &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0);
        } catch (...) {
            return report("cannot rotate log file", path, ENOMEM, 0);
        }
        delete_extra_files();
    }

    /// Renames path.N to path.N+1 (the last onto path.max_files, replacing it) and path to path.1, then opens a
    /// new path. A failure is reported and records keep going to the current file; counting its size starts over,
    /// so the next attempt comes max_size bytes later rather than on every write.
    void rotate() noexcept {
        if (!pattern.empty()) return rotate_dated(now());
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

    /// Deletes path.N for N > max_files, left by an earlier run with a larger max_files; for a dated name, the
    /// oldest dated files (by modification time) beyond max_files besides the active one.
    void delete_extra_files() noexcept {
        if (!pattern.empty()) return delete_old_dated_files();
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

    void delete_old_dated_files() noexcept {
        try {
            const auto slash = pattern.find_last_of('/');
            const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : pattern.substr(0, slash);
            const std::string_view name_pattern =
                slash == std::string::npos ? std::string_view(pattern) : std::string_view(pattern).substr(slash + 1);
            const std::string_view active =
                slash == std::string::npos ? std::string_view(path) : std::string_view(path).substr(path.find_last_of('/') + 1);
            DIR* d = ::opendir(dir.c_str());
            if (d == nullptr) {
                const int err = errno;
                return report("cannot list the directory of log file", path, err, 0);
            }
            std::unique_ptr<DIR, int (*)(DIR*)> guard(d, &::closedir);
            std::vector<std::pair<std::int64_t, std::string>> old;  // (mtime ns, name)
            while (const dirent* e = ::readdir(d)) {
                const std::string_view name = e->d_name;
                if (name == active || !detail::matches_dated(name_pattern, name)) continue;
                const std::string full = dir + "/" + std::string(name);
                struct stat st {};
                if (::lstat(full.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
                old.emplace_back(static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec,
                                 std::string(name));
            }
            if (old.size() <= options.max_files) return;
            std::sort(old.begin(), old.end(), [](const auto& a, const auto& b) {
                return a.first != b.first ? a.first > b.first : a.second > b.second;  // newest first
            });
            for (std::size_t i = options.max_files; i < old.size(); ++i) {
                const std::string victim = dir + "/" + old[i].second;
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
    if (path.find('%') != std::string::npos) {
        if (!detail::dated_pattern_ok(path))
            throw std::invalid_argument("rotating_file_sink: \"" + path +
                                        "\": a dated file name takes %Y %m %d %H %M %S %j and %% only");
        if (path.find('%') < path.find_last_of('/') + 1 && path.find_last_of('/') != std::string::npos)
            throw std::invalid_argument("rotating_file_sink: \"" + path +
                                        "\": the date goes in the file's name, not in its directories");
        if (options.interval.count() == 0 || options.max_size > 0)
            throw std::invalid_argument("rotating_file_sink: \"" + path +
                                        "\": a dated file name needs an interval and takes no max_size");
    }
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
        // A file last written in an earlier interval belongs to that interval, not this one (a dated file is
        // the current interval's by its name).
        if (s.pattern.empty() && s.pending() > 0 &&
            s.index_of(static_cast<std::int64_t>(st.st_mtim.tv_sec)) < s.index_of(state::seconds_of(now)))
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
            if (!s.pattern.empty())
                s.rotate_dated(now);
            else if (s.pending() > 0)
                s.rotate();
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
