#pragma once
/// The open file behind file_sink and rotating_file_sink; included by their definitions.
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../sinks/sink.hpp"

namespace runlog {
inline namespace v0 {
namespace detail {

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
}  // namespace v0
}  // namespace runlog
