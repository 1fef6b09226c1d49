#pragma once
#include <array>
#include <atomic>
#include <chrono>
#include <climits>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "event.hpp"
#include "format.hpp"
#include "level.hpp"
#include "pipeline.hpp"
#include "record.hpp"

/// The compile-time floor of the RUNLOG_* macros and the default logger: calls below it generate no code.
#ifndef RUNLOG_ACTIVE_LEVEL
#define RUNLOG_ACTIVE_LEVEL INT_MIN
#endif

namespace runlog {
inline namespace v0 {

/// The floor taken from RUNLOG_ACTIVE_LEVEL.
inline constexpr level active_level = static_cast<level>(RUNLOG_ACTIVE_LEVEL);

/// Returns the time of a new record; replaceable for tests and replays.
using clock_fn = std::chrono::system_clock::time_point (*)() noexcept;

/// Sends each call to every pipeline in Pipelines; calls below Floor compile to nothing.
template <level Floor, class... Pipelines>
class basic_logger {
public:
    static_assert((pipeline_type<Pipelines> && ...), "a logger is made of runlog::pipeline objects");
    static_assert(sizeof...(Pipelines) > 0, "a logger needs at least one pipeline");
    /// Calls below this level are removed at compile time.
    static constexpr level floor = Floor;

    explicit basic_logger(std::string name, Pipelines... p) : name_(std::move(name)), pipes_(std::move(p)...) {
        detail::gate_registry::instance().add(this, &refresh_gate, [](const void* self) {
            std::vector<std::string> names;
            for (auto n : static_cast<const basic_logger*>(self)->pipeline_names()) names.emplace_back(n);
            return names;
        });
    }
    basic_logger(const basic_logger&) = delete;
    basic_logger& operator=(const basic_logger&) = delete;
    ~basic_logger() {
        detail::gate_registry::instance().remove(this);
        flush();
    }

    // The level methods, like the path below them, are inlined into the call site (see log_static).
    template <class... A>
    [[gnu::always_inline]] void trace(format_string<A...> fmt, A&&... a) { log_static<level::trace>({}, fmt, a...); }
    template <class... A>
    [[gnu::always_inline]] void trace(fields fs, format_string<A...> fmt, A&&... a) { log_static<level::trace>(fs, fmt, a...); }
    template <class... A>
    [[gnu::always_inline]] void debug(format_string<A...> fmt, A&&... a) { log_static<level::debug>({}, fmt, a...); }
    template <class... A>
    [[gnu::always_inline]] void debug(fields fs, format_string<A...> fmt, A&&... a) { log_static<level::debug>(fs, fmt, a...); }
    template <class... A>
    [[gnu::always_inline]] void info(format_string<A...> fmt, A&&... a) { log_static<level::info>({}, fmt, a...); }
    template <class... A>
    [[gnu::always_inline]] void info(fields fs, format_string<A...> fmt, A&&... a) { log_static<level::info>(fs, fmt, a...); }
    template <class... A>
    [[gnu::always_inline]] void warning(format_string<A...> fmt, A&&... a) { log_static<level::warning>({}, fmt, a...); }
    template <class... A>
    [[gnu::always_inline]] void warning(fields fs, format_string<A...> fmt, A&&... a) { log_static<level::warning>(fs, fmt, a...); }
    template <class... A>
    [[gnu::always_inline]] void error(format_string<A...> fmt, A&&... a) { log_static<level::error>({}, fmt, a...); }
    template <class... A>
    [[gnu::always_inline]] void error(fields fs, format_string<A...> fmt, A&&... a) { log_static<level::error>(fs, fmt, a...); }
    template <class... A>
    [[gnu::always_inline]] void critical(format_string<A...> fmt, A&&... a) { log_static<level::critical>({}, fmt, a...); }
    template <class... A>
    [[gnu::always_inline]] void critical(fields fs, format_string<A...> fmt, A&&... a) { log_static<level::critical>(fs, fmt, a...); }

    /// Logs at a level known only at run time (still removed below Floor, by a run-time test).
    template <class... A>
    void log(level l, format_string<A...> fmt, A&&... a) {
        if (should_log(l)) dispatch(l, fmt.get(), fmt.location(), {}, make_format_args(a...));
    }
    template <class... A>
    void log(level l, fields fs, format_string<A...> fmt, A&&... a) {
        if (should_log(l)) dispatch(l, fmt.get(), fmt.location(), fs, make_format_args(a...));
    }

    /// Emits a typed event at its default level, with optional extra fields.
    template <event_type E>
    void event(const E& e, fields extra = {}, source_location loc = source_location::current()) {
        if constexpr (E::info.default_level >= Floor) {
            if (should_log(E::info.default_level)) emit_event(E::info.default_level, e, extra, loc);
        }
    }
    /// Emits a typed event at a chosen level.
    template <event_type E>
    void event(level l, const E& e, fields extra = {}, source_location loc = source_location::current()) {
        if (should_log(l)) emit_event(l, e, extra, loc);
    }

    /// Whether a call at l would reach a pipeline or an open run's event log: one relaxed load and a compare.
    bool should_log(level l) const noexcept {
        return l >= Floor && static_cast<int>(l) >= gate_.load(std::memory_order_relaxed);
    }

    /// Sets one pipeline's runtime level; false when no pipeline has that name.
    bool set_level(std::string_view pipeline_name, level l) {
        std::lock_guard lock(levels_mutex_);
        bool found = false;
        for_each_pipeline([&](auto& p) {
            if (p.name() == pipeline_name) {
                p.set_level(l);
                found = true;
            }
        });
        recompute_gate();
        return found;
    }
    /// Sets every pipeline's runtime level.
    void set_level(level l) {
        std::lock_guard lock(levels_mutex_);
        for_each_pipeline([&](auto& p) { p.set_level(l); });
        recompute_gate();
    }
    /// The runtime level of the named pipeline, if there is one.
    std::optional<level> get_level(std::string_view pipeline_name) const {
        std::optional<level> found;
        for_each_pipeline([&](const auto& p) {
            if (p.name() == pipeline_name) found = p.get_level();
        });
        return found;
    }
    /// The pipelines' names, in order.
    std::array<std::string_view, sizeof...(Pipelines)> pipeline_names() const {
        return std::apply([](const auto&... p) { return std::array<std::string_view, sizeof...(Pipelines)>{p.name()...}; },
                          pipes_);
    }
    /// The I-th pipeline.
    template <std::size_t I>
    auto& pipeline() noexcept { return std::get<I>(pipes_); }

    /// Writes out what every sink buffers.
    void flush() noexcept { for_each_pipeline([](auto& p) { p.flush(); }); }

    std::string_view name() const noexcept { return name_; }
    /// Replaces the clock that timestamps records (nullptr: the system clock); set it before logging starts.
    void set_clock(clock_fn c) noexcept { clock_.store(c, std::memory_order_relaxed); }

    /// Sends an already built record to the pipelines and to the event log of the calling thread's run.
    void write(const record& r) noexcept {
        write_pipelines(r);
        if (auto* log = detail::thread_event_log()) log->write(r);
    }
    /// Sends an already built record to the pipelines only (records below Floor go nowhere).
    void write_pipelines(const record& r) noexcept {
        if (r.lvl < Floor) return;
        std::apply([&](auto&... p) { (p.handle(r), ...); }, pipes_);
    }
    /// Fills in what every record of this logger carries: time, level, the thread's context, pid, thread,
    /// location and logger name.
    void stamp(record& r, level l, const source_location& loc) const noexcept {
        auto c = clock_.load(std::memory_order_relaxed);
        r.time = c ? c() : std::chrono::system_clock::now();
        r.lvl = l;
        r.ctx = current_context();
        r.location = loc;
        r.logger_name = name_;
        r.pid = process_id();
        r.thread = thread_id();
    }

private:
    /// Whether every pipeline is asynchronous: calls then go straight into the thread's queue.
    static constexpr bool all_async = (detail::is_async_pipeline<Pipelines>::value && ...);

    // The call path up to the pipelines is forced inline, so that a call site compiles to the level
    // check and, for async pipelines, the stores into the thread's queue, with no call in between.
    template <level L, class Fmt, class... A>
    [[gnu::always_inline]] void log_static(fields fs, const Fmt& fmt, const A&... a) {
        if constexpr (L >= Floor) {
            if (should_log(L)) {
                if constexpr (all_async)
                    enqueue(L, fs, fmt, a...);
                else
                    dispatch(L, fmt.get(), fmt.location(), fs, make_format_args(a...));
            }
        }
    }

    /// The async fast path: each pipeline copies the arguments into the calling thread's queue. Run-time
    /// format strings, and calls inside an open run (which also go to its event log), take the record path.
    template <class Fmt, class... A>
    [[gnu::always_inline]] void enqueue(level l, fields fs, const Fmt& fmt, const A&... a) noexcept {
        if (!fmt.is_static() || detail::thread_event_log() != nullptr) [[unlikely]] {
            dispatch(l, fmt.get(), fmt.location(), fs, make_format_args(a...));
            return;
        }
        enqueue_each(std::index_sequence_for<Pipelines...>{}, l, fs, fmt, a...);
    }
    template <std::size_t... I, class Fmt, class... A>
    [[gnu::always_inline]] void enqueue_each(std::index_sequence<I...>, level l, fields fs, const Fmt& fmt,
                                             const A&... a) noexcept {
        (std::get<I>(pipes_).enqueue(l, name_, fs, fmt, a...), ...);
    }

    [[gnu::noinline]] void dispatch(level l, std::string_view fmt, source_location loc, fields fs,
                                    format_args args) noexcept {
        detail::format_source src{fmt, args};
        record r;
        stamp(r, l, loc);
        r.fields = std::span<const field>(fs.begin(), fs.size());
        r.set_message(&src, &detail::format_source::render);
        write(r);
    }

    template <class E>
    [[gnu::noinline]] void emit_event(level l, const E& e, fields extra, const source_location& loc) noexcept {
        const auto own = e.fields();
        record r;
        stamp(r, l, loc);
        detail::set_event(r, e, own, extra);
        write(r);
    }

    template <class F>
    void for_each_pipeline(F&& f) {
        std::apply([&](auto&... p) { (f(p), ...); }, pipes_);
    }
    template <class F>
    void for_each_pipeline(F&& f) const {
        std::apply([&](const auto&... p) { (f(p), ...); }, pipes_);
    }

    /// The gate is the lowest pipeline level, or wide open while a stored run is open.
    static void refresh_gate(void* self, bool run_open) noexcept {
        auto& l = *static_cast<basic_logger*>(self);
        int lowest = INT_MAX;
        l.for_each_pipeline([&](const auto& p) { lowest = std::min(lowest, static_cast<int>(p.get_level())); });
        l.gate_.store(run_open ? INT_MIN : lowest, std::memory_order_relaxed);
    }
    void recompute_gate() noexcept { detail::gate_registry::instance().refresh(this, &refresh_gate); }

    std::string name_;
    std::tuple<Pipelines...> pipes_;
    std::atomic<int> gate_{INT_MIN};
    std::atomic<clock_fn> clock_{nullptr};
    std::mutex levels_mutex_;
};

/// Builds a logger named "runlog" from pipelines; `make_logger<level::info>(...)` sets the compile-time floor.
template <level Floor = active_level, pipeline_type... P>
basic_logger<Floor, std::remove_cvref_t<P>...> make_logger(P&&... p) {
    return basic_logger<Floor, std::remove_cvref_t<P>...>("runlog", std::forward<P>(p)...);
}
/// Builds a logger with a name (shown by the text formatter's {logger} and JSON's "logger").
template <level Floor = active_level, pipeline_type... P>
basic_logger<Floor, std::remove_cvref_t<P>...> make_logger(std::string name, P&&... p) {
    return basic_logger<Floor, std::remove_cvref_t<P>...>(std::move(name), std::forward<P>(p)...);
}

}  // namespace v0
}  // namespace runlog

