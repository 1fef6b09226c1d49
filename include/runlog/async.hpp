#pragma once
#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <condition_variable>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
#include <new>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif
#if defined(__linux__)
#include <pthread.h>
#include <sched.h>
#endif

#include "format.hpp"
#include "level.hpp"
#include "pipeline.hpp"
#include "record.hpp"
#include "sinks/sink.hpp"

namespace runlog {
inline namespace v0 {

/// What an async pipeline does when its thread's queue is full.
enum class queue_full {
    block,  ///< wait for the backend (the default: nothing is lost)
    drop,   ///< drop the record; drops are counted and reported as a WARNING record
};

/// Options of one async pipeline.
struct async_options {
    queue_full when_full = queue_full::block;
};

/// Settings of the backend thread and the per-thread queues; set them before the first async record.
struct backend_options {
    std::size_t queue_bytes = 1 << 20;             ///< each logging thread's ring (a power of two, at least 4 KiB)
    std::chrono::microseconds idle_sleep{100};     ///< how long the backend sleeps when idle: its wake-up latency
    bool use_tsc = true;                           ///< timestamp with the TSC where there is one, else steady_clock
    std::chrono::milliseconds resync_every{1000};  ///< re-calibrate the TSC against the system clock this often
    int backend_cpu = -1;  ///< pin the backend thread to this CPU (Linux), so it never competes with pinned callers; -1: no pinning
};

namespace detail {

struct async_header;
struct async_ring;

/// What a record is for: the async pipeline that will write it (its first base).
struct async_target {
    void (*process)(async_target* self, const async_header& h, const async_ring& ring);
    void (*flush)(async_target* self);  ///< writes out the sink's buffer (the backend, when idle)
};

/// One record's bytes in a ring: this header (32 bytes), then what its kind and flags say:
/// kind 1 (a format call): async_call, [context], [location], fields, arguments;
/// kind 2 (a formatted message): async_message, [context], [location], fields, message bytes;
/// kind 3 (a record too big for the ring): a pointer to its kind 1 or 2 bytes on the heap, which the
/// backend frees once it has written it. Its timestamp is the record's, so the merge order holds.
struct async_header {
    std::uint32_t size;  ///< bytes including this header, a multiple of 8; kind 0 is padding to the ring's end
    std::uint8_t kind;   ///< 0 padding, 1 format call, 2 formatted message, 3 a big record on the heap
    std::uint8_t flags;  ///< has_context, has_location
    std::uint16_t nfields;
    std::int32_t lvl;
    std::uint32_t logger_len;
    std::uint64_t ticks;
    async_target* target;
};
static_assert(sizeof(async_header) == 32);
inline constexpr std::uint8_t has_context = 1;
inline constexpr std::uint8_t has_location = 2;

/// After the header of a format call: the static format string, the logger's name and the decoder.
struct async_call {
    const char* fmt;
    const char* logger;
    void (*render)(const char* args, std::string_view fmt, buffer& out);
    std::uint32_t fmt_len;
    std::uint32_t pad;
};
static_assert(sizeof(async_call) == 32);

/// After the header of a formatted message.
struct async_message {
    const char* logger;
    const event_info* event;
    std::uint32_t message_len;
    std::uint32_t event_fields;  ///< how many of the fields are the event's own
};

/// Run id, job and step lengths; their bytes follow.
struct async_context {
    std::uint32_t len[3];
    std::uint32_t pad;
};

/// Stores v at p, whatever p's alignment.
template <class T>
inline void store_at(char* p, const T& v) noexcept {
    std::memcpy(p, &v, sizeof v);
}

/// Writes a record header at p in four 8-byte stores (the timestamp is stored apart, later): narrow
/// stores of the fields, or a header built on the stack and copied, cost several cycles more per record.
inline void store_header(char* p, std::uint32_t size, std::uint8_t kind, std::uint8_t flags, std::uint16_t nfields,
                         std::int32_t lvl, std::uint32_t logger_len, async_target* target) noexcept {
    static_assert(offsetof(async_header, size) == 0 && offsetof(async_header, kind) == 4 &&
                  offsetof(async_header, flags) == 5 && offsetof(async_header, nfields) == 6 &&
                  offsetof(async_header, lvl) == 8 && offsetof(async_header, logger_len) == 12 &&
                  offsetof(async_header, ticks) == 16 && offsetof(async_header, target) == 24);
    if constexpr (std::endian::native == std::endian::little) {
        store_at(p, std::uint64_t{size} | std::uint64_t{kind} << 32 | std::uint64_t{flags} << 40 |
                        std::uint64_t{nfields} << 48);
        store_at(p + 8, std::uint64_t{static_cast<std::uint32_t>(lvl)} | std::uint64_t{logger_len} << 32);
    } else {
        store_at(p, size);
        store_at(p + 4, kind);
        store_at(p + 5, flags);
        store_at(p + 6, nfields);
        store_at(p + 8, lvl);
        store_at(p + 12, logger_len);
    }
    store_at(p + 24, target);
}

/// A single-producer, single-consumer ring of variable-size records, owned by one logging thread.
struct async_ring {
    explicit async_ring(std::size_t bytes, std::uint64_t thread)
        : capacity(bytes),
          max_record(bytes / 2),
          mask(bytes - 1),
          data(new (std::align_val_t{64}) char[bytes]),
          thread_id(thread),
          pid(process_id()) {
        std::memset(data, 0, bytes);  // touch every page now, not on the logging path
    }
    ~async_ring() { operator delete[](data, std::align_val_t{64}); }
    async_ring(const async_ring&) = delete;
    async_ring& operator=(const async_ring&) = delete;

    // Producer side.
    /// Bytes ever committed (a multiple of 8); while a record is being written (from before its
    /// timestamp is read until it is committed) the start of that record plus 1, an odd value.
    alignas(64) std::atomic<std::uint64_t> tail{0};
    std::uint64_t head_cache = 0;
    // Consumer side.
    alignas(64) std::atomic<std::uint64_t> head{0};  ///< bytes ever consumed
    std::uint64_t seen_writing = 0;                   ///< the last odd tail the backend saw
    std::uint64_t writing_bound = 0;                  ///< a lower bound of the timestamp being written
    std::uint64_t last_check = 0;                     ///< when the backend last read `writing`
    // Shared, read-only after construction, or set once.
    alignas(64) std::atomic<bool> orphaned{false};  ///< its thread has exited
    const std::size_t capacity;
    const std::size_t max_record;  ///< larger records go to the heap, and the ring refers to them
    const std::size_t mask;
    char* const data;
    const std::uint64_t thread_id;
    const std::uint32_t pid;

    /// Room for n bytes (n a multiple of 8) when they fit before the ring's end and the producer's last
    /// view of the head says there is room, else null (reserve then pads, or re-reads the head). `end`
    /// is what commit takes.
    char* try_reserve(std::size_t n, std::uint64_t& end) noexcept {
        const std::uint64_t pos = tail.load(std::memory_order_relaxed);
        const std::size_t offset = static_cast<std::size_t>(pos & mask);
        if (offset + n > capacity || pos + n - head_cache > capacity) [[unlikely]]
            return nullptr;
        end = pos + n;
        return data + offset;
    }
    /// Room for n bytes, padding to the end first when they would not fit there; null when the ring is full.
    char* reserve(std::size_t n, std::uint64_t& end) noexcept {
        const std::uint64_t pos = tail.load(std::memory_order_relaxed);
        const std::size_t offset = static_cast<std::size_t>(pos & mask);
        const std::size_t pad = offset + n > capacity ? capacity - offset : 0;
        if (pos + pad + n - head_cache > capacity) {
            head_cache = head.load(std::memory_order_acquire);
            if (pos + pad + n - head_cache > capacity) return nullptr;
        }
        if (pad) {
            auto* h = reinterpret_cast<async_header*>(data + offset);
            h->size = static_cast<std::uint32_t>(pad);
            h->kind = 0;
        }
        end = pos + pad + n;
        return data + ((pos + pad) & mask);
    }
    /// Marks the record reserved at [start, end) as being written: the backend holds its merge back
    /// until commit. Called before the record's timestamp is read.
    void begin(std::uint64_t start) noexcept { tail.store(start | 1, std::memory_order_release); }
    /// Publishes the bytes up to end (from try_reserve or reserve).
    void commit(std::uint64_t end) noexcept { tail.store(end, std::memory_order_release); }
    /// The committed bytes, whether or not a record is being written.
    std::uint64_t committed() const noexcept { return tail.load(std::memory_order_acquire) & ~std::uint64_t{1}; }
};

/// Reads the timestamp counter: the TSC on x86, else steady_clock's nanoseconds.
inline std::atomic<bool>& tsc_enabled() noexcept {
    static std::atomic<bool> on{true};
    return on;
}
inline std::uint64_t read_ticks() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    if (tsc_enabled().load(std::memory_order_relaxed)) [[likely]]
        return __rdtsc();
#endif
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
            .count());
}

/// Maps ticks to system time: calibrated against the system clock at start, refined at every resync.
class tick_clock {
public:
    /// Calibrates: reads both clocks, waits 10 ms and reads them again (on the backend thread, so that
    /// the first log call does not wait).
    void start() {
        origin_ticks_ = read_ticks();
        origin_steady_ = std::chrono::steady_clock::now();
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        resync();
    }
    /// Re-reads the clocks: the tick rate from the whole time since start, the base from now.
    /// The three clocks are read together up to four times, keeping the tightest reading, so that a
    /// preemption between two reads does not become an offset in every timestamp until the next resync.
    void resync() noexcept {
        std::chrono::steady_clock::time_point steady{};
        std::uint64_t t = 0;
        std::chrono::system_clock::time_point sys{};
        auto best = std::chrono::steady_clock::duration::max();
        for (int attempt = 0; attempt < 4; ++attempt) {
            const auto s0 = std::chrono::steady_clock::now();
            const std::uint64_t ticks = read_ticks();
            const auto now = std::chrono::system_clock::now();
            const auto s1 = std::chrono::steady_clock::now();
            if (s1 - s0 < best) {
                best = s1 - s0;
                steady = s0 + (s1 - s0) / 2;
                t = ticks;
                sys = now;
            }
        }
        const double ns = std::chrono::duration<double, std::nano>(steady - origin_steady_).count();
        if (t > origin_ticks_ && ns > 0) ns_per_tick_ = ns / static_cast<double>(t - origin_ticks_);
        base_ticks_ = t;
        base_sys_ = sys;
    }
    record::time_point to_time(std::uint64_t t) const noexcept {
        const double delta = (static_cast<double>(t) - static_cast<double>(base_ticks_)) * ns_per_tick_;
        return base_sys_ + std::chrono::duration_cast<record::time_point::duration>(
                               std::chrono::duration<double, std::nano>(delta));
    }
    std::uint64_t ticks_for(std::chrono::nanoseconds d) const noexcept {
        return static_cast<std::uint64_t>(static_cast<double>(d.count()) / ns_per_tick_);
    }

private:
    std::uint64_t origin_ticks_ = 0;
    std::chrono::steady_clock::time_point origin_steady_{};
    std::uint64_t base_ticks_ = 0;
    record::time_point base_sys_{};
    double ns_per_tick_ = 1.0;
};

/// The one backend thread: drains every thread's ring, merges records in timestamp order, and hands
/// them to their pipelines.
class async_backend {
public:
    static backend_options& options() noexcept {
        static backend_options o;
        return o;
    }
    static std::atomic<bool>& started() noexcept {
        static std::atomic<bool> s{false};
        return s;
    }
    /// The backend, started on first use. It is never destroyed: at exit it drains every queue and stops,
    /// and loggers that outlive it (statics) then write from their own thread.
    static async_backend& instance() {
        static async_backend* backend = [] {
            auto* b = new async_backend;
            std::atexit([] { instance().stop(); });
            return b;
        }();
        return *backend;
    }

