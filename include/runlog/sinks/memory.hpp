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
    static constexpr bool thread_safe = true;  ///< its state is locked inside; copies share it
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
#include <mutex>

namespace runlog {
inline namespace v0 {

struct memory_sink::state {
    std::mutex mutex;
    std::vector<std::string> lines;  ///< a ring once full: the oldest kept line is at `first`
    std::size_t first = 0;
    std::size_t capacity = 0;
    std::uint64_t dropped = 0;

    /// The lines kept, oldest first.
    template <class F>
    void each(F&& f) const {
        for (std::size_t i = 0; i < lines.size(); ++i) f(lines[(first + i) % lines.size()]);
    }
};

RUNLOG_INLINE memory_sink::memory_sink(std::size_t capacity) : state_(std::make_shared<state>()) {
    state_->capacity = capacity;
}

RUNLOG_INLINE void memory_sink::write(std::string_view bytes) {
    std::lock_guard lock(state_->mutex);
    auto& s = *state_;
    if (s.capacity != 0 && s.lines.size() == s.capacity) {  // full: the oldest line makes room
        s.lines[s.first].assign(bytes);
        s.first = (s.first + 1) % s.capacity;
        ++s.dropped;
    } else {
        s.lines.emplace_back(bytes);
    }
}

RUNLOG_INLINE std::vector<std::string> memory_sink::lines() const {
    std::lock_guard lock(state_->mutex);
    std::vector<std::string> out;
    out.reserve(state_->lines.size());
    state_->each([&](const std::string& l) { out.push_back(l); });
    return out;
}

RUNLOG_INLINE std::string memory_sink::text() const {
    std::lock_guard lock(state_->mutex);
    std::string all;
    state_->each([&](const std::string& l) { all += l; });
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
    state_->first = 0;
}

}  // namespace v0
}  // namespace runlog
#endif
