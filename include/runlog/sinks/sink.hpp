#pragma once
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include <sys/types.h>

#include "../detail/build.hpp"

namespace runlog {
inline namespace v0 {

/// A destination for formatted bytes: write() receives whole lines, flush() writes out what it buffers. A
/// pipeline calls them one at a time, under a lock of its own, unless the sink is a thread_safe_sink.
template <class S>
concept sink = requires(S& s, std::string_view bytes) {
    s.write(bytes);
    s.flush();
};

namespace detail {
/// Set while runlog::capture holds descriptors 1 and 2: automatic colours are off then, so that escape codes
/// never reach the compute logs (the terminal the program started on is no longer what the console writes to).
inline std::atomic<bool>& output_captured() noexcept {
    static std::atomic<bool> captured{false};
    return captured;
}
}  // namespace detail

/// Whether a sink declares `static constexpr bool thread_safe = true;`: its write() and flush() may be called
/// from several threads at once (it locks what it must), so pipelines call them without a lock. The built-in
/// sinks do.
template <class S>
inline constexpr bool thread_safe_sink = requires { requires static_cast<bool>(S::thread_safe); };

/// What a sink tells the error handler when a write fails.
struct sink_error {
    std::string_view message;     ///< what failed and why, e.g. `write to "x.log" failed: No space left on device`
    std::uint64_t failures;       ///< how many writes of this sink have failed so far, this one included
    std::uint64_t lost_records;   ///< how many records this sink has lost so far
    bool from_sink = true;        ///< false for a one-off problem outside the sinks (a capture, the async backend)
};

/// Receives sink failures; it must not throw and must be safe to call from many threads.
using error_handler = void (*)(const sink_error&);

namespace detail {

/// Writes all of s to fd, retrying on EINTR and short writes; returns 0 or the errno, and in *written (when given)
/// how many bytes reached fd.
RUNLOG_INLINE int write_all(int fd, std::string_view s, std::size_t* written = nullptr) noexcept;

/// Moves fd to a number of at least 3, close-on-exec, so that a file runlog opens while stdin, stdout or
/// stderr is closed never takes their place (and is never replaced by a later redirection of them).
RUNLOG_INLINE int high_fd(int fd) noexcept;

/// Opens a file close-on-exec at a descriptor of at least 3 (see high_fd); -1 with errno on failure.
RUNLOG_INLINE int open_file(const std::string& path, int flags, mode_t mode = 0644) noexcept;
/// As open_file, with name relative to the open directory `directory` (openat).
RUNLOG_INLINE int open_file_at(int directory, const std::string& name, int flags, mode_t mode = 0644) noexcept;

/// Creates every missing directory of path's parent, like `mkdir -p`, with mode (before the umask); returns 0 or
/// the errno.
RUNLOG_INLINE int create_parent_directories(const std::string& path, mode_t mode = 0777) noexcept;

/// Opens the directory `name` (relative to the directory `at`, or to the working directory with AT_FDCWD) and
/// checks, through the descriptor, that only this user can change it: not a symbolic link, owned by this user,
/// not writable by others unless sticky (as /tmp is). Returns the descriptor (close-on-exec), or -1 with
/// *problem saying why, naming it `shown`. Files opened in it with openat land in that very directory, whatever
/// happens to its path (or its parents') meanwhile.
RUNLOG_INLINE int open_private_directory(int at, const std::string& name, const std::string& shown,
                                         std::string* problem);

/// The default handler: prints a sink's first failure to stderr (later ones are only counted), and every
/// one-off problem.
RUNLOG_INLINE void default_error_handler(const sink_error& e) noexcept;

inline std::atomic<error_handler>& error_handler_slot() noexcept {
    static std::atomic<error_handler> slot{&default_error_handler};
    return slot;
}

/// A sink's failure counters; report() hands each failure to the error handler.
class write_errors {
public:
    /// Counts a failure that lost `lost` records and hands `what: strerror(err)` to the error handler.
    RUNLOG_INLINE void report(std::string_view what, int err, std::uint64_t lost) noexcept;
    std::uint64_t failures() const noexcept { return failures_.load(std::memory_order_relaxed); }
    std::uint64_t lost_records() const noexcept { return lost_.load(std::memory_order_relaxed); }

private:
    std::atomic<std::uint64_t> failures_{0};
    std::atomic<std::uint64_t> lost_{0};
};

/// How many lines (newlines) s holds.
RUNLOG_INLINE std::uint64_t count_lines(std::string_view s) noexcept;

/// Hands one problem that is not a sink's repeated failure (a capture that lost bytes, a scope ended on
/// the wrong thread) to the error handler, which the default prints.
RUNLOG_INLINE void report_problem(std::string_view message, std::uint64_t lost_records = 0) noexcept;

}  // namespace detail

/// Replaces the handler of sink failures (nullptr restores the default); returns the previous one.
RUNLOG_INLINE error_handler set_error_handler(error_handler h) noexcept;

}  // namespace v0
}  // namespace runlog

