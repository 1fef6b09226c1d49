#pragma once
#include <atomic>
#include <climits>
#include <cstdlib>
#include <exception>
#include <cstdint>
#include <mutex>
#include <new>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include "detail/backtrace.hpp"
#include "detail/build.hpp"
#include "detail/level_enum.hpp"
#include "format/buffer.hpp"
#include "formatters/color.hpp"
#include "record.hpp"
#include "sinks/sink.hpp"

namespace runlog {
inline namespace v0 {

/// Something that turns a record into bytes: `format(record, buffer, color)` and `colors()`.
template <class F>
concept formatter_type = requires(const F& f, const record& r, buffer& out) {
    f.format(r, out, true);
    { f.colors() } -> std::convertible_to<color_mode>;
};

/// A test a record must pass to reach the pipeline's sink.
template <class F>
concept filter_type = std::is_invocable_r_v<bool, const F&, const record&>;

namespace detail {

template <class Sink>
bool sink_is_terminal(const Sink& s) noexcept {
    if constexpr (requires { s.is_terminal(); })
        return s.is_terminal();
    else
        return false;
}

/// Whether output should be coloured: always, never, or on a terminal unless NO_COLOR is set and non-empty.
template <class Sink>
bool use_color(color_mode mode, const Sink& s) noexcept {
    if (mode == color_mode::never) return false;
    if (mode == color_mode::always) return true;
    const char* no_color = std::getenv("NO_COLOR");
    if (no_color != nullptr && no_color[0] != '\0') return false;
    return sink_is_terminal(s);
}

inline write_errors& pipeline_errors() noexcept {
    static write_errors errors;
    return errors;
}

/// Reports a record that the named pipeline could not format or write (its formatter or sink threw).
RUNLOG_INLINE void report_dropped_record(std::string_view pipeline, const char* what) noexcept;

}  // namespace detail

template <class Pipeline>
class async_pipeline;

namespace detail {
template <class Logger>
struct logger_code;

/// The lock a pipeline holds around a sink that is not thread-safe: one write() or flush() at a time.
/// One atomic word (0 free, 1 held, 2 held with waiters): a compare-exchange to take it and an exchange
/// to give it back when nobody waits; waiters sleep on the word (a futex) rather than spin.
template <bool Needed>
struct sink_lock {
    std::atomic<std::uint32_t> state{0};
    std::atomic<std::uint32_t> holder_pid{process_id()};  ///< the process whose thread took it last
    sink_lock() = default;
    sink_lock(sink_lock&&) noexcept {}  // a pipeline is moved only before use
    void lock() noexcept {
        std::uint32_t free = 0;
        if (!state.compare_exchange_strong(free, 1, std::memory_order_acquire, std::memory_order_relaxed))
            [[unlikely]]
            lock_slow();
        const std::uint32_t me = process_id();
        if (holder_pid.load(std::memory_order_relaxed) != me) holder_pid.store(me, std::memory_order_relaxed);
    }
    bool try_lock() noexcept {
        std::uint32_t free = 0;
        return state.compare_exchange_strong(free, 1, std::memory_order_acquire, std::memory_order_relaxed);
    }
    void unlock() noexcept {
        if (state.exchange(0, std::memory_order_release) == 2) [[unlikely]]
            state.notify_one();
    }

private:
    [[gnu::noinline]] void lock_slow() noexcept {
        // Held by a thread of the parent when this process was forked: that thread does not exist here and
        // never releases it, so the child starts from a free lock.
        if (holder_pid.load(std::memory_order_relaxed) != process_id()) state.store(0, std::memory_order_relaxed);
        while (state.exchange(2, std::memory_order_acquire) != 0) state.wait(2, std::memory_order_relaxed);
    }
};
/// A thread-safe sink locks what it must itself.
template <>
struct sink_lock<false> {
    void lock() noexcept {}
    void unlock() noexcept {}
};
}  // namespace detail

/// A named route for records: filters, then a formatter, then a sink, behind a level changeable at run time.
template <formatter_type Formatter, sink Sink, filter_type... Filters>
class pipeline {
public:
    /// name is what config.yaml's `loggers:` refers to.
    pipeline(std::string name, Formatter formatter, Sink sink, level lvl = level::trace, Filters... filters)
        : name_(std::move(name)),
          formatter_(std::move(formatter)),
          sink_(std::move(sink)),
          filters_(std::move(filters)...),
          level_(static_cast<int>(lvl)),
          color_(detail::use_color(formatter_.colors(), sink_)),
          color_auto_(formatter_.colors() == color_mode::automatic) {}

    /// Moves a pipeline that is not in use yet (while it is built into a logger).
    pipeline(pipeline&& o) noexcept(std::is_nothrow_move_constructible_v<Sink> &&
                                    std::is_nothrow_move_constructible_v<Formatter>)
        : name_(std::move(o.name_)),
          formatter_(std::move(o.formatter_)),
          sink_(std::move(o.sink_)),
          sink_lock_(std::move(o.sink_lock_)),
          filters_(std::move(o.filters_)),
          level_(o.level_.load(std::memory_order_relaxed)),
          backtrace_(std::move(o.backtrace_)),
          color_(o.color_),
          color_auto_(o.color_auto_) {}
    pipeline& operator=(pipeline&&) = delete;

    /// Whether filters read the records (they may read any part of them).
    static constexpr bool has_filters = sizeof...(Filters) > 0;

    std::string_view name() const noexcept { return name_; }
    /// The runtime level: records below it are not formatted.
    runlog::level get_level() const noexcept { return static_cast<runlog::level>(level_.load(std::memory_order_relaxed)); }
    Sink& sink() noexcept { return sink_; }
    const Formatter& formatter() const noexcept { return formatter_; }
    bool colored() const noexcept { return color_; }

    /// Formats r and writes it to the sink if its level and the filters let it through; never throws. With a
    /// backtrace, a record below the level is kept in it, and one at its trigger level writes it out first.
    void handle(const record& r) noexcept {
        const int lv = static_cast<int>(r.lvl);
        if (lv < level_.load(std::memory_order_relaxed)) {
            if (lv >= backtrace_.keep_from.load(std::memory_order_relaxed)) [[unlikely]]
                backtrace_.keep(r);
            return;
        }
        if (lv >= backtrace_.dump_at.load(std::memory_order_relaxed)) [[unlikely]]
            dump_before(r);
        write(r);
    }

    /// Takes the backtrace to a new start (see backtrace_options): `pipeline(...).with_backtrace({.capacity = 64})`.
    /// On a pipeline already in a logger, use the logger's set_backtrace, which also opens its gate.
    pipeline&& with_backtrace(const backtrace_options& o) && {
        backtrace_.set(o);
        return std::move(*this);
    }
    /// The backtrace's settings (capacity 0: none).
    backtrace_options backtrace() const noexcept { return backtrace_.get(); }
    /// Writes out the records the backtrace holds (oldest first, marked, and into the calling thread's run's
    /// event log too); returns how many.
    std::size_t dump_backtrace() noexcept { return dump_backtrace({"on request", false}); }
    std::size_t dump_backtrace(const detail::backtrace_reason& why) noexcept {
        const int shown = backtrace_.shown_level.load(std::memory_order_relaxed);
        return backtrace_.dump(name_, shown != INT_MIN ? static_cast<runlog::level>(shown) : get_level(), why, &emit_kept, this);
    }
    /// Records the backtrace overwrote with newer ones before they were written out, and could not keep.
    std::uint64_t backtrace_overwritten() const noexcept { return backtrace_.overwritten(); }
    std::uint64_t backtrace_lost() const noexcept { return backtrace_.lost(); }
    /// The lowest level a record may have to be of use here: the level, or lower for the backtrace.
    runlog::level admit_level() const noexcept {
        const int l = level_.load(std::memory_order_relaxed), k = backtrace_.keep_from.load(std::memory_order_relaxed);
        return static_cast<runlog::level>(k < l ? k : l);
    }

    /// Writes out whatever the sink buffers.
    void flush() noexcept {
        try {
            std::lock_guard lock(sink_lock_);
            sink_.flush();
        } catch (const std::exception& e) {
            report(e.what());
        }
    }

private:
    template <class>
    friend struct detail::logger_code;
    template <class>
    friend class async_pipeline;

    void set_level(runlog::level l) noexcept { level_.store(static_cast<int>(l), std::memory_order_relaxed); }
    void set_backtrace(const backtrace_options& o) { backtrace_.set(o); }

    /// Filters, formats and writes r, whatever its level.
    void write(const record& r) noexcept {
        try {
            if (!std::apply([&](const auto&... f) { return (static_cast<bool>(f(r)) && ...); }, filters_)) return;
            basic_memory_buffer<512> line;
            formatter_.format(r, line, color_ && !(color_auto_ && detail::output_captured().load(std::memory_order_relaxed)));
            std::lock_guard lock(sink_lock_);
            if constexpr (requires { sink_.write(line.view(), r.lvl); })
                sink_.write(line.view(), r.lvl);
            else
                sink_.write(line.view());
        } catch (const std::exception& e) {
            report(e.what());
        } catch (...) {
            report("unknown exception");
        }
    }

    /// A record at the trigger level: the backtrace first, so that the lines that led to it come before it.
    [[gnu::noinline]] void dump_before(const record& r) noexcept { dump_backtrace({"", false, &r}); }
    /// A record out of the backtrace: to the sink, and, when it belongs to the calling thread's run, to that
    /// run's event log (records of other runs, or of none, stay out of it).
    static void emit_kept(void* self, const record& r) {
        static_cast<pipeline*>(self)->write(r);
        if (auto* log = detail::thread_event_log())
            if (!r.ctx.run_id.empty() && r.ctx.run_id == current_context().run_id) log->write(r);
    }

    void report(const char* what) noexcept { detail::report_dropped_record(name_, what); }

    std::string name_;
    Formatter formatter_;
    Sink sink_;
    [[no_unique_address]] detail::sink_lock<!thread_safe_sink<Sink>> sink_lock_;
    std::tuple<Filters...> filters_;
    std::atomic<int> level_;
    detail::backtrace_holder backtrace_;
    bool color_;
    bool color_auto_;  ///< the colours follow the terminal: none while a capture holds it
};

namespace detail {
template <class T>
struct is_pipeline : std::false_type {};
/// Whether T is an async_pipeline (see async.hpp).
template <class T>
struct is_async_pipeline : std::false_type {};
template <class F, class S, class... X>
struct is_pipeline<pipeline<F, S, X...>> : std::true_type {};
}  // namespace detail

/// A pipeline type.
template <class T>
concept pipeline_type = detail::is_pipeline<std::remove_cvref_t<T>>::value;

}  // namespace v0
}  // namespace runlog

#if RUNLOG_DEFINITIONS
namespace runlog {
inline namespace v0 {

RUNLOG_INLINE void detail::report_dropped_record(std::string_view pipeline, const char* what) noexcept {
    try {
        std::string m = "pipeline \"";
        m.append(pipeline);
        m.append("\" dropped a record: ");
        m.append(what);
        pipeline_errors().report(m, 0, 1);
    } catch (...) {
        pipeline_errors().report("a pipeline dropped a record", 0, 1);
    }
}

}  // namespace v0
}  // namespace runlog
#endif