    /// The calling thread's ring, created (and its memory touched) on first use.
    async_ring& ring() {
        thread_local ring_owner owner;
        if (!owner.ring) [[unlikely]] {
            owner.ring = std::make_shared<async_ring>(options().queue_bytes, thread_id());
            std::lock_guard lock(rings_mutex_);
            rings_.push_back(owner.ring);
            rings_version_.fetch_add(1, std::memory_order_release);
            cached_ring() = owner.ring.get();
        }
        return *owner.ring;
    }
    /// The calling thread's ring once it has one, else null: a plain thread-local read, no guard.
    static async_ring*& cached_ring() noexcept {
        thread_local async_ring* ring = nullptr;
        return ring;
    }
    /// Set once the backend has stopped (at exit): records are then written by their callers.
    static std::atomic<bool>& stopped_flag() noexcept {
        static std::atomic<bool> stopped{false};
        return stopped;
    }

    /// Wakes the backend (a producer waiting for room, or a flush).
    void wake() noexcept {
        {
            std::lock_guard lock(wake_mutex_);
            wake_requested_ = true;
        }
        wake_cv_.notify_one();
    }

    /// Returns once every record committed with a timestamp before `t` has been handed to its pipeline.
    void wait_processed(std::uint64_t t) {
        std::unique_lock lock(done_mutex_);
        while (done_upto_ <= t && !stopped()) {
            lock.unlock();
            wake();
            lock.lock();
            done_cv_.wait_for(lock, std::chrono::milliseconds(1), [&] { return done_upto_ > t || stopped(); });
        }
    }
    bool stopped() const noexcept { return stopped_flag().load(std::memory_order_acquire); }

