#pragma once
#include <climits>
#include <compare>

/// The compile-time floor of the free functions (runlog::info ...), the RUNLOG_* macros and make_logger's
/// default: calls below it generate no code. E.g. `-DRUNLOG_ACTIVE_LEVEL=20` removes TRACE and DEBUG.
#ifndef RUNLOG_ACTIVE_LEVEL
#define RUNLOG_ACTIVE_LEVEL INT_MIN
#endif

namespace runlog {
inline namespace v0 {

/// A log level; Python's numbers, and any integer is a valid level as in Python.
enum class level : int {
    trace = 5,
    debug = 10,
    info = 20,
    warning = 30,
    error = 40,
    critical = 50,
};

/// Orders levels by their numbers.
constexpr std::strong_ordering operator<=>(level a, level b) noexcept {
    return static_cast<int>(a) <=> static_cast<int>(b);
}

/// The floor taken from RUNLOG_ACTIVE_LEVEL.
inline constexpr level active_level = static_cast<level>(RUNLOG_ACTIVE_LEVEL);

namespace detail {
/// The lowest level there is: a floor that removes nothing.
inline constexpr level lowest_level = static_cast<level>(INT_MIN);
}  // namespace detail

}  // namespace v0
}  // namespace runlog
