#pragma once
#include <algorithm>
#include <array>
#include <atomic>
#include <climits>
#include <cstddef>
#include <mutex>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "detail/chrono.hpp"
#include "detail/level_enum.hpp"
#include "detail/registry.hpp"
#include "detail/wall_clock.hpp"
#include "event.hpp"
#include "fields.hpp"
#include "format/args.hpp"
#include "format/string.hpp"
#include "pipeline.hpp"
#include "record.hpp"

namespace runlog {
inline namespace v0 {

namespace detail {

/// The out-of-line code of a logger type: formatting a call, writing a record through every pipeline,
/// levels and flushing. Apart from the logger so that it can be compiled once, in one file, for a logger
/// type used in many: RUNLOG_EXTERN_LOGGER(T) where T is used, RUNLOG_INSTANTIATE_LOGGER(T) in that file.
template <class Logger>
struct logger_code {
    static void open(Logger& l);
    static void close(Logger& l) noexcept;
    static void vlog(Logger& l, level lvl, std::string_view fmt, const source_location& loc,
                     std::span<const field> fs, format_args args) noexcept;
    static void write(Logger& l, const record& r) noexcept;
    static void write_pipelines(Logger& l, const record& r) noexcept;
    static void flush(Logger& l) noexcept;
    static bool set_level(Logger& l, std::string_view pipeline_name, level lvl);
    static void set_all_levels(Logger& l, level lvl);
    static void refresh(Logger& l) noexcept;
    static std::optional<level> get_level(const Logger& l, std::string_view pipeline_name);
    static bool set_backtrace(Logger& l, std::string_view pipeline_name, const backtrace_options& o);
    static std::size_t dump_backtrace(Logger& l) noexcept;
    /// The gate is the lowest pipeline level, or wide open while a stored run is open.
    static void refresh_gate(void* self, bool run_open) noexcept;
    static void names(const void* self, void (*emit)(void* context, std::string_view name), void* context);
    /// The process is ending: a CRITICAL record naming why (when text is not empty), then a flush.
    static void last_words(void* self, std::string_view text, std::string_view signal) noexcept;
};

}  // namespace detail

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
        code::open(*this);
    }
    basic_logger(const basic_logger&) = delete;
    basic_logger& operator=(const basic_logger&) = delete;
    ~basic_logger() { code::close(*this); }

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
        if (should_log(l)) vlog(l, fmt.get(), fmt.location(), {}, make_format_args(a...));
    }
    template <class... A>
    void log(level l, fields fs, format_string<A...> fmt, A&&... a) {
        if (should_log(l)) vlog(l, fmt.get(), fmt.location(), std::span<const field>(fs.begin(), fs.size()),
                                make_format_args(a...));
    }
    /// Logs a call whose arguments are already type-erased (for wrappers and other front ends); a level
    /// that should_log rejects writes nothing.
    void vlog(level l, std::string_view fmt, const source_location& loc, std::span<const field> fs,
              format_args args) noexcept {
        code::vlog(*this, l, fmt, loc, fs, args);
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
    bool set_level(std::string_view pipeline_name, level l) { return code::set_level(*this, pipeline_name, l); }
    /// Sets every pipeline's runtime level.
    void set_level(level l) { code::set_all_levels(*this, l); }
    /// The runtime level of the named pipeline, if there is one.
    std::optional<level> get_level(std::string_view pipeline_name) const {
        return code::get_level(*this, pipeline_name);
    }
    /// Gives the named pipeline a backtrace (capacity 0 turns it off; see backtrace_options) and opens the
    /// logger's gate to the levels it keeps; false when no pipeline has that name. Throws std::invalid_argument
    /// for the configured_pipelines slot (its handlers keep none) and std::bad_alloc.
    bool set_backtrace(std::string_view pipeline_name, const backtrace_options& o) {
        return code::set_backtrace(*this, pipeline_name, o);
    }
    /// Writes out every pipeline's backtrace now (oldest first, marked); returns how many records they held.
    std::size_t dump_backtrace() noexcept { return code::dump_backtrace(*this); }
    /// Re-reads the pipelines' levels into the logger's gate (after a configured_pipelines slot changed
    /// outside set_level; the config API does this itself).
    void refresh_levels() { code::refresh(*this); }
    /// The pipelines' names, in order.
    std::array<std::string_view, sizeof...(Pipelines)> pipeline_names() const {
        return std::apply([](const auto&... p) { return std::array<std::string_view, sizeof...(Pipelines)>{p.name()...}; },
                          pipes_);
    }
    /// The I-th pipeline.
    template <std::size_t I>
    auto& pipeline() noexcept { return std::get<I>(pipes_); }

    /// Writes out what every sink buffers.
    void flush() noexcept { code::flush(*this); }

    std::string_view name() const noexcept { return name_; }
    /// Replaces the clock that timestamps records (nullptr: the system clock); set it before logging starts.
    void set_clock(clock_fn c) noexcept { clock_.store(c, std::memory_order_relaxed); }

    /// Sends an already built record to the pipelines and to the event log of the calling thread's run.
    void write(const record& r) noexcept { code::write(*this, r); }
    /// Sends an already built record to the pipelines only (records below Floor go nowhere).
    void write_pipelines(const record& r) noexcept { code::write_pipelines(*this, r); }
    /// Fills in what every record of this logger carries: time, level, the thread's context, pid, thread,
    /// location and logger name.
    void stamp(record& r, level l, const source_location& loc) const noexcept {
        auto c = clock_.load(std::memory_order_relaxed);
        r.time = c ? c() : detail::wall_clock_now();
        r.lvl = l;
        r.ctx = current_context();
        r.location = loc;
        r.logger_name = name_;
        r.pid = process_id();
        r.thread = thread_id();
    }

private:
    using code = detail::logger_code<basic_logger>;
    friend struct detail::logger_code<basic_logger>;

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
                    vlog(L, fmt.get(), fmt.location(), std::span<const field>(fs.begin(), fs.size()),
                         make_format_args(a...));
            }
        }
    }

    /// The async fast path: each pipeline copies the arguments into the calling thread's queue. Run-time
    /// format strings, and calls inside an open run (which also go to its event log), take the record path.
    template <class Fmt, class... A>
    [[gnu::always_inline]] void enqueue(level l, fields fs, const Fmt& fmt, const A&... a) noexcept {
        if (!fmt.is_static() || detail::thread_event_log() != nullptr) [[unlikely]] {
            vlog(l, fmt.get(), fmt.location(), std::span<const field>(fs.begin(), fs.size()), make_format_args(a...));
            return;
        }
        enqueue_each(std::index_sequence_for<Pipelines...>{}, l, fs, fmt, a...);
    }
    template <std::size_t... I, class Fmt, class... A>
    [[gnu::always_inline]] void enqueue_each(std::index_sequence<I...>, level l, fields fs, const Fmt& fmt,
                                             const A&... a) noexcept {
        (std::get<I>(pipes_).enqueue(l, name_, fs, fmt, a...), ...);
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

    std::string name_;
    std::tuple<Pipelines...> pipes_;
    std::atomic<int> gate_{INT_MIN};
    std::atomic<clock_fn> clock_{nullptr};
    std::mutex levels_mutex_;
    detail::registry::entry entry_;
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

namespace detail {

template <class Logger>
void logger_code<Logger>::open(Logger& l) {
    l.entry_.logger = &l;
    l.entry_.refresh = &refresh_gate;
    l.entry_.names = &names;
    l.entry_.last_words = &last_words;
    registry::add(l.entry_);
}

template <class Logger>
void logger_code<Logger>::close(Logger& l) noexcept {
    registry::remove(l.entry_);
    flush(l);
}

template <class Logger>
void logger_code<Logger>::vlog(Logger& l, level lvl, std::string_view fmt, const source_location& loc,
                               std::span<const field> fs, format_args args) noexcept {
    if (!l.should_log(lvl)) return;
    format_source src{fmt, args};
    record r;
    l.stamp(r, lvl, loc);
    r.fields = fs;
    r.set_message(&src, &format_source::render);
    write(l, r);
}

template <class Logger>
void logger_code<Logger>::write(Logger& l, const record& r) noexcept {
    write_pipelines(l, r);
    if (auto* log = thread_event_log()) log->write(r);
}

template <class Logger>
void logger_code<Logger>::write_pipelines(Logger& l, const record& r) noexcept {
    if (r.lvl < Logger::floor) return;
    std::apply([&](auto&... p) { (p.handle(r), ...); }, l.pipes_);
}

template <class Logger>
void logger_code<Logger>::flush(Logger& l) noexcept {
    l.for_each_pipeline([](auto& p) { p.flush(); });
}

template <class Logger>
bool logger_code<Logger>::set_level(Logger& l, std::string_view pipeline_name, level lvl) {
    std::lock_guard lock(l.levels_mutex_);
    bool found = false;
    l.for_each_pipeline([&](auto& p) {
        if (p.name() == pipeline_name) {
            p.set_level(lvl);
            found = true;
        }
    });
    registry::refresh(l.entry_);
    return found;
}

template <class Logger>
void logger_code<Logger>::set_all_levels(Logger& l, level lvl) {
    std::lock_guard lock(l.levels_mutex_);
    l.for_each_pipeline([&](auto& p) { p.set_level(lvl); });
    registry::refresh(l.entry_);
}

template <class Logger>
bool logger_code<Logger>::set_backtrace(Logger& l, std::string_view pipeline_name, const backtrace_options& o) {
    std::lock_guard lock(l.levels_mutex_);
    bool found = false;
    l.for_each_pipeline([&](auto& p) {
        if (p.name() != pipeline_name) return;
        if constexpr (requires { p.set_backtrace(o); })
            p.set_backtrace(o);
        else
            throw std::invalid_argument("pipeline \"" + std::string(pipeline_name) +
                                        "\" is the configured_pipelines slot: its handlers keep no backtrace");
        found = true;
    });
    registry::refresh(l.entry_);
    return found;
}

template <class Logger>
std::size_t logger_code<Logger>::dump_backtrace(Logger& l) noexcept {
    std::size_t n = 0;
    l.for_each_pipeline([&](auto& p) {
        if constexpr (requires { p.dump_backtrace(); }) n += p.dump_backtrace();
    });
    return n;
}

template <class Logger>
void logger_code<Logger>::refresh(Logger& l) noexcept {
    std::lock_guard lock(l.levels_mutex_);
    registry::refresh(l.entry_);
}

template <class Logger>
std::optional<level> logger_code<Logger>::get_level(const Logger& l, std::string_view pipeline_name) {
    std::optional<level> found;
    l.for_each_pipeline([&](const auto& p) {
        if (p.name() == pipeline_name) found = p.get_level();
    });
    return found;
}

template <class Logger>
void logger_code<Logger>::refresh_gate(void* self, bool run_open) noexcept {
    auto& l = *static_cast<Logger*>(self);
    int lowest = INT_MAX;
    l.for_each_pipeline([&](const auto& p) {
        const int v = static_cast<int>(p.admit_level());
        if (v < lowest) lowest = v;
    });
    l.gate_.store(run_open ? INT_MIN : lowest, std::memory_order_relaxed);
}

template <class Logger>
void logger_code<Logger>::last_words(void* self, std::string_view text, std::string_view signal) noexcept {
    auto& l = *static_cast<Logger*>(self);
    if (!text.empty()) {
        // A crash: the backtraces first, then the record that names it.
        char why[64] = "at ";
        signal.copy(why + 3, std::min(signal.size(), sizeof why - 4));
        l.for_each_pipeline([&](auto& p) {
            if constexpr (requires { p.dump_backtrace(detail::backtrace_reason{}); })
                p.dump_backtrace(detail::backtrace_reason{why, true});
        });
        const std::initializer_list<field> fs = {{"signal", signal}};
        record r;
        l.stamp(r, level::critical, source_location{});
        r.fields = std::span<const field>(fs.begin(), fs.size());
        r.set_message(text);
        write_pipelines(l, r);
    }
    flush(l);
}

template <class Logger>
void logger_code<Logger>::names(const void* self, void (*emit)(void* context, std::string_view name), void* context) {
    for (auto n : static_cast<const Logger*>(self)->pipeline_names()) emit(context, n);
}

}  // namespace detail
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

/// In a header that every file using the logger type `T` includes: that type's out-of-line code (formatting,
/// writing through its pipelines, levels) is compiled in one file, the one with RUNLOG_INSTANTIATE_LOGGER(T).
/// `T` may be an alias: `using app_logger = runlog::basic_logger<...>; RUNLOG_EXTERN_LOGGER(app_logger);`
#define RUNLOG_EXTERN_LOGGER(...) extern template struct ::runlog::detail::logger_code<__VA_ARGS__>
/// In one .cpp file: compiles the out-of-line code of the logger type `T` named by RUNLOG_EXTERN_LOGGER(T).
#define RUNLOG_INSTANTIATE_LOGGER(...) template struct ::runlog::detail::logger_code<__VA_ARGS__>
