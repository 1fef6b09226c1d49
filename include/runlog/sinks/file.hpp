#pragma once
#include <cerrno>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../record.hpp"
#include "sink.hpp"

namespace runlog {
inline namespace v0 {

/// Options of the file sink.
struct file_options {
    std::size_t buffer_size = 64 * 1024;  ///< bytes kept before a write(2); 0 writes every record at once
    level flush_on = level::error;        ///< a record at this level or above is written out at once
    bool truncate = false;                ///< start the file empty instead of appending
};

namespace detail {

/// Creates every missing directory of path's parent, like `mkdir -p`; returns 0 or the errno.
inline int create_parent_directories(const std::string& path) noexcept {
    try {
        auto slash = path.find_last_of('/');
        if (slash == std::string::npos || slash == 0) return 0;
        for (std::size_t i = 1; i <= slash; ++i) {
            if (i < slash && path[i] != '/') continue;
            const std::string dir = path.substr(0, i);
            if (::mkdir(dir.c_str(), 0777) == 0) continue;
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

}  // namespace detail

/// Appends records to a file, creating it and its parent directories; writes hold whole lines only.
///
/// Copies share one open file, so several pipelines may write to the same file.
class file_sink {
public:
    /// Opens path; throws std::system_error naming the path when it cannot be created or opened.
    explicit file_sink(std::string path, file_options options = {}) : state_(std::make_shared<state>()) {
        if (path.empty()) throw std::system_error(std::make_error_code(std::errc::invalid_argument), "log file path is empty");
        state_->path = std::move(path);
        state_->options = options;
        if (int err = detail::create_parent_directories(state_->path))
            throw std::system_error(err, std::generic_category(),
                                    "cannot create the directory of log file \"" + state_->path + "\"");
        int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (options.truncate ? O_TRUNC : O_APPEND);
        state_->fd = ::open(state_->path.c_str(), flags, 0644);
        if (state_->fd < 0)
            throw std::system_error(errno, std::generic_category(), "cannot open log file \"" + state_->path + "\"");
        state_->buffer.reset(new char[options.buffer_size ? options.buffer_size : 1]);
    }

    /// Buffers bytes (whole records), writing the buffer out when it is full.
    void write(std::string_view bytes) noexcept { write(bytes, level::trace); }
    /// As write(bytes), and writes everything out when lvl reaches flush_on.
    void write(std::string_view bytes, level lvl) noexcept {
        state& s = *state_;
        std::lock_guard lock(s.mutex);
        const std::size_t cap = s.options.buffer_size;
        if (s.used + bytes.size() > cap) s.write_out();
        if (bytes.size() > cap) {
            s.write_direct(bytes);
        } else {
            std::memcpy(s.buffer.get() + s.used, bytes.data(), bytes.size());
            s.used += bytes.size();
        }
        if (lvl >= s.options.flush_on) s.write_out();
    }
    /// Writes everything buffered to the file.
    void flush() noexcept {
        std::lock_guard lock(state_->mutex);
        state_->write_out();
    }
    /// Files are never terminals: no colours.
    bool is_terminal() const noexcept { return false; }
    const std::string& path() const noexcept { return state_->path; }
    /// How many writes failed, and how many records were lost with them.
    std::uint64_t failures() const noexcept { return state_->errors.failures(); }
    std::uint64_t lost_records() const noexcept { return state_->errors.lost_records(); }

private:
    struct state {
        std::mutex mutex;
        std::string path;
        file_options options;
        int fd = -1;
        std::unique_ptr<char[]> buffer;
        std::size_t used = 0;
        detail::write_errors errors;

        void write_direct(std::string_view bytes) noexcept {
            int err = detail::write_all(fd, bytes);
            if (err == 0) return;
            try {
                errors.report("write to \"" + path + "\" failed", err, detail::count_lines(bytes));
            } catch (...) {
                errors.report("write to a log file failed", err, detail::count_lines(bytes));
            }
        }
        void write_out() noexcept {
            if (used == 0) return;
            write_direct({buffer.get(), used});
            used = 0;
        }
        ~state() {
            write_out();
            if (fd >= 0) ::close(fd);
        }
    };
    std::shared_ptr<state> state_;
};

}  // namespace v0
}  // namespace runlog
