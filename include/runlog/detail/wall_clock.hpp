#pragma once
/// The time of a synchronous record: the system clock, read through the TSC where there is one.
#include "build.hpp"
#include "chrono.hpp"

namespace runlog {
inline namespace v0 {
namespace detail {

/// The system time now. On x86 with the TSC enabled (backend_options::use_tsc, on by default) it is one
/// `rdtsc` and a multiply: the TSC's rate is measured against steady_clock (from the first call on, over at
/// least 10 ms, so calls before that read the system clock) and the mapping re-based on the system clock
/// every second, so that it follows the system clock's adjustments within a second. Elsewhere, and while
/// another thread re-bases, it is `std::chrono::system_clock::now()`.
RUNLOG_INLINE std::chrono::system_clock::time_point wall_clock_now() noexcept;

}  // namespace detail
}  // namespace v0
}  // namespace runlog

#if RUNLOG_DEFINITIONS
#include <atomic>
#include <cstdint>

#include "../async/clock.hpp"

namespace runlog {
inline namespace v0 {
namespace detail {

#if defined(__x86_64__) || defined(__i386__)
/// The mapping from TSC ticks to system time, shared by every thread: a sequence lock over atomics.
struct tsc_wall_mapping {
    std::atomic<std::uint32_t> seq{0};           ///< odd while the mapping changes
    std::atomic<std::uint64_t> base_ticks{0};
    std::atomic<std::int64_t> base_ns{0};        ///< system time (ns since the epoch) at base_ticks
    std::atomic<double> ns_per_tick{0.0};        ///< 0 until calibrated
    std::atomic<std::uint64_t> next_resync{0};   ///< ticks from which a caller re-bases
    std::atomic<bool> busy{false};               ///< a caller is re-basing
    std::atomic<std::uint64_t> origin_ticks{0};  ///< the first reading, for the rate
    std::atomic<std::int64_t> origin_steady{0};
};

inline tsc_wall_mapping& tsc_wall() noexcept {
    static tsc_wall_mapping m;
    return m;
}

/// Re-bases the mapping on a reading of the three clocks together and refines the rate. Called by one thread
/// at a time.
RUNLOG_INLINE void rebase_wall_clock(tsc_wall_mapping& m) noexcept {
    using namespace std::chrono;
    const clock_reading r = read_clocks_together(3);
    const std::uint64_t ticks = r.ticks;
    const std::int64_t steady = duration_cast<nanoseconds>(r.steady.time_since_epoch()).count();
    const std::int64_t sys = duration_cast<nanoseconds>(r.sys.time_since_epoch()).count();
    const std::uint64_t origin = m.origin_ticks.load(std::memory_order_relaxed);
    if (origin == 0) {
        m.origin_ticks.store(ticks, std::memory_order_relaxed);
        m.origin_steady.store(steady, std::memory_order_relaxed);
        m.next_resync.store(ticks + 1'000'000, std::memory_order_release);  // about a millisecond at 1 GHz
        return;
    }
    const std::int64_t elapsed = steady - m.origin_steady.load(std::memory_order_relaxed);
    if (elapsed < 10'000'000 || ticks <= origin) {  // under 10 ms: too short to measure the rate
        m.next_resync.store(ticks + (ticks - origin) + 1'000'000, std::memory_order_release);
        return;
    }
    const double rate = static_cast<double>(elapsed) / static_cast<double>(ticks - origin);
    // Release stores of the data: a reader that sees any new value (by an acquire load) then sees seq odd or
    // advanced, so it never mixes two mappings.
    m.seq.fetch_add(1, std::memory_order_acq_rel);  // odd: readers use the system clock meanwhile
    m.base_ticks.store(ticks, std::memory_order_release);
    m.base_ns.store(sys, std::memory_order_release);
    m.ns_per_tick.store(rate, std::memory_order_release);
    m.seq.fetch_add(1, std::memory_order_release);
    m.next_resync.store(ticks + static_cast<std::uint64_t>(1e9 / rate), std::memory_order_release);  // a second
}

#endif

RUNLOG_INLINE std::chrono::system_clock::time_point wall_clock_now() noexcept {
    using namespace std::chrono;
#if defined(__x86_64__) || defined(__i386__)
    if (tsc_enabled().load(std::memory_order_relaxed)) [[likely]] {
        tsc_wall_mapping& m = tsc_wall();
        const std::uint64_t t = __builtin_ia32_rdtsc();
        if (t >= m.next_resync.load(std::memory_order_acquire)) [[unlikely]] {
            if (!m.busy.exchange(true, std::memory_order_acquire)) {
                rebase_wall_clock(m);
                m.busy.store(false, std::memory_order_release);
            }
            return system_clock::now();
        }
        // Acquire loads (plain loads on x86) keep the second read of seq after the data, without a fence
        // (which ThreadSanitizer does not model).
        const std::uint32_t s0 = m.seq.load(std::memory_order_acquire);
        const std::uint64_t bt = m.base_ticks.load(std::memory_order_acquire);
        const std::int64_t bn = m.base_ns.load(std::memory_order_acquire);
        const double k = m.ns_per_tick.load(std::memory_order_acquire);
        if ((s0 & 1) == 0 && k > 0 && m.seq.load(std::memory_order_relaxed) == s0) [[likely]] {
            // t may be a little before bt when another thread re-based after t was read: signed.
            const auto delta = static_cast<double>(static_cast<std::int64_t>(t - bt)) * k;
            return system_clock::time_point(
                duration_cast<system_clock::duration>(nanoseconds(bn + static_cast<std::int64_t>(delta))));
        }
    }
#endif
    return system_clock::now();
}

}  // namespace detail
}  // namespace v0
}  // namespace runlog
#endif