    /// Makes the backend drop every reference to target (a pipeline being destroyed, whose records have
    /// all been written); returns once a pass has ended after the request.
    void forget(async_target* target) {
        std::unique_lock lock(forget_mutex_);
        if (stopped()) return;
        forget_.push_back(target);
        const std::uint64_t gen = pass_gen_;
        lock.unlock();
        wake();
        lock.lock();
        while (pass_gen_ == gen && !stopped()) forget_cv_.wait_for(lock, std::chrono::milliseconds(1));
    }
    /// How many thread queues exist (a thread's is released once it has exited and been drained).
    std::size_t queues() {
        std::lock_guard lock(rings_mutex_);
        return rings_.size();
    }

    /// Drains every queue and stops the thread; later records are written by their callers.
    void stop() noexcept {
        stop_.store(true, std::memory_order_release);
        wake();
        if (thread_.joinable()) thread_.join();
    }

private:
    struct ring_owner {
        std::shared_ptr<async_ring> ring;
        ~ring_owner() {
            if (ring) ring->orphaned.store(true, std::memory_order_release);
        }
    };

    async_backend() {
        tsc_enabled().store(options().use_tsc, std::memory_order_relaxed);
        started().store(true, std::memory_order_release);
        thread_ = std::thread([this] {
#if defined(__linux__)
            ::pthread_setname_np(::pthread_self(), "runlog-backend");  // what top -H and /proc show
#endif
            pin_to(options().backend_cpu);
            // Records queued meanwhile wait in their rings: the backend converts timestamps only once
            // calibrated, and the callers never wait for it.
            clock_.start();
            slack_ = clock_.ticks_for(std::chrono::microseconds(20));
            loop();
        });
    }

