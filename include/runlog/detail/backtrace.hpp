#pragma once
/// A pipeline's backtrace: the last N records below its level, kept as bytes (a format call's string and
/// arguments, not its text) and written out, oldest first and marked, when a record at the trigger level
/// comes, on demand, or at a crash.
#include <atomic>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "build.hpp"
#include "level_enum.hpp"

namespace runlog {
inline namespace v0 {

class record;

/// A pipeline's backtrace (`pipeline.with_backtrace({.capacity = 64})`, or `backtrace: 64` in config.yaml):
/// the last `capacity` records below the pipeline's level and at or above `lowest` are kept in memory, and
/// written out through the pipeline (oldest first, each with the field `backtrace = true`, between two lines
/// that say so) just before a record at or above `trigger` is written, when dump_backtrace() is called, and
/// at a crash.
struct backtrace_options {
    std::size_t capacity = 0;         ///< records kept; 0 turns the backtrace off
    level trigger = level::error;     ///< a record at or above this writes the kept ones out first
    level lowest = level::trace;      ///< records below this are not kept either
};

namespace detail {

/// Why a backtrace is written out: before a record at the trigger level, on request, or at a crash.
struct backtrace_reason {
    std::string_view text;  ///< "on request", "at SIGSEGV" (or empty with `before`)
    bool at_crash = false;  ///< waits for no slot another thread holds (it may be the crashed one)
    const record* before = nullptr;  ///< the record at the trigger level that is written next
};

/// The ring of a backtrace: `capacity` slots, each holding one record's bytes behind a small lock of its own,
/// so that threads that keep records at once meet only on the slot counter. Thread-safe; bounded (each slot
/// keeps one record and gives back a buffer much larger than what it holds).
class backtrace_ring {
public:
    using emit_fn = void (*)(void* context, const record& r);

    RUNLOG_INLINE explicit backtrace_ring(std::size_t capacity);
    backtrace_ring(const backtrace_ring&) = delete;
    backtrace_ring& operator=(const backtrace_ring&) = delete;
    RUNLOG_INLINE ~backtrace_ring();

    /// Keeps a copy of r (its message as a format call when it is one), in place of the oldest record once
    /// the ring is full; never throws (a record that cannot be kept for want of memory is counted in lost()).
    void keep(const record& r) noexcept { keep_(*this, r); }
    /// Takes every kept record out, in time order, and gives each to emit (marked `backtrace = true`), between
    /// a first and a last line naming the pipeline and why; nothing at all when the ring is empty. Returns
    /// how many records were written.
    std::size_t dump(std::string_view pipeline, level below, const backtrace_reason& why, emit_fn emit,
                     void* context) noexcept {
        return dump_(*this, pipeline, below, why, emit, context);
    }

    std::size_t capacity() const noexcept { return capacity_; }
    /// Drops every kept record and frees its bytes; returns how many there were.
    RUNLOG_INLINE std::size_t clear() noexcept;
    /// Counts records that did not reach the ring (an async queue that was full).
    void note_lost(std::uint64_t n) noexcept { lost_.fetch_add(n, std::memory_order_relaxed); }
    /// Takes over the counts of the ring this one replaces (and what it held, as not kept), so that the
    /// counts run from the pipeline's start and the next dump reports what happened since the last one.
    RUNLOG_INLINE void carry_counts(backtrace_ring& old) noexcept;
    /// Records overwritten by newer ones before they were written out.
    std::uint64_t overwritten() const noexcept { return overwritten_.load(std::memory_order_relaxed); }
    /// Records that could not be kept (no memory) or written out (a slot held by a thread that crashed).
    std::uint64_t lost() const noexcept { return lost_.load(std::memory_order_relaxed); }

private:
    RUNLOG_INLINE void keep_impl(const record& r) noexcept;
    RUNLOG_INLINE std::size_t dump_impl(std::string_view pipeline, level below, const backtrace_reason& why, emit_fn emit,
                                        void* context) noexcept;
    static void keep_record(backtrace_ring& self, const record& r) noexcept { self.keep_impl(r); }
    static std::size_t dump_records(backtrace_ring& self, std::string_view pipeline, level below,
                                    const backtrace_reason& why, emit_fn emit, void* context) noexcept {
        return self.dump_impl(pipeline, below, why, emit, context);
    }
    // The work, reached through pointers that the constructor sets: a unit that only logs, and never turns a
    // backtrace on, does not compile it.
    void (*const keep_)(backtrace_ring&, const record&) noexcept;
    std::size_t (*const dump_)(backtrace_ring&, std::string_view, level, const backtrace_reason&, emit_fn, void*) noexcept;

    struct slot;
    std::size_t capacity_;
    std::unique_ptr<slot[]> slots_;
    alignas(64) std::atomic<std::uint64_t> next_{0};
    alignas(64) std::atomic<std::uint64_t> overwritten_{0};
    std::atomic<std::uint64_t> lost_{0};
    std::uint64_t reported_overwritten_ = 0;  ///< under dump_lock_
    std::uint64_t reported_lost_ = 0;         ///< under dump_lock_
    std::atomic<bool> dump_lock_{false};       ///< one dump at a time (the header's counts)
};

/// What a pipeline holds for its backtrace: the levels its handle() compares (INT_MAX while off, so that a
/// pipeline without one pays two loads and two compares) and the ring.
struct backtrace_holder {
    std::atomic<int> keep_from{INT_MAX};  ///< records below the pipeline's level and at or above this are kept
    std::atomic<int> dump_at{INT_MAX};    ///< a record at or above this writes the kept ones out first
    std::atomic<backtrace_ring*> ring{nullptr};
    /// The level the first line of a dump names: INT_MIN for the pipeline's own; an async pipeline's level
    /// (its inner pipeline lets everything through).
    std::atomic<int> shown_level{INT_MIN};

    backtrace_holder() = default;
    /// Moves a holder that is not in use yet (while its pipeline is built into a logger).
    backtrace_holder(backtrace_holder&& o) noexcept
        : keep_from(o.keep_from.load(std::memory_order_relaxed)),
          dump_at(o.dump_at.load(std::memory_order_relaxed)),
          ring(o.ring.exchange(nullptr, std::memory_order_relaxed)),
          shown_level(o.shown_level.load(std::memory_order_relaxed)),
          rings(std::move(o.rings)),
          options(o.options) {}
    backtrace_holder& operator=(backtrace_holder&&) = delete;

    /// Turns the backtrace on, changes it, or turns it off (capacity 0: what was kept is dropped, its memory
    /// given back). A new capacity starts a new ring; the records the old one held count as lost. Installs the
    /// crash handler (a crash writes the backtrace out). Throws std::invalid_argument when `lowest` is not
    /// below `trigger`, and std::bad_alloc.
    RUNLOG_INLINE void set(const backtrace_options& o);
    /// Counts records meant for the ring that never reached it.
    RUNLOG_INLINE void note_lost(std::uint64_t n) noexcept;
    backtrace_options get() const noexcept { return options; }
    RUNLOG_INLINE void keep(const record& r) noexcept;
    RUNLOG_INLINE std::size_t dump(std::string_view pipeline, level below, const backtrace_reason& why,
                                   backtrace_ring::emit_fn emit, void* context) noexcept;
    /// The records the backtrace could not keep (see backtrace_ring::lost) and overwrote, since it began.
    RUNLOG_INLINE std::uint64_t lost() const noexcept;
    RUNLOG_INLINE std::uint64_t overwritten() const noexcept;

private:
    /// Every ring made, the current one last: a ring replaced while a thread was keeping a record in it
    /// stays until the pipeline ends.
    std::vector<std::unique_ptr<backtrace_ring>> rings;
    backtrace_options options;
};

}  // namespace detail
}  // namespace v0
}  // namespace runlog

