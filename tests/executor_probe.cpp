// A program that runs steps with runlog::process_executor, for test_executor.cpp; each scenario stores its run
// under DIR/storage (id "run1") and writes what only it can check into DIR/probe.txt.
//
//   executor_probe parallel DIR   four steps at once, each with its own bytes, child process and records,
//                                 through a sync and an async file pipeline
//   executor_probe failures DIR   a step that throws, one that segfaults, one that exits, one that hangs past
//                                 its timeout, an independent one and one downstream of a failure
//   executor_probe sigint DIR     two steps that sleep (and their children); DIR/started_<step> holds each one's
//                                 pid, DIR/started_<step>.child its child's
//   executor_probe cancel DIR     the same with a SIGINT handler of the program's own that calls cancel()
//   executor_probe parent_killed DIR   the same, for a parent killed with SIGKILL
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <thread>

#include <dirent.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <runlog/runlog.hpp>

namespace {

int open_descriptors() {
    int n = 0;
    if (DIR* d = ::opendir("/proc/self/fd")) {
        while (::readdir(d)) ++n;
        ::closedir(d);
    }
    return n;
}

/// A logger with a console at INFO.
auto console_logger() {
    return runlog::make_logger(
        "etl", runlog::pipeline("console", runlog::text_formatter::brief(), runlog::stderr_sink{}, runlog::level::info));
}

runlog::run_options options(const std::string& dir) {
    return {.run_id = "run1", .base_dir = dir + "/storage", .executor = "multiprocess"};
}

/// What is left in the parent after the executor's end: no child to reap, and as many descriptors as before.
void report_leftovers(const std::string& dir, int fds_before) {
    const int fds_after = open_descriptors();
    const pid_t left = ::waitpid(-1, nullptr, WNOHANG);
    const bool none_left = left == -1 && errno == ECHILD;
    std::ofstream probe(dir + "/probe.txt", std::ios::app);
    probe << "children left: " << (none_left ? "none" : "some") << "\n";
    probe << "descriptors leaked: " << fds_after - fds_before << "\n";
}

#if defined(__SANITIZE_THREAD__)
// ThreadSanitizer cannot follow a thread started in a forked child of a threaded parent (it reuses the id of a
// parent's thread), so under it the children start none: no async pipeline, and no tee (its capture thread).
constexpr bool thread_sanitizer = true;
#else
constexpr bool thread_sanitizer = false;
#endif

template <class Logger>
int parallel_steps(const std::string& dir, Logger& log) {
    log.info("parent before the run");  // an async backend runs in the parent before any fork
    bool ok = false;
    const int fds = open_descriptors();
    {
        runlog::run run(log, "etl", options(dir));
        runlog::process_executor steps(run, {.max_concurrent = 4, .tee = false});
        for (int k = 0; k < 4; ++k)
            steps.submit("step" + std::to_string(k), [&log, k](runlog::step& s) {
                std::printf("out of step %d\n", k);
                std::fflush(stdout);
                std::fprintf(stderr, "err of step %d\n", k);
                const std::string cmd = "echo child out of step " + std::to_string(k) + "; echo child err of step " +
                                        std::to_string(k) + " >&2";
                if (std::system(cmd.c_str()) != 0) throw std::runtime_error("the shell failed");
                for (int i = 0; i < 500; ++i) log.info({{"k", k}, {"i", i}}, "record {} of step {}", i, k);
                std::this_thread::sleep_for(std::chrono::milliseconds(400));  // the four overlap
                s.output();
            });
        ok = steps.wait();
    }
    report_leftovers(dir, fds);
    log.info("parent after the run");
    return ok ? 0 : 1;
}

int parallel(const std::string& dir) {
    auto sync = runlog::pipeline("sync", runlog::json_formatter{}, runlog::file_sink(dir + "/sync.jsonl"), runlog::level::info);
    auto console = runlog::pipeline("console", runlog::text_formatter::brief(), runlog::stderr_sink{}, runlog::level::error);
    if constexpr (thread_sanitizer) {
        auto log = runlog::make_logger("etl", std::move(console), std::move(sync));
        return parallel_steps(dir, log);
    } else {
        auto log = runlog::make_logger("etl", std::move(console), std::move(sync),
                                       runlog::async(runlog::pipeline("async", runlog::json_formatter{},
                                                                      runlog::file_sink(dir + "/async.jsonl"),
                                                                      runlog::level::info)));
        return parallel_steps(dir, log);
    }
}

int failures(const std::string& dir) {
    auto log = console_logger();
    bool ok = true;
    const int fds = open_descriptors();
    pid_t hung = 0;
    {
        runlog::run run(log, "etl", options(dir));
        runlog::process_executor steps(run, {.max_concurrent = 3, .tee = false});
        steps.submit("throws", [] { throw std::invalid_argument("bad input in row 7"); });
        steps.submit("segfault", [] { std::raise(SIGSEGV); });
        steps.submit("exits", [] { std::exit(3); });
        steps.submit("hangs", {.timeout = std::chrono::milliseconds(1000)}, [] {
            std::this_thread::sleep_for(std::chrono::seconds(60));
        });
        steps.submit("independent", [&log, &run] {
            log.info("still runs");
            run.fail("the independent step found bad rows");  // reaches the parent's run
        });
        steps.submit("downstream", {.after = {"independent", "throws"}}, [] {});
        ok = steps.wait();
        hung = steps.pid("hangs");
    }
    report_leftovers(dir, fds);
    std::ofstream(dir + "/probe.txt", std::ios::app)
        << "hung step's process: " << (::kill(hung, 0) == -1 && errno == ESRCH ? "gone" : "alive") << "\n";
    return ok ? 0 : 1;
}

/// Steps that start a process of their own and then sleep; DIR/started_<step> holds the step's pid and its
/// child's.
template <class Executor>
void submit_sleepers(Executor& steps, const std::string& dir, std::initializer_list<const char*> keys) {
    for (const char* key : keys)
        steps.submit(key, [&dir, key] {
            const std::string file = dir + "/started_" + key;
            const std::string cmd = "sleep 60 & echo $! > '" + file + ".child'; wait";
            std::ofstream(file + ".tmp") << ::getpid() << "\n";
            std::rename((file + ".tmp").c_str(), file.c_str());
            if (std::system(cmd.c_str()) != 0) std::this_thread::sleep_for(std::chrono::seconds(60));
        });
}

/// A program with a SIGINT handler of its own, which cancels the executor.
runlog::process_executor* to_cancel = nullptr;
extern "C" void on_sigint(int) {
    if (to_cancel) to_cancel->cancel();
}

int cancel(const std::string& dir) {
    auto log = console_logger();
    bool ok = true;
    {
        runlog::run run(log, "etl", options(dir));
        runlog::process_executor steps(run, {.max_concurrent = 2, .kill_grace = std::chrono::milliseconds(500),
                                             .tee = false});
        to_cancel = &steps;
        struct sigaction sa {};
        sa.sa_handler = &on_sigint;
        ::sigaction(SIGINT, &sa, nullptr);
        submit_sleepers(steps, dir, {"long_a", "long_b", "never_started"});
        ok = steps.wait();
        to_cancel = nullptr;
    }
    std::ofstream(dir + "/probe.txt", std::ios::app) << "wait: " << (ok ? "true" : "false") << "\n";
    return 0;
}

/// Two sleeping steps, for a SIGINT to the parent or a SIGKILL of it.
int sleepers(const std::string& dir) {
    auto log = console_logger();
    runlog::run run(log, "etl", options(dir));
    runlog::process_executor steps(run, {.tee = false});
    submit_sleepers(steps, dir, {"long_a", "long_b"});
    steps.wait();
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: executor_probe parallel|failures|sigint|cancel|parent_killed DIR\n");
        return 2;
    }
    std::signal(SIGINT, SIG_DFL);  // whatever the test runner left: the crash handler takes it
    const std::string what = argv[1], dir = argv[2];
    if (what == "parallel") return parallel(dir);
    if (what == "failures") return failures(dir);
    if (what == "sigint" || what == "parent_killed") return sleepers(dir);
    if (what == "cancel") return cancel(dir);
    std::fprintf(stderr, "unknown scenario %s\n", argv[1]);
    return 2;
}
