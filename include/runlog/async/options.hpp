#pragma once
#include <cstddef>

#include "../detail/chrono.hpp"

namespace runlog {
inline namespace v0 {

/// What an async pipeline does when its thread's queue is full.
enum class queue_full {
    block,  ///< wait for the backend (the default: nothing is lost)
    drop,   ///< drop the record; drops are counted and reported as a WARNING record
};

/// Options of one async pipeline.
struct async_options {
    queue_full when_full = queue_full::block;
};

/// Settings of the backend thread and the per-thread queues; set them before the first async record.
struct backend_options {
    std::size_t queue_bytes = 1 << 20;             ///< each logging thread's ring (a power of two, at least 4 KiB)
    std::chrono::microseconds idle_sleep{100};     ///< how long the backend sleeps when idle: its wake-up latency
    bool use_tsc = true;                           ///< timestamp with the TSC where there is one, else steady_clock
    std::chrono::milliseconds resync_every{1000};  ///< re-calibrate the TSC against the system clock this often
    int backend_cpu = -1;  ///< pin the backend thread to this CPU (Linux), so it never competes with pinned callers; -1: no pinning
};

}  // namespace v0
}  // namespace runlog
