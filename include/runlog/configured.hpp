#pragma once
/// runlog::configured_pipelines: a logger's slot for pipelines that config.yaml declares under `handlers:`.
#include <atomic>
#include <climits>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "detail/build.hpp"
#include "detail/level_enum.hpp"
#include "pipeline.hpp"
#include "record.hpp"

namespace runlog {
inline namespace v0 {

/// One pipeline built at run time (from config.yaml's `handlers:`): its formatter and sink are chosen by
/// the file, behind this interface.
class configured_handler {
public:
    virtual ~configured_handler() = default;
    virtual std::string_view name() const noexcept = 0;
    virtual level get_level() const noexcept = 0;
    /// The lowest level a record may have to be of use to it: get_level(), or lower with a backtrace.
    virtual level admit_level() const noexcept { return get_level(); }
    /// Writes out its backtrace (see backtrace_options); how many records it held.
    virtual std::size_t dump_backtrace(const detail::backtrace_reason&) noexcept { return 0; }
    /// Formats and writes r if its level lets it through; never throws.
    virtual void handle(const record& r) noexcept = 0;
    virtual void flush() noexcept = 0;
};

/// A set of handlers that replaces another as a whole.
struct handler_set {
    std::vector<std::unique_ptr<configured_handler>> handlers;
};

/// A pipeline whose handlers come from config.yaml (`handlers:`), replaced as a whole at each (re)load: a
/// record goes either to all of the old handlers or to all of the new ones, and the old ones are written
/// out and closed as soon as no record is being written to them. It has a name, for `loggers:` (its own
/// runtime level, checked before the handlers'), and lets nothing through while it has no handlers.
/// It is not on the compile-time path of the other pipelines: a record reaches its handlers through one
/// virtual call each.
class configured_pipelines {
public:
    explicit configured_pipelines(std::string name = "handlers", level lvl = static_cast<level>(INT_MIN))
        : name_(std::move(name)), level_(static_cast<int>(lvl)) {}
    /// Moves a slot that is not in use yet (while it is built into a logger).
    configured_pipelines(configured_pipelines&& o) noexcept
        : name_(std::move(o.name_)),
          level_(o.level_.load(std::memory_order_relaxed)),
          effective_(o.effective_.load(std::memory_order_relaxed)),
          set_(std::move(o.set_)) {}
    configured_pipelines& operator=(configured_pipelines&&) = delete;

    std::string_view name() const noexcept { return name_; }
    /// The lowest level a handler takes (and at least the slot's own); above every level while it has none.
    level get_level() const noexcept { return static_cast<level>(effective_.load(std::memory_order_relaxed)); }
    /// The same as get_level(): the lowest level a handler takes in, for its backtrace too.
    level admit_level() const noexcept { return get_level(); }
    /// Writes out the handlers' backtraces; how many records they held.
    std::size_t dump_backtrace() noexcept { return dump_backtrace({"on request", false}); }
    RUNLOG_INLINE std::size_t dump_backtrace(const detail::backtrace_reason& why) noexcept;

    void handle(const record& r) noexcept {
        if (static_cast<int>(r.lvl) < effective_.load(std::memory_order_relaxed)) return;
        handle_all(r);
    }
    RUNLOG_INLINE void flush() noexcept;

    /// Makes these the handlers (the logger's gate follows at its next level change: use the config API,
    /// which does both); the old ones end once their last record is written.
    RUNLOG_INLINE void replace(std::shared_ptr<const handler_set> handlers) noexcept;
    /// The current handlers' names.
    RUNLOG_INLINE std::vector<std::string> handler_names() const;

private:
    template <class>
    friend struct detail::logger_code;

    RUNLOG_INLINE void set_level(level l) noexcept;
    RUNLOG_INLINE void handle_all(const record& r) noexcept;
    RUNLOG_INLINE void recompute(const handler_set* s) noexcept;
    /// The current handlers, held for as long as the caller uses them.
    std::shared_ptr<const handler_set> current() const noexcept {
        std::lock_guard lock(set_lock_);
        return set_;
    }

    std::string name_;
    std::atomic<int> level_;
    std::atomic<int> effective_{INT_MAX};
    // A lock rather than std::atomic<std::shared_ptr>: libstdc++ 12's is invisible to ThreadSanitizer. Held
    // only to copy the pointer; a child of fork() whose parent held it starts from a fresh one.
    mutable detail::sink_lock<true> set_lock_;
    std::shared_ptr<const handler_set> set_;
};

namespace detail {
template <>
struct is_pipeline<configured_pipelines> : std::true_type {};

/// A configured handler made of a pipeline of known types.
template <class Formatter, class Sink>
class pipeline_handler final : public configured_handler {
public:
    explicit pipeline_handler(pipeline<Formatter, Sink> p) : pipe_(std::move(p)) {}
    std::string_view name() const noexcept override { return pipe_.name(); }
    level get_level() const noexcept override { return pipe_.get_level(); }
    level admit_level() const noexcept override { return pipe_.admit_level(); }
    std::size_t dump_backtrace(const detail::backtrace_reason& why) noexcept override { return pipe_.dump_backtrace(why); }
    void handle(const record& r) noexcept override { pipe_.handle(r); }
    void flush() noexcept override { pipe_.flush(); }

private:
    pipeline<Formatter, Sink> pipe_;
};
}  // namespace detail

}  // namespace v0
}  // namespace runlog

#if RUNLOG_DEFINITIONS
namespace runlog {
inline namespace v0 {

RUNLOG_INLINE void configured_pipelines::handle_all(const record& r) noexcept {
    const auto s = current();
    if (!s) return;
    for (const auto& h : s->handlers) h->handle(r);
}

RUNLOG_INLINE void configured_pipelines::flush() noexcept {
    const auto s = current();
    if (!s) return;
    for (const auto& h : s->handlers) h->flush();
}

RUNLOG_INLINE std::size_t configured_pipelines::dump_backtrace(const detail::backtrace_reason& why) noexcept {
    std::size_t n = 0;
    if (const auto s = current())
        for (const auto& h : s->handlers) n += h->dump_backtrace(why);
    return n;
}

RUNLOG_INLINE void configured_pipelines::recompute(const handler_set* s) noexcept {
    int lowest = INT_MAX;
    if (s)
        for (const auto& h : s->handlers)
            if (static_cast<int>(h->admit_level()) < lowest) lowest = static_cast<int>(h->admit_level());
    const int own = level_.load(std::memory_order_relaxed);
    effective_.store(lowest == INT_MAX ? INT_MAX : (own > lowest ? own : lowest), std::memory_order_relaxed);
}

RUNLOG_INLINE void configured_pipelines::replace(std::shared_ptr<const handler_set> handlers) noexcept {
    recompute(handlers.get());
    std::shared_ptr<const handler_set> old;
    {
        std::lock_guard lock(set_lock_);
        old = std::exchange(set_, std::move(handlers));
    }
    if (old) {
        for (const auto& h : old->handlers) h->flush();
    }
    // The old handlers end here, or with the last record still being written to them.
}

RUNLOG_INLINE std::vector<std::string> configured_pipelines::handler_names() const {
    std::vector<std::string> out;
    if (const auto s = current())
        for (const auto& h : s->handlers) out.emplace_back(h->name());
    return out;
}

RUNLOG_INLINE void configured_pipelines::set_level(level l) noexcept {
    level_.store(static_cast<int>(l), std::memory_order_relaxed);
    recompute(current().get());
}

}  // namespace v0
}  // namespace runlog
#endif
