#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "../detail/build.hpp"
#include "sink.hpp"

namespace runlog {
inline namespace v0 {

/// Keeps formatted records in memory (tests, viewers); copies share the same store.
class memory_sink {
public:
    /// Keeps at most capacity records (0: no limit); older ones are dropped and counted.
    RUNLOG_INLINE explicit memory_sink(std::size_t capacity = 0);

    RUNLOG_INLINE void write(std::string_view bytes);
    void flush() noexcept {}
    bool is_terminal() const noexcept { return false; }

    /// A copy of the records kept, oldest first, each with its newline.
    RUNLOG_INLINE std::vector<std::string> lines() const;
    /// Everything kept, concatenated.
    RUNLOG_INLINE std::string text() const;
    RUNLOG_INLINE std::size_t size() const;
    /// How many records were pushed out by the capacity limit.
    RUNLOG_INLINE std::uint64_t dropped() const;
    RUNLOG_INLINE void clear();

private:
    struct state;
    std::shared_ptr<state> state_;
};

}  // namespace v0
}  // namespace runlog

#if RUNLOG_DEFINITIONS
#include <deque>
#include <mutex>

namespace runlog {
inline namespace v0 {

struct memory_sink::state {
    std::mutex mutex;
    std::deque<std::string> lines;
    std::size_t capacity = 0;
    std::uint64_t dropped = 0;
};

RUNLOG_INLINE memory_sink::memory_sink(std::size_t capacity) : state_(std::make_shared<state>()) {
    state_->capacity = capacity;
}

RUNLOG_INLINE void memory_sink::write(std::string_view bytes) {
    std::lock_guard lock(state_->mutex);
    state_->lines.emplace_back(bytes);
    if (state_->capacity != 0 && state_->lines.size() > state_->capacity) {
        state_->lines.pop_front();
        ++state_->dropped;
    }
}

RUNLOG_INLINE std::vector<std::string> memory_sink::lines() const {
    std::lock_guard lock(state_->mutex);
    return {state_->lines.begin(), state_->lines.end()};
}

RUNLOG_INLINE std::string memory_sink::text() const {
    std::lock_guard lock(state_->mutex);
    std::string all;
    for (const auto& l : state_->lines) all += l;
    return all;
}

RUNLOG_INLINE std::size_t memory_sink::size() const {
    std::lock_guard lock(state_->mutex);
    return state_->lines.size();
}

RUNLOG_INLINE std::uint64_t memory_sink::dropped() const {
    std::lock_guard lock(state_->mutex);
    return state_->dropped;
}

RUNLOG_INLINE void memory_sink::clear() {
    std::lock_guard lock(state_->mutex);
    state_->lines.clear();
}

}  // namespace v0
}  // namespace runlog
#endif