    /// Pins the calling thread to one CPU; a CPU that cannot be used is reported once, and the thread
    /// runs unpinned.
    static void pin_to(int cpu) noexcept {
        if (cpu < 0) return;
#if defined(__linux__)
        cpu_set_t set;
        CPU_ZERO(&set);
        if (cpu < CPU_SETSIZE) CPU_SET(cpu, &set);
        const int err = cpu < CPU_SETSIZE ? ::pthread_setaffinity_np(::pthread_self(), sizeof set, &set) : EINVAL;
        if (err != 0) {
            char message[192];
            const char* reason = cpu >= CPU_SETSIZE ? "beyond CPU_SETSIZE"
                                 : err == EINVAL    ? "not a CPU this process may run on"
                                                    : std::strerror(err);
            std::snprintf(message, sizeof message,
                          "the async backend could not be pinned to CPU %d (backend_options::backend_cpu): %s; "
                          "it runs unpinned", cpu, reason);
            report_problem(message);
        }
#else
        report_problem("backend_options::backend_cpu is only supported on Linux; the async backend runs unpinned");
#endif
    }

    void loop() {
        std::vector<std::shared_ptr<async_ring>> rings;
        std::uint64_t version = ~0ULL;
        auto last_resync = std::chrono::steady_clock::now();
        // The first calibration spans 10 ms; re-calibrating at 20, 40, 80 ms... up to resync_every keeps
        // the error of the tick rate, and so the drift between resyncs, small from the start.
        auto resync_interval = std::chrono::steady_clock::duration(std::chrono::milliseconds(10));
        for (;;) {
            const bool stopping = stop_.load(std::memory_order_acquire);
            if (const auto v = rings_version_.load(std::memory_order_acquire); v != version) {
                std::lock_guard lock(rings_mutex_);
                rings = rings_;
                version = v;
            }
            const std::uint64_t now = read_ticks();
            const std::uint64_t horizon = stopping ? ~0ULL : safe_horizon(rings, now);
            const std::size_t handled = drain(rings, horizon);
            if (!handled) flush_dirty();  // idle: the sinks write out their buffers
            end_pass();
            {
                std::lock_guard lock(done_mutex_);
                done_upto_ = std::max(done_upto_, horizon);
            }
            done_cv_.notify_all();
            if (const auto t = std::chrono::steady_clock::now(); t - last_resync > resync_interval) {
                clock_.resync();
                last_resync = t;
                resync_interval = std::min<std::chrono::steady_clock::duration>(2 * resync_interval,
                                                                                 options().resync_every);
            }
            if (handled) continue;
            drop_orphans(rings, version);
            if (stopping) break;
            std::unique_lock lock(wake_mutex_);
            wake_cv_.wait_for(lock, options().idle_sleep, [&] { return wake_requested_; });
            wake_requested_ = false;
        }
        stopped_flag().store(true, std::memory_order_release);
        done_cv_.notify_all();
    }

