#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "../detail/build.hpp"
#include "clock.hpp"
#include "options.hpp"
#include "ring.hpp"

namespace runlog {
inline namespace v0 {
namespace detail {

/// The one backend thread: drains every thread's ring, merges records in timestamp order, and hands
/// them to their pipelines. Callers touch only the thread-local and static state below on their fast
/// path; the thread, its locks and its lists are in impl, compiled with the definitions.
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
    bool stopped() const noexcept { return stopped_flag().load(std::memory_order_acquire); }

    /// The backend, started on first use. It is never destroyed: at exit it drains every queue and stops,
    /// and loggers that outlive it (statics) then write from their own thread.
    RUNLOG_INLINE static async_backend& instance();

    /// The calling thread's ring, created (and its memory touched) on first use.
    RUNLOG_INLINE async_ring& ring();
    /// Wakes the backend (a producer waiting for room, or a flush).
    RUNLOG_INLINE void wake() noexcept;
    /// Returns once every record committed with a timestamp before `t` has been handed to its pipeline.
    RUNLOG_INLINE void wait_processed(std::uint64_t t);
    /// Makes the backend drop every reference to target (a pipeline being destroyed, whose records have
    /// all been written); returns once a pass has ended after the request.
    RUNLOG_INLINE void forget(async_target* target);
    /// How many thread queues exist (a thread's is released once it has exited and been drained).
    RUNLOG_INLINE std::size_t queues();
    /// Drains every queue and stops the thread; later records are written by their callers.
    RUNLOG_INLINE void stop() noexcept;

    /// In a child of fork() that goes on logging (a process executor's step worker): a backend of the child's
    /// own, with a thread and empty queues, if the parent had started one. The queues the child inherited
    /// hold the parent's records, which the parent writes: they are left alone.
    RUNLOG_INLINE static void restart_in_child();
    /// Around a fork() that the child goes on from (a process executor's): the backend thread is parked
    /// between passes, so that it holds no lock (its allocator's included) that the child would inherit held.
    /// Does nothing when no backend runs.
    RUNLOG_INLINE static void pause_for_fork();
    RUNLOG_INLINE static void resume_after_fork();

private:
    RUNLOG_INLINE async_backend();
    static async_backend*& current() noexcept {
        static async_backend* b = nullptr;
        return b;
    }

    struct impl;
    impl* impl_;  // owned; the backend lives until the process ends
};

/// Returns once the backend (if it was started and still runs) has handed every record queued before now
/// to its pipeline.
RUNLOG_INLINE void wait_for_queued() noexcept;

}  // namespace detail
}  // namespace v0
}  // namespace runlog

#if RUNLOG_DEFINITIONS
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <vector>

#if defined(__linux__)
#include <pthread.h>
#include <sched.h>
#endif

#include "../crash.hpp"
#include "../detail/threads.hpp"
#include "../sinks/sink.hpp"

