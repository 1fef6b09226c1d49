#pragma once
/// A thread and a condition variable on POSIX threads, for the definitions of the async backend, the capture
/// and the config watcher: <thread> and <condition_variable> (with C++20's stop tokens) cost every file that
/// compiles those definitions more than the rest of them.
#include <cerrno>
#include <cstring>
#include <ctime>
#include <mutex>
#include <stdexcept>
#include <string>

#include <pthread.h>
#include <signal.h>

#include "chrono.hpp"

namespace runlog {
inline namespace v0 {
namespace detail {

/// A joinable thread running fn(arg); started by start(), joined by join() or the destructor.
class native_thread {
public:
    native_thread() = default;
    native_thread(const native_thread&) = delete;
    native_thread& operator=(const native_thread&) = delete;
    ~native_thread() { join(); }

    /// Starts fn(arg) on a new thread; throws std::runtime_error naming the reason when it cannot. The thread
    /// blocks the signals a process is sent to stop or to be told something (SIGTERM, SIGINT, SIGHUP, SIGQUIT,
    /// SIGUSR1, SIGUSR2, SIGCHLD, SIGWINCH): the kernel gives such a signal to a thread that does not block it,
    /// and runlog's threads must not take the program's (its handler's work would happen beside the program's
    /// threads, or not at all).
    void start(void (*fn)(void*), void* arg) {
        fn_ = fn;
        arg_ = arg;
        sigset_t quiet, old;
        sigemptyset(&quiet);
        for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGCHLD, SIGWINCH}) sigaddset(&quiet, sig);
        ::pthread_sigmask(SIG_BLOCK, &quiet, &old);  // the new thread starts with the caller's mask
        const int err = ::pthread_create(&id_, nullptr, &native_thread::run, this);
        ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
        if (err != 0) throw std::runtime_error(std::string("cannot start a thread: ") + std::strerror(err));
        joinable_ = true;
    }
    bool joinable() const noexcept { return joinable_; }
    /// Whether the calling thread is this thread.
    bool is_current() const noexcept { return joinable_ && ::pthread_equal(id_, ::pthread_self()) != 0; }
    void join() noexcept {
        if (!joinable_) return;
        ::pthread_join(id_, nullptr);
        joinable_ = false;
    }

private:
    static void* run(void* self) {
        auto* t = static_cast<native_thread*>(self);
        t->fn_(t->arg_);
        return nullptr;
    }

    pthread_t id_{};
    void (*fn_)(void*) = nullptr;
    void* arg_ = nullptr;
    bool joinable_ = false;
};

/// A condition variable for a std::mutex, timed on the monotonic clock.
class native_condition {
public:
    native_condition() noexcept {
        pthread_condattr_t attr;
        ::pthread_condattr_init(&attr);
        ::pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
        ::pthread_cond_init(&cond_, &attr);
        ::pthread_condattr_destroy(&attr);
    }
    native_condition(const native_condition&) = delete;
    native_condition& operator=(const native_condition&) = delete;
    ~native_condition() { ::pthread_cond_destroy(&cond_); }

    void notify_one() noexcept { ::pthread_cond_signal(&cond_); }
    void notify_all() noexcept { ::pthread_cond_broadcast(&cond_); }

    /// Waits until notified or `timeout` has passed (the lock is held again on return; wake-ups may be spurious).
    void wait_for(std::unique_lock<std::mutex>& lock, std::chrono::nanoseconds timeout) noexcept {
        timespec at{};
        ::clock_gettime(CLOCK_MONOTONIC, &at);
        const long long ns = at.tv_nsec + timeout.count() % 1'000'000'000;
        at.tv_sec += static_cast<time_t>(timeout.count() / 1'000'000'000 + ns / 1'000'000'000);
        at.tv_nsec = static_cast<long>(ns % 1'000'000'000);
        ::pthread_cond_timedwait(&cond_, lock.mutex()->native_handle(), &at);
    }
    /// Waits until pred() holds or `timeout` has passed; returns pred().
    template <class Pred>
    bool wait_for(std::unique_lock<std::mutex>& lock, std::chrono::nanoseconds timeout, Pred pred) noexcept {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (!pred()) {
            const auto left = deadline - std::chrono::steady_clock::now();
            if (left <= std::chrono::nanoseconds::zero()) return pred();
            wait_for(lock, std::chrono::duration_cast<std::chrono::nanoseconds>(left));
        }
        return true;
    }

private:
    pthread_cond_t cond_;
};

}  // namespace detail
}  // namespace v0
}  // namespace runlog
