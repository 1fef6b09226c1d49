#pragma once
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "detail/build.hpp"
#include "detail/chrono.hpp"
#include "run.hpp"
#include "source_location.hpp"

namespace runlog {
inline namespace v0 {

/// A capture that cannot start: its message names the path or the resource and the reason.
class capture_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// How a capture behaves.
struct capture_options {
    bool tee = true;          ///< also pass the bytes on to the original stdout and stderr, as Dagster does
    std::string file_key{};   ///< empty: the step key for one step, else 8 random lowercase letters
    /// After the descriptors are restored, how long in all to wait for the last bytes of child processes that
    /// still hold the pipes (a daemon started in the step, even one that keeps writing) before giving up on them.
    std::chrono::milliseconds drain_timeout{5000};
};

/// Raw compute logs: while alive, everything written to file descriptors 1 and 2 (by this program, C
/// libraries and child processes) goes through pipes to `<run dir>/compute_logs/<file_key>.out` and
/// `.err`, and by default on to the original stdout and stderr. Its end restores the descriptors,
/// reads the pipes to the last byte and then creates `<file_key>.complete`.
///
/// One capture at a time per process: opening another while one is active throws capture_error.
class capture {
public:
    /// Captures one step; the file key is the step key.
    RUNLOG_INLINE explicit capture(step& s, capture_options options = {},
                                   source_location loc = source_location::current());
    /// Captures the steps step_keys of r (or the whole process for the run when empty); the file key is
    /// 8 random lowercase letters unless options name one.
    RUNLOG_INLINE capture(run& r, std::vector<std::string> step_keys, capture_options options = {},
                          source_location loc = source_location::current());

    capture(const capture&) = delete;
    capture& operator=(const capture&) = delete;
    RUNLOG_INLINE ~capture();

    /// Ends the capture (the destructor does this too): restores fd 1 and 2, drains the pipes, closes
    /// the files and creates the .complete marker. Problems met while capturing are reported then.
    RUNLOG_INLINE void end() noexcept;

    RUNLOG_INLINE const std::string& file_key() const noexcept;
    RUNLOG_INLINE const std::string& stdout_path() const noexcept;
    RUNLOG_INLINE const std::string& stderr_path() const noexcept;
    RUNLOG_INLINE const std::string& complete_path() const noexcept;
    /// Bytes captured so far on stdout and stderr (read from the pipes).
    RUNLOG_INLINE std::uint64_t stdout_bytes() const noexcept;
    RUNLOG_INLINE std::uint64_t stderr_bytes() const noexcept;

private:
    struct impl;  // the pipes, the files and the reader thread
    std::unique_ptr<impl> impl_;
};

}  // namespace v0
}  // namespace runlog

#if RUNLOG_DEFINITIONS
#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>  // to flush the standard streams before and after a redirection
#include <limits.h>  // PIPE_BUF
#include <mutex>
#include <string_view>

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "crash.hpp"
#include "detail/threads.hpp"
#include "events.hpp"
#include "sinks/sink.hpp"

