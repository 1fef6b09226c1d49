#pragma once
#include <atomic>
#include <cstdint>
#include <exception>
#include <memory>
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
};

namespace detail {

inline context& thread_context() noexcept {
    thread_local context ctx;
    return ctx;
}

struct pid_cache {
    static inline std::uint32_t value = 0;
    static void refresh() noexcept { value = static_cast<std::uint32_t>(::getpid()); }
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
    thread_local std::uint64_t id = static_cast<std::uint64_t>(::syscall(SYS_gettid));
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

/// One run or step scope bound to a thread: what it replaced, and what its context refers to.
struct binding_frame {
    context saved_ctx;                    ///< the thread's context before the scope
    record_tap* saved_log = nullptr;      ///< the thread's event log before the scope
    std::shared_ptr<binding_frame> below;  ///< the frame that was on top before
    std::shared_ptr<const void> keep;     ///< keeps the strings of the scope's context alive
    std::atomic<bool> abandoned{false};   ///< ended on another thread: the thread pops it at its next record
};

/// The calling thread's innermost run or step scope, or null.
inline std::shared_ptr<binding_frame>& thread_frame() noexcept {
    thread_local std::shared_ptr<binding_frame> frame;
    return frame;
}

/// Restores what scopes ended on other threads had replaced on this one.
RUNLOG_INLINE void pop_abandoned_frames() noexcept;

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
    if (const auto& top = detail::thread_frame(); top && top->abandoned.load(std::memory_order_relaxed)) [[unlikely]]
        detail::pop_abandoned_frames();
    return detail::thread_context();
}

}  // namespace v0
}  // namespace runlog

#if RUNLOG_DEFINITIONS
namespace runlog {
inline namespace v0 {

RUNLOG_INLINE void detail::pop_abandoned_frames() noexcept {
    auto& top = thread_frame();
    while (top && top->abandoned.load(std::memory_order_acquire)) {
        thread_context() = top->saved_ctx;
        thread_event_log() = top->saved_log;
        auto below = std::move(top->below);
        top = std::move(below);
    }
}

}  // namespace v0
}  // namespace runlog
#endif
