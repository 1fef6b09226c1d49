#pragma once
/// The process's external loggers (bridges), by name, so that config.yaml's `external_loggers:` can set
/// their levels. Plain inline code: the bridges are header-only in both build modes.
#include <atomic>
#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "level_enum.hpp"

namespace runlog {
inline namespace v0 {
namespace detail {

/// What the registry knows of a bridge: its name and its level.
struct external_entry {
    std::string name;
    std::atomic<int> level_value;
    external_entry(std::string n, level l) : name(std::move(n)), level_value(static_cast<int>(l)) {}
};

class external_registry {
public:
    /// Lists a bridge; a level configured for its name earlier (config.yaml) applies to it from the start.
    void add(external_entry* e) {
        std::lock_guard lock(mutex_);
        entries_.push_back(e);
        for (const auto& [name, l] : configured_)
            if (name == e->name) e->level_value.store(static_cast<int>(l), std::memory_order_relaxed);
    }
    void remove(external_entry* e) noexcept {
        std::lock_guard lock(mutex_);
        for (std::size_t i = 0; i < entries_.size(); ++i)
            if (entries_[i] == e) {
                entries_.erase(entries_.begin() + static_cast<std::ptrdiff_t>(i));
                break;
            }
    }
    /// The names of the live bridges, each once, in the order they began.
    std::vector<std::string> names() const {
        std::lock_guard lock(mutex_);
        std::vector<std::string> out;
        for (const auto* e : entries_) {
            bool seen = false;
            for (const auto& n : out) seen = seen || n == e->name;
            if (!seen) out.push_back(e->name);
        }
        return out;
    }
    /// Sets the level of every live bridge called name, and of those made later; how many live ones there were.
    int set_level(std::string_view name, level l) {
        std::lock_guard lock(mutex_);
        bool known = false;
        for (auto& [n, old] : configured_)
            if (n == name) old = l, known = true;
        if (!known) configured_.emplace_back(std::string(name), l);
        int n = 0;
        for (auto* e : entries_)
            if (e->name == name) e->level_value.store(static_cast<int>(l), std::memory_order_relaxed), ++n;
        return n;
    }

private:
    mutable std::mutex mutex_;
    std::vector<external_entry*> entries_;
    std::vector<std::pair<std::string, level>> configured_;
};

/// Never destroyed: bridges may end during static destruction.
inline external_registry& external_loggers() noexcept {
    static external_registry* const r = new external_registry;
    return *r;
}

}  // namespace detail
}  // namespace v0
}  // namespace runlog