namespace runlog {
inline namespace v0 {
namespace detail {

/// Makes `<run dir>/compute_logs/` (private, see open_private_directory) and opens in it `<key>.out` and
/// `<key>.err` for writing, truncated, never through a symbolic link, after removing an earlier
/// `<key>.complete` (no longer true). Returns the directory's descriptor, held open, and the files' in files;
/// throws capture_error naming the path and the reason, with nothing left open.
inline int open_compute_logs(const std::string& key, const std::string& out_path, const std::string& err_path,
                             mode_t file_mode, mode_t directory_mode, int (&files)[2]) {
    if (int err = create_parent_directories(out_path, directory_mode))
        throw capture_error("cannot create the compute log directory for \"" + out_path + "\": " + std::strerror(err));
    const std::string dir = out_path.substr(0, out_path.rfind('/'));
    std::string problem;
    const int dfd = open_private_directory(AT_FDCWD, dir, dir, &problem);
    if (dfd < 0) throw capture_error("unsafe compute log directory: " + problem);
    ::unlinkat(dfd, (key + ".complete").c_str(), 0);
    for (int i = 0; i < 2; ++i) {
        files[i] = open_file_at(dfd, key + (i ? ".err" : ".out"), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, file_mode);
        if (files[i] >= 0) continue;
        const int err = errno;
        if (i) ::close(files[0]);
        ::close(dfd);
        const std::string& path = i ? err_path : out_path;
        if (err == ELOOP)
            throw capture_error("cannot open the compute log \"" + path + "\": it is a symbolic link (refused)");
        throw capture_error("cannot open the compute log \"" + path + "\": " + std::strerror(err));
    }
    return dfd;
}

/// 8 random lowercase letters.
inline std::string random_file_key() {
    std::string k(8, 'a');
    for (auto& c : k) c = static_cast<char>('a' + random_u64() % 26);
    return k;
}

/// Flushes C stdio and the standard iostreams, so bytes buffered before a redirection go where they belonged.
inline void flush_standard_streams() noexcept {
    std::fflush(nullptr);
    try {
        std::cout.flush();
        std::cerr.flush();
        std::clog.flush();
    } catch (...) {
    }
}

/// The process's one active capture: fd 1 and 2 are the whole process's.
inline std::mutex& capture_slot_mutex() noexcept {
    static std::mutex m;
    return m;
}
inline std::string& capture_slot_owner() noexcept {
    static std::string owner;  // the active capture's file key; empty when none
    return owner;
}

/// The process's start time in clock ticks since boot (field 22 of /proc/self/stat), or 0: with the pid, it
/// names this process and no other, also across pid namespaces.
inline std::uint64_t process_start_ticks() noexcept {
    const int fd = ::open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    char buf[1024];
    const ssize_t n = ::read(fd, buf, sizeof buf - 1);
    ::close(fd);
    if (n <= 0) return 0;
    buf[n] = 0;
    const char* p = std::strrchr(buf, ')');
    if (!p) return 0;
    for (int field = 2; field < 22 && *p; ++p)
        if (*p == ' ') ++field;
    return std::strtoull(p, nullptr, 10);
}

/// The descriptor holding the process-wide capture slot in this copy of runlog; -1 when none.
inline int& process_slot_fd() noexcept {
    static int fd = -1;
    return fd;
}

/// Claims fd 1 and 2 for the whole process, across every copy of runlog in it (plugins built with hidden
/// symbols each have their own statics): an abstract Unix socket named after the process can be bound by
/// one of them only. Returns false when another copy holds it; true when claimed, or when the system offers
/// no such socket (the in-copy check still holds then).
inline bool claim_process_slot() noexcept {
    static const bool fork_hook = [] {
        // A forked child must not hold its parent's claim (the name would stay taken after the parent's end).
        ::pthread_atfork(nullptr, nullptr, [] {
            if (process_slot_fd() >= 0) ::close(process_slot_fd()), process_slot_fd() = -1;
        });
        return true;
    }();
    (void)fork_hook;
    const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return true;
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    const int len = std::snprintf(addr.sun_path + 1, sizeof addr.sun_path - 1, "runlog-capture/%ld/%llu",
                                  static_cast<long>(::getpid()), static_cast<unsigned long long>(process_start_ticks()));
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr),
               static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + static_cast<std::size_t>(len))) != 0) {
        const int err = errno;
        ::close(fd);
        return err != EADDRINUSE;
    }
    process_slot_fd() = fd;
    return true;
}

inline void release_process_slot() noexcept {
    if (process_slot_fd() >= 0) ::close(process_slot_fd());
    process_slot_fd() = -1;
}

}  // namespace detail

struct capture::impl {
    struct stream {
        int fd;                 ///< 1 or 2
        std::string path;       ///< the compute log file
        int file = -1;          ///< the compute log file, open
        int saved = -1;         ///< the original descriptor, duplicated; -1 when fd was closed
        int read_end = -1;      ///< the pipe's read end
        int write_end = -1;     ///< the pipe's write end, until it replaces fd
        std::atomic<std::uint64_t> bytes{0};
        std::uint64_t lost = 0;  ///< bytes that could not be written to the file
        std::string error;       ///< the first file write error
        bool eof = false;
    };

    capture_options options_;
    std::vector<std::string> step_keys_;
    std::string file_key_;
    std::string complete_path_;
    stream streams_[2];
    detail::native_thread reader_;
    std::atomic<bool> restored_{false};
    bool ended_ = false;
    int abandoned_ = 0;
    mode_t file_mode_ = 0600, directory_mode_ = 0700;  ///< the run's (run_options)
    int dir_fd_ = -1;  ///< the compute log directory, held open: the files are opened in it (openat)
    std::atomic<int> delivering_{0};
    std::uint32_t pid_ = static_cast<std::uint32_t>(::getpid());
    detail::crash::hook crash_hook_;