namespace runlog {
inline namespace v0 {
namespace detail {

struct async_backend::impl {
    struct ring_owner {
        std::shared_ptr<async_ring> ring;
        ~ring_owner() {
            if (ring) ring->orphaned.store(true, std::memory_order_release);
            // The backend frees an orphaned ring once drained: a record logged later on this thread (from
            // exit()'s handlers or static destructors, which run after the thread's own) is written by the thread.
            async_backend::cached_ring() = nullptr;
            released() = true;
        }
    };
    /// Whether the calling thread's ring_owner has been destroyed (a plain thread-local, never destroyed).
    static bool& released() noexcept {
        thread_local bool r = false;
        return r;
    }

    impl() {
        tsc_enabled().store(options().use_tsc, std::memory_order_relaxed);
        started().store(true, std::memory_order_release);
        thread_.start([](void* self) { static_cast<impl*>(self)->run(); }, this);
        crash::add(crash_hook_, &on_crash, this, crash::drain);
        crash::install_default();
    }

    /// The process is ending (a crash, a stop signal, exit): the backend writes what the queues hold and stops,
    /// within the handler's time; records logged later are written by their callers.
    static void on_crash(void* self, const crash::event& e) noexcept {
        auto& b = *static_cast<impl*>(self);
        if (b.stopped() || b.abandoned_) return;
        if (b.thread_.is_current()) {
            crash::line l;
            (l << "runlog: the async backend's own thread crashed; the records still queued are lost\n").write_to(2);
            return;
        }
        b.stop_.store(true, std::memory_order_release);
        if (b.wake_mutex_.try_lock()) {  // never wait for the lock: the crashed thread may hold it
            b.wake_requested_ = true;
            b.wake_mutex_.unlock();
            b.wake_cv_.notify_one();
        }
        while (!b.stopped() && crash::now_ns() < e.deadline_ns) crash::nap_ns(200'000);
        if (!b.stopped()) {
            crash::line l;
            (l << "runlog: the async backend did not write out its queues within the crash handler's time limit\n")
                .write_to(2);
        }
    }

    /// The backend thread.
    void run() {
#if defined(__linux__)
        ::pthread_setname_np(::pthread_self(), "runlog-backend");  // what top -H and /proc show
#endif
        pin_to(options().backend_cpu);
        // Records queued meanwhile wait in their rings: the backend converts timestamps only once
        // calibrated, and the callers never wait for it.
        clock_.start();
        slack_ = clock_.ticks_for(std::chrono::microseconds(20));
        loop();
    }

    static backend_options& options() noexcept { return async_backend::options(); }
    static std::atomic<bool>& started() noexcept { return async_backend::started(); }
    static std::atomic<bool>& stopped_flag() noexcept { return async_backend::stopped_flag(); }
    bool stopped() const noexcept { return stopped_flag().load(std::memory_order_acquire); }

    /// The calling thread's hold on its ring.
    static ring_owner& owner_of_thread() {
        thread_local ring_owner o;
        return o;
    }

    async_ring& ring() {
        if (released()) throw std::runtime_error("this thread's queue was released at its end");
        ring_owner& owner = owner_of_thread();
        if (!owner.ring) [[unlikely]] {
            owner.ring = std::make_shared<async_ring>(options().queue_bytes, thread_id());
            std::lock_guard lock(rings_mutex_);
            rings_.push_back(owner.ring);
            rings_version_.fetch_add(1, std::memory_order_release);
            async_backend::cached_ring() = owner.ring.get();
        }
        return *owner.ring;
    }

    void wake() noexcept {
        {
            std::lock_guard lock(wake_mutex_);
            wake_requested_ = true;
        }
        wake_cv_.notify_one();
    }

    void wait_processed(std::uint64_t t) {
        std::unique_lock lock(done_mutex_);
        while (done_upto_ <= t && !stopped()) {
            lock.unlock();
            wake();
            lock.lock();
            done_cv_.wait_for(lock, std::chrono::milliseconds(1), [&] { return done_upto_ > t || stopped(); });
        }
    }

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

    std::size_t queues() {
        std::lock_guard lock(rings_mutex_);
        return rings_.size();
    }

    void stop() noexcept {
        stop_.store(true, std::memory_order_release);
        wake();
        if (thread_.joinable()) thread_.join();
    }

    /// Pins the calling thread to one CPU; a CPU that cannot be used is reported once, and the thread
    /// runs unpinned.
    static void pin_to(int cpu) noexcept {
        if (cpu < 0) return;
#if defined(__linux__)
        cpu_set_t set;
        CPU_ZERO(&set);
        if (cpu < CPU_SETSIZE) CPU_SET(static_cast<std::size_t>(cpu), &set);
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
        std::unique_lock busy(busy_);
        for (;;) {
            if (pause_requested_.load(std::memory_order_acquire)) [[unlikely]] {
                busy.unlock();  // parked: the forking thread takes busy_
                {
                    std::unique_lock p(pause_mutex_);
                    while (pause_requested_.load(std::memory_order_acquire))
                        pause_cv_.wait_for(p, std::chrono::milliseconds(10));
                }
                busy.lock();
            }
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
            busy.unlock();  // asleep: a fork need not wait for the next pass
            {
                std::unique_lock lock(wake_mutex_);
                wake_cv_.wait_for(lock, options().idle_sleep, [&] { return wake_requested_; });
                wake_requested_ = false;
            }
            busy.lock();
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
                best_h->target->process(best_h->target, *best_h, *best->ring, clock_);
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

    tick_clock clock_;
    std::uint64_t slack_ = 0;
    std::mutex rings_mutex_;
    std::vector<std::shared_ptr<async_ring>> rings_;
    std::atomic<std::uint64_t> rings_version_{0};
    std::vector<async_target*> dirty_;
    std::mutex forget_mutex_;
    native_condition forget_cv_;
    std::vector<async_target*> forget_;
    std::uint64_t pass_gen_ = 0;
    std::mutex wake_mutex_;
    native_condition wake_cv_;
    bool wake_requested_ = false;
    std::mutex done_mutex_;
    native_condition done_cv_;
    std::uint64_t done_upto_ = 0;
    std::atomic<bool> stop_{false};
    native_thread thread_;
    crash::hook crash_hook_;
    bool abandoned_ = false;  ///< the parent's backend, in a child that started its own
    std::mutex busy_;          ///< held by the backend thread except while it sleeps or is parked
    std::atomic<bool> pause_requested_{false};
    std::mutex pause_mutex_;
    native_condition pause_cv_;
};

RUNLOG_INLINE async_backend::async_backend() : impl_(new impl) {}

RUNLOG_INLINE async_backend& async_backend::instance() {
    static const bool made = [] {
        current() = new async_backend;
        std::atexit([] { instance().stop(); });
        // A child of fork() has no backend thread: its records are written by their callers, as after exit,
        // and a flush waits for nothing (the queues it inherited are the parent's to write, not its own),
        // unless it starts a backend of its own (restart_in_child).
        ::pthread_atfork(nullptr, nullptr, [] { stopped_flag().store(true, std::memory_order_release); });
        return true;
    }();
    (void)made;
    return *current();
}

RUNLOG_INLINE void async_backend::pause_for_fork() {
    if (!started().load(std::memory_order_acquire) || stopped_flag().load(std::memory_order_acquire)) return;
    impl& b = *instance().impl_;
    b.pause_requested_.store(true, std::memory_order_release);
    b.wake();
    b.busy_.lock();
}

RUNLOG_INLINE void async_backend::resume_after_fork() {
    if (!started().load(std::memory_order_acquire)) return;
    impl& b = *instance().impl_;
    if (!b.pause_requested_.load(std::memory_order_acquire)) return;
    b.busy_.unlock();
    {
        std::lock_guard p(b.pause_mutex_);
        b.pause_requested_.store(false, std::memory_order_release);
    }
    b.pause_cv_.notify_all();
}

RUNLOG_INLINE void async_backend::restart_in_child() {
    if (!started().load(std::memory_order_acquire)) return;
    async_backend& old = instance();
    // The parent's backend stays as the fork copied it (its thread does not exist here, its locks may be held
    // by threads that do not either): never used again, and its crash hook does nothing.
    old.impl_->abandoned_ = true;
    crash::remove(old.impl_->crash_hook_);
    impl::owner_of_thread().ring.reset();  // this thread's ring holds the parent's records
    cached_ring() = nullptr;
    stopped_flag().store(false, std::memory_order_release);
    current() = new async_backend;
}

RUNLOG_INLINE async_ring& async_backend::ring() { return impl_->ring(); }
RUNLOG_INLINE void async_backend::wake() noexcept { impl_->wake(); }
RUNLOG_INLINE void async_backend::wait_processed(std::uint64_t t) { impl_->wait_processed(t); }
RUNLOG_INLINE void async_backend::forget(async_target* target) { impl_->forget(target); }
RUNLOG_INLINE std::size_t async_backend::queues() { return impl_->queues(); }
RUNLOG_INLINE void async_backend::stop() noexcept { impl_->stop(); }

RUNLOG_INLINE void wait_for_queued() noexcept {
    if (!async_backend::started().load(std::memory_order_acquire)) return;
    try {
        auto& backend = async_backend::instance();
        if (!backend.stopped()) backend.wait_processed(read_ticks());
    } catch (...) {  // wait_processed's locking failed: nothing more can be waited for
    }
}

}  // namespace detail
}  // namespace v0
}  // namespace runlog
#endif
