// Helpers shared by the tests: a record with a fixed clock, pid and thread.
#pragma once
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <runlog/runlog.hpp>

extern char** environ;

namespace test_support {

/// A fresh directory under /tmp, removed with everything in it at the end of the test.
struct temp_dir {
    std::string path;
    temp_dir() {
        char tmpl[] = "/tmp/runlog-test-XXXXXX";
        REQUIRE(::mkdtemp(tmpl) != nullptr);
        path = tmpl;
    }
    ~temp_dir() {
        std::error_code ec;
        std::filesystem::permissions(path, std::filesystem::perms::owner_all, ec);
        std::filesystem::remove_all(path, ec);
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    /// Writes text to a file in the directory; returns its path.
    std::string write(const std::string& name, const std::string& text) const {
        const std::string p = path + "/" + name;
        std::ofstream(p, std::ios::binary) << text;
        return p;
    }
};

/// 2026-11-24 12:40:05.123456 UTC.
/// The whole file at path ("" when it cannot be read).
inline std::string file_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

/// Points fd 1 and 2 at files of their own for the test (so nothing reaches the terminal and what
/// reaches the "original" descriptors can be checked), and puts the real ones back after.
struct redirected_std {
    temp_dir dir;
    int saved[2];
    std::string path[2];
    redirected_std() {
        std::fflush(nullptr);
        for (int i = 0; i < 2; ++i) {
            saved[i] = ::dup(i + 1);
            path[i] = dir.path + (i ? "/orig.err" : "/orig.out");
            const int f = ::open(path[i].c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            ::dup2(f, i + 1);
            ::close(f);
        }
    }
    ~redirected_std() {
        std::fflush(nullptr);
        for (int i = 0; i < 2; ++i) {
            ::dup2(saved[i], i + 1);
            ::close(saved[i]);
        }
    }
    std::string out() const { return file_text(path[0]); }
    std::string err() const { return file_text(path[1]); }
};

inline std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::size_t at = 0;
    while (at < text.size()) {
        const std::size_t nl = text.find('\n', at);
        out.push_back(text.substr(at, nl == std::string::npos ? std::string::npos : nl - at));
        if (nl == std::string::npos) break;
        at = nl + 1;
    }
    return out;
}

/// Starts the program exe with args, its stdout on /dev/null and its stderr in err_path, without RUNLOG_
/// variables (posix_spawn: no allocation in a forked copy of this multi-threaded process).
inline pid_t spawn_program(const std::string& program, const std::vector<std::string>& args,
                           const std::string& err_path, const std::vector<std::string>& extra_env = {}) {
    std::vector<std::string> env;
    for (char** e = environ; *e; ++e)
        if (std::strncmp(*e, "RUNLOG_", 7) != 0) env.emplace_back(*e);
    // ThreadSanitizer reports the handler's allocations as signal-unsafe (they are, bounded by the time limit).
    env.emplace_back("TSAN_OPTIONS=report_signal_unsafe=0");
    for (const auto& e : extra_env) env.push_back(e);
    std::vector<char*> envp, argv;
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    std::string exe = program;
    argv.push_back(exe.data());
    std::vector<std::string> copy = args;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    pid_t pid = -1;
    const int err = ::posix_spawn(&pid, exe.c_str(), &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    REQUIRE(err == 0);
    return pid;
}

/// Waits for pid, killing it (and failing) past 60 s: a crash handler must never turn a crash into a hang.
inline int wait_bounded(pid_t pid) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    int status = 0;
    for (;;) {
        const pid_t got = ::waitpid(pid, &status, WNOHANG);
        if (got == pid) return status;
        if (std::chrono::steady_clock::now() > deadline) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, &status, 0);
            FAIL("the program hung for 60 s");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

inline constexpr std::int64_t fixed_seconds = 1795524005;
inline runlog::record::time_point fixed_time() {
    return runlog::record::time_point(std::chrono::seconds(fixed_seconds) + std::chrono::microseconds(123456));
}
inline runlog::record::time_point fixed_clock() noexcept { return fixed_time(); }

/// Fills r with the golden values: fixed time, pid 86387, thread 86390, the docs' run and step.
inline void fill_fixed(runlog::record& r, runlog::level l = runlog::level::debug) {
    r.time = fixed_time();
    r.lvl = l;
    r.ctx = {"5f2a9b1c-0d3e-4f5a-8b6c-7d8e9f0a1b2c", "__ASSET_JOB_0", "taxi_zones_file"};
    r.logger_name = "runlog";
    r.pid = 86387;
    r.thread = 86390;
}

/// Limits the size of files this process writes (RLIMIT_FSIZE, SIGXFSZ ignored: write(2) stops at the limit
/// and then fails with EFBIG), as a full disk does, until destroyed.
struct file_size_limit {
    rlimit saved{};
    struct sigaction old_action {};
    explicit file_size_limit(rlim_t bytes) {
        struct sigaction ignore {};
        ignore.sa_handler = SIG_IGN;
        REQUIRE(::sigaction(SIGXFSZ, &ignore, &old_action) == 0);
        REQUIRE(::getrlimit(RLIMIT_FSIZE, &saved) == 0);
        rlimit limit = saved;
        limit.rlim_cur = bytes;
        REQUIRE(::setrlimit(RLIMIT_FSIZE, &limit) == 0);
    }
    ~file_size_limit() {
        ::setrlimit(RLIMIT_FSIZE, &saved);
        ::sigaction(SIGXFSZ, &old_action, nullptr);
    }
};

/// Formats r with f, without colour.
template <class F>
std::string render(const F& f, const runlog::record& r, bool color = false) {
    runlog::memory_buffer out;
    f.format(r, out, color);
    return std::string(out.view());
}

}  // namespace test_support