    impl(const std::string& run_dir, unsigned file_mode, unsigned directory_mode, std::vector<std::string> step_keys,
         capture_options options)
        : options_(std::move(options)),
          step_keys_(std::move(step_keys)),
          file_mode_(static_cast<mode_t>(file_mode)),
          directory_mode_(static_cast<mode_t>(directory_mode)) {
        file_key_ = !options_.file_key.empty() ? options_.file_key
                    : step_keys_.size() == 1   ? step_keys_[0]
                                               : detail::random_file_key();
        if (file_key_.find('/') != std::string::npos || file_key_ == "." || file_key_ == "..")
            throw capture_error("capture file key \"" + file_key_ + "\" cannot name a file");
        const std::string dir = run_dir + "/compute_logs/";
        streams_[0].fd = STDOUT_FILENO;
        streams_[1].fd = STDERR_FILENO;
        streams_[0].path = dir + file_key_ + ".out";
        streams_[1].path = dir + file_key_ + ".err";
        complete_path_ = dir + file_key_ + ".complete";
        {
            std::lock_guard lock(detail::capture_slot_mutex());
            if (!detail::capture_slot_owner().empty())
                throw capture_error("cannot capture \"" + file_key_ + "\": capture \"" + detail::capture_slot_owner() +
                                    "\" is active, and stdout and stderr belong to the whole process (end it first)");
            if (!detail::claim_process_slot())
                throw capture_error("cannot capture \"" + file_key_ +
                                    "\": another copy of runlog in this process (a plugin with its own copy) has a capture "
                                    "active, and stdout and stderr belong to the whole process (end it first)");
            detail::capture_slot_owner() = file_key_;
        }
        try {
            start();
        } catch (...) {
            undo();
            std::lock_guard lock(detail::capture_slot_mutex());
            detail::capture_slot_owner().clear();
            detail::release_process_slot();
            throw;
        }
    }

    void end() noexcept {
        if (ended_) return;
        ended_ = true;
        detail::crash::remove(crash_hook_);
        detail::flush_standard_streams();
        for (auto& s : streams_) {
            if (s.saved >= 0) {
                while (::dup2(s.saved, s.fd) < 0 && errno == EINTR) {
                }
            } else {
                ::close(s.fd);  // it was closed before the capture
            }
        }
        detail::output_captured().store(false, std::memory_order_relaxed);
        // fd 1 and 2 no longer hold the pipes' write ends: the reader sees end-of-file once child
        // processes holding them are done too, or gives up after drain_timeout of silence.
        restored_.store(true, std::memory_order_release);
        if (reader_.joinable()) reader_.join();
        for (auto& s : streams_) {
            if (s.read_end >= 0) ::close(s.read_end);
            if (s.file >= 0 && ::close(s.file) != 0 && s.error.empty())
                s.error = "closing \"" + s.path + "\" failed: " + std::strerror(errno);
            if (s.saved >= 0) ::close(s.saved);
            s.read_end = s.file = s.saved = -1;
        }
        const int marker = detail::open_file_at(dir_fd_, file_key_ + ".complete", O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW,
                                                file_mode_);
        ::close(dir_fd_);
        dir_fd_ = -1;
        if (marker >= 0)
            ::close(marker);
        else
            report("cannot create \"" + complete_path_ + "\": " + std::strerror(errno));
        for (auto& s : streams_) {
            if (!s.error.empty())
                report(s.error + (s.lost ? " (" + std::to_string(s.lost) + " bytes reached only the original descriptor)"
                                         : std::string()));
        }
        if (abandoned_) report("capture \"" + file_key_ + "\": " + std::to_string(abandoned_) +
                               " stream(s) still held open by another process after the drain timeout; later bytes are not captured");
        std::lock_guard lock(detail::capture_slot_mutex());
        detail::capture_slot_owner().clear();
        detail::release_process_slot();
    }

