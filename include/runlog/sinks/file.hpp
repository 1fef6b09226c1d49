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

/// Options of the file sink.
struct file_options {
    std::size_t buffer_size = 256 * 1024;  ///< bytes kept before a write(2); 0 writes every record at once
    level flush_on = level::error;        ///< a record at this level or above is written out at once
    /// A buffered record is written out within this time, also when the program is idle; 0: only when the
    /// buffer fills, at flush_on, flush() and the end.
    std::chrono::milliseconds flush_every{1000};
    bool truncate = false;                ///< start the file empty instead of appending
    bool follow_symlinks = true;          ///< false: refuse to open a symbolic link at the path (O_NOFOLLOW)
    unsigned file_mode = 0644;            ///< permissions of a file it creates (before the umask)
    unsigned directory_mode = 0777;       ///< permissions of the directories it creates (before the umask)
};

/// Appends records to a file, creating it and its parent directories; writes hold whole lines only.
///
/// Copies share one open file, so several pipelines may write to the same file.
class file_sink {
public:
    static constexpr bool thread_safe = true;  ///< its state is locked inside; copies share it
    /// Opens path; throws std::system_error naming the path when it cannot be created or opened.
    RUNLOG_INLINE explicit file_sink(std::string path, file_options options = {});
    /// Opens the last component of path in the directory open at descriptor `directory` (openat; the sink keeps a
    /// copy of the descriptor): the file lands in that directory whatever happens to its path meanwhile. This is
    /// how runs open their stored files; path names the file in messages.
    RUNLOG_INLINE file_sink(int directory, std::string path, file_options options = {});

    /// Buffers bytes (whole records), writing the buffer out when it is full.
    void write(std::string_view bytes) noexcept { write(bytes, level::trace); }
    /// As write(bytes), and writes everything out when lvl reaches flush_on.
    RUNLOG_INLINE void write(std::string_view bytes, level lvl) noexcept;
    /// Writes everything buffered to the file.
    RUNLOG_INLINE void flush() noexcept;
    /// Files are never terminals: no colours.
    bool is_terminal() const noexcept { return false; }
    RUNLOG_INLINE const std::string& path() const noexcept;
    /// How many writes failed, and how many records were lost with them.
    RUNLOG_INLINE std::uint64_t failures() const noexcept;
    RUNLOG_INLINE std::uint64_t lost_records() const noexcept;

private:
    struct state;
    std::shared_ptr<state> state_;
};

}  // namespace v0
}  // namespace runlog

#if RUNLOG_DEFINITIONS
#include <mutex>

#include <fcntl.h>

#include "../detail/flusher.hpp"
#include "../detail/log_file.hpp"

namespace runlog {
inline namespace v0 {

struct file_sink::state {
    state(std::string path, file_options o, int directory)
        : options(o),
          file(std::move(path), (o.truncate ? O_TRUNC : O_APPEND) | (o.follow_symlinks ? 0 : O_NOFOLLOW), o.buffer_size,
               static_cast<mode_t>(o.file_mode), static_cast<mode_t>(o.directory_mode), directory) {}
    std::mutex mutex;
    file_options options;
    detail::log_file file;
};

RUNLOG_INLINE file_sink::file_sink(std::string path, file_options options) : file_sink(-1, std::move(path), options) {}

RUNLOG_INLINE file_sink::file_sink(int directory, std::string path, file_options options)
    : state_(std::make_shared<state>(std::move(path), options, directory)) {
    detail::periodic_flusher::instance().add_file_state(state_, options.buffer_size, options.flush_every);
}

RUNLOG_INLINE void file_sink::write(std::string_view bytes, level lvl) noexcept {
    std::lock_guard lock(state_->mutex);
    state_->file.append(bytes, lvl >= state_->options.flush_on);
}

RUNLOG_INLINE void file_sink::flush() noexcept {
    std::lock_guard lock(state_->mutex);
    state_->file.write_out();
}

RUNLOG_INLINE const std::string& file_sink::path() const noexcept { return state_->file.path(); }
RUNLOG_INLINE std::uint64_t file_sink::failures() const noexcept { return state_->file.errors().failures(); }
RUNLOG_INLINE std::uint64_t file_sink::lost_records() const noexcept { return state_->file.errors().lost_records(); }

}  // namespace v0
}  // namespace runlog
#endif