    /// The time before which no record can still appear: a thread that is writing a record took its
    /// timestamp no earlier than just before the backend last saw it idle.
    std::uint64_t safe_horizon(std::vector<std::shared_ptr<async_ring>>& rings, std::uint64_t now) noexcept {
        std::uint64_t horizon = now > slack_ ? now - slack_ : 0;
        for (auto& r : rings) {
            const std::uint64_t w = r->tail.load(std::memory_order_acquire);
            if (w & 1) {  // a record is being written
                if (w != r->seen_writing) {
                    r->seen_writing = w;
                    r->writing_bound = r->last_check > slack_ ? r->last_check - slack_ : 0;
                }
                horizon = std::min(horizon, r->writing_bound);
            }
            r->last_check = now;
        }
        return horizon;
    }

    /// Hands over, in timestamp order, every committed record older than horizon; returns how many. Each
    /// ring's tail is read once per pass and its head published every few records, so the producer's and
    /// the backend's cache lines do not bounce on every record.
    std::size_t drain(std::vector<std::shared_ptr<async_ring>>& rings, std::uint64_t horizon) {
        cursors_.clear();
        for (auto& r : rings) {
            const std::uint64_t head = r->head.load(std::memory_order_relaxed);
            const std::uint64_t tail = r->committed();
            if (head != tail) cursors_.push_back({r.get(), head, tail, head});
        }
        auto publish = [](cursor& c) {
            if (c.published != c.head) {
                c.ring->head.store(c.head, std::memory_order_release);
                c.published = c.head;
            }
        };
        auto next = [](cursor& c) -> const async_header* {
            while (c.head != c.tail) {
                const auto* h = reinterpret_cast<const async_header*>(c.ring->data + (c.head & c.ring->mask));
                if (h->kind != 0) return h;
                c.head += h->size;  // padding to the ring's end
            }
            return nullptr;
        };
        std::size_t handled = 0;
        for (;;) {
            cursor* best = nullptr;
            const async_header* best_h = nullptr;
            for (auto& c : cursors_) {
                const async_header* h = next(c);
                if (h && h->ticks < horizon && (!best_h || h->ticks < best_h->ticks)) {
                    best = &c;
                    best_h = h;
                }
            }
            if (!best) break;
            try {
                best_h->target->process(best_h->target, *best_h, *best->ring);
                mark_dirty(best_h->target);
            } catch (...) {
                report_problem("the async backend could not write a record (out of memory)", 1);
            }
            best->head += best_h->size;
            if (best->head - best->published >= best->ring->capacity / 8) publish(*best);
            ++handled;
        }
        for (auto& c : cursors_) publish(c);
        return handled;
    }

    /// The backend's view of one ring during a pass.
    struct cursor {
        async_ring* ring;
        std::uint64_t head;       ///< the next record to read
        std::uint64_t tail;       ///< committed bytes when the pass began
        std::uint64_t published;  ///< the head the producer can see
    };
    std::vector<cursor> cursors_;

    /// Ends a pass: forgets the targets being destroyed.
    void end_pass() {
        {
            std::lock_guard lock(forget_mutex_);
            for (auto* t : forget_) std::erase(dirty_, t);
            forget_.clear();
            ++pass_gen_;
        }
        forget_cv_.notify_all();
    }

    void mark_dirty(async_target* target) {
        for (auto* d : dirty_)
            if (d == target) return;
        dirty_.push_back(target);
    }
    /// Idle: lets the pipelines that took records write out their sinks' buffers.
    void flush_dirty() {
        for (auto* d : dirty_) d->flush(d);
        dirty_.clear();
    }