    /// Opens the files and the pipes, then redirects: nothing is redirected unless everything is ready.
    void start() {
        int files[2];
        dir_fd_ = detail::open_compute_logs(file_key_, streams_[0].path, streams_[1].path, file_mode_, directory_mode_,
                                            files);
        streams_[0].file = files[0];
        streams_[1].file = files[1];
        for (int i = 0; i < 2; ++i) {
            auto& s = streams_[i];
            const std::string name = i ? "stderr" : "stdout";
            int ends[2];
            if (::pipe2(ends, O_CLOEXEC) != 0)
                throw capture_error("cannot create a pipe to capture " + name + ": " + std::strerror(errno));
            s.read_end = detail::high_fd(ends[0]);
            const int read_err = errno;
            s.write_end = detail::high_fd(ends[1]);
            if (s.read_end < 0 || s.write_end < 0)
                throw capture_error("cannot create a pipe to capture " + name + ": " +
                                    std::strerror(s.read_end < 0 ? read_err : errno));
            (void)::fcntl(s.read_end, F_SETPIPE_SZ, 1 << 20);  // fewer wake-ups; best effort
            s.saved = ::fcntl(s.fd, F_DUPFD_CLOEXEC, 3);
            if (s.saved < 0 && errno != EBADF)
                throw capture_error("cannot save " + name + " to restore it later: " + std::strerror(errno));
        }
        detail::flush_standard_streams();
        try {
            reader_.start([](void* self) { static_cast<impl*>(self)->read_loop(); }, this);
        } catch (const std::exception& e) {
            throw capture_error(std::string("cannot start the capture's reader thread: ") + e.what());
        }
        detail::output_captured().store(true, std::memory_order_relaxed);
        for (auto& s : streams_) {
            while (::dup2(s.write_end, s.fd) < 0 && errno == EINTR) {
            }
            ::close(s.write_end);
            s.write_end = -1;
        }
        detail::crash::add(crash_hook_, &on_crash, this, detail::crash::outputs);
    }

    /// The process is ending with the capture open: the reader gets a moment to copy what the pipes still
    /// hold (the handler's own report on stderr included) into the compute logs.
    static void on_crash(void* self, const detail::crash::event& e) noexcept {
        auto& c = *static_cast<impl*>(self);
        if (static_cast<std::uint32_t>(::getpid()) != c.pid_) return;
        std::fflush(nullptr);  // stdio's buffers, as exit() would; best effort after a crash
        const std::int64_t deadline = detail::crash::deadline_within(e, 500);
        for (;;) {
            int pending = 0;
            for (auto& s : c.streams_) {
                int n = 0;
                if (s.read_end >= 0 && !s.eof && ::ioctl(s.read_end, FIONREAD, &n) == 0) pending += n;
            }
            if (pending == 0 && c.delivering_.load(std::memory_order_acquire) == 0) return;
            if (detail::crash::now_ns() >= deadline) return;
            detail::crash::nap_ns(1'000'000);
        }
    }

    /// Releases what a failed start() acquired; the descriptors were not touched.
    void undo() noexcept {
        ended_ = true;
        restored_.store(true);
        if (reader_.joinable()) reader_.join();
        for (auto& s : streams_) {
            for (int* fd : {&s.file, &s.read_end, &s.write_end, &s.saved})
                if (*fd >= 0) ::close(*fd), *fd = -1;
        }
        if (dir_fd_ >= 0) ::close(dir_fd_), dir_fd_ = -1;
    }

    /// LOGS_CAPTURED, naming the file key, the steps and the files.
    template <class Emit>
    void announce(Emit emit) {
        const std::vector<std::string_view> keys(step_keys_.begin(), step_keys_.end());
        emit(events::logs_captured{.file_key = file_key_,
                                   .step_keys = string_list(keys),
                                   .stdout_path = streams_[0].path,
                                   .stderr_path = streams_[1].path},
             {});
    }

    /// Drains both pipes into the files (and the original descriptors when teeing) until end-of-file.
    void read_loop() noexcept {
        std::vector<char> buf(1 << 16);
        // After the descriptors are restored, lingering writers get drain_timeout in all, however much they
        // write: a daemon started by the step that never stops talking cannot hold end() up.
        std::chrono::steady_clock::time_point deadline{};
        bool deadline_set = false;
        for (;;) {
            pollfd fds[2];
            nfds_t n = 0;
            stream* which[2];
            for (auto& s : streams_)
                if (!s.eof && s.read_end >= 0) {
                    fds[n] = {s.read_end, POLLIN, 0};
                    which[n++] = &s;
                }
            if (n == 0) return;
            const bool restored = restored_.load(std::memory_order_acquire);
            if (restored && !deadline_set) {
                deadline = std::chrono::steady_clock::now() + options_.drain_timeout;
                deadline_set = true;
            }
            if (deadline_set && std::chrono::steady_clock::now() >= deadline) {
                for (nfds_t i = 0; i < n; ++i) which[i]->eof = true, ++abandoned_;
                return;
            }
            const int ready = ::poll(fds, n, restored ? 20 : 50);
            if (ready < 0) {
                if (errno == EINTR) continue;
                return;
            }
            if (ready == 0) continue;
            for (nfds_t i = 0; i < n; ++i) {
                if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
                stream& s = *which[i];
                delivering_.store(1, std::memory_order_release);  // read, not yet written: a crash waits for it
                const ssize_t got = ::read(s.read_end, buf.data(), buf.size());
                if (got <= 0) delivering_.store(0, std::memory_order_release);
                if (got < 0) {
                    if (errno == EINTR || errno == EAGAIN) continue;
                    s.eof = true;
                    continue;
                }
                if (got == 0) {
                    s.eof = true;
                    continue;
                }
                deliver(s, {buf.data(), static_cast<std::size_t>(got)});
                delivering_.store(0, std::memory_order_release);
            }
        }
    }

