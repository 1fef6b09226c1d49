#include <catch2/catch.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support.hpp"

using runlog::level;
using test_support::file_size_limit;
using test_support::file_text;
using test_support::redirected_std;
using test_support::temp_dir;

namespace {

bool exists(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0;
}

int count_entries(const char* dir) {
    int n = 0;
    if (DIR* d = ::opendir(dir)) {
        while (::readdir(d)) ++n;
        ::closedir(d);
    }
    return n;
}

/// The identity of the file behind a descriptor, or {0, 0} when it is closed.
std::pair<dev_t, ino_t> identity(int fd) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) return {0, 0};
    return {st.st_dev, st.st_ino};
}


/// A logger that keeps its lines in memory, for runs that must not print.
auto quiet_logger(runlog::memory_sink& sink) {
    return runlog::make_logger(runlog::pipeline("console", runlog::text_formatter::brief(), sink, level::debug));
}

runlog::run_options in(const temp_dir& d, const char* id = "run1") {
    runlog::run_options o;
    o.base_dir = d.path + "/storage";
    o.run_id = id;
    return o;
}

/// Deterministic bytes, all 256 values, for byte-for-byte checks of large outputs.
struct byte_stream {
    std::uint64_t state;
    explicit byte_stream(std::uint64_t seed) : state(seed) {}
    void fill(char* p, std::size_t n) {
        for (std::size_t i = 0; i < n; ++i) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            p[i] = static_cast<char>(state >> 56);
        }
    }
};

/// Writes all of data to fd (the test's own write(2) loop).
void write_fd(int fd, const char* data, std::size_t n) {
    while (n > 0) {
        const ssize_t w = ::write(fd, data, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            std::abort();
        }
        data += w;
        n -= static_cast<std::size_t>(w);
    }
}

/// Checks that the file holds exactly `total` bytes of byte_stream(seed).
void check_stream_file(const std::string& path, std::uint64_t seed, std::size_t total) {
    std::ifstream in(path, std::ios::binary);
    REQUIRE(in);
    byte_stream expected(seed);
    std::vector<char> want(1 << 20), got(1 << 20);
    std::size_t seen = 0;
    while (seen < total) {
        const std::size_t n = std::min(want.size(), total - seen);
        expected.fill(want.data(), n);
        in.read(got.data(), static_cast<std::streamsize>(n));
        REQUIRE(static_cast<std::size_t>(in.gcount()) == n);
        REQUIRE(std::equal(want.begin(), want.begin() + static_cast<std::ptrdiff_t>(n), got.begin()));
        seen += n;
    }
    CHECK(in.peek() == std::char_traits<char>::eof());
}

}  // namespace

TEST_CASE("printf, iostreams, write(2) and child processes, byte for byte", "[capture]") {
    redirected_std real;
    temp_dir d;
    runlog::memory_sink sink;
    auto log = quiet_logger(sink);
    std::thread([] {}).join();  // sanitizer runtimes start helper threads with the first thread: not ours
    const auto fd_before = count_entries("/proc/self/fd");
    const auto threads_before = count_entries("/proc/self/task");
    const auto out_id = identity(1), err_id = identity(2);
    std::string out_path, err_path, complete;
    {
        runlog::run run(log, "job", in(d));
        run.execute("load", [&](runlog::step& s) {
            runlog::capture cap(s, {.tee = false});
            out_path = cap.stdout_path();
            err_path = cap.stderr_path();
            complete = cap.complete_path();
            CHECK_FALSE(exists(complete));
            std::printf("printf %d\n", 1);
            std::cout << "cout " << 2 << '\n';
            std::cerr << "cerr 3\n";
            std::fprintf(stderr, "fprintf 4\n");
            write_fd(1, "write 5\n", 8);
            std::fputs("partial line without newline", stdout);
            std::fflush(stdout);
            CHECK(std::system("printf 'child out\\n'; printf 'child err\\n' >&2") == 0);
            const pid_t pid = ::fork();
            if (pid == 0) {
                const char* args[] = {"/bin/sh", "-c", "printf 'exec out'; printf 'exec err' >&2", nullptr};
                ::execv(args[0], const_cast<char* const*>(args));
                ::_exit(127);
            }
            int status = 0;
            ::waitpid(pid, &status, 0);
            CHECK(WEXITSTATUS(status) == 0);
            std::printf("|last");
        });
    }
    CHECK(file_text(out_path) == "printf 1\ncout 2\nwrite 5\npartial line without newlinechild out\nexec out|last");
    // The step's own log lines go to stderr and so into the .err file, as in Dagster.
    const std::string err = file_text(err_path);
    CHECK_THAT(err, Catch::StartsWith("cerr 3\nfprintf 4\nchild err\nexec err"));
    CHECK(exists(complete));
    CHECK(real.out().empty());  // no tee
    // The descriptors point where they did, and nothing is left behind.
    CHECK(identity(1) == out_id);
    CHECK(identity(2) == err_id);
    CHECK(count_entries("/proc/self/fd") == fd_before);
    CHECK(count_entries("/proc/self/task") == threads_before);
    // printf reaches the original stdout again.
    std::printf("after\n");
    std::fflush(stdout);
    CHECK(real.out() == "after\n");
}