    void drop_orphans(std::vector<std::shared_ptr<async_ring>>& rings, std::uint64_t& version) {
        bool any = false;
        for (const auto& r : rings)
            if (r->orphaned.load(std::memory_order_acquire) &&
                r->head.load(std::memory_order_relaxed) == r->committed())
                any = true;
        if (!any) return;
        std::lock_guard lock(rings_mutex_);
        std::erase_if(rings_, [](const std::shared_ptr<async_ring>& r) {
            return r->orphaned.load(std::memory_order_acquire) &&
                   r->head.load(std::memory_order_relaxed) == r->committed();
        });
        rings = rings_;
        version = rings_version_.fetch_add(1, std::memory_order_acq_rel) + 1;
    }

public:
    const tick_clock& clock() const noexcept { return clock_; }

private:
    tick_clock clock_;
    std::uint64_t slack_ = 0;
    std::mutex rings_mutex_;
    std::vector<std::shared_ptr<async_ring>> rings_;
    std::atomic<std::uint64_t> rings_version_{0};
    std::vector<async_target*> dirty_;
    std::mutex forget_mutex_;
    std::condition_variable forget_cv_;
    std::vector<async_target*> forget_;
    std::uint64_t pass_gen_ = 0;
    std::mutex wake_mutex_;
    std::condition_variable wake_cv_;
    bool wake_requested_ = false;
    std::mutex done_mutex_;
    std::condition_variable done_cv_;
    std::uint64_t done_upto_ = 0;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

// ---- Encoding of arguments: by copy for trivially copyable values, strings with their length, and
// other (user) types formatted on the caller's thread into a string.

template <class T>
using arg_value_t = std::remove_cvref_t<T>;

template <class T>
constexpr bool is_string_arg = std::is_same_v<std::decay_t<T>, const char*> || std::is_same_v<std::decay_t<T>, char*> ||
                               std::is_same_v<T, std::string> || std::is_same_v<T, std::string_view>;

template <class T>
constexpr bool is_copied_arg = !is_string_arg<T> && (std::is_arithmetic_v<T> || std::is_enum_v<T> ||
                                                     std::is_pointer_v<T> || std::is_null_pointer_v<T>);

template <class T>
std::string_view string_of(const T& v) noexcept {
    if constexpr (std::is_array_v<T>)
        return std::string_view(v);
    else if constexpr (std::is_same_v<std::decay_t<T>, const char*> || std::is_same_v<std::decay_t<T>, char*>)
        return v ? std::string_view(v) : std::string_view("(null)");
    else
        return std::string_view(v);
}

inline constexpr std::size_t align8(std::size_t n) noexcept { return (n + 7) & ~std::size_t{7}; }

/// Whether an argument is formatted on the caller's thread (a user type).
template <class T>
constexpr bool is_formatted_arg = !is_copied_arg<T> && !is_string_arg<T> && !std::is_array_v<T>;

/// How an argument travels through the ring: copied values as themselves, everything else as the
/// bytes of a string (strings as they are, user types once formatted). Calls are encoded from these
/// "wire" values, so `const char*`, `char[N]` and `std::string` arguments share one decoder.
template <class T>
using wire_t = std::conditional_t<is_copied_arg<arg_value_t<T>>, arg_value_t<T>, std::string_view>;

/// The wire value of a copied or string argument (a user type goes through format_user_arg).
template <class T>
wire_t<T> to_wire(const T& v) noexcept {
    if constexpr (is_copied_arg<arg_value_t<T>>)
        return v;
    else
        return string_of(v);
}

inline std::size_t wire_size(std::string_view s) noexcept { return 4 + s.size(); }
template <class T>
constexpr std::size_t wire_size(const T&) noexcept {
    return sizeof(T);
}

/// Copies n bytes; short strings (most arguments) without a call to memcpy, by two overlapping moves.
inline void copy_bytes(char* to, const char* from, std::size_t n) noexcept {
    if (n >= 8 && n <= 16) {
        std::uint64_t a, b;
        std::memcpy(&a, from, 8);
        std::memcpy(&b, from + n - 8, 8);
        std::memcpy(to, &a, 8);
        std::memcpy(to + n - 8, &b, 8);
    } else if (n >= 4 && n < 8) {
        std::uint32_t a, b;
        std::memcpy(&a, from, 4);
        std::memcpy(&b, from + n - 4, 4);
        std::memcpy(to, &a, 4);
        std::memcpy(to + n - 4, &b, 4);
    } else if (n > 0 && n < 4) {
        to[0] = from[0];
        to[n / 2] = from[n / 2];
        to[n - 1] = from[n - 1];
    } else if (n > 16) {
        std::memcpy(to, from, n);
    }
}

inline void put_wire(char*& p, std::string_view s) noexcept {
    const auto n = static_cast<std::uint32_t>(s.size());
    std::memcpy(p, &n, 4);
    copy_bytes(p + 4, s.data(), s.size());
    p += 4 + s.size();
}
template <class T>
void put_wire(char*& p, const T& v) noexcept {
    std::memcpy(p, &v, sizeof(T));
    p += sizeof(T);
}

/// Formats a user-type argument into scratch and returns where its text is, as offsets (scratch may
/// grow while later arguments are formatted); other arguments take no room.
template <class T>
std::pair<std::size_t, std::size_t> format_user_arg(std::string& scratch, const T& v) {
    if constexpr (is_formatted_arg<arg_value_t<T>>) {
        memory_buffer b;
        format_to(b, "{}", v);
        const std::size_t at = scratch.size();
        scratch.append(b.view());
        return {at, b.size()};
    } else {
        return {0, 0};
    }
}
/// The wire value of any argument, once the user-type ones have been formatted into scratch.
template <class T>
wire_t<T> wire_of(const T& v, const std::string& scratch, std::pair<std::size_t, std::size_t> at) noexcept {
    if constexpr (is_formatted_arg<arg_value_t<T>>)
        return std::string_view(scratch).substr(at.first, at.second);
    else
        return to_wire(v);
}

/// Decodes an argument as its wire type: itself when copied, else a view into the ring.
template <class T>
wire_t<T> get_arg(const char*& p) noexcept {
    if constexpr (is_copied_arg<arg_value_t<T>>) {
        arg_value_t<T> v;
        std::memcpy(&v, p, sizeof v);
        p += sizeof v;
        return v;
    } else {
        std::uint32_t n;
        std::memcpy(&n, p, 4);
        std::string_view s(p + 4, n);
        p += 4 + n;
        return s;
    }
}

/// Decodes the arguments A... and formats fmt with them.
template <class... A>
void render_args(const char* p, std::string_view fmt, buffer& out) {
    (void)p;  // unused without arguments
    std::tuple<wire_t<A>...> values{get_arg<A>(p)...};
    std::apply([&](const auto&... v) { vformat_to(out, fmt, make_format_args(v...)); }, values);
}

inline void put_bytes(char*& p, std::string_view s) noexcept {
    if (s.empty()) return;  // an empty view may have a null data()
    std::memcpy(p, s.data(), s.size());
    p += s.size();
}

/// Bytes of the fields in the ring: per field a 4-byte key length, a kind byte, 3 bytes of padding, then
/// 8 bytes of value or a 4-byte string length, then the key and the string.
inline std::size_t fields_size(std::span<const field> fs) noexcept {
    std::size_t n = 0;
    for (const auto& f : fs) {
        n += 16 + f.key.size();
        if (f.value.type() == field_value::kind::string) n += f.value.as_string().size();
    }
    return n;
}
inline void put_fields(char*& p, std::span<const field> fs) noexcept {
    for (const auto& f : fs) {
        const auto klen = static_cast<std::uint32_t>(f.key.size());
        std::memcpy(p, &klen, 4);
        const auto kind = static_cast<unsigned char>(f.value.type());
        p[4] = static_cast<char>(kind);
        p += 8;
        switch (f.value.type()) {
            case field_value::kind::int_: {
                const std::int64_t v = f.value.as_int();
                std::memcpy(p, &v, 8);
                break;
            }
            case field_value::kind::uint_: {
                const std::uint64_t v = f.value.as_uint();
                std::memcpy(p, &v, 8);
                break;
            }
            case field_value::kind::double_: {
                const double v = f.value.as_double();
                std::memcpy(p, &v, 8);
                break;
            }
            case field_value::kind::bool_: {
                const std::uint64_t v = f.value.as_bool() ? 1 : 0;
                std::memcpy(p, &v, 8);
                break;
            }
            case field_value::kind::string: {
                const std::uint64_t v = f.value.as_string().size();
                std::memcpy(p, &v, 8);
                break;
            }
        }
        p += 8;
        put_bytes(p, f.key);
        if (f.value.type() == field_value::kind::string) put_bytes(p, f.value.as_string());
    }
}
inline void get_fields(const char*& p, std::size_t n, std::vector<field>& out) {
    out.clear();
    for (std::size_t i = 0; i < n; ++i) {
        std::uint32_t klen;
        std::memcpy(&klen, p, 4);
        const auto kind = static_cast<field_value::kind>(static_cast<unsigned char>(p[4]));
        p += 8;
        std::uint64_t raw;
        std::memcpy(&raw, p, 8);
        p += 8;
        const std::string_view key(p, klen);
        p += klen;
        switch (kind) {
            case field_value::kind::int_: out.push_back({key, static_cast<std::int64_t>(raw)}); break;
            case field_value::kind::uint_: out.push_back({key, raw}); break;
            case field_value::kind::double_: {
                double d;
                std::memcpy(&d, &raw, 8);
                out.push_back({key, d});
                break;
            }
            case field_value::kind::bool_: out.push_back({key, raw != 0}); break;
            case field_value::kind::string:
                out.push_back({key, std::string_view(p, static_cast<std::size_t>(raw))});
                p += raw;
                break;
        }
    }
}

}  // namespace detail

/// Makes a pipeline asynchronous: the caller's thread writes a compact record into its own ring, and
/// the backend thread formats it and writes it through the pipeline's filters, formatter and sink.
template <class Pipeline>
class async_pipeline : private detail::async_target {
public:
    async_pipeline(Pipeline p, async_options options = {})
        : detail::async_target{&async_pipeline::process, &async_pipeline::flush_sink},
          level_(static_cast<int>(p.get_level())),
          options_(options),
          keep_location_(keeps_location(p)),
          inner_(std::move(p)) {
        // The level is checked once, at the call (level_); what was accepted then is written even if the
        // level is raised before the backend gets to it, so the inner pipeline lets everything through.
        inner_.set_level(static_cast<runlog::level>(std::numeric_limits<int>::min()));
    }
    async_pipeline(async_pipeline&& o) noexcept
        : detail::async_target{&async_pipeline::process, &async_pipeline::flush_sink},
          level_(o.level_.load()),
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