    /// Writes captured bytes to the compute log, and to the original descriptor when teeing or when the
    /// file cannot take them (so the program's output is never lost).
    void deliver(stream& s, std::string_view bytes) noexcept {
        s.bytes.fetch_add(bytes.size(), std::memory_order_relaxed);
        bool to_original = options_.tee;
        if (s.file >= 0) {
            std::size_t done = 0;
            if (int err = detail::write_all(s.file, bytes, &done); err != 0) {
                s.lost += bytes.size() - done;  // the file has the first `done`; all go to the original below
                if (s.error.empty()) {
                    try {
                        s.error = "capture: writing \"" + s.path + "\" failed: " + std::strerror(err);
                    } catch (...) {
                    }
                }
                to_original = true;
            }
        }
        if (to_original && s.saved >= 0) tee_lines(s.saved, bytes);
    }

    /// Passes bytes on in writes that end at line ends where it can, none over PIPE_BUF: several processes
    /// teeing into one pipe or terminal (a process executor's steps) then keep each other's lines of up to
    /// PIPE_BUF bytes whole there.
    static void tee_lines(int fd, std::string_view bytes) noexcept {
        while (!bytes.empty()) {
            std::size_t n = bytes.size();
            if (n > PIPE_BUF) {
                const std::size_t nl = bytes.substr(0, PIPE_BUF).rfind('\n');
                n = nl == std::string_view::npos ? PIPE_BUF : nl + 1;
            }
            if (detail::write_all(fd, bytes.substr(0, n)) != 0) return;
            bytes.remove_prefix(n);
        }
    }

    /// Reports on stderr (restored by then) through the sinks' error handler.
    static void report(const std::string& message) noexcept { detail::report_problem(message); }
};

RUNLOG_INLINE capture::capture(step& s, capture_options options, source_location loc)
    : impl_(std::make_unique<impl>(s.run_dir(), s.file_mode(), s.directory_mode(), std::vector<std::string>{s.key()},
                                   std::move(options))) {
    impl_->announce([&](const events::logs_captured& e, fields extra) { s.event(e, extra, loc); });
}

RUNLOG_INLINE capture::capture(run& r, std::vector<std::string> step_keys, capture_options options,
                               source_location loc)
    : impl_(std::make_unique<impl>(r.dir(), r.file_mode(), r.directory_mode(), std::move(step_keys), std::move(options))) {
    impl_->announce([&](const events::logs_captured& e, fields extra) { r.event(e, extra, loc); });
}

RUNLOG_INLINE capture::~capture() { end(); }
RUNLOG_INLINE void capture::end() noexcept { impl_->end(); }
RUNLOG_INLINE const std::string& capture::file_key() const noexcept { return impl_->file_key_; }
RUNLOG_INLINE const std::string& capture::stdout_path() const noexcept { return impl_->streams_[0].path; }
RUNLOG_INLINE const std::string& capture::stderr_path() const noexcept { return impl_->streams_[1].path; }
RUNLOG_INLINE const std::string& capture::complete_path() const noexcept { return impl_->complete_path_; }
RUNLOG_INLINE std::uint64_t capture::stdout_bytes() const noexcept {
    return impl_->streams_[0].bytes.load(std::memory_order_relaxed);
}
RUNLOG_INLINE std::uint64_t capture::stderr_bytes() const noexcept {
    return impl_->streams_[1].bytes.load(std::memory_order_relaxed);
}

}  // namespace v0
}  // namespace runlog
#endif
