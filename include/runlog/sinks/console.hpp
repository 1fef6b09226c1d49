#pragma once
#include <cstdint>
#include <string_view>

#include <unistd.h>

#include "../detail/build.hpp"
#include "sink.hpp"

namespace runlog {
inline namespace v0 {
namespace detail {

/// Writes bytes to fd 1 or 2 in one write(2) under that descriptor's lock; a failure goes to the error handler.
RUNLOG_INLINE void console_write(int fd, std::string_view bytes) noexcept;
/// How many writes to fd 1 or 2 have failed.
RUNLOG_INLINE std::uint64_t console_failures(int fd) noexcept;

}  // namespace detail

/// Writes each record straight to file descriptor Fd (1 or 2) with write(2), one call per record.
template <int Fd>
class console_sink {
    static_assert(Fd == STDOUT_FILENO || Fd == STDERR_FILENO, "a console sink writes to stdout or stderr");

public:
    static constexpr bool thread_safe = true;  ///< one write(2) per record, under a lock
    void write(std::string_view bytes) noexcept { detail::console_write(Fd, bytes); }
    void flush() noexcept {}
    /// Whether the descriptor is a terminal, which turns automatic colours on.
    bool is_terminal() const noexcept { return ::isatty(Fd) == 1; }
    /// How many writes failed.
    std::uint64_t failures() const noexcept { return detail::console_failures(Fd); }
};

/// Standard output.
using stdout_sink = console_sink<STDOUT_FILENO>;
/// Standard error.
using stderr_sink = console_sink<STDERR_FILENO>;

}  // namespace v0
}  // namespace runlog

#if RUNLOG_DEFINITIONS
#include <mutex>

namespace runlog {
inline namespace v0 {
namespace detail {

struct console_state {
    std::mutex mutex;  // keeps lines whole when several threads write at once
    write_errors errors;
};

inline console_state& console_state_for(int fd) noexcept {
    static console_state out, err;
    // Held across fork(), so that a child never inherits a lock taken by a thread it does not have.
    static const bool fork_safe = [] {
        ::pthread_atfork([] { out.mutex.lock(), err.mutex.lock(); }, [] { err.mutex.unlock(), out.mutex.unlock(); },
                         [] { err.mutex.unlock(), out.mutex.unlock(); });
        return true;
    }();
    (void)fork_safe;
    return fd == STDOUT_FILENO ? out : err;
}

RUNLOG_INLINE void console_write(int fd, std::string_view bytes) noexcept {
    auto& st = console_state_for(fd);
    int err;
    {
        std::lock_guard lock(st.mutex);
        err = write_all(fd, bytes);
    }
    if (err != 0)
        st.errors.report(fd == STDOUT_FILENO ? "write to stdout failed" : "write to stderr failed", err,
                         count_lines(bytes));
}

RUNLOG_INLINE std::uint64_t console_failures(int fd) noexcept { return console_state_for(fd).errors.failures(); }

}  // namespace detail
}  // namespace v0
}  // namespace runlog
#endif
