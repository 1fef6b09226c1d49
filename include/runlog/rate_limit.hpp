#pragma once
/// Rate limits at the call site: RUNLOG_EVERY_N, RUNLOG_FIRST_N and RUNLOG_EVERY. Each call site has its own
/// counter (a static of the macro's block); a suppressed call costs the level check and one atomic increment
/// (RUNLOG_EVERY also reads the clock), allocates nothing and never blocks. The record that gets through
/// carries the field `suppressed`: how many calls of that site were suppressed since the last one through
/// (left out when none were).
#include <atomic>
#include <chrono>
#include <climits>
#include <cstdint>
#include <new>
#include <span>
#include <type_traits>
#include <vector>

#include "detail/level_enum.hpp"
#include "fields.hpp"
#include "format/string.hpp"
#include "logger.hpp"

namespace runlog {
inline namespace v0 {

/// The clock of RUNLOG_EVERY, in nanoseconds; replaceable for tests (nullptr: std::chrono::steady_clock).
using rate_clock_fn = std::int64_t (*)() noexcept;
inline std::atomic<rate_clock_fn>& rate_limit_clock() noexcept {
    static std::atomic<rate_clock_fn> clock{nullptr};
    return clock;
}

namespace detail {

inline std::int64_t rate_now() noexcept {
    if (const rate_clock_fn c = rate_limit_clock().load(std::memory_order_relaxed)) [[unlikely]]
        return c();
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

/// RUNLOG_EVERY_N's site: the 1st, (n+1)th, (2n+1)th ... call get through.
struct every_n_site {
    std::atomic<std::uint64_t> calls{0};
    bool pass(std::uint64_t n, std::uint64_t& suppressed) noexcept {
        const std::uint64_t c = calls.fetch_add(1, std::memory_order_relaxed);
        if (n <= 1) {
            suppressed = 0;
            return true;
        }
        if (c % n != 0) return false;
        suppressed = c == 0 ? 0 : n - 1;
        return true;
    }
};

/// RUNLOG_FIRST_N's site: the first n calls get through, none after.
struct first_n_site {
    std::atomic<std::uint64_t> calls{0};
    bool pass(std::uint64_t n) noexcept { return calls.fetch_add(1, std::memory_order_relaxed) < n; }
};

/// RUNLOG_EVERY's site: a call gets through when `period` has passed since the last one that did.
struct every_site {
    std::atomic<std::int64_t> next{INT64_MIN};  ///< the clock's time from which a call gets through
    std::atomic<std::uint64_t> suppressed{0};
    bool pass(std::int64_t period_ns, std::uint64_t& count) noexcept {
        const std::int64_t now = rate_now();
        std::int64_t due = next.load(std::memory_order_relaxed);
        const std::int64_t then = now > INT64_MAX - period_ns ? INT64_MAX : now + period_ns;  // no overflow
        if (now < due || !next.compare_exchange_strong(due, then, std::memory_order_relaxed)) {
            suppressed.fetch_add(1, std::memory_order_relaxed);
            return false;
        }
        count = suppressed.exchange(0, std::memory_order_relaxed);
        return true;
    }
};

/// A period in nanoseconds: negative ones are 0 (every call gets through), ones of centuries stay far in the
/// future rather than overflow.
template <class Rep, class Period>
constexpr std::int64_t period_ns(std::chrono::duration<Rep, Period> d) noexcept {
    const double seconds = std::chrono::duration<double>(d).count();
    if (!(seconds > 0)) return 0;
    if (seconds > 1e9) return INT64_MAX / 4;  // ~31 years and more: once
    // Through a double, exact to the nanosecond below 104 days (2^53 ns); a duration_cast would not compile
    // for units whose ratio to nanoseconds overflows.
    return static_cast<std::int64_t>(seconds * 1e9 + 0.5);
}

/// The call that got through, with its `suppressed` field (when any were).
template <class Logger, class... A>
void log_limited(Logger& logger, level l, std::uint64_t suppressed, format_string<A...> fmt, A&&... a) {
    const field f[] = {{"suppressed", suppressed}};
    logger.vlog(l, fmt.get(), fmt.location(), std::span<const field>(f, suppressed ? 1 : 0), make_format_args(a...));
}
template <class Logger, class... A>
void log_limited(Logger& logger, level l, std::uint64_t suppressed, fields fs, format_string<A...> fmt, A&&... a) {
    if (suppressed == 0) {
        logger.vlog(l, fmt.get(), fmt.location(), std::span<const field>(fs.begin(), fs.size()), make_format_args(a...));
        return;
    }
    // The call's fields and `suppressed`, on the stack up to 16 (a vector beyond).
    constexpr std::size_t inline_fields = 16;
    if (fs.size() < inline_fields) {
        static_assert(std::is_trivially_destructible_v<field> && std::is_trivially_copyable_v<field>);
        alignas(field) unsigned char storage[inline_fields * sizeof(field)];
        auto* all = reinterpret_cast<field*>(storage);
        std::size_t n = 0;
        for (const auto& f : fs) ::new (static_cast<void*>(all + n++)) field(f);
        ::new (static_cast<void*>(all + n++)) field{"suppressed", suppressed};
        logger.vlog(l, fmt.get(), fmt.location(), std::span<const field>(std::launder(all), n), make_format_args(a...));
    } else {
        std::vector<field> all(fs.begin(), fs.end());
        all.push_back({"suppressed", suppressed});
        logger.vlog(l, fmt.get(), fmt.location(), std::span<const field>(all), make_format_args(a...));
    }
}

}  // namespace detail
}  // namespace v0
}  // namespace runlog

/// Logs the 1st, (n+1)th, (2n+1)th ... call of this site that the level lets through: `RUNLOG_EVERY_N(log,
/// runlog::level::warning, 1000, "retrying {}", key)`; the record says how many it stands for (`suppressed`).
#define RUNLOG_EVERY_N(logger, lvl, n, ...)                                                                     \
    do {                                                                                                       \
        if constexpr (static_cast<int>(lvl) >= RUNLOG_ACTIVE_LEVEL) {                                          \
            static ::runlog::detail::every_n_site runlog_site_;                                                \
            std::uint64_t runlog_suppressed_ = 0;                                                              \
            if ((logger).should_log(lvl) && runlog_site_.pass(static_cast<std::uint64_t>(n), runlog_suppressed_)) \
                ::runlog::detail::log_limited((logger), (lvl), runlog_suppressed_, __VA_ARGS__);               \
        }                                                                                                      \
    } while (false)

/// Logs the first n calls of this site that the level lets through, and none after.
#define RUNLOG_FIRST_N(logger, lvl, n, ...)                                                        \
    do {                                                                                          \
        if constexpr (static_cast<int>(lvl) >= RUNLOG_ACTIVE_LEVEL) {                             \
            static ::runlog::detail::first_n_site runlog_site_;                                   \
            if ((logger).should_log(lvl) && runlog_site_.pass(static_cast<std::uint64_t>(n)))     \
                ::runlog::detail::log_limited((logger), (lvl), 0, __VA_ARGS__);                   \
        }                                                                                         \
    } while (false)

/// Logs a call of this site at most once per period (a std::chrono duration): `RUNLOG_EVERY(log,
/// runlog::level::error, std::chrono::seconds(1), "disk full: {}", path)`; the record says how many calls
/// were suppressed since the last one through (`suppressed`).
#define RUNLOG_EVERY(logger, lvl, period, ...)                                                                 \
    do {                                                                                                      \
        if constexpr (static_cast<int>(lvl) >= RUNLOG_ACTIVE_LEVEL) {                                         \
            static ::runlog::detail::every_site runlog_site_;                                                 \
            std::uint64_t runlog_suppressed_ = 0;                                                             \
            if ((logger).should_log(lvl) &&                                                                   \
                runlog_site_.pass(::runlog::detail::period_ns(period), runlog_suppressed_))                   \
                ::runlog::detail::log_limited((logger), (lvl), runlog_suppressed_, __VA_ARGS__);              \
        }                                                                                                     \
    } while (false)
