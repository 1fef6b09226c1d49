#pragma once
#include <cerrno>
#include <cstring>
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

/// An open log file behind a buffer of whole records; its owner holds the lock.
class log_file {
public:
    /// Creates path's directories and opens it with flags; throws std::system_error naming path on failure.
    log_file(std::string path, int flags, std::size_t buffer_size) : path_(std::move(path)), capacity_(buffer_size) {
        if (path_.empty()) throw std::system_error(std::make_error_code(std::errc::invalid_argument), "log file path is empty");
        if (int err = create_parent_directories(path_))
            throw std::system_error(err, std::generic_category(), "cannot create the directory of log file \"" + path_ + "\"");
        fd_ = open_file(path_, flags | O_WRONLY | O_CREAT);
        if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "cannot open log file \"" + path_ + "\"");
        buffer_.reset(new char[capacity_ ? capacity_ : 1]);
    }
    log_file(const log_file&) = delete;
    log_file& operator=(const log_file&) = delete;
    ~log_file() {
        write_out();
        if (fd_ >= 0) ::close(fd_);
    }

    /// Buffers bytes, writing the buffer out first when they would not fit; write_now writes all out after.
    void append(std::string_view bytes, bool write_now) noexcept {
        if (used_ + bytes.size() > capacity_) write_out();
        if (bytes.size() > capacity_) {
            write_direct(bytes);
        } else {
            std::memcpy(buffer_.get() + used_, bytes.data(), bytes.size());
            used_ += bytes.size();
        }
        if (write_now) write_out();
    }
    /// Writes the buffer to the file.
    void write_out() noexcept {
        if (used_ == 0) return;
        write_direct({buffer_.get(), used_});
        used_ = 0;
    }
    /// Makes fd the file written to (after a rotation), closing the old one; the buffer must be empty.
    void replace_fd(int fd) noexcept {
        ::close(fd_);
        fd_ = fd;
    }

    const std::string& path() const noexcept { return path_; }
    int fd() const noexcept { return fd_; }
    /// Bytes buffered, not yet written.
    std::size_t buffered() const noexcept { return used_; }
    /// Bytes handed to write(2) since the last reset_written(), failed ones included.
    std::uint64_t written() const noexcept { return written_; }
    void reset_written(std::uint64_t n = 0) noexcept { written_ = n; }
    write_errors& errors() noexcept { return errors_; }
    const write_errors& errors() const noexcept { return errors_; }

private:
    void write_direct(std::string_view bytes) noexcept {
        written_ += bytes.size();
        int err = write_all(fd_, bytes);
        if (err == 0) return;
        try {
            errors_.report("write to \"" + path_ + "\" failed", err, count_lines(bytes));
        } catch (...) {
            errors_.report("write to a log file failed", err, count_lines(bytes));
        }
    }

    std::string path_;
    int fd_ = -1;
    std::unique_ptr<char[]> buffer_;
    std::size_t capacity_;
    std::size_t used_ = 0;
    std::uint64_t written_ = 0;
    write_errors errors_;
};

}  // namespace detail

/// Appends records to a file, creating it and its parent directories; writes hold whole lines only.
///
/// Copies share one open file, so several pipelines may write to the same file.
class file_sink {
public:
    /// Opens path; throws std::system_error naming the path when it cannot be created or opened.
    explicit file_sink(std::string path, file_options options = {})
        : state_(std::make_shared<state>(std::move(path), options)) {}

    /// Buffers bytes (whole records), writing the buffer out when it is full.
    void write(std::string_view bytes) noexcept { write(bytes, level::trace); }
    /// As write(bytes), and writes everything out when lvl reaches flush_on.
    void write(std::string_view bytes, level lvl) noexcept {
        std::lock_guard lock(state_->mutex);
        state_->file.append(bytes, lvl >= state_->options.flush_on);
    }
    /// Writes everything buffered to the file.
    void flush() noexcept {
        std::lock_guard lock(state_->mutex);
        state_->file.write_out();
    }
    /// Files are never terminals: no colours.
    bool is_terminal() const noexcept { return false; }
    const std::string& path() const noexcept { return state_->file.path(); }
    /// How many writes failed, and how many records were lost with them.
    std::uint64_t failures() const noexcept { return state_->file.errors().failures(); }
    std::uint64_t lost_records() const noexcept { return state_->file.errors().lost_records(); }

private:
    struct state {
        state(std::string path, file_options o)
            : options(o), file(std::move(path), o.truncate ? O_TRUNC : O_APPEND, o.buffer_size) {}
        std::mutex mutex;
        file_options options;
        detail::log_file file;
    };
    std::shared_ptr<state> state_;
};

}  // namespace v0
}  // namespace runlog