#if RUNLOG_DEFINITIONS
#include <algorithm>
#include <chrono>
#include <cstring>
#include <new>
#include <span>
#include <string>
#include <vector>

#include <sched.h>

#include <stdexcept>

#include "../async/wire.hpp"
#include "../crash.hpp"
#include "../fields.hpp"
#include "../format.hpp"
#include "../level.hpp"
#include "../record.hpp"

namespace runlog {
inline namespace v0 {
namespace detail {

/// One kept record: `seq` is its place in the order of arrival plus one (0: empty), `bytes` its copy.
struct backtrace_ring::slot {
    std::atomic<std::uint32_t> busy{0};
    std::uint64_t seq = 0;
    std::int64_t time_ns = 0;
    std::unique_ptr<char[]> bytes;
    std::size_t size = 0;  ///< bytes allocated
};

namespace backtrace_wire {

/// The fixed part of a kept record; its strings, fields and arguments follow (see encode).
struct head {
    std::int64_t time_ns;
    const event_info* event;
    source_location location;
    std::uint64_t thread;
    std::int32_t lvl;
    std::uint32_t pid;
    std::uint32_t len[5];  ///< logger name, run id, job, step, message or format string
    std::uint32_t event_fields, fields;
    std::uint32_t nargs;  ///< UINT32_MAX: the message is text; else a format call with this many arguments
};

inline std::size_t pad8(std::size_t n) noexcept { return (n + 7) & ~std::size_t{7}; }

/// Whether an argument of type t is kept as bytes (a C string with its NUL, a string, a user type's text)
/// rather than as an 8-byte value (16 for a long double).
constexpr bool kept_as_bytes(arg_type t) noexcept {
    return t == arg_type::cstring || t == arg_type::string || t == arg_type::custom;
}

/// What one argument takes: an 8-byte word (its type, and its bytes' length), then its value or bytes.
inline std::size_t arg_size(arg_type t, std::string_view text) noexcept {
    if (t == arg_type::long_double) return 8 + 16;
    if (t == arg_type::cstring) return 8 + pad8(text.size() + 1);
    return 8 + (kept_as_bytes(t) ? pad8(text.size()) : 8);
}

}  // namespace backtrace_wire

RUNLOG_INLINE backtrace_ring::backtrace_ring(std::size_t capacity)
    : keep_(&keep_record),
      dump_(&dump_records),
      capacity_(capacity == 0 ? 1 : capacity),
      slots_(new slot[capacity == 0 ? 1 : capacity]) {}

RUNLOG_INLINE backtrace_ring::~backtrace_ring() = default;

namespace backtrace_wire {
/// Takes a slot's lock: spins briefly, then yields; gives up (false) after `patience` yields.
inline bool lock_slot(std::atomic<std::uint32_t>& busy, unsigned patience) noexcept {
    for (unsigned n = 0;; ++n) {
        if (busy.load(std::memory_order_relaxed) == 0 && busy.exchange(1, std::memory_order_acquire) == 0) return true;
        if (n < 64) {
#if defined(__x86_64__) || defined(__i386__)
            __builtin_ia32_pause();
#endif
            continue;
        }
        if (n - 64 >= patience) return false;
        ::sched_yield();
    }
}
}  // namespace backtrace_wire

RUNLOG_INLINE void backtrace_ring::keep_impl(const record& r) noexcept {
    using namespace backtrace_wire;
    // What the message is: a format call (its string and arguments are kept, custom types as their text), or text.
    const format_source* call = r.message_render() == &format_source::render
                                    ? static_cast<const format_source*>(r.message_source())
                                    : nullptr;
    basic_memory_buffer<256> customs;  // the text of each custom-type argument, one after another
    std::size_t custom_at[64];
    std::string_view message;
    std::size_t nargs = 0;
    try {
        if (call && call->args.size() <= 64) {
            nargs = call->args.size();
            for (std::size_t i = 0; i < nargs; ++i) {
                custom_at[i] = customs.size();
                const format_arg a = call->args.get(i);
                if (a.type() == arg_type::custom) {
                    const auto& c = arg_access::value(a).custom;
                    c.format(c.object, customs);
                }
            }
            message = call->fmt;
        } else {
            call = nullptr;
            message = r.message();
        }
    } catch (...) {
        call = nullptr;  // a user type's formatter threw: keep the message with the error in it
        message = r.message();
    }
    // The bytes an argument kept as bytes is kept as (empty for the others).
    const auto text_of = [&](std::size_t i, const format_arg& a) -> std::string_view {
        const auto& v = arg_access::value(a);
        switch (a.type()) {
            case arg_type::cstring: return v.cs ? std::string_view(v.cs) : std::string_view();
            case arg_type::string: return std::string_view(v.s.data, v.s.size);
            case arg_type::custom: {
                const std::size_t end = i + 1 < nargs ? custom_at[i + 1] : customs.size();
                return std::string_view(customs.data() + custom_at[i], end - custom_at[i]);
            }
            default: return {};
        }
    };
    const std::size_t strings = r.logger_name.size() + r.ctx.run_id.size() + r.ctx.job.size() + r.ctx.step.size() +
                                message.size();
    std::size_t size = sizeof(head) + pad8(strings) + fields_size(r.event_fields) + fields_size(r.fields) + 8;
    if (call)
        for (std::size_t i = 0; i < nargs; ++i) {
            const format_arg a = call->args.get(i);
            size += arg_size(a.type(), text_of(i, a));
        }

    const std::uint64_t n = next_.fetch_add(1, std::memory_order_relaxed);
    slot& s = slots_[n % capacity_];
    if (!lock_slot(s.busy, 100000)) {  // held for this long: by a thread of the parent of this fork()
        lost_.fetch_add(1, std::memory_order_relaxed);
        return;
    }
    if (s.seq > n + 1) {  // a newer record took this slot first: this one is already the older
        s.busy.store(0, std::memory_order_release);
        overwritten_.fetch_add(1, std::memory_order_relaxed);
        return;
    }
    if (s.seq != 0) overwritten_.fetch_add(1, std::memory_order_relaxed);
    s.seq = 0;
    if (s.size < size || s.size > 4 * size + 4096) {
        s.bytes.reset(new (std::nothrow) char[size]);
        s.size = s.bytes ? size : 0;
        if (!s.bytes) {
            s.busy.store(0, std::memory_order_release);
            lost_.fetch_add(1, std::memory_order_relaxed);
            return;
        }
    }
    char* p = s.bytes.get();
    head h{};
    h.time_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(r.time.time_since_epoch()).count();
    h.event = r.event;
    h.location = r.location;
    h.thread = r.thread;
    h.lvl = static_cast<std::int32_t>(r.lvl);
    h.pid = r.pid;
    const std::string_view parts[5] = {r.logger_name, r.ctx.run_id, r.ctx.job, r.ctx.step, message};
    for (int i = 0; i < 5; ++i) h.len[i] = static_cast<std::uint32_t>(parts[i].size());
    h.event_fields = static_cast<std::uint32_t>(r.event_fields.size());
    h.fields = static_cast<std::uint32_t>(r.fields.size());
    h.nargs = call ? static_cast<std::uint32_t>(nargs) : UINT32_MAX;
    std::memcpy(p, &h, sizeof h);
    char* q = p + sizeof h;
    for (const auto part : parts) put_bytes(q, part);
    q = p + pad8(static_cast<std::size_t>(q - p));
    put_fields(q, r.event_fields);
    put_fields(q, r.fields);
    q = p + pad8(static_cast<std::size_t>(q - p));
    if (call)
        for (std::size_t i = 0; i < nargs; ++i) {
            const format_arg a = call->args.get(i);
            const auto& v = arg_access::value(a);
            const std::string_view text = text_of(i, a);
            const std::uint64_t word = static_cast<std::uint64_t>(a.type()) | (std::uint64_t{text.size()} << 8);
            std::memcpy(q, &word, 8);
            q += 8;
            switch (a.type()) {
                case arg_type::long_double:
                    std::memset(q, 0, 16);
                    std::memcpy(q, v.ld, sizeof(long double) < 16 ? sizeof(long double) : 16);
                    q += 16;
                    break;
                case arg_type::cstring:
                case arg_type::string:
                case arg_type::custom:
                    std::memcpy(q, text.data(), text.size());
                    if (a.type() == arg_type::cstring) {
                        q[text.size()] = '\0';  // read back as a C string
                        q += pad8(text.size() + 1);
                    } else {
                        q += pad8(text.size());
                    }
                    break;
                default:
                    std::memcpy(q, &v, 8);
                    q += 8;
                    break;
            }
        }
    s.time_ns = h.time_ns;
    s.seq = n + 1;
    s.busy.store(0, std::memory_order_release);
}

RUNLOG_INLINE void backtrace_ring::carry_counts(backtrace_ring& old) noexcept {
    const std::size_t held = old.clear();
    for (unsigned n = 0; old.dump_lock_.exchange(true, std::memory_order_acquire); ++n) ::sched_yield();
    reported_overwritten_ = old.reported_overwritten_;
    reported_lost_ = old.reported_lost_;
    old.dump_lock_.store(false, std::memory_order_release);
    overwritten_.store(old.overwritten_.load(std::memory_order_relaxed), std::memory_order_relaxed);
    lost_.store(old.lost_.load(std::memory_order_relaxed) + held, std::memory_order_relaxed);
}

RUNLOG_INLINE std::size_t backtrace_ring::clear() noexcept {
    std::size_t n = 0;
    for (std::size_t i = 0; i < capacity_; ++i) {
        slot& s = slots_[i];
        if (!backtrace_wire::lock_slot(s.busy, 100000)) continue;
        if (s.seq != 0) ++n;
        s.seq = 0;
        s.bytes.reset();
        s.size = 0;
        s.busy.store(0, std::memory_order_release);
    }
    return n;
}

RUNLOG_INLINE std::size_t backtrace_ring::dump_impl(std::string_view pipeline, level below, const backtrace_reason& why,
                                                    emit_fn emit, void* context) noexcept {
    using namespace backtrace_wire;
    struct taken {
        std::uint64_t seq;
        std::int64_t time_ns;
        std::unique_ptr<char[]> bytes;
    };
    // One dump at a time, so that two triggers at once do not interleave their lines.
    for (unsigned n = 0; dump_lock_.exchange(true, std::memory_order_acquire); ++n) {
        if (why.at_crash && n > 1000) return 0;
        ::sched_yield();
    }
    struct release {
        std::atomic<bool>& lock;
        ~release() { lock.store(false, std::memory_order_release); }
    } release_at_end{dump_lock_};
    std::size_t written = 0;
    try {
        std::vector<taken> kept;
        kept.reserve(capacity_);
        for (std::size_t i = 0; i < capacity_; ++i) {
            slot& s = slots_[i];
            if (!lock_slot(s.busy, why.at_crash ? 100 : 100000)) {
                lost_.fetch_add(1, std::memory_order_relaxed);
                continue;
            }
            if (s.seq != 0) {
                kept.push_back({s.seq, s.time_ns, std::move(s.bytes)});
                s.size = 0;
                s.seq = 0;
            }
            s.busy.store(0, std::memory_order_release);
        }
        if (kept.empty()) return 0;
        // Time order; records of one thread that share a timestamp keep the order they came in.
        std::sort(kept.begin(), kept.end(), [](const taken& a, const taken& b) {
            return a.time_ns != b.time_ns ? a.time_ns < b.time_ns : a.seq < b.seq;
        });
        const std::uint64_t over = overwritten_.load(std::memory_order_relaxed);
        const std::uint64_t newly_overwritten = over - reported_overwritten_;
        reported_overwritten_ = over;
        const std::uint64_t lost_now = lost_.load(std::memory_order_relaxed);
        const std::uint64_t newly_lost = lost_now - reported_lost_;
        reported_lost_ = lost_now;

        const auto time_of = [](std::int64_t ns) {
            return record::time_point(std::chrono::duration_cast<record::time_point::duration>(std::chrono::nanoseconds(ns)));
        };
        // The first and last lines: the pipeline's own, at the time of the first and last kept records.
        const auto frame = [&](bool first, std::int64_t ns) {
            std::string text = first ? "Backtrace of pipeline \"" : "End of the backtrace of pipeline \"";
            text.append(pipeline);
            text += '"';
            if (first) {
                text += ": the last " + std::to_string(kept.size()) + " record(s) below " + to_string(below);
                if (newly_overwritten || newly_lost) {
                    text += " (";
                    if (newly_overwritten)
                        text += std::to_string(newly_overwritten) +
                                (newly_overwritten == 1 ? " older one overwritten" : " older ones overwritten");
                    if (newly_overwritten && newly_lost) text += ", ";
                    if (newly_lost) text += std::to_string(newly_lost) + " not kept";
                    text += ")";
                }
                text += ", ";
                if (why.before)
                    text += "before this " + to_string(why.before->lvl);
                else
                    text.append(why.text);
            }
            const field fs[] = {{"backtrace", true}, {"backtrace_records", static_cast<std::uint64_t>(kept.size())},
                                {"backtrace_overwritten", newly_overwritten}, {"backtrace_not_kept", newly_lost}};
            record r;
            r.time = time_of(ns);
            r.lvl = below;
            r.ctx = current_context();  // the dumping thread's: a run's event log takes them with its step
            r.logger_name = "runlog";
            r.pid = process_id();
            r.thread = thread_id();
            r.fields = std::span<const field>(fs, first ? (newly_lost ? 4 : 3) : 1);
            r.set_message(text);
            emit(context, r);
        };
        frame(true, kept.front().time_ns);
        std::vector<field> all_fields, call_fields;  // reused from record to record
        std::vector<format_arg> args;
        std::vector<long double> long_doubles;
        for (const auto& k : kept) {
            const char* p = k.bytes.get();
            head h;
            std::memcpy(&h, p, sizeof h);
            const char* q = p + sizeof h;
            std::string_view parts[5];
            for (int i = 0; i < 5; ++i) {
                parts[i] = std::string_view(q, h.len[i]);
                q += h.len[i];
            }
            q = p + pad8(static_cast<std::size_t>(q - p));
            get_fields(q, h.event_fields, all_fields);
            get_fields(q, h.fields, call_fields);
            const std::size_t n_event = all_fields.size();
            all_fields.insert(all_fields.end(), call_fields.begin(), call_fields.end());
            all_fields.push_back({"backtrace", true});
            q = p + pad8(static_cast<std::size_t>(q - p));
            record r;
            r.time = time_of(h.time_ns);
            r.lvl = static_cast<level>(h.lvl);
            r.event = h.event;
            r.location = h.location;
            r.thread = h.thread;
            r.pid = h.pid;
            r.logger_name = parts[0];
            r.ctx = {parts[1], parts[2], parts[3]};
            const std::span<const field> all(all_fields);
            r.event_fields = all.first(n_event);
            r.fields = all.subspan(n_event);
            format_source src{parts[4], {}};
            if (h.nargs == UINT32_MAX) {
                r.set_message(parts[4]);
            } else {
                args.clear();
                long_doubles.clear();
                long_doubles.reserve(h.nargs);  // format_args refer to them: no reallocation below
                for (std::uint32_t i = 0; i < h.nargs; ++i) {
                    std::uint64_t word;
                    std::memcpy(&word, q, 8);
                    q += 8;
                    const auto type = static_cast<arg_type>(word & 0xff);
                    const std::size_t len = static_cast<std::size_t>(word >> 8);
                    std::uint64_t raw = 0;  // a scalar's 8 bytes (a string's bytes may be fewer, or none)
                    if (type != arg_type::long_double && !kept_as_bytes(type)) std::memcpy(&raw, q, 8);
                    const auto as = [raw]<class T>(T) {
                        T v;
                        std::memcpy(&v, &raw, sizeof v);
                        return v;
                    };
                    switch (type) {
                        case arg_type::int_: args.emplace_back(as(0LL)); q += 8; break;
                        case arg_type::uint_: args.emplace_back(as(0ULL)); q += 8; break;
                        case arg_type::bool_: args.emplace_back(as(bool{})); q += 8; break;
                        case arg_type::char_: args.emplace_back(as(char{})); q += 8; break;
                        case arg_type::float_: args.emplace_back(as(float{})); q += 8; break;
                        case arg_type::double_: args.emplace_back(as(double{})); q += 8; break;
                        case arg_type::pointer: args.emplace_back(as(static_cast<const void*>(nullptr))); q += 8; break;
                        case arg_type::long_double: {
                            long double ld;
                            std::memcpy(&ld, q, sizeof(long double) < 16 ? sizeof(long double) : 16);
                            long_doubles.push_back(ld);
                            args.emplace_back(long_doubles.back());
                            q += 16;
                            break;
                        }
                        case arg_type::cstring:
                            args.emplace_back(static_cast<const char*>(q));
                            q += pad8(len + 1);
                            break;
                        case arg_type::string:
                        case arg_type::custom:  // kept as its text
                            args.emplace_back(std::string_view(q, len));
                            q += pad8(len);
                            break;
                        case arg_type::none: args.emplace_back(); q += 8; break;
                    }
                }
                src.args = format_args(args.data(), args.size());
                r.set_message(&src, &format_source::render);
            }
            emit(context, r);
            ++written;
        }
        frame(false, kept.back().time_ns);
    } catch (...) {
        lost_.fetch_add(1, std::memory_order_relaxed);  // no memory to sort or decode: what was taken is gone
    }
    return written;
}

RUNLOG_INLINE void backtrace_holder::set(const backtrace_options& o) {
    if (o.capacity == 0) {
        keep_from.store(INT_MAX, std::memory_order_relaxed);
        dump_at.store(INT_MAX, std::memory_order_relaxed);
        options = o;
        if (!rings.empty()) rings.back()->clear();
        return;
    }
    if (o.lowest >= o.trigger)
        throw std::invalid_argument("runlog::backtrace_options: lowest (" + to_string(o.lowest) +
                                    ") must be below trigger (" + to_string(o.trigger) + ")");
    if (rings.empty() || rings.back()->capacity() != o.capacity) {
        rings.reserve(rings.size() + 1);
        auto fresh = std::make_unique<backtrace_ring>(o.capacity);
        if (!rings.empty()) fresh->carry_counts(*rings.back());
        rings.push_back(std::move(fresh));
        ring.store(rings.back().get(), std::memory_order_release);
    }
    crash::install_default();
    options = o;
    keep_from.store(static_cast<int>(o.lowest), std::memory_order_relaxed);
    dump_at.store(static_cast<int>(o.trigger), std::memory_order_relaxed);
}

RUNLOG_INLINE void backtrace_holder::note_lost(std::uint64_t n) noexcept {
    if (backtrace_ring* b = ring.load(std::memory_order_acquire)) b->note_lost(n);
}

RUNLOG_INLINE void backtrace_holder::keep(const record& r) noexcept {
    if (backtrace_ring* b = ring.load(std::memory_order_acquire)) b->keep(r);
}

RUNLOG_INLINE std::size_t backtrace_holder::dump(std::string_view pipeline, level below, const backtrace_reason& why,
                                                 backtrace_ring::emit_fn emit, void* context) noexcept {
    backtrace_ring* b = ring.load(std::memory_order_acquire);
    return b ? b->dump(pipeline, below, why, emit, context) : 0;
}

RUNLOG_INLINE std::uint64_t backtrace_holder::lost() const noexcept {
    const backtrace_ring* b = ring.load(std::memory_order_acquire);
    return b ? b->lost() : 0;
}

RUNLOG_INLINE std::uint64_t backtrace_holder::overwritten() const noexcept {
    const backtrace_ring* b = ring.load(std::memory_order_acquire);
    return b ? b->overwritten() : 0;
}

}  // namespace detail
}  // namespace v0
}  // namespace runlog
#endif
