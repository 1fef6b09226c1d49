#pragma once
#include <mutex>

#include <unistd.h>

#include "sink.hpp"

namespace runlog {
inline namespace v0 {
namespace detail {

struct console_state {
    std::mutex mutex;  // keeps lines whole when several threads write at once
    write_errors errors;
};

template <int Fd>
console_state& console_state_for() noexcept {
    static console_state state;
    return state;
}

}  // namespace detail

/// Writes each record straight to file descriptor Fd (1 or 2) with write(2), one call per record.
template <int Fd>
class console_sink {
public:
    void write(std::string_view bytes) noexcept {
        auto& st = detail::console_state_for<Fd>();
        int err;
        {
            std::lock_guard lock(st.mutex);
            err = detail::write_all(Fd, bytes);
        }
        if (err != 0)
            st.errors.report(Fd == 1 ? "write to stdout failed" : "write to stderr failed", err,
                             detail::count_lines(bytes));
    }
    void flush() noexcept {}
    /// Whether the descriptor is a terminal, which turns automatic colours on.
    bool is_terminal() const noexcept { return ::isatty(Fd) == 1; }
    /// How many writes failed.
    std::uint64_t failures() const noexcept { return detail::console_state_for<Fd>().errors.failures(); }
};

/// Standard output.
using stdout_sink = console_sink<STDOUT_FILENO>;
/// Standard error.
using stderr_sink = console_sink<STDERR_FILENO>;

}  // namespace v0
}  // namespace runlog
