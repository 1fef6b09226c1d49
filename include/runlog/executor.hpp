#pragma once
/// runlog::process_executor: Dagster's multiprocess executor. Each step runs in a child process of its own
/// (fork), with its stdout and stderr captured into the step's compute logs, up to max_concurrent at once and
/// in the order its dependencies allow; a step that crashes, exits or hangs takes down only itself.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "capture.hpp"
#include "crash.hpp"
#include "detail/build.hpp"
#include "run.hpp"
#include "source_location.hpp"

namespace runlog {
inline namespace v0 {

/// How a process executor runs its steps.
struct executor_options {
    /// Steps running at once; 0: the number of CPUs online, as Dagster's default.
    int max_concurrent = 0;
    /// A step still running after this long is stopped (SIGTERM, then SIGKILL) and fails; zero: no limit.
    std::chrono::milliseconds step_timeout{0};
    /// How long a stopped step's process has between SIGTERM and SIGKILL.
    std::chrono::milliseconds kill_grace{2000};
    /// The steps' stdout and stderr go on to the parent's too (their console lines included), besides
    /// their compute logs.
    bool tee = true;
};

/// How one step of a process executor runs.
struct process_step_options {
    /// Steps that must succeed before this one starts, submitted before it; when one of them fails or is
    /// skipped, this step is skipped.
    std::vector<std::string> after{};
    /// Resources initialized in the step's process before it starts (RESOURCE_INIT_STARTED and _SUCCESS);
    /// empty: none.
    std::string resources = "io_manager";
    /// This step's time limit; negative: the executor's step_timeout, zero: none.
    std::chrono::milliseconds timeout{-1};
};

/// Where a step of a process executor is.
enum class step_status : std::uint8_t { pending, running, succeeded, failed, skipped };

namespace detail {
/// A step's work, type-erased.
struct step_body {
    virtual ~step_body() = default;
    virtual void operator()(step& s) = 0;
};
template <class F>
struct step_body_of final : step_body {
    explicit step_body_of(F f) : fn(std::move(f)) {}
    void operator()(step& s) override {
        if constexpr (std::is_invocable_v<F&, step&>)
            fn(s);
        else
            fn();
    }
    F fn;
};
}  // namespace detail

/// Runs steps of a run each in a child process (fork, no exec), as Dagster's multiprocess executor:
/// STEP_WORKER_STARTING in the parent, then in the child STEP_WORKER_STARTED, the resources' init,
/// LOGS_CAPTURED (the child's pid), STEP_START, the step's records and STEP_SUCCESS or STEP_FAILURE. The
/// child's records go to the run's event log (appended whole, one write each, beside the parent's) and
/// through the logger's pipelines in the child. A child that dies before its step ends (a signal, exit(),
/// the step's timeout) gets its STEP_FAILURE from the parent, naming the cause.
///
/// The step's function runs in a forked copy of the parent: it sees the parent's memory as it was at the
/// fork, and only the thread that forked exists there. Its results reach the parent only through files
/// (or other means between processes); it must not use locks, thread pools or objects that other threads of
/// the parent were using. Use the executor from the thread that opened it; its end waits for every step.
class process_executor {
public:
    RUNLOG_INLINE explicit process_executor(run& r, executor_options options = {});
    process_executor(const process_executor&) = delete;
    process_executor& operator=(const process_executor&) = delete;
    /// Waits for every step (wait()); when an exception is leaving the scope, stops the running ones instead.
    RUNLOG_INLINE ~process_executor();

    /// Adds a step running fn (which may take the runlog::step&) in a process of its own; it starts as soon as
    /// its dependencies have succeeded and a slot is free. Throws std::invalid_argument for an empty or
    /// repeated key, or a dependency not submitted before.
    template <class F>
    void submit(std::string key, process_step_options options, F&& fn,
                source_location loc = source_location::current()) {
        add(std::move(key), std::move(options),
            std::make_unique<detail::step_body_of<std::decay_t<F>>>(std::forward<F>(fn)), loc);
    }
    template <class F>
    void submit(std::string key, F&& fn, source_location loc = source_location::current()) {
        submit(std::move(key), process_step_options{}, std::forward<F>(fn), loc);
    }

    /// Runs the submitted steps to their end; true when every one succeeded.
    RUNLOG_INLINE bool wait();
    /// Stops the running steps (SIGTERM to their processes, SIGKILL after kill_grace; each fails with
    /// runlog::canceled) and starts no more (they are skipped); wait() then returns false. Async-signal-safe:
    /// a program's own SIGINT handler may call it.
    RUNLOG_INLINE void cancel() noexcept;
    /// Where the step named key is (pending for an unknown key).
    RUNLOG_INLINE step_status status(std::string_view key) const noexcept;
    /// The pid of the process that ran (or runs) the step named key, or 0.
    RUNLOG_INLINE int pid(std::string_view key) const noexcept;

private:
    struct node;

    RUNLOG_INLINE void add(std::string key, process_step_options options, std::unique_ptr<detail::step_body> body,
                           source_location loc);
    RUNLOG_INLINE node* find(std::string_view key) const noexcept;
    RUNLOG_INLINE void start_ready();
    RUNLOG_INLINE void launch(node& n);
    [[noreturn]] RUNLOG_INLINE void work_in_child(node& n, int result_fd) noexcept;
    RUNLOG_INLINE int capture_directly(node& n, std::string& problem);
    RUNLOG_INLINE void wait_a_moment();
    RUNLOG_INLINE void reap();
    RUNLOG_INLINE void finish(node& n, int wait_status);
    RUNLOG_INLINE void end_step(node& n, bool failed) noexcept;
    RUNLOG_INLINE void stop_running() noexcept;
    RUNLOG_INLINE void stop_all(const char* why) noexcept;
    RUNLOG_INLINE static void on_crash(void* self, const detail::crash::event& e) noexcept;
    std::size_t slots() const noexcept { return static_cast<std::size_t>(options_.max_concurrent); }

    run& run_;
    executor_options options_;
    std::vector<std::unique_ptr<node>> nodes_;
    /// The pids of the running children (0 in a free slot), read by the crash handler.
    std::unique_ptr<std::atomic<int>[]> live_;
    int running_ = 0;
    int exceptions_ = 0;
    std::atomic<bool> cancel_requested_{false};
    bool canceled_ = false;                  ///< the cancel was seen by wait(): nothing more starts
    const char* stop_reason_ = "";           ///< why the running steps were stopped
    std::uint32_t owner_pid_;
    detail::crash::hook crash_hook_;
};

}  // namespace v0
}  // namespace runlog

