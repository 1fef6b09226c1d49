#pragma once
#include <string>
#include <vector>

#include "build.hpp"

namespace runlog {
inline namespace v0 {
namespace detail {

/// The process's loggers, so that opening a run can open their gates: while a run with an event log is
/// open, every call is recorded whatever the pipelines' levels, and a call still costs one load.
namespace registry {

/// Re-evaluates a logger's gate; the argument says whether a stored run is open.
using refresh_fn = void (*)(void* logger, bool run_open) noexcept;
/// Lists a logger's pipeline names.
using names_fn = std::vector<std::string> (*)(const void* logger);

/// Lists a logger and sets its gate.
RUNLOG_INLINE void add(void* logger, refresh_fn fn, names_fn names);
RUNLOG_INLINE void remove(void* logger) noexcept;
/// The pipeline names of every live logger but `except`, so that a config shared by several loggers
/// (RUNLOG_CONFIG) can name pipelines of another one.
RUNLOG_INLINE std::vector<std::string> other_pipeline_names(const void* except);
/// Runs refresh(logger, run_open) under the registry's lock, so it cannot race with a run opening.
RUNLOG_INLINE void refresh(void* logger, refresh_fn fn) noexcept;
RUNLOG_INLINE void run_opened() noexcept;
RUNLOG_INLINE void run_closed() noexcept;
/// How many runs with an event log are open.
RUNLOG_INLINE int open_runs() noexcept;

}  // namespace registry
}  // namespace detail
}  // namespace v0
}  // namespace runlog

#if RUNLOG_DEFINITIONS
#include <mutex>

namespace runlog {
inline namespace v0 {
namespace detail {
namespace registry {

struct entry {
    void* logger;
    refresh_fn refresh;
    names_fn names;
};

struct state {
    std::mutex mutex;
    std::vector<entry> loggers;
    int open_runs = 0;
};

inline state& the_state() noexcept {
    static state s;
    return s;
}

inline void change_open_runs(int by) noexcept {
    auto& s = the_state();
    std::lock_guard lock(s.mutex);
    const bool was_open = s.open_runs > 0;
    s.open_runs += by;
    if (was_open != (s.open_runs > 0))
        for (const auto& e : s.loggers) e.refresh(e.logger, s.open_runs > 0);
}

RUNLOG_INLINE void add(void* logger, refresh_fn fn, names_fn names) {
    auto& s = the_state();
    std::lock_guard lock(s.mutex);
    s.loggers.push_back({logger, fn, names});
    fn(logger, s.open_runs > 0);
}

RUNLOG_INLINE void remove(void* logger) noexcept {
    auto& s = the_state();
    std::lock_guard lock(s.mutex);
    std::erase_if(s.loggers, [&](const entry& e) { return e.logger == logger; });
}

RUNLOG_INLINE std::vector<std::string> other_pipeline_names(const void* except) {
    auto& s = the_state();
    std::lock_guard lock(s.mutex);
    std::vector<std::string> all;
    for (const auto& e : s.loggers)
        if (e.logger != except && e.names)
            for (auto& n : e.names(e.logger)) all.push_back(std::move(n));
    return all;
}

RUNLOG_INLINE void refresh(void* logger, refresh_fn fn) noexcept {
    auto& s = the_state();
    std::lock_guard lock(s.mutex);
    fn(logger, s.open_runs > 0);
}

RUNLOG_INLINE void run_opened() noexcept { change_open_runs(+1); }
RUNLOG_INLINE void run_closed() noexcept { change_open_runs(-1); }

RUNLOG_INLINE int open_runs() noexcept {
    auto& s = the_state();
    std::lock_guard lock(s.mutex);
    return s.open_runs;
}

}  // namespace registry
}  // namespace detail
}  // namespace v0
}  // namespace runlog
#endif
