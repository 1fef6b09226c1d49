#pragma once
/// What runlog does when the process dies: on a crash signal (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT) and
/// from std::terminate it writes out what was logged, marks the open runs failed, and lets the signal take its
/// course; on SIGTERM, SIGINT and SIGHUP the open runs end as canceled; at exit and quick_exit the queues drain.
///
/// Installed by default, the first time something holds records a crash could lose (an async pipeline, a
/// buffered file sink, a stored run). Opt out with `RUNLOG_CRASH_HANDLER=0` in the environment, by
/// defining `RUNLOG_NO_CRASH_HANDLER` when compiling, or with `runlog::uninstall_crash_handler()`.
#include <cstdint>
#include <string_view>

#include "detail/build.hpp"
#include "detail/chrono.hpp"

namespace runlog {
inline namespace v0 {

/// Which deaths the handler takes care of.
struct crash_options {
    /// SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, and (where their disposition is the default) SIGXCPU and SIGXFSZ
    /// (a CPU or file size limit reached): runs fail, then the signal goes on
    bool fatal_signals = true;
    bool terminate = true;      ///< std::terminate (an uncaught exception): as a fatal signal
    /// SIGTERM, SIGINT and SIGHUP, where their disposition is the default when the handler is installed (a
    /// program that handles or ignores them keeps doing so): the open runs end as RUN_CANCELED, then the process
    /// ends by the signal as before.
    bool stop_signals = true;
    bool at_exit = true;      ///< exit() and quick_exit(): queues drain, runs still open are marked failed
    bool stack_trace = true;  ///< a fatal signal or std::terminate prints the stack to stderr
    /// How long the handler may take: past it, the signal proceeds whatever is left (a lock the crashed thread
    /// held, a disk that does not answer), so a crash never turns into a hang.
    std::chrono::milliseconds time_limit{3000};
};

/// Installs the handler with these options (replacing the options of an installed one). Safe to call more than
/// once and from any thread. Throws std::system_error when a handler cannot be installed.
RUNLOG_INLINE void install_crash_handler(const crash_options& options = {});
/// Restores the dispositions and the terminate handler that were there before; exit handlers stay registered
/// but do nothing.
RUNLOG_INLINE void uninstall_crash_handler() noexcept;
/// Whether the handler is installed.
RUNLOG_INLINE bool crash_handler_installed() noexcept;

namespace detail {
namespace crash {

/// How the process is ending.
enum class ending : std::uint8_t {
    fatal,     ///< a crash signal or std::terminate
    canceled,  ///< SIGTERM, SIGINT or SIGHUP
    exiting,   ///< exit() or quick_exit()
};

/// What the hooks are told.
struct event {
    ending kind = ending::fatal;
    int signal = 0;            ///< 0 for std::terminate and exit
    const char* name = "";     ///< "SIGSEGV", "std::terminate", "exit"
    std::string_view reason;   ///< a sentence: `The process received SIGSEGV (segmentation fault).`
    std::int64_t deadline_ns;  ///< CLOCK_MONOTONIC time by which the hooks must be done
    int stage = 0;             ///< the stage being run (a hook listed for several stages tells them apart)
};

/// The order in which hooks run: queues first, so that what they held precedes the run's last events; what may
/// wait for a lock the crashed thread holds (a sink's) last, so that the rest is done when the time runs out.
enum stage : int {
    drain = 0,     ///< the async backend writes everything queued and stops
    runs = 1,      ///< open runs end (RUN_FAILURE or RUN_CANCELED) in their event logs and the runs index
    files = 2,     ///< buffered file sinks write out (without waiting for a lock the crashed thread may hold)
    announce = 3,  ///< the runs' last events and a record naming the signal go through the loggers' pipelines
    flush = 4,     ///< every logger flushes its sinks
    outputs = 5,   ///< the capture's reader copies what is left in its pipes
    stages = 6
};

using hook_fn = void (*)(void* context, const event& e) noexcept;

/// One thing to do at the end, a member of what it saves (the list allocates nothing).
struct hook {
    hook_fn fn = nullptr;
    void* context = nullptr;
    int stage = 0;
    hook* prev = nullptr;
    hook* next = nullptr;
    bool listed = false;
};

/// Lists h to call fn(context, event) at `stage`.
RUNLOG_INLINE void add(hook& h, hook_fn fn, void* context, int stage) noexcept;
RUNLOG_INLINE void remove(hook& h) noexcept;

/// Installs the handler with default options unless it was installed before or the program opted out.
RUNLOG_INLINE void install_default() noexcept;

/// CLOCK_MONOTONIC now, in nanoseconds (async-signal-safe).
RUNLOG_INLINE std::int64_t now_ns() noexcept;
/// Sleeps about this long (async-signal-safe).
RUNLOG_INLINE void nap_ns(std::int64_t ns) noexcept;

/// Takes m when it becomes free before deadline_ns: during a crash, a lock the crashed thread holds must not
/// stop the handler.
template <class Mutex>
bool try_lock_until(Mutex& m, std::int64_t deadline_ns) noexcept {
    for (;;) {
        if (m.try_lock()) return true;
        if (now_ns() >= deadline_ns) return false;
        nap_ns(100'000);
    }
}

/// The earlier of the event's deadline and `budget_ms` from now.
inline std::int64_t deadline_within(const event& e, std::int64_t budget_ms) noexcept {
    const std::int64_t d = now_ns() + budget_ms * 1'000'000;
    return d < e.deadline_ns ? d : e.deadline_ns;
}

}  // namespace crash
}  // namespace detail
}  // namespace v0
}  // namespace runlog

#if RUNLOG_DEFINITIONS
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <mutex>
#include <new>
#include <system_error>
#include <typeinfo>

#include <cxxabi.h>
#include <execinfo.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

namespace runlog {
inline namespace v0 {
namespace detail {
namespace crash {

RUNLOG_INLINE std::int64_t now_ns() noexcept {
    timespec t{};
    ::clock_gettime(CLOCK_MONOTONIC, &t);
    return static_cast<std::int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec;
}

RUNLOG_INLINE void nap_ns(std::int64_t ns) noexcept {
    timespec t{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
    while (::nanosleep(&t, &t) != 0 && errno == EINTR) {
    }
}

/// Text for a signal handler: no allocation, no locale, no stdio.
struct line {
    char data[512];
    std::size_t size = 0;
    line& operator<<(std::string_view s) noexcept {
        for (char c : s)
            if (size < sizeof data) data[size++] = c;
        return *this;
    }
    line& operator<<(const char* s) noexcept { return *this << std::string_view(s ? s : ""); }
    line& number(std::uint64_t v, unsigned base = 10) noexcept {
        char digits[24];
        int n = 0;
        do {
            digits[n++] = "0123456789abcdef"[v % base];
            v /= base;
        } while (v);
        while (n) *this << std::string_view(&digits[--n], 1);
        return *this;
    }
    std::string_view view() const noexcept { return {data, size}; }
    void write_to(int fd) const noexcept {
        std::size_t done = 0;
        while (done < size) {
            const ssize_t n = ::write(fd, data + done, size - done);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return;
            done += static_cast<std::size_t>(n);
        }
    }
};

/// The signals the handler takes: the fatal ones, then the stop ones.
/// From first_default_only on, only where the disposition is the default when the handler is installed.
inline constexpr int handled_signals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGXCPU, SIGXFSZ,
                                          SIGTERM, SIGINT, SIGHUP};
inline constexpr int signal_count = sizeof handled_signals / sizeof handled_signals[0];
inline constexpr int first_default_only = 5;
inline constexpr int first_stop_signal = 7;

inline bool is_stop_signal(int sig) noexcept { return sig == SIGTERM || sig == SIGINT || sig == SIGHUP; }

inline const char* signal_name(int sig) noexcept {
    switch (sig) {
        case SIGSEGV: return "SIGSEGV";
        case SIGBUS: return "SIGBUS";
        case SIGFPE: return "SIGFPE";
        case SIGILL: return "SIGILL";
        case SIGABRT: return "SIGABRT";
        case SIGXCPU: return "SIGXCPU";
        case SIGXFSZ: return "SIGXFSZ";
        case SIGTERM: return "SIGTERM";
        case SIGINT: return "SIGINT";
        case SIGHUP: return "SIGHUP";
        default: return "a signal";
    }
}

inline const char* signal_meaning(int sig) noexcept {
    switch (sig) {
        case SIGSEGV: return "segmentation fault";
        case SIGBUS: return "bus error";
        case SIGFPE: return "arithmetic exception";
        case SIGILL: return "illegal instruction";
        case SIGABRT: return "aborted";
        case SIGXCPU: return "CPU time limit exceeded";
        case SIGXFSZ: return "file size limit exceeded";
        case SIGTERM: return "terminated";
        case SIGINT: return "interrupted";
        case SIGHUP: return "hangup";
        default: return "";
    }
}

/// The handler's state; never destroyed (a signal can arrive while static objects are destroyed).
struct state {
    std::mutex install_mutex;  ///< install and uninstall
    std::atomic<bool> installed{false};
    std::atomic<bool> default_done{false};
    crash_options options;
    struct sigaction previous[signal_count]{};
    bool taken[signal_count]{};
    std::terminate_handler previous_terminate = nullptr;
    bool terminate_taken = false;
    bool exit_registered = false;
    char* alt_stack = nullptr;

    std::mutex hooks_mutex;
    hook* first = nullptr;

    /// The thread (kernel id) handling the end; 0 while none. Only one end is handled.
    std::atomic<long> handler_thread{0};
    std::atomic<int> ending_signal{0};  ///< what the watchdog re-raises
    char reason[768]{};
    std::size_t reason_size = 0;
};

inline state& the_state() noexcept {
    static state* const s = [] {
        auto* made = new state;
        // A fork() while another thread adds or removes a hook: the child would inherit the list locked by a
        // thread it does not have, or half changed. The list is held across the fork instead.
        ::pthread_atfork([] { the_state().hooks_mutex.lock(); }, [] { the_state().hooks_mutex.unlock(); },
                         [] { the_state().hooks_mutex.unlock(); });
        return made;
    }();
    return *s;
}

inline long thread_id_now() noexcept { return static_cast<long>(::syscall(SYS_gettid)); }

RUNLOG_INLINE void add(hook& h, hook_fn fn, void* context, int stage) noexcept {
    auto& s = the_state();
    std::lock_guard lock(s.hooks_mutex);
    if (h.listed) return;
    h.fn = fn;
    h.context = context;
    h.stage = stage;
    h.prev = nullptr;
    h.next = s.first;
    if (s.first) s.first->prev = &h;
    s.first = &h;
    h.listed = true;
}

RUNLOG_INLINE void remove(hook& h) noexcept {
    auto& s = the_state();
    std::lock_guard lock(s.hooks_mutex);
    if (!h.listed) return;
    if (h.prev)
        h.prev->next = h.next;
    else
        s.first = h.next;
    if (h.next) h.next->prev = h.prev;
    h.prev = h.next = nullptr;
    h.listed = false;
}

/// Runs every hook, stage by stage, until the deadline.
inline void run_hooks(const event& e) noexcept {
    auto& s = the_state();
    // A crash while a hook was being added or removed leaves the list locked: run nothing then, rather than hang.
    const bool locked = e.kind == ending::exiting ? (s.hooks_mutex.lock(), true)
                                                  : try_lock_until(s.hooks_mutex, deadline_within(e, 200));
    if (!locked) {
        line l;
        (l << "runlog: the crash handler could not reach its list of things to write out; records still queued are lost\n")
            .write_to(STDERR_FILENO);
        return;
    }
    event current = e;
    for (int stage = 0; stage < stages; ++stage) {
        current.stage = stage;
        for (hook* h = s.first; h; h = h->next)
            if (h->stage == stage && h->fn) h->fn(h->context, current);
    }
    s.hooks_mutex.unlock();
}

inline int index_of(int sig) noexcept {
    for (int i = 0; i < signal_count; ++i)
        if (handled_signals[i] == sig) return i;
    return -1;
}

/// Puts back the disposition that was there before runlog's, for one signal.
inline void restore(int sig) noexcept {
    auto& s = the_state();
    const int i = index_of(sig);
    if (i >= 0 && s.taken[i]) {
        ::sigaction(sig, &s.previous[i], nullptr);
    } else {
        struct sigaction dfl {};
        dfl.sa_handler = SIG_DFL;
        sigemptyset(&dfl.sa_mask);
        ::sigaction(sig, &dfl, nullptr);
    }
}

/// A handler stopped past the time limit: the process goes on dying by the signal that started it.
inline void on_watchdog(int) {
    auto& s = the_state();
    line l;
    (l << "runlog: the crash handler did not finish within its time limit (crash_options::time_limit); "
          "ending the process now\n")
        .write_to(STDERR_FILENO);
    int sig = s.ending_signal.load();
    if (sig == 0) sig = SIGABRT;
    // Under the disposition that was there before runlog's (a sanitizer's report, say), then the default.
    restore(sig);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    ::pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
    ::raise(sig);
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    ::sigaction(sig, &dfl, nullptr);
    ::raise(sig);
    ::_exit(128 + sig);
}

inline void arm_watchdog(std::int64_t ms) noexcept {
    struct sigaction sa {};
    sa.sa_handler = &on_watchdog;
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGALRM, &sa, nullptr);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGALRM);
    ::pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
    itimerval t{};
    t.it_value.tv_sec = static_cast<time_t>(ms / 1000);
    t.it_value.tv_usec = static_cast<suseconds_t>((ms % 1000) * 1000);
    if (ms <= 0) t.it_value.tv_usec = 1;
    ::setitimer(ITIMER_REAL, &t, nullptr);
}

inline void disarm_watchdog() noexcept {
    itimerval t{};
    ::setitimer(ITIMER_REAL, &t, nullptr);
}

/// Claims the end for the calling thread. False when another thread claimed it (the caller then waits for the
/// process to end) or when this thread did (a second signal raised by the handling itself).
inline bool claim(long& holder) noexcept {
    long expected = 0;
    const long me = thread_id_now();
    if (the_state().handler_thread.compare_exchange_strong(expected, me)) return true;
    holder = expected;
    return false;
}

/// Handles the end: hooks within the time limit, the watchdog armed for fatal and stop signals.
inline void handle(ending kind, int sig, const char* name, std::string_view reason) noexcept {
    auto& s = the_state();
    const std::int64_t limit = s.options.time_limit.count();
    s.ending_signal.store(sig == 0 ? SIGABRT : sig);
    if (kind != ending::exiting) arm_watchdog(limit);
    event e;
    e.kind = kind;
    e.signal = sig;
    e.name = name;
    e.reason = reason;
    // The hooks keep a margin before the watchdog, so that it fires only when one of them is stuck.
    e.deadline_ns = now_ns() + (limit > 100 ? limit - 100 : limit) * 1'000'000;
    run_hooks(e);
    if (kind != ending::exiting) disarm_watchdog();
}

inline void set_reason(std::string_view a, std::string_view b = {}, std::string_view c = {}, std::string_view d = {},
                       std::string_view e = {}) noexcept {
    auto& s = the_state();
    line l;
    l << a << b << c << d << e;
    const auto v = l.view();
    std::memcpy(s.reason, v.data(), v.size());
    s.reason_size = v.size();
}

inline std::string_view reason() noexcept { return {the_state().reason, the_state().reason_size}; }

inline void print_stack(const char* whose) noexcept {
    void* frames[64];
    const int n = ::backtrace(frames, 64);
    line l;
    (l << "runlog: stack of the thread that " << whose << ":\n").write_to(STDERR_FILENO);
    ::backtrace_symbols_fd(frames, n, STDERR_FILENO);
}

/// Lets the signal take its course under the previous disposition: a fault the kernel raised happens again when
/// the handler returns; a signal sent by a process or raise() is sent again, delivered when the handler returns.
inline void pass_on(int sig, const siginfo_t* info) noexcept {
    restore(sig);
    const bool fault = info && info->si_code > 0 && (sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE || sig == SIGILL);
    if (!fault) ::raise(sig);
}

inline void on_signal(int sig, siginfo_t* info, void*) {
    const int saved_errno = errno;
    long holder = 0;
    while (!claim(holder)) {
        if (holder == thread_id_now()) {  // raised while this thread handled the end (abort() in a hook, or
            pass_on(sig, info);            // after std::terminate): the signal goes on at once
            errno = saved_errno;
            return;
        }
        // Another thread handles the end: a crash ends the process with it; exit hooks are bounded and end,
        // and then this signal is handled.
        nap_ns(1'000'000);
    }
    const bool stop = is_stop_signal(sig);
    {
        line l;
        l << "runlog: the process received " << signal_name(sig) << " (" << signal_meaning(sig) << ")";
        if (info && info->si_code > 0 && (sig == SIGSEGV || sig == SIGBUS))
            (l << " at address 0x").number(reinterpret_cast<std::uintptr_t>(info->si_addr), 16);
        (l << " in thread ").number(static_cast<std::uint64_t>(thread_id_now()));
        l << (stop ? "; ending the open runs as canceled\n" : "; writing out what was logged\n");
        l.write_to(STDERR_FILENO);
    }
    if (!stop && the_state().options.stack_trace) print_stack("received the signal");
    set_reason("The process received ", signal_name(sig), " (", signal_meaning(sig), ").");
    handle(stop ? ending::canceled : ending::fatal, sig, signal_name(sig), reason());
    pass_on(sig, info);
    errno = saved_errno;
}

/// std::terminate: the uncaught exception named, the end handled, then the previous terminate handler (by
/// default std::abort, whose SIGABRT then passes straight on).
[[noreturn]] inline void on_terminate() {
    auto& s = the_state();
    std::terminate_handler previous = s.previous_terminate ? s.previous_terminate : &std::abort;
    long holder = 0;
    if (claim(holder)) {
        const char* type = nullptr;
        const char* what = nullptr;
        char* demangled = nullptr;
        if (std::type_info* t = abi::__cxa_current_exception_type()) {
            int status = 0;
            demangled = abi::__cxa_demangle(t->name(), nullptr, nullptr, &status);
            type = demangled ? demangled : t->name();
            try {
                throw;
            } catch (const std::exception& ex) {
                what = ex.what();
            } catch (...) {
            }
        }
        if (type) {
            if (what)
                set_reason("std::terminate was called after an uncaught exception of type ", type, ": ", what);
            else
                set_reason("std::terminate was called after an uncaught exception of type ", type);
        } else {
            set_reason("std::terminate was called without an active exception");
        }
        std::free(demangled);
        line l;
        (l << "runlog: " << reason() << "; writing out what was logged\n").write_to(STDERR_FILENO);
        if (s.options.stack_trace) print_stack("called std::terminate");
        handle(ending::fatal, SIGABRT, "std::terminate", reason());
    }
    previous();
    std::abort();
}

/// Writes out what was logged as exit() would (queues drained, buffers written, loggers flushed), for a process
/// that ends with _exit(): a process executor's step worker, which must not run its parent's exit handlers.
inline void write_out_before_exit() noexcept {
    auto& s = the_state();
    long holder = 0;
    if (!claim(holder)) return;
    set_reason("The step's process ended.");
    handle(ending::exiting, 0, "exit", reason());
    s.handler_thread.store(0);
}

inline void on_exit() noexcept {
    auto& s = the_state();
    if (!s.installed.load() || !s.options.at_exit) return;
    long holder = 0;
    if (!claim(holder)) return;
    set_reason("The process exited while the run was open.");
    handle(ending::exiting, 0, "exit", reason());
    // The process goes on exiting; a later crash in a destructor is handled again.
    s.handler_thread.store(0);
}

}  // namespace crash
}  // namespace detail

RUNLOG_INLINE void install_crash_handler(const crash_options& options) {
    using namespace detail::crash;
    auto& s = the_state();
    std::lock_guard lock(s.install_mutex);
    s.options = options;
    s.default_done.store(true);
    // backtrace() loads its unwinder on first use, which allocates: do it now, not in a crashed process.
    if (options.stack_trace) {
        void* frames[4];
        (void)::backtrace(frames, 4);
    }
    // A handler for a stack overflow needs a stack of its own; this thread's (the one that set runlog up,
    // usually the main thread) gets one unless it has one.
    if (!s.alt_stack) {
        stack_t current{};
        if (::sigaltstack(nullptr, &current) == 0 && (current.ss_flags & SS_DISABLE)) {
            const std::size_t size = 256 * 1024;
            if (char* mem = static_cast<char*>(std::malloc(size))) {
                stack_t alt{};
                alt.ss_sp = mem;
                alt.ss_size = size;
                if (::sigaltstack(&alt, nullptr) == 0)
                    s.alt_stack = mem;
                else
                    std::free(mem);
            }
        }
    }
    for (int i = 0; i < signal_count; ++i) {
        const int sig = handled_signals[i];
        const bool wanted = i < first_stop_signal ? options.fatal_signals : options.stop_signals;
        if (!wanted) {
            if (s.taken[i]) {
                ::sigaction(sig, &s.previous[i], nullptr);
                s.taken[i] = false;
            }
            continue;
        }
        if (s.taken[i]) continue;
        struct sigaction previous {};
        if (::sigaction(sig, nullptr, &previous) != 0)
            throw std::system_error(errno, std::generic_category(), "runlog: cannot read the disposition of a signal");
        // A program that handles or ignores SIGTERM, SIGINT, SIGHUP, SIGXCPU or SIGXFSZ itself keeps them (one that
        // ignores SIGXFSZ gets EFBIG from its writes instead, and runlog's files keep whole lines).
        const bool program_handles = (previous.sa_flags & SA_SIGINFO) != 0 || previous.sa_handler != SIG_DFL;
        if (i >= first_default_only && program_handles) continue;
        struct sigaction sa {};
        sa.sa_sigaction = &on_signal;
        sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
        sigemptyset(&sa.sa_mask);
        if (::sigaction(sig, &sa, &s.previous[i]) != 0)
            throw std::system_error(errno, std::generic_category(),
                                    std::string("runlog: cannot install the crash handler for ") + signal_name(sig));
        s.taken[i] = true;
    }
    if (options.terminate && !s.terminate_taken) {
        s.previous_terminate = std::set_terminate(&on_terminate);
        s.terminate_taken = true;
    } else if (!options.terminate && s.terminate_taken) {
        std::set_terminate(s.previous_terminate);
        s.terminate_taken = false;
    }
    if (!s.exit_registered) {
        std::atexit([] { on_exit(); });
        std::at_quick_exit([] { on_exit(); });
        s.exit_registered = true;
    }
    s.installed.store(true);
}

RUNLOG_INLINE void uninstall_crash_handler() noexcept {
    using namespace detail::crash;
    auto& s = the_state();
    std::lock_guard lock(s.install_mutex);
    s.default_done.store(true);
    for (int i = 0; i < signal_count; ++i)
        if (s.taken[i]) {
            ::sigaction(handled_signals[i], &s.previous[i], nullptr);
            s.taken[i] = false;
        }
    if (s.terminate_taken) {
        std::set_terminate(s.previous_terminate);
        s.terminate_taken = false;
    }
    s.installed.store(false);
}

RUNLOG_INLINE bool crash_handler_installed() noexcept { return detail::crash::the_state().installed.load(); }

namespace detail {
namespace crash {

RUNLOG_INLINE void install_default() noexcept {
    auto& s = the_state();
    if (s.default_done.load(std::memory_order_acquire)) return;
#if defined(RUNLOG_NO_CRASH_HANDLER)
    s.default_done.store(true);
#else
    if (const char* env = std::getenv("RUNLOG_CRASH_HANDLER");
        env && (std::strcmp(env, "0") == 0 || std::strcmp(env, "off") == 0 || std::strcmp(env, "false") == 0)) {
        s.default_done.store(true);
        return;
    }
    try {
        install_crash_handler();  // twice at once is harmless: installing is idempotent
    } catch (const std::exception& e) {
        line l;
        (l << e.what() << "; runlog runs without it\n").write_to(STDERR_FILENO);
    }
#endif
}

}  // namespace crash
}  // namespace detail
}  // namespace v0
}  // namespace runlog
#endif