#if RUNLOG_DEFINITIONS
#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <exception>
#include <optional>
#include <stdexcept>

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/prctl.h>
#endif

#include "async/backend.hpp"
#include "events.hpp"

namespace runlog {
inline namespace v0 {

struct process_executor::node {
    std::string key;
    process_step_options options;
    std::unique_ptr<detail::step_body> body;
    source_location loc;
    step_status status = step_status::pending;
    int pid = 0;
    int pidfd = -1;      ///< becomes readable when the child ends (Linux 5.3+), else -1 and the executor polls
    int result_fd = -1;  ///< the child writes 'S' or 'F' here once its step has ended
    int slot = -1;       ///< its index in live_
    std::chrono::steady_clock::time_point started{};
    std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
    std::chrono::steady_clock::time_point kill_at = std::chrono::steady_clock::time_point::max();
    bool timed_out = false;
    bool stopped = false;  ///< stopped by the executor (an exception leaving its scope)
};

namespace detail {
/// "SIGSEGV (Segmentation fault)" for a signal number.
inline std::string describe_signal(int sig) {
    std::string out;
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
    if (const char* abbrev = ::sigabbrev_np(sig)) out = std::string("SIG") + abbrev;
#endif
    if (out.empty()) out = "signal " + std::to_string(sig);
    if (const char* text = ::strsignal(sig)) out += std::string(" (") + text + ")";
    return out;
}
}  // namespace detail

RUNLOG_INLINE process_executor::process_executor(run& r, executor_options options)
    : run_(r), options_(options), owner_pid_(process_id()) {
    if (options_.max_concurrent <= 0) {
        const long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
        options_.max_concurrent = cpus > 0 ? static_cast<int>(cpus) : 1;
    }
    live_ = std::make_unique<std::atomic<int>[]>(static_cast<std::size_t>(options_.max_concurrent));
    for (std::size_t i = 0; i < slots(); ++i) live_[i].store(0);
    exceptions_ = std::uncaught_exceptions();
    if (r.state_->executor == "in_process")
        detail::report_problem("process_executor: run " + r.id() +
                               " was opened with run_options{.executor = \"in_process\"}, so its first and last "
                               "ENGINE_EVENTs say its steps run in process; open it with .executor = \"multiprocess\"");
    // Stage drain, before the run's: the children are stopped and have written their last records before the
    // parent writes the run's end.
    detail::crash::add(crash_hook_, &on_crash, this, detail::crash::drain);
    detail::crash::install_default();
}

RUNLOG_INLINE process_executor::~process_executor() {
    if (process_id() == owner_pid_) {
        if (std::uncaught_exceptions() > exceptions_) {
            stop_running();
        } else {
            try {
                wait();
            } catch (...) {
                stop_running();
            }
        }
    }
    detail::crash::remove(crash_hook_);
}

RUNLOG_INLINE process_executor::node* process_executor::find(std::string_view key) const noexcept {
    for (const auto& n : nodes_)
        if (n->key == key) return n.get();
    return nullptr;
}

RUNLOG_INLINE void process_executor::add(std::string key, process_step_options options,
                                         std::unique_ptr<detail::step_body> body, source_location loc) {
    if (key.empty()) throw std::invalid_argument("process_executor: a step needs a key");
    if (key.find('/') != std::string::npos || key.find('\0') != std::string::npos || key == "." || key == "..")
        throw std::invalid_argument("process_executor: step key \"" + key +
                                    "\" cannot name its compute log files (no '/', NUL, \".\" or \"..\")");
    if (find(key)) throw std::invalid_argument("process_executor: step \"" + key + "\" was submitted already");
    for (const auto& d : options.after) {
        if (d == key) throw std::invalid_argument("process_executor: step \"" + key + "\" cannot wait for itself");
        if (!find(d))
            throw std::invalid_argument("process_executor: step \"" + key + "\" waits for \"" + d +
                                        "\", which was not submitted before it");
    }
    auto n = std::make_unique<node>();
    n->key = std::move(key);
    n->options = std::move(options);
    n->body = std::move(body);
    n->loc = loc;
    nodes_.push_back(std::move(n));
    start_ready();
}

RUNLOG_INLINE step_status process_executor::status(std::string_view key) const noexcept {
    const node* n = find(key);
    return n ? n->status : step_status::pending;
}

RUNLOG_INLINE int process_executor::pid(std::string_view key) const noexcept {
    const node* n = find(key);
    return n ? n->pid : 0;
}

RUNLOG_INLINE void process_executor::start_ready() {
    for (auto& p : nodes_) {
        node& n = *p;
        if (n.status != step_status::pending) continue;
        std::vector<std::string_view> failed_upstream;
        bool waiting = false;
        for (const auto& d : n.options.after) {
            const node* up = find(d);
            if (up->status == step_status::failed || up->status == step_status::skipped)
                failed_upstream.push_back(up->key);
            else if (up->status != step_status::succeeded)
                waiting = true;
        }
        auto& st = *run_.state_;
        if (!failed_upstream.empty()) {
            // As Dagster: the engine says why, and the step is skipped (the run fails through its upstream).
            std::string text = "Dependencies for step " + n.key + " failed: [";
            for (std::size_t i = 0; i < failed_upstream.size(); ++i)
                text += (i ? ", '" : "'") + std::string(failed_upstream[i]) + "'";
            text += "]. Not executing.";
            st.emit(events::engine_event{.text = text}, n.key, {}, n.loc);
            st.emit(events::step_skipped{}, n.key, {}, n.loc);
            n.status = step_status::skipped;
            continue;
        }
        if (waiting || running_ >= options_.max_concurrent || canceled_) continue;
        launch(n);
    }
}

RUNLOG_INLINE void process_executor::launch(node& n) {
    auto& st = *run_.state_;
    run_.step_worker_starting(n.key, "subprocess", n.loc);
    n.status = step_status::running;
    n.started = st.now();
    {
        std::lock_guard lock(st.mutex);
        st.open_steps.push_back(n.key);  // a crash of the parent reports it as failed
    }
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
        const int err = errno;
        st.emit(events::step_failure{.error_type = "runlog::step_worker_error",
                                     .error_message = std::string("cannot make a pipe for the step's process: ") +
                                                      std::strerror(err)},
                n.key, {}, n.loc);
        end_step(n, true);
        return;
    }
    ::fcntl(fds[0], F_SETFL, O_NONBLOCK);
    detail::flush_standard_streams();  // else the child writes what the parent had buffered again
    pid_t pid;
    {
        // The async backend parked between passes, so that the child inherits none of its locks held (a
        // sanitizer's allocator lock among them).
        detail::async_backend::pause_for_fork();
        // Not inherited held by another thread of the parent (the child opens and ends its step under it).
        std::lock_guard lock(st.mutex);
        pid = ::fork();
    }
    if (pid != 0) detail::async_backend::resume_after_fork();
    if (pid == 0) {
        ::close(fds[0]);
        work_in_child(n, fds[1]);
    }
    ::close(fds[1]);
    if (pid < 0) {
        const int err = errno;
        ::close(fds[0]);
        st.emit(events::step_failure{.error_type = "runlog::step_worker_error",
                                     .error_message = std::string("cannot start the step's process: ") +
                                                      std::strerror(err)},
                n.key, {}, n.loc);
        end_step(n, true);
        return;
    }
    ::setpgid(pid, pid);  // as the child does: whichever runs first, the group exists before it is signalled
    n.pid = pid;
    n.result_fd = fds[0];
#if defined(SYS_pidfd_open)
    n.pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    if (n.pidfd >= 0) ::fcntl(n.pidfd, F_SETFD, FD_CLOEXEC);
#endif
    const auto limit = n.options.timeout.count() < 0 ? options_.step_timeout : n.options.timeout;
    if (limit.count() > 0) n.deadline = std::chrono::steady_clock::now() + limit;
    for (std::size_t i = 0; i < slots(); ++i)
        if (live_[i].load() == 0) {
            live_[i].store(pid);
            n.slot = static_cast<int>(i);
            break;
        }
    ++running_;
}

RUNLOG_INLINE void process_executor::work_in_child(node& n, int result_fd) noexcept {
    // A group of its own: a terminal's ^C reaches the parent alone, which stops its children itself, and a
    // stop reaches the step's own children too.
    ::setpgid(0, 0);
#if defined(__linux__)
    // No orphan if the parent is killed outright: SIGTERM, so that the step's crash handler writes out what it
    // logged and ends the step's own processes too (on_crash, below).
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (static_cast<std::uint32_t>(::getppid()) != owner_pid_) ::_exit(127);
#endif
    for (const auto& o : nodes_)  // the parent's descriptors for the other children
        if (o.get() != &n) {
            if (o->pidfd >= 0) ::close(o->pidfd);
            if (o->result_fd >= 0) ::close(o->result_fd);
        }
    auto& st = *run_.state_;
    st.worker_pid = process_id();
    // This copy of the run lists the step as open for the parent's sake; here the step itself opens it.
    for (auto it = st.open_steps.begin(); it != st.open_steps.end(); ++it)
        if (*it == n.key) {
            st.open_steps.erase(it);
            break;
        }
    bool ok = false;
    try {
        detail::async_backend::restart_in_child();
        st.emit(events::step_worker_started{.worker = "subprocess"}, n.key, {}, n.loc);
        if (!n.options.resources.empty()) {
            const auto init = st.now();
            st.emit(events::resource_init_started{.resources = n.options.resources}, n.key, {}, n.loc);
            st.emit(events::resource_init_success{
                        .resources = n.options.resources,
                        .duration_ms = std::chrono::duration<double, std::milli>(st.now() - init).count()},
                    n.key, {}, n.loc);
        }
        std::optional<capture> logs;
        std::string capture_problem;
        int logs_dir = -1;
        if (options_.tee) {
            try {
                logs.emplace(run_, std::vector<std::string>{n.key},
                             capture_options{.tee = true, .file_key = n.key}, n.loc);
            } catch (const std::exception& e) {
                capture_problem = e.what();
            }
        } else {
            logs_dir = capture_directly(n, capture_problem);
        }
        {
            step s(run_, n.key, {}, n.loc);
            if (!capture_problem.empty()) {
                s.fail("runlog::capture_error", capture_problem);
            } else {
                try {
                    (*n.body)(s);
                } catch (const std::exception& e) {
                    s.fail(e);
                } catch (...) {
                    s.fail("unknown", "a non-standard exception");
                }
            }
            ok = !s.failed();
        }
        if (logs) logs->end();
        if (logs_dir >= 0) {  // the files themselves were fd 1 and 2: they end with the step's bytes in them
            detail::flush_standard_streams();
            const int marker = detail::open_file_at(logs_dir, n.key + ".complete",
                                                    O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, st.file_mode);
            if (marker >= 0) ::close(marker);
            ::close(logs_dir);
        }
    } catch (...) {  // out of memory before the step could start or end: the parent reports it
        ::_exit(125);
    }
    detail::crash::write_out_before_exit();  // queues, buffers and sinks, without the parent's exit handlers
    // The outcome, and run.fail() called in the step (this copy of the run is not the parent's): 'S' or 'F',
    // then 'R' and the reason when the run was failed.
    char report[512];
    std::size_t size = 0;
    report[size++] = ok ? 'S' : 'F';
    if (run_.failed_) {
        report[size++] = 'R';
        const std::size_t length = std::min(run_.reason_.size(), sizeof report - size);
        std::memcpy(report + size, run_.reason_.data(), length);
        size += length;
    }
    while (::write(result_fd, report, size) < 0 && errno == EINTR) {
    }
    ::_exit(ok ? 0 : 1);
}

RUNLOG_INLINE int process_executor::capture_directly(node& n, std::string& problem) {
    // Without tee, fd 1 and 2 of the step's process are its compute log files: no pipe, no thread, and what
    // the step wrote is in them whatever way the process ends.
    const std::string dir = run_.dir() + "/compute_logs/";
    const std::string out_path = dir + n.key + ".out", err_path = dir + n.key + ".err";
    int files[2];
    int dfd = -1;
    try {
        dfd = detail::open_compute_logs(n.key, out_path, err_path, run_.state_->file_mode, run_.state_->directory_mode,
                                        files);
    } catch (const capture_error& e) {
        problem = e.what();
        return -1;
    }
    detail::flush_standard_streams();
    for (int i = 0; i < 2; ++i) {
        while (::dup2(files[i], i + 1) < 0 && errno == EINTR) {
        }
        ::close(files[i]);
    }
    const std::string_view key = n.key;
    run_.state_->emit(events::logs_captured{.file_key = key,
                                            .step_keys = string_list(&key, 1),
                                            .stdout_path = out_path,
                                            .stderr_path = err_path},
                      {}, {}, n.loc);
    return dfd;
}

RUNLOG_INLINE bool process_executor::wait() {
    for (;;) {
        if (cancel_requested_.load() && !canceled_) stop_all("the executor was canceled");
        start_ready();
        if (running_ == 0) break;
        wait_a_moment();
        reap();
    }
    return std::all_of(nodes_.begin(), nodes_.end(),
                       [](const std::unique_ptr<node>& n) { return n->status == step_status::succeeded; });
}

RUNLOG_INLINE void process_executor::wait_a_moment() {
    const auto now = std::chrono::steady_clock::now();
    auto next = now + std::chrono::milliseconds(100);
    std::vector<pollfd> fds;
    bool all_pidfds = true;
    for (const auto& p : nodes_) {
        const node& n = *p;
        if (n.status != step_status::running) continue;
        if (n.pidfd >= 0)
            fds.push_back({n.pidfd, POLLIN, 0});
        else
            all_pidfds = false;
        next = std::min({next, n.deadline, n.kill_at});
    }
    if (!all_pidfds) next = std::min(next, now + std::chrono::milliseconds(5));
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(next - now).count();
    ::poll(fds.data(), fds.size(), static_cast<int>(std::max<long long>(ms, 0)));  // EINTR: the loop goes on
}

RUNLOG_INLINE void process_executor::reap() {
    // A cancel's signals may have ended a step already: it is reported as stopped, not as killed.
    if (cancel_requested_.load() && !canceled_) stop_all("the executor was canceled");
    const auto now = std::chrono::steady_clock::now();
    for (auto& p : nodes_) {
        node& n = *p;
        if (n.status != step_status::running) continue;
        int status = 0;
        const pid_t r = ::waitpid(n.pid, &status, WNOHANG);
        if (r == n.pid || (r < 0 && errno == ECHILD)) {
            finish(n, r == n.pid ? status : -1);
            continue;
        }
        if (now >= n.kill_at) {
            ::kill(-n.pid, SIGKILL);
            ::kill(n.pid, SIGKILL);
            n.kill_at = std::chrono::steady_clock::time_point::max();
        } else if (now >= n.deadline) {
            n.timed_out = true;
            ::kill(-n.pid, SIGTERM);
            ::kill(n.pid, SIGTERM);
            n.deadline = std::chrono::steady_clock::time_point::max();
            n.kill_at = now + options_.kill_grace;
        }
    }
}

RUNLOG_INLINE void process_executor::finish(node& n, int wait_status) {
    auto& st = *run_.state_;
    char report[512];
    const ssize_t got = ::read(n.result_fd, report, sizeof report);
    const char outcome = got > 0 ? report[0] : 0;
    const bool reported = outcome == 'S' || outcome == 'F';
    if (reported && got > 1 && report[1] == 'R')  // run.fail() in the step
        run_.fail(std::string_view(report + 2, static_cast<std::size_t>(got - 2)));
    // A step's own processes that outlive it (a daemon it started) are stopped with it.
    ::kill(-n.pid, SIGKILL);
    if (!reported) {
        // The step's process ended before its step did: the parent says how.
        const double ms = std::chrono::duration<double, std::milli>(st.now() - n.started).count();
        std::string type, text, signal;
        const std::string who = "The process of step \"" + n.key + "\" (pid " + std::to_string(n.pid) + ")";
        if (n.timed_out) {
            const auto limit = n.options.timeout.count() < 0 ? options_.step_timeout : n.options.timeout;
            basic_memory_buffer<64> took;
            detail::format_duration(took, static_cast<double>(limit.count()));
            type = "runlog::step_timeout";
            text = who + " ran past the step's time limit of " + std::string(took.view()) + " and was stopped.";
        } else if (n.stopped) {
            type = "runlog::canceled";
            text = who + " was stopped: " + stop_reason_ + ".";
        } else if (wait_status >= 0 && WIFSIGNALED(wait_status)) {
            type = "runlog::step_worker_killed";
            signal = detail::describe_signal(WTERMSIG(wait_status));
            text = who + " was killed by " + signal + ".";
        } else if (wait_status >= 0 && WIFEXITED(wait_status)) {
            type = "runlog::step_worker_exited";
            text = who + " exited with status " + std::to_string(WEXITSTATUS(wait_status)) + " before the step ended.";
        } else {
            type = "runlog::step_worker_lost";
            text = who + " ended and could not be waited for.";
        }
        const std::initializer_list<field> extra = {{"pid", n.pid}};
        st.emit(events::step_failure{.error_type = type, .error_message = text, .duration_ms = ms}, n.key, extra,
                n.loc);
        // Its compute logs end here, as the capture in the child could not end them.
        if (st.run_fd >= 0) {
            const std::string base = "compute_logs/" + n.key;
            if (::faccessat(st.run_fd, (base + ".out").c_str(), F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
                const int fd = ::openat(st.run_fd, (base + ".complete").c_str(),
                                        O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, st.file_mode);
                if (fd >= 0) ::close(fd);
            }
        }
    }
    end_step(n, !reported || outcome == 'F');
}

RUNLOG_INLINE void process_executor::end_step(node& n, bool failed) noexcept {
    auto& st = *run_.state_;
    {
        std::lock_guard lock(st.mutex);
        for (auto it = st.open_steps.begin(); it != st.open_steps.end(); ++it)
            if (*it == n.key) {
                st.open_steps.erase(it);
                break;
            }
        if (failed && !st.closed) {
            try {
                st.failed_steps.push_back(n.key);
            } catch (...) {
            }
        }
    }
    n.status = failed ? step_status::failed : step_status::succeeded;
    if (n.slot >= 0) live_[static_cast<std::size_t>(n.slot)].store(0);
    n.slot = -1;
    for (int* fd : {&n.pidfd, &n.result_fd})
        if (*fd >= 0) ::close(*fd), *fd = -1;
    if (n.pid > 0 && running_ > 0) --running_;
}

RUNLOG_INLINE void process_executor::cancel() noexcept {
    cancel_requested_.store(true);
    for (std::size_t i = 0; i < slots(); ++i)
        if (const int pid = live_[i].load(); pid > 0) {
            ::kill(-pid, SIGTERM);
            ::kill(pid, SIGTERM);
        }
}

RUNLOG_INLINE void process_executor::stop_all(const char* why) noexcept {
    canceled_ = true;
    stop_reason_ = why;
    const auto kill_at = std::chrono::steady_clock::now() + options_.kill_grace;
    for (auto& p : nodes_)
        if (p->status == step_status::running) {
            p->stopped = true;
            ::kill(-p->pid, SIGTERM);
            ::kill(p->pid, SIGTERM);
            p->kill_at = std::min(p->kill_at, kill_at);
            p->deadline = std::chrono::steady_clock::time_point::max();
        }
    auto& st = *run_.state_;
    for (auto& p : nodes_)  // what was waiting will not start
        if (p->status == step_status::pending) {
            p->status = step_status::skipped;
            st.emit(events::step_skipped{}, p->key, {}, p->loc);
        }
}

RUNLOG_INLINE void process_executor::stop_running() noexcept {
    try {
        stop_all("the executor's scope ended with an exception");
        while (running_ > 0) {
            wait_a_moment();
            reap();
        }
    } catch (...) {
    }
}

RUNLOG_INLINE void process_executor::on_crash(void* self, const detail::crash::event& e) noexcept {
    auto& x = *static_cast<process_executor*>(self);
    if (process_id() != x.owner_pid_) {
        // In a step's process that is being stopped (by the parent, or because the parent died): the processes
        // it started, in its process group, end with it.
        if (process_id() == x.run_.state_->worker_pid && e.kind == detail::crash::ending::canceled) {
            sigset_t term;  // not this process again before its handler is done (it ends by its own signal)
            sigemptyset(&term);
            sigaddset(&term, SIGTERM);
            ::pthread_sigmask(SIG_BLOCK, &term, nullptr);
            ::kill(0, SIGTERM);
        }
        return;
    }
    const std::size_t n = x.slots();
    bool any = false;
    for (std::size_t i = 0; i < n; ++i)
        if (const int pid = x.live_[i].load(); pid > 0) {
            ::kill(-pid, SIGTERM);
            ::kill(pid, SIGTERM);
            any = true;
        }
    if (!any) return;
    // The children write out what they logged (their own handler does) and end; those that do not in time
    // are killed. They are not reaped here: the parent is ending too.
    const std::int64_t grace = std::min<std::int64_t>(x.options_.kill_grace.count(), 1500);
    const std::int64_t deadline = detail::crash::deadline_within(e, grace);
    for (;;) {
        bool alive = false;
        for (std::size_t i = 0; i < n; ++i)
            if (const int pid = x.live_[i].load(); pid > 0) {
                siginfo_t info{};
                if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == 0)
                    alive = true;
            }
        if (!alive || detail::crash::now_ns() >= deadline) break;
        detail::crash::nap_ns(2'000'000);
    }
    for (std::size_t i = 0; i < n; ++i)
        if (const int pid = x.live_[i].load(); pid > 0) {
            ::kill(-pid, SIGKILL);
            ::kill(pid, SIGKILL);
        }
}

}  // namespace v0
}  // namespace runlog
#endif