    /// Returns once every record logged through this pipeline before the call has reached its sink.
    void flush() noexcept {
        wait_for_queued();
        inner_.flush();
    }

    /// Queues a record built by the caller (events, mixed loggers): its message is formatted here.
    void handle(const record& r) noexcept {
        if (static_cast<int>(r.lvl) < level_.load(std::memory_order_relaxed)) return;
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
        wait_for_queued();
        inner_.handle(r);
    }

    /// Returns once the backend (if it was started and still runs) has handed every record queued
    /// before now to its pipeline.
    static void wait_for_queued() noexcept {
        if (!detail::async_backend::started().load(std::memory_order_acquire)) return;
        try {
            auto& backend = detail::async_backend::instance();
            if (!backend.stopped()) backend.wait_processed(detail::read_ticks());
        } catch (...) {  // wait_processed's locking failed: nothing more can be waited for
        }
    }

    /// Queues a format call: the static format string is referred to, the arguments copied.
    template <class Fmt, class... A>
    [[gnu::always_inline]] void enqueue(level l, std::string_view logger, fields fs, const Fmt& fmt,
                                        const A&... a) noexcept {
        if (static_cast<int>(l) < level_.load(std::memory_order_relaxed)) return;
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

    template <runlog::level, class...>
    friend class basic_logger;

    void set_level(runlog::level l) noexcept { level_.store(static_cast<int>(l), std::memory_order_relaxed); }

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
        if (!p) [[unlikely]] {
            const reservation got = reserve_slow(size);
            if (!got.at) return got.dropped;
            ring = got.ring;
            p = got.at;
            heap = got.heap;
            end = got.end;
        }
        // The header, in four 8-byte stores; its timestamp is read once the backend can see that a record
        // is being written (begin), so that the merge waits for it.
        char* rec = heap ? heap : p;
        const auto flags =
            static_cast<std::uint8_t>((with_ctx ? detail::has_context : 0) | (with_loc ? detail::has_location : 0));
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
    [[gnu::noinline]] reservation reserve_slow(std::size_t size) noexcept {
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
                dropped_.fetch_add(1, std::memory_order_relaxed);
                return {nullptr, nullptr, true, nullptr, 0};
            }
            if (spins % 64 == 0) backend_t::instance().wake();  // in case it sleeps; it is busy otherwise
            std::this_thread::yield();
        }
    }

