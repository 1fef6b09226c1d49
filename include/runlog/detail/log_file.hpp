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
    /// With a directory descriptor (>= 0; the private directory that holds path), the file is opened in that
    /// directory (openat of path's last component), whatever became of the directory's path; the log file keeps
    /// its own copy of the descriptor.
    log_file(std::string path, int flags, std::size_t buffer_size, mode_t file_mode = 0644, mode_t directory_mode = 0777,
             int directory = -1)
        : path_(std::move(path)), capacity_(buffer_size), flags_(flags & ~O_TRUNC), file_mode_(file_mode),
          directory_mode_(directory_mode) {
        if (path_.empty()) throw std::system_error(std::make_error_code(std::errc::invalid_argument), "log file path is empty");
        if (directory >= 0) {
            dir_fd_ = ::fcntl(directory, F_DUPFD_CLOEXEC, 3);
            if (dir_fd_ < 0)
                throw std::system_error(errno, std::generic_category(), "cannot open log file \"" + path_ + "\"");
        } else if (int err = create_parent_directories(path_, directory_mode)) {
            throw std::system_error(err, std::generic_category(), "cannot create the directory of log file \"" + path_ + "\"");
        }
        fd_ = open_here(flags | O_RDWR | O_CREAT);  // read too: to check and repair its last line
        if (fd_ < 0 && dir_fd_ >= 0) {
            const int err = errno;
            ::close(dir_fd_);
            errno = err;
        }
        if (fd_ < 0 && errno == ELOOP && (flags & O_NOFOLLOW) != 0)
            throw std::system_error(ELOOP, std::generic_category(),
                                    "cannot open log file \"" + path_ + "\": it is a symbolic link (refused)");
        if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "cannot open log file \"" + path_ + "\"");
        buffer_.reset(new char[capacity_ ? capacity_ : 1]);
        if ((flags & O_TRUNC) == 0) end_torn_line(fd_, path_);
    }
    log_file(const log_file&) = delete;
    log_file& operator=(const log_file&) = delete;
    ~log_file() {
        write_out();
        check_still_there(false);
        if (fd_ >= 0) ::close(fd_);
        if (dir_fd_ >= 0) ::close(dir_fd_);
    }

    /// Buffers bytes, writing the buffer out first when they would not fit; write_now writes all out after.
    void append(std::string_view bytes, bool write_now) noexcept {
        if (used_ + bytes.size() > capacity_) write_out();
        if (bytes.size() > capacity_) {
            write_direct(bytes, 1);
        } else {
            std::memcpy(buffer_.get() + used_, bytes.data(), bytes.size());
            used_ += bytes.size();
            ++buffered_records_;
        }
        if (write_now) write_out();
    }
    /// Writes the buffer to the file.
    void write_out() noexcept {
        if (used_ == 0) return;
        write_direct({buffer_.get(), used_}, buffered_records_);
        used_ = 0;
        buffered_records_ = 0;
    }
    /// Makes fd the file written to (after a rotation), closing the old one; the buffer must be empty.
    /// Writes to another file from now on (a dated rotating file): fd open on new_path.
    void retarget(int fd, std::string new_path) noexcept {
        path_.swap(new_path);
        replace_fd(fd);
    }

    void replace_fd(int fd) noexcept {
        ::close(fd_);
        fd_ = fd;
        torn_ = false;
        unchecked_records_ = unchecked_writes_ = 0;
        end_torn_line(fd_, path_);
    }

    /// When the file ends in a partial line (a process killed in the middle of a write, a full disk), ends it
    /// with a newline so that the next line starts whole, and says so on stderr. Appending, not truncating:
    /// another process may be appending to the same file right now (runs.jsonl), and its line must survive.
    static void end_torn_line(int fd, const std::string& path) noexcept {
        struct stat st {};
        char last = '\n';
        if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size == 0) return;
        if (::pread(fd, &last, 1, st.st_size - 1) != 1 || last == '\n') return;
        if (write_all(fd, "\n") != 0) return;  // the next write reports the failure
        try {
            report_problem(path + ": the last line was cut short (a crash or a full disk?); ended it, so that new "
                                  "lines start whole");
        } catch (...) {
        }
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
    /// Writes whole lines: after a write that stopped part-way (ENOSPC, EFBIG, EIO), the partial line it left
    /// is taken back out of the file, or, when that cannot be done safely, the next write starts with a newline.
    /// The lines lost are the failed chunk's that did not reach the file whole.
    void write_direct(std::string_view bytes, std::uint64_t records) noexcept {
        written_ += bytes.size();
        int err = 0;
        if (torn_ && (err = write_all(fd_, "\n")) == 0) torn_ = false;
        std::size_t done = 0;
        if (err == 0) err = write_all(fd_, bytes, &done);
        if (err == 0) {
            unchecked_records_ += records;
            if (++unchecked_writes_ >= check_every) check_still_there(true);
            return;
        }
        const std::size_t whole = bytes.substr(0, done).rfind('\n') + 1;  // 0 when no newline reached the file
        if (done > whole && !take_back(bytes.substr(whole, done - whole))) torn_ = true;
        const std::uint64_t lost = count_lines(bytes.substr(whole));
        try {
            errors_.report("write to \"" + path_ + "\" failed", err, lost);
        } catch (...) {
            errors_.report("write to a log file failed", err, lost);
        }
    }

    /// Every this many writes (and at the end) the file is checked to still have a name: writes to a file that
    /// was deleted (or whose directory was) succeed, into the void.
    static constexpr unsigned check_every = 64;

    /// When the file has been deleted, reports the records written since the last check as lost and, if
    /// `reopen`, starts a new file at the path for the records to come.
    void check_still_there(bool reopen) noexcept {
        unchecked_writes_ = 0;
        struct stat st {};
        if (::fstat(fd_, &st) != 0 || st.st_nlink > 0) {
            unchecked_records_ = 0;
            return;
        }
        const std::uint64_t lost = unchecked_records_;
        unchecked_records_ = 0;
        int fd = -1;
        if (reopen && reanchor() && (dir_fd_ >= 0 || create_parent_directories(path_, directory_mode_) == 0))
            fd = open_here(flags_ | O_RDWR | O_CREAT);
        try {
            errors_.report("\"" + path_ + "\" was deleted while open: the records written to it since it was last seen "
                           "are lost" + std::string(reopen ? (fd >= 0 ? "; writing to a new file there"
                                                                      : "; no new file could be created there")
                                                           : ""),
                           0, lost);
        } catch (...) {
            errors_.report("a log file was deleted while open", 0, lost);
        }
        if (fd >= 0) {
            ::close(fd_);
            fd_ = fd;
        }
    }

    /// Opens the file: at its path, or as the last component of it in the directory held open.
    int open_here(int flags) const noexcept {
        if (dir_fd_ < 0) return open_file(path_, flags, file_mode_);
        const auto slash = path_.rfind('/');
        try {
            return open_file_at(dir_fd_, slash == std::string::npos ? path_ : path_.substr(slash + 1), flags, file_mode_);
        } catch (...) {
            errno = ENOMEM;
            return -1;
        }
    }

    /// When the directory held open has been deleted too (`rm -rf` of a run), makes it again at its path and holds
    /// the new one, if it is private as the old one was (see open_private_directory); whether a file can be opened.
    bool reanchor() noexcept {
        struct stat st {};
        if (dir_fd_ < 0 || (::fstat(dir_fd_, &st) == 0 && st.st_nlink > 0)) return true;
        try {
            if (create_parent_directories(path_, directory_mode_) != 0) return false;
            const std::string dir = path_.substr(0, path_.rfind('/'));
            std::string problem;
            const int fd = open_private_directory(AT_FDCWD, dir, dir, &problem);
            if (fd < 0) {
                report_problem("cannot start a new \"" + path_ + "\": " + problem);
                return false;
            }
            ::close(dir_fd_);
            dir_fd_ = fd;
            return true;
        } catch (...) {
            return false;
        }
    }

    /// Truncates the file by the partial line `tail` that this process just wrote at its end, if the file still
    /// ends with it (no other writer appended since); whether the file now ends in a whole line.
    bool take_back(std::string_view tail) noexcept {
        struct stat st {};
        if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < static_cast<off_t>(tail.size())) return false;
        char check[512];
        const off_t start = st.st_size - static_cast<off_t>(tail.size());
        for (std::size_t at = 0; at < tail.size();) {
            const std::size_t n = tail.size() - at < sizeof check ? tail.size() - at : sizeof check;
            if (::pread(fd_, check, n, start + static_cast<off_t>(at)) != static_cast<ssize_t>(n)) return false;
            if (std::memcmp(check, tail.data() + at, n) != 0) return false;
            at += n;
        }
        if (::ftruncate(fd_, start) != 0) return false;
        return true;
    }

    std::string path_;
    int fd_ = -1;
    int dir_fd_ = -1;  ///< the directory holding the file, when opened in it (openat)
    std::unique_ptr<char[]> buffer_;
    std::size_t capacity_;
    std::size_t used_ = 0;
    std::uint64_t written_ = 0;
    bool torn_ = false;  ///< the file ends in a partial line this process could not take back
    int flags_;
    mode_t file_mode_, directory_mode_;
    std::uint64_t buffered_records_ = 0;   ///< records in the buffer
    std::uint64_t unchecked_records_ = 0;  ///< records written since the file was last seen to have a name
    unsigned unchecked_writes_ = 0;
    write_errors errors_;
};

}  // namespace detail
}  // namespace v0
}  // namespace runlog
