#pragma once
#include <atomic>
#include <cstdint>

#include "../detail/build.hpp"
#include "../detail/chrono.hpp"
#include "../record.hpp"

namespace runlog {
inline namespace v0 {
namespace detail {

/// Whether read_ticks reads the TSC (backend_options::use_tsc).
inline std::atomic<bool>& tsc_enabled() noexcept {
    static std::atomic<bool> on{true};
    return on;
}

/// Reads the timestamp counter: the TSC on x86, else steady_clock's nanoseconds.
inline std::uint64_t read_ticks() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    if (tsc_enabled().load(std::memory_order_relaxed)) [[likely]]
        return __builtin_ia32_rdtsc();  // the builtin: <x86intrin.h> costs more to include than the rest of runlog
#endif
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
            .count());
}

/// The ticks, steady_clock and the system clock read together.
struct clock_reading {
    std::uint64_t ticks = 0;
    std::chrono::steady_clock::time_point steady{};
    std::chrono::system_clock::time_point sys{};
};
/// Reads the three clocks `attempts` times and keeps the tightest reading (the shortest steady_clock span
/// around the other two), so that a preemption between reads does not become an offset.
RUNLOG_INLINE clock_reading read_clocks_together(int attempts) noexcept;

/// Maps ticks to system time: calibrated against the system clock at start, refined at every resync.
class tick_clock {
public:
    /// Calibrates: reads both clocks, waits 10 ms and reads them again (on the backend thread, so that
    /// the first log call does not wait).
    RUNLOG_INLINE void start();
    /// Re-reads the clocks: the tick rate from the whole time since start, the base from now.
    /// The three clocks are read together up to four times, keeping the tightest reading, so that a
    /// preemption between two reads does not become an offset in every timestamp until the next resync.
    RUNLOG_INLINE void resync() noexcept;
    record::time_point to_time(std::uint64_t t) const noexcept {
        const double delta = (static_cast<double>(t) - static_cast<double>(base_ticks_)) * ns_per_tick_;
        return base_sys_ + std::chrono::duration_cast<record::time_point::duration>(
                               std::chrono::duration<double, std::nano>(delta));
    }
    std::uint64_t ticks_for(std::chrono::nanoseconds d) const noexcept {
        return static_cast<std::uint64_t>(static_cast<double>(d.count()) / ns_per_tick_);
    }

private:
    std::uint64_t origin_ticks_ = 0;
    std::chrono::steady_clock::time_point origin_steady_{};
    std::uint64_t base_ticks_ = 0;
    record::time_point base_sys_{};
    double ns_per_tick_ = 1.0;
};

}  // namespace detail
}  // namespace v0
}  // namespace runlog

#if RUNLOG_DEFINITIONS
#include <ctime>

namespace runlog {
inline namespace v0 {
namespace detail {

RUNLOG_INLINE void tick_clock::start() {
    origin_ticks_ = read_ticks();
    origin_steady_ = std::chrono::steady_clock::now();
    const timespec pause{0, 10'000'000};
    ::nanosleep(&pause, nullptr);
    resync();
}

RUNLOG_INLINE clock_reading read_clocks_together(int attempts) noexcept {
    clock_reading best;
    auto span = std::chrono::steady_clock::duration::max();
    for (int attempt = 0; attempt < attempts; ++attempt) {
        const auto s0 = std::chrono::steady_clock::now();
        const std::uint64_t ticks = read_ticks();
        const auto now = std::chrono::system_clock::now();
        const auto s1 = std::chrono::steady_clock::now();
        if (s1 - s0 < span) {
            span = s1 - s0;
            best = {ticks, s0 + (s1 - s0) / 2, now};
        }
    }
    return best;
}

RUNLOG_INLINE void tick_clock::resync() noexcept {
    const clock_reading r = read_clocks_together(4);
    const double ns = std::chrono::duration<double, std::nano>(r.steady - origin_steady_).count();
    if (r.ticks > origin_ticks_ && ns > 0) ns_per_tick_ = ns / static_cast<double>(r.ticks - origin_ticks_);
    base_ticks_ = r.ticks;
    base_sys_ = r.sys;
}

}  // namespace detail
}  // namespace v0
}  // namespace runlog
#endif