    /// The fixed part after the header: an async_call or an async_message.
    static constexpr std::size_t body_size = 32;
    static_assert(sizeof(detail::async_call) <= body_size && sizeof(detail::async_message) <= body_size);

    /// The backend's side: rebuilds the record and hands it to the pipeline.
    static void process(detail::async_target* target, const detail::async_header& h, const detail::async_ring& ring) {
        if (h.kind == 3) {  // a big record on the heap: write it, then free it
            char* big;
            std::memcpy(&big, reinterpret_cast<const char*>(&h) + sizeof h, sizeof big);
            const std::unique_ptr<char[]> owned(big);
            process(target, *reinterpret_cast<const detail::async_header*>(big), ring);
            return;
        }
        auto& me = *static_cast<async_pipeline*>(target);
        thread_local std::vector<field> fields_buf;
        const char* body = reinterpret_cast<const char*>(&h) + sizeof h;
        const char* p = body + body_size;
        record r;
        r.time = me.monotonic(detail::async_backend::instance().clock().to_time(h.ticks));
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
        me.inner_.handle(r);
        me.report_drops();
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
inline void set_backend_options(const backend_options& o) {
    if (detail::async_backend::started().load(std::memory_order_acquire))
        throw std::logic_error("runlog::set_backend_options: the async backend has already started");
    if (o.queue_bytes < 4096 || (o.queue_bytes & (o.queue_bytes - 1)) != 0)
        throw std::invalid_argument("runlog::backend_options::queue_bytes must be a power of two of at least 4096");
    detail::async_backend::options() = o;
}

/// Creates the calling thread's queue now (it is otherwise made, and its pages touched, on the thread's
/// first async record): call it when a thread starts, to keep that cost off the first log call.
inline void async_preallocate() { (void)detail::async_backend::instance().ring(); }

}  // namespace v0
}  // namespace runlog
