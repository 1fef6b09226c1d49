#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "../crash.hpp"  // the registry's crash hooks (the definitions of crash.hpp must precede their users)
#include "build.hpp"

namespace runlog {
inline namespace v0 {
namespace detail {

/// The process's loggers, so that opening a run can open their gates: while a run with an event log is
/// open, every call is recorded whatever the pipelines' levels, and a call still costs one load.
namespace registry {

/// Re-evaluates a logger's gate; the argument says whether a stored run is open.
using refresh_fn = void (*)(void* logger, bool run_open) noexcept;
/// The process is ending: writes a last record (text non-empty) through the logger's pipelines, then flushes them.
using last_words_fn = void (*)(void* logger, std::string_view text, std::string_view signal) noexcept;
/// Calls emit(context, name) for each of a logger's pipeline names.
using names_fn = void (*)(const void* logger, void (*emit)(void* context, std::string_view name), void* context);

/// A logger's place in the registry, a member of the logger (the registry allocates nothing).
struct entry {
    void* logger = nullptr;
    refresh_fn refresh = nullptr;
    names_fn names = nullptr;
    last_words_fn last_words = nullptr;
    entry* prev = nullptr;
    entry* next = nullptr;
};

/// A logger's pipeline names, from its names function.
RUNLOG_INLINE std::vector<std::string> names_of(names_fn names, const void* logger);

/// Lists a logger (its entry's logger, refresh and names set) and sets its gate.
RUNLOG_INLINE void add(entry& e) noexcept;
RUNLOG_INLINE void remove(entry& e) noexcept;
/// The pipeline names of every live logger but `except`, so that a config shared by several loggers
/// (RUNLOG_CONFIG) can name pipelines of another one.
RUNLOG_INLINE std::vector<std::string> other_pipeline_names(const void* except);
/// Runs e's refresh under the registry's lock, so it cannot race with a run opening.
RUNLOG_INLINE void refresh(const entry& e) noexcept;
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

struct state {
    std::mutex mutex;
    entry* first = nullptr;
    int open_runs = 0;
    crash::hook announce_hook, flush_hook;

    state() {
        crash::add(announce_hook, &on_crash, this, crash::announce);
        crash::add(flush_hook, &on_crash, this, crash::flush);
    }

    /// The process is ending: after a crash, every logger writes a record naming it; then all flush.
    static void on_crash(void* self, const crash::event& e) noexcept {
        auto& s = *static_cast<state*>(self);
        const bool announcing = e.stage == crash::announce;
        if (announcing && e.kind != crash::ending::fatal) return;
        if (!crash::try_lock_until(s.mutex, crash::deadline_within(e, 200))) return;
        for (entry* it = s.first; it; it = it->next)
            if (it->last_words) it->last_words(it->logger, announcing ? e.reason : std::string_view(), e.name);
        s.mutex.unlock();
    }
};

/// Never destroyed: a crash or exit() may come while static objects are destroyed.
inline state& the_state() noexcept {
    static state* const s = new state;
    return *s;
}

inline void change_open_runs(int by) noexcept {
    auto& s = the_state();
    std::lock_guard lock(s.mutex);
    const bool was_open = s.open_runs > 0;
    s.open_runs += by;
    if (was_open != (s.open_runs > 0))
        for (entry* e = s.first; e; e = e->next) e->refresh(e->logger, s.open_runs > 0);
}

RUNLOG_INLINE std::vector<std::string> names_of(names_fn names, const void* logger) {
    std::vector<std::string> out;
    names(logger, [](void* o, std::string_view n) { static_cast<std::vector<std::string>*>(o)->emplace_back(n); }, &out);
    return out;
}

RUNLOG_INLINE void add(entry& e) noexcept {
    auto& s = the_state();
    std::lock_guard lock(s.mutex);
    e.prev = nullptr;
    e.next = s.first;
    if (s.first) s.first->prev = &e;
    s.first = &e;
    e.refresh(e.logger, s.open_runs > 0);
}

RUNLOG_INLINE void remove(entry& e) noexcept {
    auto& s = the_state();
    std::lock_guard lock(s.mutex);
    if (e.prev)
        e.prev->next = e.next;
    else if (s.first == &e)
        s.first = e.next;
    if (e.next) e.next->prev = e.prev;
    e.prev = e.next = nullptr;
}

RUNLOG_INLINE std::vector<std::string> other_pipeline_names(const void* except) {
    auto& s = the_state();
    std::lock_guard lock(s.mutex);
    std::vector<std::string> all;
    for (const entry* e = s.first; e; e = e->next)
        if (e->logger != except && e->names)
            for (auto& n : names_of(e->names, e->logger)) all.push_back(std::move(n));
    return all;
}

RUNLOG_INLINE void refresh(const entry& e) noexcept {
    auto& s = the_state();
    std::lock_guard lock(s.mutex);
    e.refresh(e.logger, s.open_runs > 0);
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
