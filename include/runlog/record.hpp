#pragma once
#include <atomic>
#include <cstdint>
#include <exception>
#include <span>
#include <string_view>

#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "detail/build.hpp"
#include "detail/chrono.hpp"
#include "detail/level_enum.hpp"
#include "fields.hpp"
#include "format.hpp"

namespace runlog {
inline namespace v0 {

/// Where a record belongs: the run, its job and the step that produced it.
struct context {
    std::string_view run_id;
    std::string_view job;
    std::string_view step;
};

/// What an event type is: its name and the level it is logged at unless told otherwise.
struct event_info {
    std::string_view name;
    level default_level;
    /// Whether console layouts show the step column for it: Dagster's do not for events of a worker or a
    /// capture, which may cover several steps (the JSON keeps step_key all the same).
    bool step_column = true;
};

namespace detail {

inline context& thread_context() noexcept {
    thread_local context ctx;
    return ctx;
}

/// The calling thread's kernel id once known, else 0.
inline std::uint64_t& thread_id_slot() noexcept {
    thread_local std::uint64_t id = 0;
    return id;
}

struct pid_cache {
    static inline std::uint32_t value = 0;
    /// Also forgets the calling thread's id: after fork(), the child's one thread has an id of its own.
    static void refresh() noexcept {
        value = static_cast<std::uint32_t>(::getpid());
        thread_id_slot() = 0;
    }
    pid_cache() noexcept {
        refresh();
        ::pthread_atfork(nullptr, nullptr, &pid_cache::refresh);
    }
};

}  // namespace detail

/// The calling process's id, cached and refreshed after fork.
inline std::uint32_t process_id() noexcept {
    static detail::pid_cache cache;
    return detail::pid_cache::value;
}

/// The calling thread's kernel id (what `ps -L` and `top -H` show).
inline std::uint64_t thread_id() noexcept {
    std::uint64_t& id = detail::thread_id_slot();
    if (id == 0) [[unlikely]]
        id = static_cast<std::uint64_t>(::syscall(SYS_gettid));
    return id;
}

/// Sets the calling thread's context for its lifetime and restores the previous one after.
class scoped_context {
public:
    explicit scoped_context(context c) noexcept : saved_(detail::thread_context()) { detail::thread_context() = c; }
    scoped_context(const scoped_context&) = delete;
    scoped_context& operator=(const scoped_context&) = delete;
    ~scoped_context() { detail::thread_context() = saved_; }

private:
    context saved_;
};

/// What one log call produces; it lives on the caller's stack and formats its message at most once.
class record {
public:
    using time_point = std::chrono::system_clock::time_point;
    /// Writes the message of the record's source (a format call or an event) into out.
    using render_fn = void (*)(const void* source, const record& r, buffer& out);

    time_point time{};
    level lvl = level::info;
    const event_info* event = nullptr;  ///< null for a user message
    context ctx{};
    std::span<const field> event_fields{};  ///< fields the event type defines
    std::span<const field> fields{};        ///< fields the call attached
    source_location location{};
    std::string_view logger_name = "runlog";
    std::uint32_t pid = 0;
    std::uint64_t thread = 0;

    record() = default;
    record(const record&) = delete;
    record& operator=(const record&) = delete;

    /// Uses a literal message.
    void set_message(std::string_view text) noexcept {
        source_ = nullptr;
        render_ = nullptr;
        literal_ = text;
        formatted_ = false;
    }
    /// Uses a message produced on first use by render(source, *this, out).
    void set_message(const void* source, render_fn render) noexcept {
        source_ = source;
        render_ = render;
        formatted_ = false;
    }

    /// The message, formatted on first use; a format error becomes the message instead of an exception.
    std::string_view message() const noexcept {
        if (render_ == nullptr) return literal_;
        if (!formatted_) {
            formatted_ = true;
            buf_.clear();
            try {
                render_(source_, *this, buf_);
            } catch (const std::exception& e) {
                buf_.clear();
                append_error(e.what());
            } catch (...) {
                buf_.clear();
                append_error("unknown exception");
            }
        }
        return buf_.view();
    }

    /// What set_message(source, render) was given (null for a literal message): a backtrace keeps a format
    /// call as its string and arguments rather than its text.
    const void* message_source() const noexcept { return source_; }
    render_fn message_render() const noexcept { return render_; }

private:
    void append_error(std::string_view what) const noexcept {
        try {
            buf_.append(std::string_view("[runlog: could not format message: "));
            buf_.append(what);
            buf_.push_back(']');
        } catch (...) {
            buf_.clear();
        }
    }

    const void* source_ = nullptr;
    render_fn render_ = nullptr;
    std::string_view literal_;
    mutable bool formatted_ = false;
    mutable basic_memory_buffer<256> buf_;
};

namespace detail {

/// Where the records of an open run go besides the pipelines: its stored event log.
class record_tap {
public:
    virtual void write(const record& r) noexcept = 0;

protected:
    ~record_tap() = default;
};

/// The event log of the run the calling thread works for, or null; set by run and step scopes.
inline record_tap*& thread_event_log() noexcept {
    thread_local record_tap* log = nullptr;
    return log;
}

/// The calling thread's innermost run or step scope as every log call sees it: the flag that says it ended
/// on another thread, and the function that then drops such scopes; both null without a scope. Run and step
/// scopes (run.hpp) own the scopes and keep this up to date.
struct scope_watch {
    const std::atomic<bool>* abandoned = nullptr;
    void (*pop_abandoned)() noexcept = nullptr;
};

inline scope_watch& thread_scope_watch() noexcept {
    thread_local scope_watch watch;
    return watch;
}

/// A format call waiting to be rendered: the string and its arguments.
struct format_source {
    std::string_view fmt;
    format_args args;
    static void render(const void* self, const record&, buffer& out) {
        const auto* s = static_cast<const format_source*>(self);
        vformat_to(out, s->fmt, s->args);
    }
};

}  // namespace detail

/// The context of the calling thread: set by run and step scopes, read by every log call.
inline const context& current_context() noexcept {
    if (const auto& w = detail::thread_scope_watch(); w.abandoned && w.abandoned->load(std::memory_order_relaxed))
        [[unlikely]] w.pop_abandoned();
    return detail::thread_context();
}

}  // namespace v0
}  // namespace runlog