/// Logs at a level through a logger, evaluating the arguments only when the call is enabled and
/// generating no code at all below RUNLOG_ACTIVE_LEVEL.
#define RUNLOG_LOG(logger, lvl, ...)                                                       \
    do {                                                                                   \
        if constexpr (static_cast<int>(lvl) >= RUNLOG_ACTIVE_LEVEL) {                      \
            if ((logger).should_log(lvl)) (logger).log(lvl, __VA_ARGS__);                  \
        }                                                                                  \
    } while (false)
#define RUNLOG_TRACE(logger, ...) RUNLOG_LOG(logger, ::runlog::level::trace, __VA_ARGS__)
#define RUNLOG_DEBUG(logger, ...) RUNLOG_LOG(logger, ::runlog::level::debug, __VA_ARGS__)
#define RUNLOG_INFO(logger, ...) RUNLOG_LOG(logger, ::runlog::level::info, __VA_ARGS__)
#define RUNLOG_WARNING(logger, ...) RUNLOG_LOG(logger, ::runlog::level::warning, __VA_ARGS__)
#define RUNLOG_ERROR(logger, ...) RUNLOG_LOG(logger, ::runlog::level::error, __VA_ARGS__)
#define RUNLOG_CRITICAL(logger, ...) RUNLOG_LOG(logger, ::runlog::level::critical, __VA_ARGS__)
