#pragma once
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "sink.hpp"

namespace runlog {
inline namespace v0 {

/// Keeps formatted records in memory (tests, viewers); copies share the same store.
class memory_sink {
public:
    /// Keeps at most capacity records (0: no limit); older ones are dropped and counted.
    explicit memory_sink(std::size_t capacity = 0) : state_(std::make_shared<state>()) { state_->capacity = capacity; }

    void write(std::string_view bytes) {
        std::lock_guard lock(state_->mutex);
        state_->lines.emplace_back(bytes);
        if (state_->capacity != 0 && state_->lines.size() > state_->capacity) {
            state_->lines.pop_front();
            ++state_->dropped;
        }
    }
    void flush() noexcept {}
    bool is_terminal() const noexcept { return false; }

    /// A copy of the records kept, oldest first, each with its newline.
    std::vector<std::string> lines() const {
        std::lock_guard lock(state_->mutex);
        return {state_->lines.begin(), state_->lines.end()};
    }
    /// Everything kept, concatenated.
    std::string text() const {
        std::lock_guard lock(state_->mutex);
        std::string all;
        for (const auto& l : state_->lines) all += l;
        return all;
    }
    std::size_t size() const {
        std::lock_guard lock(state_->mutex);
        return state_->lines.size();
    }
    /// How many records were pushed out by the capacity limit.
    std::uint64_t dropped() const {
        std::lock_guard lock(state_->mutex);
        return state_->dropped;
    }
    void clear() {
        std::lock_guard lock(state_->mutex);
        state_->lines.clear();
    }

private:
    struct state {
        std::mutex mutex;
        std::deque<std::string> lines;
        std::size_t capacity = 0;
        std::uint64_t dropped = 0;
    };
    std::shared_ptr<state> state_;
};

}  // namespace v0
}  // namespace runlog