TEST_CASE("LOGS_CAPTURED names the file key, the steps and the files", "[capture]") {
    redirected_std real;
    temp_dir d;
    runlog::memory_sink sink;
    auto log = runlog::make_logger(runlog::pipeline("console", runlog::text_formatter("{step}|{event}|{message}|{fields}"),
                                                    sink, level::debug));
    std::string key;
    {
        runlog::run run(log, "job", in(d));
        {
            runlog::capture cap(run, {"a", "b"}, {.tee = false});
            key = cap.file_key();
            CHECK(cap.stdout_path() == d.path + "/storage/run1/compute_logs/" + key + ".out");
        }
        run.execute("solo", [&](runlog::step& s) { runlog::capture cap(s, {.tee = false}); });
    }
    REQUIRE(key.size() == 8);
    CHECK(std::all_of(key.begin(), key.end(), [](char c) { return c >= 'a' && c <= 'z'; }));
    const auto lines = sink.lines();
    const std::string pid = std::to_string(runlog::process_id());
    const std::string dir = d.path + "/storage/run1/compute_logs/";
    CHECK(lines[2] == "|LOGS_CAPTURED|Started capturing logs in process (pid: " + pid + ").|file_key=" + key +
                          " step_keys=a,b stdout_path=" + dir + key + ".out stderr_path=" + dir + key + ".err\n");
    // No step column for LOGS_CAPTURED, as in Dagster's console (the event's JSON keeps step_key).
    CHECK(lines[4] == "|LOGS_CAPTURED|Started capturing logs in process (pid: " + pid +
                          ").|file_key=solo step_keys=solo stdout_path=" + dir + "solo.out stderr_path=" + dir + "solo.err\n");
}

TEST_CASE("binary data, NUL bytes and a line of megabytes", "[capture]") {
    redirected_std real;
    temp_dir d;
    runlog::memory_sink sink;
    auto log = quiet_logger(sink);
    std::string binary;
    for (int i = 0; i < 4096; ++i) binary.push_back(static_cast<char>(i % 256));
    const std::string big_line = std::string(5 << 20, 'x') + "\n";
    std::string out;
    {
        runlog::run run(log, "job", in(d));
        runlog::capture cap(run, {}, {.tee = false});
        out = cap.stdout_path();
        write_fd(1, binary.data(), binary.size());
        std::fwrite("\0\0nul\0", 1, 6, stdout);
        std::fflush(stdout);
        write_fd(1, big_line.data(), big_line.size());
    }
    CHECK(file_text(out) == binary + std::string("\0\0nul\0", 6) + big_line);
}

TEST_CASE("a child writes 100 MB to stdout and 100 MB to stderr inside a captured step", "[capture]") {
    redirected_std real;
    temp_dir d;
    runlog::memory_sink sink;
    auto log = quiet_logger(sink);
    constexpr std::size_t total = 100u << 20;
    std::string out, err, complete;
    {
        runlog::run run(log, "job", in(d));
        run.execute("big", [&](runlog::step& s) {
            runlog::capture cap(s, {.tee = false});
            out = cap.stdout_path();
            err = cap.stderr_path();
            complete = cap.complete_path();
            const pid_t pid = ::fork();
            if (pid == 0) {
                byte_stream o(1), e(2);
                std::vector<char> buf(1 << 17);
                std::size_t done = 0, chunk = 1;
                while (done < total) {
                    // Interleaved writes of varying sizes on both streams.
                    const std::size_t n = std::min({chunk, buf.size(), total - done});
                    o.fill(buf.data(), n);
                    write_fd(1, buf.data(), n);
                    e.fill(buf.data(), n);
                    write_fd(2, buf.data(), n);
                    done += n;
                    chunk = chunk * 7 % 131071 + 1;
                }
                ::_exit(0);
            }
            int status = 0;
            ::waitpid(pid, &status, 0);
            REQUIRE(WIFEXITED(status));
        });
    }
    CHECK(exists(complete));
    check_stream_file(out, 1, total);
    check_stream_file(err, 2, total);
    std::printf("printf reaches stdout again\n");
    std::fflush(stdout);
    CHECK(real.out() == "printf reaches stdout again\n");
}