#if RUNLOG_DEFINITIONS
#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace runlog {
inline namespace v0 {
namespace detail {

RUNLOG_INLINE int write_all(int fd, std::string_view s, std::size_t* written) noexcept {
    const char* p = s.data();
    std::size_t left = s.size();
    int err = 0;
    while (left > 0) {
        ssize_t n = ::write(fd, p, left);
        if (n < 0) {
            if (errno == EINTR) continue;
            err = errno;
            break;
        }
        if (n == 0) {
            err = EIO;
            break;
        }
        p += n;
        left -= static_cast<std::size_t>(n);
    }
    if (written) *written = s.size() - left;
    return err;
}

RUNLOG_INLINE int high_fd(int fd) noexcept {
    if (fd < 0 || fd > 2) return fd;
    const int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
    const int err = errno;
    ::close(fd);
    errno = err;
    return moved;
}

RUNLOG_INLINE int open_file_at(int directory, const std::string& name, int flags, mode_t mode) noexcept {
    return high_fd(::openat(directory, name.c_str(), flags | O_CLOEXEC, mode));
}

RUNLOG_INLINE int open_file(const std::string& path, int flags, mode_t mode) noexcept {
    return open_file_at(AT_FDCWD, path, flags, mode);
}

RUNLOG_INLINE int create_parent_directories(const std::string& path, mode_t mode) noexcept {
    try {
        auto slash = path.find_last_of('/');
        if (slash == std::string::npos || slash == 0) return 0;
        for (std::size_t i = 1; i <= slash; ++i) {
            if (i < slash && path[i] != '/') continue;
            const std::string dir = path.substr(0, i);
            if (::mkdir(dir.c_str(), mode) == 0) continue;
            const int err = errno;
            struct stat st {};
            if (::stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) continue;
            return err == EEXIST ? ENOTDIR : err;
        }
        return 0;
    } catch (...) {
        return ENOMEM;
    }
}

RUNLOG_INLINE int open_private_directory(int at, const std::string& name, const std::string& shown,
                                         std::string* problem) {
    const int fd = open_file_at(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0);
    if (fd < 0) {
        const int err = errno;
        struct stat st {};
        if (err == ELOOP || (err == ENOTDIR && ::fstatat(at, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                             S_ISLNK(st.st_mode)))
            *problem = "\"" + shown + "\" is a symbolic link (refused: it may point anywhere)";
        else if (err == ENOTDIR)
            *problem = "\"" + shown + "\" is not a directory";
        else
            *problem = "\"" + shown + "\": " + std::strerror(err);
        return -1;
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0)
        *problem = "\"" + shown + "\": " + std::strerror(errno);
    else if (st.st_uid != ::geteuid())
        *problem = "\"" + shown + "\" belongs to another user (uid " + std::to_string(st.st_uid) +
                   "), who could replace its files";
    else if ((st.st_mode & S_IWOTH) != 0 && (st.st_mode & S_ISVTX) == 0)
        *problem = "\"" + shown + "\" is writable by every user and not sticky";
    else
        return fd;
    ::close(fd);
    return -1;
}

RUNLOG_INLINE void default_error_handler(const sink_error& e) noexcept {
    if (e.failures != 1) return;
    std::string line = "runlog: ";
    try {
        line.append(e.message);
        line.append(e.from_sink ? " (later failures of this sink are counted, not printed)\n" : "\n");
    } catch (...) {
        return;
    }
    (void)write_all(STDERR_FILENO, line);
}

RUNLOG_INLINE void write_errors::report(std::string_view what, int err, std::uint64_t lost) noexcept {
    auto n = failures_.fetch_add(1, std::memory_order_relaxed) + 1;
    auto l = lost_.fetch_add(lost, std::memory_order_relaxed) + lost;
    std::string msg;
    try {
        msg.append(what);
        if (err != 0) {
            msg.append(": ");
            msg.append(std::strerror(err));
        }
    } catch (...) {
    }
    error_handler_slot().load(std::memory_order_acquire)(sink_error{msg, n, l});
}

RUNLOG_INLINE std::uint64_t count_lines(std::string_view s) noexcept {
    std::uint64_t n = 0;
    for (char c : s) n += c == '\n';
    return n;
}

RUNLOG_INLINE void report_problem(std::string_view message, std::uint64_t lost_records) noexcept {
    error_handler_slot().load()(sink_error{message, 1, lost_records, false});
}

}  // namespace detail

RUNLOG_INLINE error_handler set_error_handler(error_handler h) noexcept {
    return detail::error_handler_slot().exchange(h ? h : &detail::default_error_handler);
}

}  // namespace v0
}  // namespace runlog
#endif
