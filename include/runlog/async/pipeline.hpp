#pragma once
#include <atomic>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <new>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <sched.h>

#include "../detail/build.hpp"
#include "../detail/chrono.hpp"
#include "../detail/level_enum.hpp"
#include "../fields.hpp"
#include "../format.hpp"
#include "../pipeline.hpp"
#include "../record.hpp"
#include "backend.hpp"
#include "clock.hpp"
#include "options.hpp"
#include "ring.hpp"
#include "wire.hpp"

namespace runlog {
inline namespace v0 {

/// Makes a pipeline asynchronous: the caller's thread writes a compact record into its own ring, and
/// the backend thread formats it and writes it through the pipeline's filters, formatter and sink.
template <class Pipeline>
class async_pipeline : private detail::async_target {
public:
    async_pipeline(Pipeline p, async_options options = {})
        : detail::async_target{&async_pipeline::process, &async_pipeline::flush_sink, &async_pipeline::write_inner},
          level_(static_cast<int>(p.get_level())),
          admit_(static_cast<int>(p.admit_level())),
          options_(options),
          keep_location_(keeps_location(p)),
          inner_(std::move(p)) {
        // The level is checked once, at the call (level_); what was accepted then is written even if the
        // level is raised before the backend gets to it, so the inner pipeline lets everything through.
        inner_.set_level(static_cast<runlog::level>(std::numeric_limits<int>::min()));
        inner_.backtrace_.shown_level.store(level_.load(std::memory_order_relaxed), std::memory_order_relaxed);
    }
    async_pipeline(async_pipeline&& o) noexcept
        : detail::async_target{&async_pipeline::process, &async_pipeline::flush_sink, &async_pipeline::write_inner},
          level_(o.level_.load()),
          admit_(o.admit_.load()),
          options_(o.options_),
          keep_location_(o.keep_location_),
          dropped_(o.dropped_.load()),
          inner_(std::move(o.inner_)),
          reported_(o.reported_) {
        o.moved_from_ = true;
    }
    async_pipeline& operator=(async_pipeline&&) = delete;
    /// Waits until the backend has written every record of this pipeline and holds no reference to it.
    ~async_pipeline() {
        if (moved_from_) return;
        flush();
        if (detail::async_backend::started().load(std::memory_order_acquire)) {
            try {
                detail::async_backend::instance().forget(this);
            } catch (...) {
            }
        }
    }

    std::string_view name() const noexcept { return inner_.name(); }
    runlog::level get_level() const noexcept { return static_cast<runlog::level>(level_.load(std::memory_order_relaxed)); }
    Pipeline& inner() noexcept { return inner_; }
    /// Records dropped because a queue was full (with queue_full::drop).
    std::uint64_t dropped() const noexcept { return dropped_.load(std::memory_order_relaxed); }
    /// The lowest level a call may have to be queued: the level, or lower for the backtrace.
    runlog::level admit_level() const noexcept { return static_cast<runlog::level>(admit_.load(std::memory_order_relaxed)); }

    /// A backtrace (see backtrace_options), kept by the backend: records below the level travel through the
    /// queue as others do and go into it. On a pipeline already in a logger, use the logger's set_backtrace.
    async_pipeline&& with_backtrace(const backtrace_options& o) && {
        set_backtrace(o);
        return std::move(*this);
    }
    backtrace_options backtrace() const noexcept { return inner_.backtrace(); }
    /// Waits until the backend has taken in every record logged before the call, then writes the backtrace
    /// out from the calling thread (into its run's event log too); returns how many records it held.
    std::size_t dump_backtrace() noexcept { return dump_backtrace({"on request", false}); }
    std::size_t dump_backtrace(const detail::backtrace_reason& why) noexcept {
        if (!why.at_crash) detail::wait_for_queued();  // at a crash the backend has drained and stopped
        return inner_.dump_backtrace(why);
    }
    std::uint64_t backtrace_overwritten() const noexcept { return inner_.backtrace_overwritten(); }
    std::uint64_t backtrace_lost() const noexcept { return inner_.backtrace_lost(); }

    /// Returns once every record logged through this pipeline before the call has reached its sink.
    void flush() noexcept {
        detail::wait_for_queued();
        inner_.flush();
    }

    /// Queues a record built by the caller (events, mixed loggers): its message is formatted here.
    void handle(const record& r) noexcept {
        if (static_cast<int>(r.lvl) < admit_.load(std::memory_order_relaxed)) return;
        try {
            const std::string_view msg = r.message();
            const std::size_t extra = body_size + detail::fields_size(r.event_fields) +
                                      detail::fields_size(r.fields) + msg.size();
            const std::size_t nfields = r.event_fields.size() + r.fields.size();
            if (nfields > UINT16_MAX) {  // more fields than a record header counts: write it from here
                handle_here(r);
                return;
            }
            const bool ok = write(2, nfields, extra, r.lvl, r.ctx, r.location, r.logger_name, [&](char* body, char*& p) {
                const detail::async_message m{r.logger_name.data(), r.event, static_cast<std::uint32_t>(msg.size()),
                                              static_cast<std::uint32_t>(r.event_fields.size())};
                std::memcpy(body, &m, sizeof m);
                detail::put_fields(p, r.event_fields);
                detail::put_fields(p, r.fields);
                detail::put_bytes(p, msg);
            });
            if (!ok) handle_here(r);
        } catch (...) {
            handle_here(r);  // cannot be queued (out of memory): write it from here
        }
    }

    /// Writes a record from the calling thread once the backend has written everything queued before it
    /// (when it still runs), so that the thread's records keep their order.
    void handle_here(const record& r) noexcept {
        detail::wait_for_queued();
        // Through the target's pointer: a file that only logs need not compile the pipeline's writer.
        write_here(this, r);
    }

    /// Queues a format call: the static format string is referred to, the arguments copied.
    template <class Fmt, class... A>
    [[gnu::always_inline]] void enqueue(level l, std::string_view logger, fields fs, const Fmt& fmt,
                                        const A&... a) noexcept {
        if (static_cast<int>(l) < admit_.load(std::memory_order_relaxed)) return;
        const std::span<const field> fspan(fs.begin(), fs.size());
        if constexpr ((detail::is_formatted_arg<detail::arg_value_t<A>> || ...))
            enqueue_formatting(l, logger, fspan, fmt.get(), fmt.location(), a...);
        else
            push(l, logger, fspan, fmt.get(), fmt.location(), detail::to_wire(a)...);
    }

private:
    /// A call with user-type arguments: formats them here (their state may change once the call
    /// returns), then queues their text.
    template <class... A>
    [[gnu::noinline]] void enqueue_formatting(level l, std::string_view logger, std::span<const field> fs,
                                              std::string_view fmt, const source_location& loc,
                                              const A&... a) noexcept {
        try {
            std::string scratch;
            const std::pair<std::size_t, std::size_t> at[] = {detail::format_user_arg(scratch, a)...};
            [&]<std::size_t... I>(std::index_sequence<I...>) {
                push(l, logger, fs, fmt, loc, detail::wire_of(a, scratch, at[I])...);
            }(std::index_sequence_for<A...>{});
        } catch (...) {
            write_direct(l, logger, fs, fmt, loc, a...);  // out of memory, or a formatter threw: try here
        }
    }

    /// Queues a call whose arguments are wire values (copied values and string views).
    template <class... W>
    [[gnu::always_inline]] void push(level l, std::string_view logger, std::span<const field> fs, std::string_view fmt,
                                     const source_location& loc, const W&... w) noexcept {
        if (fs.size() > UINT16_MAX) [[unlikely]] {  // more fields than a record header counts
            write_wires_direct(l, logger, fs, fmt, loc, w...);
            return;
        }
        const std::size_t extra = body_size + detail::fields_size(fs) + (std::size_t{0} + ... + detail::wire_size(w));
        const bool ok = write(1, fs.size(), extra, l, current_context(), loc, logger, [&](char* body, char*& p) {
            detail::store_at(body + offsetof(detail::async_call, fmt), fmt.data());
            detail::store_at(body + offsetof(detail::async_call, logger), logger.data());
            detail::store_at(body + offsetof(detail::async_call, render), &detail::render_args<W...>);
            detail::store_at(body + offsetof(detail::async_call, fmt_len), static_cast<std::uint32_t>(fmt.size()));
            if (!fs.empty()) [[unlikely]]
                detail::put_fields(p, fs);
            (detail::put_wire(p, w), ...);
        });
        if (!ok) [[unlikely]]
            write_wires_direct(l, logger, fs, fmt, loc, w...);
    }

    /// write_direct for wire values, taken by value so that the caller's copies stay in registers.
    template <class... W>
    [[gnu::noinline, gnu::cold]] void write_wires_direct(level l, std::string_view logger, std::span<const field> fs,
                                                         std::string_view fmt, source_location loc, W... w) noexcept {
        write_direct(l, logger, fs, fmt, loc, w...);
    }

    /// Formats and writes a call from the calling thread: the backend is gone, or there is no memory.
    template <class... A>
    [[gnu::noinline, gnu::cold]] void write_direct(level l, std::string_view logger, std::span<const field> fs,
                                                   std::string_view fmt, const source_location& loc,
                                                   const A&... a) noexcept {
        record r;
        r.time = std::chrono::system_clock::now();
        r.lvl = l;
        r.ctx = current_context();
        r.location = loc;
        r.logger_name = logger;
        r.pid = process_id();
        r.thread = thread_id();
        r.fields = fs;
        const auto store = make_format_args(a...);  // must outlive src, which views it
        detail::format_source src{fmt, store};
        r.set_message(&src, &detail::format_source::render);
        handle_here(r);
    }

    template <class>
    friend struct detail::logger_code;

    void set_level(runlog::level l) noexcept {
        level_.store(static_cast<int>(l), std::memory_order_relaxed);
        inner_.backtrace_.shown_level.store(static_cast<int>(l), std::memory_order_relaxed);
        update_admit();
    }
    void set_backtrace(const backtrace_options& o) {
        inner_.set_backtrace(o);
        update_admit();
    }
    void update_admit() noexcept {
        const int l = level_.load(std::memory_order_relaxed);
        const int keep = inner_.backtrace_.keep_from.load(std::memory_order_relaxed);  // INT_MAX while off
        admit_.store(keep < l ? keep : l, std::memory_order_relaxed);
    }

    /// Whether records must carry the source location: the formatter shows it, or filters may read it.
    static bool keeps_location(const Pipeline& p) noexcept {
        if constexpr (Pipeline::has_filters) {
            return true;
        } else if constexpr (requires { p.formatter().uses_location(); }) {
            return p.formatter().uses_location();
        } else {
            return true;
        }
    }

    /// Reserves room in the calling thread's ring for the header, the kind's body (`extra` bytes, its
    /// fixed part first) and the optional context and location; waits or drops when full; stamps the
    /// time; lets body fill in the rest and commits. False when the record cannot go through the ring.
    template <class Body>
    [[gnu::always_inline]] bool write(std::uint8_t kind, std::size_t nfields, std::size_t extra, level l,
                                      const context& ctx, const source_location& loc, std::string_view logger,
                                      Body&& body) noexcept {
        const bool with_ctx = !(ctx.run_id.empty() && ctx.job.empty() && ctx.step.empty());
        const bool with_loc = keep_location_;
        const std::size_t ctx_size =
            with_ctx ? sizeof(detail::async_context) + ctx.run_id.size() + ctx.job.size() + ctx.step.size() : 0;
        const std::size_t size = detail::align8(sizeof(detail::async_header) + extra + ctx_size +
                                                (with_loc ? sizeof(source_location) : 0));
        // The fast path: this thread has a ring with room before its end and the backend runs. Everything
        // else (first use, wrapping, a full ring, a big record, exit) is reserve_slow's.
        detail::async_ring* ring = detail::async_backend::cached_ring();
        std::uint64_t end = 0;
        char* p = nullptr;
        if (ring && size <= ring->max_record && !detail::async_backend::stopped_flag().load(std::memory_order_acquire))
            [[likely]]
            p = ring->try_reserve(size, end);
        char* heap = nullptr;  // a record too big for the ring is written here, and p refers to it
        const bool for_backtrace = static_cast<int>(l) < level_.load(std::memory_order_relaxed);
        if (!p) [[unlikely]] {
            const reservation got = reserve_slow(size, for_backtrace);
            if (!got.at) return got.dropped;
            ring = got.ring;
            p = got.at;
            heap = got.heap;
            end = got.end;
        }
        // The header, in four 8-byte stores; its timestamp is read once the backend can see that a record
        // is being written (begin), so that the merge waits for it.
        char* rec = heap ? heap : p;
        const auto flags = static_cast<std::uint8_t>((with_ctx ? detail::has_context : 0) |
                                                     (with_loc ? detail::has_location : 0) |
                                                     (for_backtrace ? detail::to_backtrace : 0));
        detail::store_header(rec, static_cast<std::uint32_t>(size), kind, flags, static_cast<std::uint16_t>(nfields),
                             static_cast<std::int32_t>(l), static_cast<std::uint32_t>(logger.size()), this);
        ring->begin(end - (heap ? indirect_size : size));
        detail::store_at(rec + offsetof(detail::async_header, ticks), detail::read_ticks());
        // Layout: header, the kind's fixed part, [context], [location], then the kind's variable part.
        char* body_start = rec + sizeof(detail::async_header);
        char* q = body_start + body_size;
        if (with_ctx) [[unlikely]] {
            const detail::async_context c{{static_cast<std::uint32_t>(ctx.run_id.size()),
                                           static_cast<std::uint32_t>(ctx.job.size()),
                                           static_cast<std::uint32_t>(ctx.step.size())},
                                          0};
            std::memcpy(q, &c, sizeof c);
            q += sizeof(detail::async_context);
            detail::put_bytes(q, ctx.run_id);
            detail::put_bytes(q, ctx.job);
            detail::put_bytes(q, ctx.step);
        }
        if (with_loc) {
            std::memcpy(q, &loc, sizeof loc);
            q += sizeof loc;
        }
        body(body_start, q);
        if (heap) [[unlikely]] {
            detail::async_header ref;
            std::memcpy(&ref, rec, sizeof ref);
            ref.size = static_cast<std::uint32_t>(indirect_size);
            ref.kind = 3;
            std::memcpy(p, &ref, sizeof ref);
            std::memcpy(p + sizeof(detail::async_header), &heap, sizeof heap);
        }
        ring->commit(end);
        return true;
    }

    /// What reserve_slow found: room (at, and heap for a big record), or a dropped record, or neither
    /// (the caller writes the record itself).
    struct reservation {
        detail::async_ring* ring;
        char* at;
        bool dropped;
        char* heap;
        std::uint64_t end;  ///< what commit takes
    };
    /// The ring record that refers to a big one on the heap: a header and a pointer.
    static constexpr std::size_t indirect_size = detail::align8(sizeof(detail::async_header) + sizeof(char*));

    /// Creates the thread's ring on first use, pads to the ring's end, re-reads the backend's head, and
    /// when the ring is full waits for the backend or drops (queue_full::drop). A record larger than half
    /// the ring goes to the heap, and the ring gets a small record that refers to it, so that it keeps
    /// its place among the thread's records.
    [[gnu::noinline]] reservation reserve_slow(std::size_t size, bool for_backtrace) noexcept {
        using backend_t = detail::async_backend;
        detail::async_ring* ring = nullptr;
        try {
            ring = &backend_t::instance().ring();
        } catch (...) {
            return {nullptr, nullptr, false, nullptr, 0};  // no memory for a ring: the caller writes the record itself
        }
        if (size > UINT32_MAX) return {nullptr, nullptr, false, nullptr, 0};
        std::unique_ptr<char[]> heap;
        std::size_t slot = size;
        if (size > ring->max_record) {
            heap.reset(new (std::nothrow) char[size]);
            if (!heap) return {nullptr, nullptr, false, nullptr, 0};
            slot = indirect_size;
        }
        for (unsigned spins = 0;; ++spins) {
            if (backend_t::stopped_flag().load(std::memory_order_acquire)) return {nullptr, nullptr, false, nullptr, 0};
            std::uint64_t end = 0;
            if (char* p = ring->reserve(slot, end)) return {ring, p, false, heap.release(), end};
            if (options_.when_full == queue_full::drop) {
                // A record only for the backtrace is no loss of output: the backtrace counts it (not kept).
                if (for_backtrace)
                    inner_.backtrace_.note_lost(1);
                else
                    dropped_.fetch_add(1, std::memory_order_relaxed);
                return {nullptr, nullptr, true, nullptr, 0};
            }
            if (spins % 64 == 0) backend_t::instance().wake();  // in case it sleeps; it is busy otherwise
            ::sched_yield();
        }
    }

    /// The fixed part after the header: an async_call or an async_message.
    static constexpr std::size_t body_size = 32;
    static_assert(sizeof(detail::async_call) <= body_size && sizeof(detail::async_message) <= body_size);

    /// The backend's side: rebuilds the record and hands it to the pipeline.
    static void process(detail::async_target* target, const detail::async_header& h, const detail::async_ring& ring,
                        const detail::tick_clock& clock) {
        if (h.kind == 3) {  // a big record on the heap: write it, then free it
            char* big;
            std::memcpy(&big, reinterpret_cast<const char*>(&h) + sizeof h, sizeof big);
            const std::unique_ptr<char[]> owned(big);
            process(target, *reinterpret_cast<const detail::async_header*>(big), ring, clock);
            return;
        }
        auto& me = *static_cast<async_pipeline*>(target);
        thread_local std::vector<field> fields_buf;
        const char* body = reinterpret_cast<const char*>(&h) + sizeof h;
        const char* p = body + body_size;
        record r;
        r.time = me.monotonic(clock.to_time(h.ticks));
        r.lvl = static_cast<level>(h.lvl);
        if (h.flags & detail::has_context) {
            detail::async_context c;
            std::memcpy(&c, p, sizeof c);
            p += sizeof c;
            r.ctx.run_id = std::string_view(p, c.len[0]);
            r.ctx.job = std::string_view(p + c.len[0], c.len[1]);
            r.ctx.step = std::string_view(p + c.len[0] + c.len[1], c.len[2]);
            p += c.len[0] + c.len[1] + c.len[2];
        }
        if (h.flags & detail::has_location) {
            std::memcpy(&r.location, p, sizeof r.location);
            p += sizeof r.location;
        }
        r.pid = ring.pid;
        r.thread = ring.thread_id;
        struct typed_source {
            const detail::async_call* call;
            const char* args;
        } src{nullptr, nullptr};
        if (h.kind == 2) {
            detail::async_message m;
            std::memcpy(&m, body, sizeof m);
            r.logger_name = std::string_view(m.logger, h.logger_len);
            r.event = m.event;
            detail::get_fields(p, h.nfields, fields_buf);
            const std::span<const field> all(fields_buf);
            r.event_fields = all.first(m.event_fields);
            r.fields = all.subspan(m.event_fields);
            r.set_message(std::string_view(p, m.message_len));
        } else {
            const auto* c = reinterpret_cast<const detail::async_call*>(body);
            r.logger_name = std::string_view(c->logger, h.logger_len);
            detail::get_fields(p, h.nfields, fields_buf);
            r.fields = fields_buf;
            src = {c, p};
            r.set_message(&src, [](const void* s, const record&, buffer& out) {
                const auto* t = static_cast<const typed_source*>(s);
                t->call->render(t->args, std::string_view(t->call->fmt, t->call->fmt_len), out);
            });
        }
        me.deliver(r, (h.flags & detail::to_backtrace) != 0);
        me.report_drops();
    }

    /// Hands a record to the inner pipeline: to write, or, when it came only for the backtrace, to keep.
    void deliver(const record& r, bool for_backtrace) noexcept {
        if (for_backtrace)
            inner_.backtrace_.keep(r);
        else
            inner_.handle(r);
    }

    /// The caller's side when the record cannot be queued: the inner pipeline writes it (or keeps it, below
    /// the level).
    static void write_inner(detail::async_target* target, const record& r) noexcept {
        auto& me = *static_cast<async_pipeline*>(target);
        me.deliver(r, static_cast<int>(r.lvl) < me.level_.load(std::memory_order_relaxed));
    }

    /// The backend's side when idle: reports drops and writes out the sink's buffer.
    static void flush_sink(detail::async_target* target) {
        auto& me = *static_cast<async_pipeline*>(target);
        me.report_drops();
        me.inner_.flush();
    }

    /// Timestamps never go backwards in a pipeline's output, even across a clock resync.
    record::time_point monotonic(record::time_point t) noexcept {
        if (t < last_time_) return last_time_;
        last_time_ = t;
        return t;
    }

    void report_drops() {
        const std::uint64_t d = dropped_.load(std::memory_order_relaxed);
        if (d == reported_) return;
        const std::uint64_t n = d - reported_;
        reported_ = d;
        record r;
        // Stamped with the time of the last record written, so that it takes its place in the merged
        // order (records after it were logged after that time; now() would be ahead of them).
        r.time = last_time_ != record::time_point{} ? last_time_ : std::chrono::system_clock::now();
        r.lvl = level::warning;
        r.logger_name = "runlog";
        r.pid = process_id();
        r.thread = thread_id();
        const std::string msg = "runlog: async pipeline \"" + std::string(inner_.name()) + "\" dropped " +
                                std::to_string(n) + " record(s): its queue was full";
        const field fs[] = {{"dropped", n}};
        r.fields = fs;
        r.set_message(msg);
        inner_.handle(r);
    }

    // What callers read on every call, on a cache line of its own: the backend writes into inner_ (its
    // formatter's caches) and last_time_, and sharing a line with them made the cores trade it per record.
    alignas(64) std::atomic<int> level_{static_cast<int>(level::trace)};  ///< a copy of inner_'s level
    std::atomic<int> admit_{static_cast<int>(level::trace)};  ///< level_, or the backtrace's lowest level if lower
    async_options options_;
    bool keep_location_ = true;  ///< the formatter shows the location, or filters may read it
    bool moved_from_ = false;
    std::atomic<std::uint64_t> dropped_{0};
    alignas(64) Pipeline inner_;
    std::uint64_t reported_ = 0;      ///< backend only
    record::time_point last_time_{};  ///< backend only
};

namespace detail {
template <class P>
struct is_pipeline<async_pipeline<P>> : std::true_type {};
template <class P>
struct is_async_pipeline<async_pipeline<P>> : std::true_type {};
}  // namespace detail

/// Makes pipeline p asynchronous: `runlog::async(runlog::pipeline("file", ...), {.when_full = runlog::queue_full::drop})`.
template <class F, class S, class... X>
async_pipeline<pipeline<F, S, X...>> async(pipeline<F, S, X...> p, async_options options = {}) {
    return async_pipeline<pipeline<F, S, X...>>(std::move(p), options);
}

/// Sets the backend's options; throws std::logic_error once the backend has started.
RUNLOG_INLINE void set_backend_options(const backend_options& o);

/// Creates the calling thread's queue now (it is otherwise made, and its pages touched, on the thread's
/// first async record): call it when a thread starts, to keep that cost off the first log call.
RUNLOG_INLINE void async_preallocate();

}  // namespace v0
}  // namespace runlog

#if RUNLOG_DEFINITIONS
#include <stdexcept>

namespace runlog {
inline namespace v0 {

RUNLOG_INLINE void set_backend_options(const backend_options& o) {
    if (detail::async_backend::started().load(std::memory_order_acquire))
        throw std::logic_error("runlog::set_backend_options: the async backend has already started");
    if (o.queue_bytes < 4096 || (o.queue_bytes & (o.queue_bytes - 1)) != 0)
        throw std::invalid_argument("runlog::backend_options::queue_bytes must be a power of two of at least 4096");
    detail::async_backend::options() = o;
    detail::tsc_enabled().store(o.use_tsc, std::memory_order_relaxed);  // synchronous records' clock too
}

RUNLOG_INLINE void async_preallocate() { (void)detail::async_backend::instance().ring(); }

}  // namespace v0
}  // namespace runlog
#endif