TEST_CASE("the capture waits for children that still hold the pipes, up to the drain timeout", "[capture]") {
    redirected_std real;
    temp_dir d;
    runlog::memory_sink sink;
    auto log = quiet_logger(sink);
    std::string out, complete;
    pid_t lingering = -1;
    {
        runlog::run run(log, "job", in(d));
        runlog::capture cap(run, {}, {.tee = false, .file_key = "late"});
        out = cap.stdout_path();
        complete = cap.complete_path();
        lingering = ::fork();
        if (lingering == 0) {
            ::usleep(300'000);
            write_fd(1, "late bytes\n", 11);
            ::_exit(0);
        }
    }  // ends while the child still holds stdout's pipe: its last bytes are still read
    CHECK(file_text(out) == "late bytes\n");
    CHECK(exists(complete));
    ::waitpid(lingering, nullptr, 0);

    std::vector<std::string> reports;
    static std::vector<std::string>* seen = nullptr;
    seen = &reports;
    auto previous = runlog::set_error_handler([](const runlog::sink_error& e) { seen->emplace_back(e.message); });
    {
        runlog::run run(log, "job", in(d, "run2"));
        runlog::capture cap(run, {}, {.tee = false, .file_key = "stuck", .drain_timeout = std::chrono::milliseconds(100)});
        lingering = ::fork();
        if (lingering == 0) {
            ::sleep(30);
            ::_exit(0);
        }
    }
    runlog::set_error_handler(previous);
    ::kill(lingering, SIGKILL);
    ::waitpid(lingering, nullptr, 0);
    REQUIRE(reports.size() == 1);
    CHECK(reports[0] == "capture \"stuck\": 2 stream(s) still held open by another process after the drain timeout; "
                        "later bytes are not captured");

    // A daemon that never stops writing: the timeout counts from the end, not from the last silence.
    reports.clear();
    previous = runlog::set_error_handler([](const runlog::sink_error& e) { seen->emplace_back(e.message); });
    std::chrono::steady_clock::duration took{};
    {
        runlog::run run(log, "job", in(d, "run3"));
        std::optional<runlog::capture> cap;
        cap.emplace(run, std::vector<std::string>{}, runlog::capture_options{
                                                         .tee = false, .file_key = "chatty",
                                                         .drain_timeout = std::chrono::milliseconds(200)});
        lingering = ::fork();
        if (lingering == 0) {
            for (int i = 0; i < 3000; ++i) {  // 30 s of a line every 10 ms
                write_fd(1, "still here\n", 11);
                ::usleep(10'000);
            }
            ::_exit(0);
        }
        const auto start = std::chrono::steady_clock::now();
        cap.reset();
        took = std::chrono::steady_clock::now() - start;
    }
    runlog::set_error_handler(previous);
    ::kill(lingering, SIGKILL);
    ::waitpid(lingering, nullptr, 0);
    CHECK(took < std::chrono::seconds(3));  // 0.2 s and a poll; it took the daemon's 30 s before
    REQUIRE(reports.size() == 1);
    CHECK(reports[0] == "capture \"chatty\": 2 stream(s) still held open by another process after the drain timeout; "
                        "later bytes are not captured");
}

TEST_CASE("tee passes the bytes on to the original descriptors", "[capture]") {
    redirected_std real;
    temp_dir d;
    runlog::memory_sink sink;
    auto log = quiet_logger(sink);
    std::string out, err;
    {
        runlog::run run(log, "job", in(d));
        runlog::capture cap(run, {}, {.file_key = "tee"});
        out = cap.stdout_path();
        err = cap.stderr_path();
        std::printf("to both\n");
        std::fprintf(stderr, "err to both\n");
    }
    CHECK(file_text(out) == "to both\n");
    CHECK(real.out() == "to both\n");
    CHECK(file_text(err) == "err to both\n");
    CHECK(real.err() == "err to both\n");
}

TEST_CASE("stdout closed before the capture is closed after it", "[capture]") {
    redirected_std real;
    temp_dir d;
    runlog::memory_sink sink;
    auto log = quiet_logger(sink);
    ::close(1);
    std::string out;
    {
        runlog::run run(log, "job", in(d));
        runlog::capture cap(run, {}, {.file_key = "closed"});
        out = cap.stdout_path();
        std::printf("captured though stdout was closed\n");
    }
    CHECK(::fcntl(1, F_GETFD) == -1);
    CHECK(errno == EBADF);
    CHECK(file_text(out) == "captured though stdout was closed\n");
}

TEST_CASE("an exception out of the captured scope restores the descriptors", "[capture]") {
    redirected_std real;
    temp_dir d;
    runlog::memory_sink sink;
    auto log = quiet_logger(sink);
    const auto out_id = identity(1);
    std::string out, complete;
    CHECK_THROWS_WITH(([&] {
                          runlog::run run(log, "job", in(d));
                          run.execute("boom", [&](runlog::step& s) {
                              runlog::capture cap(s, {.tee = false});
                              out = cap.stdout_path();
                              complete = cap.complete_path();
                              std::printf("before the throw\n");
                              throw std::runtime_error("boom");
                          });
                      }()),
                      "boom");
    CHECK(identity(1) == out_id);
    CHECK(file_text(out) == "before the throw\n");
    CHECK(exists(complete));
}

TEST_CASE("a second capture, nested or on another thread, is refused", "[capture]") {
    redirected_std real;
    temp_dir d;
    runlog::memory_sink sink;
    auto log = quiet_logger(sink);
    std::string out;
    {
        runlog::run run(log, "job", in(d));
        runlog::capture first(run, {}, {.tee = false, .file_key = "first"});
        out = first.stdout_path();
        CHECK_THROWS_WITH(runlog::capture(run, {}, {.file_key = "second"}),
                          "cannot capture \"second\": capture \"first\" is active, and stdout and stderr belong to the "
                          "whole process (end it first)");
        std::thread([&] { CHECK_THROWS_AS(runlog::capture(run, {}, {.file_key = "third"}), runlog::capture_error); }).join();
        std::printf("the first still works\n");
    }
    CHECK(file_text(out) == "the first still works\n");
    CHECK_FALSE(exists(d.path + "/storage/run1/compute_logs/second.out"));
    // After it ends, a new capture may start.
    runlog::run run(log, "job", in(d, "run2"));
    runlog::capture again(run, {}, {.tee = false, .file_key = "again"});
}

TEST_CASE("a capture that cannot start says why and leaves the descriptors alone", "[capture]") {
    redirected_std real;
    temp_dir d;
    runlog::memory_sink sink;
    auto log = quiet_logger(sink);
    const auto out_id = identity(1);
    const auto fd_before = count_entries("/proc/self/fd");
    {
        runlog::run run(log, "job", in(d));
        // A regular file where the compute log directory should be.
        std::ofstream(d.path + "/storage/run1/compute_logs") << "in the way";
        try {
            runlog::capture cap(run, {}, {.file_key = "k"});
            FAIL("started");
        } catch (const runlog::capture_error& e) {
            CHECK(std::string(e.what()) == "cannot create the compute log directory for \"" + d.path +
                                               "/storage/run1/compute_logs/k.out\": Not a directory");
        }
        std::printf("still to the original stdout\n");
        std::fflush(stdout);
    }
    CHECK(identity(1) == out_id);
    CHECK(real.out() == "still to the original stdout\n");
    {
        // Too many open files.
        runlog::run run(log, "job", in(d, "run2"));
        rlimit old{};
        ::getrlimit(RLIMIT_NOFILE, &old);
        rlimit tight = old;
        tight.rlim_cur = static_cast<rlim_t>(count_entries("/proc/self/fd") + 1);  // the files open, no room for pipes
        ::setrlimit(RLIMIT_NOFILE, &tight);
        std::string what;
        try {
            runlog::capture cap(run, {}, {.file_key = "k"});
        } catch (const runlog::capture_error& e) {
            what = e.what();
        }
        ::setrlimit(RLIMIT_NOFILE, &old);
        CHECK_THAT(what, Catch::EndsWith("Too many open files"));
    }
    CHECK(count_entries("/proc/self/fd") == fd_before);
    CHECK(identity(1) == out_id);
}

TEST_CASE("a full disk loses nothing: the bytes go to the original descriptor and the loss is reported", "[capture]") {
    // The original stdout is a pipe: a full disk (here: no file of this process may grow) does not stop it.
    int pipefd[2];
    REQUIRE(::pipe(pipefd) == 0);
    std::fflush(nullptr);
    const int saved_out = ::dup(1);
    ::dup2(pipefd[1], 1);
    ::close(pipefd[1]);
    temp_dir d;
    runlog::memory_sink sink;
    auto log = quiet_logger(sink);
    std::vector<std::string> reports;
    static std::vector<std::string>* seen = nullptr;
    seen = &reports;
    auto previous = runlog::set_error_handler([](const runlog::sink_error& e) { seen->emplace_back(e.message); });
    {
        runlog::run run(log, "job", in(d));
        const file_size_limit full(0);
        runlog::capture cap(run, {}, {.tee = false, .file_key = "full"});
        std::printf("kept despite the full disk\n");
    }
    runlog::set_error_handler(previous);
    std::fflush(nullptr);
    ::dup2(saved_out, 1);
    ::close(saved_out);
    char buf[256];
    const auto n = ::read(pipefd[0], buf, sizeof buf);
    ::close(pipefd[0]);
    REQUIRE(n >= 0);
    CHECK(std::string(buf, static_cast<std::size_t>(n)) == "kept despite the full disk\n");
    // The capture's report, beside those of the event log's writes made while the disk was full.
    CHECK_THAT(reports, Catch::VectorContains("capture: writing \"" + d.path +
                                              "/storage/run1/compute_logs/full.out\" failed: File too large (27 bytes "
                                              "reached only the original descriptor)"));
}

TEST_CASE("a disk that fills in the middle of a write: the loss counts only what the file lacks", "[capture]") {
    int pipefd[2];
    REQUIRE(::pipe(pipefd) == 0);
    std::fflush(nullptr);
    const int saved_out = ::dup(1);
    ::dup2(pipefd[1], 1);
    ::close(pipefd[1]);
    temp_dir d;
    runlog::memory_sink sink;
    auto log = quiet_logger(sink);
    std::vector<std::string> reports;
    static std::vector<std::string>* seen = nullptr;
    seen = &reports;
    auto previous = runlog::set_error_handler([](const runlog::sink_error& e) { seen->emplace_back(e.message); });
    {
        runlog::run run(log, "job", in(d));
        const file_size_limit full(10);  // room for 10 bytes of the 27
        runlog::capture cap(run, {}, {.tee = false, .file_key = "part"});
        std::printf("kept despite the full disk\n");
    }
    runlog::set_error_handler(previous);
    std::fflush(nullptr);
    ::dup2(saved_out, 1);
    ::close(saved_out);
    char buf[256];
    const auto n = ::read(pipefd[0], buf, sizeof buf);
    ::close(pipefd[0]);
    REQUIRE(n >= 0);
    CHECK(std::string(buf, static_cast<std::size_t>(n)) == "kept despite the full disk\n");  // the output is whole
    const std::string path = d.path + "/storage/run1/compute_logs/part.out";
    CHECK(test_support::file_text(path) == "kept despi");
    CHECK_THAT(reports, Catch::VectorContains("capture: writing \"" + path + "\" failed: File too large (17 bytes "
                                              "reached only the original descriptor)"));
}

TEST_CASE("compute logs are private and never written through a planted symbolic link", "[capture][storage]") {
    redirected_std real;
    temp_dir d;
    runlog::memory_sink sink;
    auto log = quiet_logger(sink);
    const std::string victim = d.write("victim.txt", "precious\n");
    runlog::run run(log, "job", in(d));
    const std::string logs = d.path + "/storage/run1/compute_logs";
    std::filesystem::create_directories(logs);
    ::chmod(logs.c_str(), 0700);
    std::filesystem::create_symlink(victim, logs + "/planted.err");
    std::string what;
    try {
        runlog::capture cap(run, {}, {.file_key = "planted"});
    } catch (const runlog::capture_error& e) {
        what = e.what();
    }
    CHECK(what == "cannot open the compute log \"" + logs + "/planted.err\": it is a symbolic link (refused)");
    CHECK(file_text(victim) == "precious\n");
    {
        const mode_t old_umask = ::umask(022);
        runlog::capture cap(run, {}, {.tee = false, .file_key = "fine"});
        ::umask(old_umask);
        std::printf("private\n");
    }
    struct stat st {};
    REQUIRE(::stat((logs + "/fine.out").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    CHECK(file_text(logs + "/fine.out") == "private\n");
}

TEST_CASE("capture: compute logs take the run's file and directory modes", "[capture][storage]") {
    test_support::temp_dir d;
    runlog::memory_sink sink;
    auto log = quiet_logger(sink);
    const mode_t old_umask = ::umask(022);
    {
        runlog::run run(log, "job", {.run_id = "shared", .base_dir = d.path + "/storage", .file_mode = 0640,
                                     .directory_mode = 0750});
        runlog::capture cap(run, {}, {.tee = false, .file_key = "group"});
        std::printf("for the group\n");
    }
    ::umask(old_umask);
    const std::string logs = d.path + "/storage/shared/compute_logs";
    struct stat st {};
    REQUIRE(::stat((logs + "/group.out").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0640);
    REQUIRE(::stat(logs.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0750);
    REQUIRE(::stat((logs + "/group.complete").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0640);
}

#include <dlfcn.h>

TEST_CASE("capture: two copies of runlog in one process cannot both capture", "[capture][plugins]") {
    test_support::temp_dir dir;
    using start_fn = const char* (*)(const char*);
    using end_fn = void (*)();
    void* a = ::dlopen(RUNLOG_CAPTURE_PLUGIN_A, RTLD_NOW | RTLD_LOCAL);
    void* b = ::dlopen(RUNLOG_CAPTURE_PLUGIN_B, RTLD_NOW | RTLD_LOCAL);
    REQUIRE(a != nullptr);
    REQUIRE(b != nullptr);
    auto start_a = reinterpret_cast<start_fn>(::dlsym(a, "plugin_capture_start"));
    auto start_b = reinterpret_cast<start_fn>(::dlsym(b, "plugin_capture_start"));
    auto end_a = reinterpret_cast<end_fn>(::dlsym(a, "plugin_capture_end"));
    auto end_b = reinterpret_cast<end_fn>(::dlsym(b, "plugin_capture_end"));
    REQUIRE((start_a && start_b && end_a && end_b));
    const std::string base = dir.path + "/storage";
    const char* first = start_a(base.c_str());
    CHECK(first == nullptr);
    const char* second = start_b(base.c_str());
    REQUIRE(second != nullptr);
    CHECK_THAT(std::string(second), Catch::Contains("another copy of runlog in this process") &&
                                        Catch::Contains("has a capture active"));
    end_a();
    const char* after = start_b(base.c_str());  // free again once the first copy's capture ended
    CHECK(after == nullptr);
    end_b();
    // This copy can capture again too.
    const char* again = start_a(base.c_str());
    CHECK(again == nullptr);
    end_a();
}

namespace {
/// A sink that says it is a terminal, and keeps what it gets.
struct fake_terminal {
    static constexpr bool thread_safe = false;
    std::vector<std::string>* lines;
    void write(std::string_view s) { lines->emplace_back(s); }
    void flush() {}
    bool is_terminal() const noexcept { return true; }
};
}  // namespace

TEST_CASE("capture: automatic colours stay out of the compute logs", "[capture][color]") {
    temp_dir d;
    ::unsetenv("NO_COLOR");
    std::vector<std::string> lines;
    auto log = runlog::make_logger(runlog::pipeline("console", runlog::text_formatter("{level} {message}"),
                                                    fake_terminal{&lines}, level::debug));
    runlog::run run(log, "job", in(d));
    log.error("before");
    {
        runlog::capture cap(run, {}, {.tee = false, .file_key = "plain"});
        log.error("during");
    }
    log.error("after");
    auto line_of = [&](const std::string& what) {
        for (const auto& l : lines)
            if (l.find(what) != std::string::npos) return l;
        return std::string();
    };
    CHECK(line_of("before").find('\x1b') != std::string::npos);
    CHECK(line_of("during").find('\x1b') == std::string::npos);
    CHECK(line_of("after").find('\x1b') != std::string::npos);
}
