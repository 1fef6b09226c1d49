#pragma once
/// One thread that writes out the buffers of file sinks at least every interval, also while the program is
/// idle, so that `tail -f` sees a record soon and a crash loses at most that window; included by the file
/// sinks' definitions.
#include <memory>
#include <mutex>
#include <new>
#include <vector>

#include "../crash.hpp"
#include "chrono.hpp"
#include "threads.hpp"

namespace runlog {
inline namespace v0 {
namespace detail {

class periodic_flusher {
public:
    /// Writes out the target's buffer (the target locks what it must).
    using flush_fn = void (*)(void* target) noexcept;
    /// The same while the process dies: gives up on a lock not free by the deadline (CLOCK_MONOTONIC ns).
    using crash_fn = void (*)(void* target, std::int64_t deadline_ns) noexcept;
    /// Around fork(): take the target's lock and write out its buffer (true), or release the lock (false).
    using fork_fn = void (*)(void* target, bool before) noexcept;

    /// The process's flusher. Never destroyed: its thread may still run while static objects are destroyed
    /// at exit, and it only ever holds weak references to what it flushes.
    static periodic_flusher& instance() {
        static periodic_flusher* const flusher = new periodic_flusher;
        return *flusher;
    }

    /// Writes out a sink state's log file (its `file`, under its `mutex`) every `every` while the state lives,
    /// and when the process crashes or exits (`every` zero: only then); nothing of that when it is unbuffered.
    /// Buffered or not, the state's lock is held across fork(), so that a child never inherits it locked by a
    /// thread it does not have, nor a buffer the parent will write too.
    template <class State>
    void add_file_state(const std::shared_ptr<State>& state, std::size_t buffer_size, std::chrono::milliseconds every) {
        if (buffer_size == 0) every = std::chrono::milliseconds(0);
        add(
            state,
            [](void* target) noexcept {
                auto& s = *static_cast<State*>(target);
                std::lock_guard lock(s.mutex);
                s.file.write_out();
            },
            every,
            [](void* target, std::int64_t deadline_ns) noexcept {
                auto& s = *static_cast<State*>(target);
                if (!crash::try_lock_until(s.mutex, deadline_ns)) return;  // the crashed thread was writing it
                s.file.write_out();
                s.mutex.unlock();
            },
            [](void* target, bool before) noexcept {
                auto& s = *static_cast<State*>(target);
                if (before) {
                    s.mutex.lock();
                    s.file.write_out();
                } else {
                    s.mutex.unlock();
                }
            });
    }

    /// Flushes target through fn every `every` (never when zero) for as long as target lives, and through
    /// crash_flush when the process ends; starts the thread on first use.
    /// Throws std::runtime_error when the thread cannot start.
    void add(std::weak_ptr<void> target, flush_fn fn, std::chrono::milliseconds every, crash_fn crash_flush = nullptr,
             fork_fn around_fork = nullptr) {
        std::lock_guard lock(mutex_);
        const bool timed = every.count() > 0;
        if (timed && every < std::chrono::milliseconds(1)) every = std::chrono::milliseconds(1);
        const auto due = timed ? std::chrono::steady_clock::now() + every : std::chrono::steady_clock::time_point::max();
        std::erase_if(entries_, [](const entry& e) { return e.target.expired(); });  // sinks gone meanwhile
        entries_.push_back({std::move(target), fn, crash_flush, around_fork, every, due});
        if (!timed) return;
        if (!started_) {
            thread_.start(&periodic_flusher::run, this);
            started_ = true;
        }
        wake_.notify_one();
    }

private:
    struct entry {
        std::weak_ptr<void> target;
        flush_fn fn;
        crash_fn crash_flush;
        fork_fn around_fork;
        std::chrono::milliseconds every;
        std::chrono::steady_clock::time_point due;
    };

    periodic_flusher() {
        ::pthread_atfork(&lock_for_fork, &release_after_fork, &reset_in_child);
        crash::add(crash_hook_, &on_crash, this, crash::files);
        crash::install_default();
    }

    /// The process is ending: every buffer is written out, without waiting past the deadline for a lock that
    /// the crashed thread may hold (that file then keeps what it had).
    static void on_crash(void* self, const crash::event& e) noexcept {
        auto& f = *static_cast<periodic_flusher*>(self);
        if (!crash::try_lock_until(f.mutex_, crash::deadline_within(e, 500))) return;
        for (auto& entry : f.entries_) {
            if (!entry.crash_flush) continue;
            // A weak reference locked and released here: the count is atomic, and a sink destroyed meanwhile
            // (by exit's destructors) is skipped.
            if (auto target = entry.target.lock()) entry.crash_flush(target.get(), crash::deadline_within(e, 200));
        }
        f.mutex_.unlock();
    }

    static void run(void* self) { static_cast<periodic_flusher*>(self)->loop(); }

    void loop() {
        ::pthread_setname_np(::pthread_self(), "runlog-flush");
        std::vector<std::pair<std::shared_ptr<void>, flush_fn>> due;
        std::unique_lock lock(mutex_);
        for (;;) {
            const auto now = std::chrono::steady_clock::now();
            auto next = now + std::chrono::hours(1);
            std::size_t kept = 0;
            for (std::size_t i = 0; i < entries_.size(); ++i) {
                entry& e = entries_[i];
                auto target = e.target.lock();
                if (!target) continue;  // its sink is gone: dropped
                if (e.every.count() > 0 && e.due <= now) {
                    due.emplace_back(std::move(target), e.fn);
                    e.due = now + e.every;
                }
                if (e.due < next) next = e.due;
                if (kept != i) entries_[kept] = std::move(e);
                ++kept;
            }
            entries_.resize(kept);
            if (!due.empty()) {
                lock.unlock();  // a sink's lock is never taken under the flusher's
                for (auto& [target, fn] : due) fn(target.get());
                due.clear();  // releases the sinks before sleeping
                lock.lock();
                continue;
            }
            wake_.wait_for(lock, next - now);
        }
    }

    // fork(): every file state is locked and written out first, and stays locked until the fork is done, so the
    // child neither inherits a lock held by a thread it does not have nor buffered records the parent writes
    // too; the child has no flusher thread and gets one again when it adds a sink.
    static void lock_for_fork() noexcept {
        auto& f = instance();
        f.mutex_.lock();  // held across the fork: add() and the flusher thread wait for it
        try {
            f.held_.clear();
            for (auto& e : f.entries_)
                if (e.around_fork)
                    if (auto target = e.target.lock()) f.held_.emplace_back(std::move(target), e.around_fork);
        } catch (...) {  // out of memory: the states already listed are held
        }
        for (auto& [target, fn] : f.held_) fn(target.get(), true);  // each locked, its buffer written out
    }
    static void release_after_fork() noexcept {
        auto& f = instance();
        for (auto& [target, fn] : f.held_) fn(target.get(), false);
        f.held_.clear();
        f.mutex_.unlock();
    }
    static void reset_in_child() noexcept {
        auto& f = instance();
        f.started_ = false;
        new (&f.thread_) native_thread();  // the parent's thread does not exist here; never join it
        release_after_fork();
    }

    std::mutex mutex_;
    native_condition wake_;
    std::vector<entry> entries_;
    native_thread thread_;
    bool started_ = false;
    crash::hook crash_hook_;
    /// The states locked across a fork.
    std::vector<std::pair<std::shared_ptr<void>, fork_fn>> held_;
};

}  // namespace detail
}  // namespace v0
}  // namespace runlog
