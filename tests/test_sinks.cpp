#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include "support.hpp"

using test_support::file_text;

namespace {

std::string temp_dir(const std::string& name) {
    std::string dir = std::string(RUNLOG_TEST_BINARY_DIR) + "/sink_tmp/" + name;
    std::string cmd = "rm -rf '" + dir + "'";
    REQUIRE(std::system(cmd.c_str()) == 0);
    return dir;
}

struct captured_errors {
    static inline std::vector<std::string> messages;
    static inline std::uint64_t last_failures = 0, last_lost = 0;
    static void handler(const runlog::sink_error& e) noexcept {
        messages.emplace_back(e.message);
        last_failures = e.failures;
        last_lost = e.lost_records;
    }
    runlog::error_handler previous;
    captured_errors() : previous(runlog::set_error_handler(&handler)) {
        messages.clear();
        last_failures = last_lost = 0;
    }
    ~captured_errors() { runlog::set_error_handler(previous); }
};

}  // namespace

TEST_CASE("the file sink creates parent directories and appends", "[sinks][file]") {
    const auto dir = temp_dir("append");
    const auto path = dir + "/a/b/c/run.log";
    {
        runlog::file_sink f(path);
        f.write("one\n");
        f.write("two\n");
    }
    {
        runlog::file_sink f(path);
        f.write("three\n");
    }
    CHECK(file_text(path) == "one\ntwo\nthree\n");
    {
        runlog::file_sink f(path, {.truncate = true});
        f.write("fresh\n");
    }
    CHECK(file_text(path) == "fresh\n");
}

TEST_CASE("the file sink buffers until flush, a full buffer or an important record", "[sinks][file]") {
    const auto path = temp_dir("buffer") + "/x.log";
    runlog::file_sink f(path, {.buffer_size = 16, .flush_every = std::chrono::milliseconds(0)});
    f.write("12345\n", runlog::level::info);
    CHECK(file_text(path).empty());
    f.write("abcdefghijk\n", runlog::level::info);  // does not fit: the first line goes out whole
    CHECK(file_text(path) == "12345\n");
    f.write("E\n", runlog::level::error);
    CHECK(file_text(path) == "12345\nabcdefghijk\nE\n");
    f.write("a record longer than the buffer itself\n");
    CHECK(file_text(path) == "12345\nabcdefghijk\nE\na record longer than the buffer itself\n");
    f.write("last\n");
    f.flush();
    CHECK(file_text(path).ends_with("itself\nlast\n"));
}

TEST_CASE("the file sink refuses a path it cannot use, naming it", "[sinks][file]") {
    CHECK_THROWS_WITH(runlog::file_sink(""), Catch::Contains("log file path is empty"));
    CHECK_THROWS_WITH(runlog::file_sink("/proc/runlog-no/x.log"), Catch::Contains("/proc/runlog-no/x.log"));
    const auto dir = temp_dir("notadir");
    { runlog::file_sink blocker(dir + "/file"); }
    CHECK_THROWS_WITH(runlog::file_sink(dir + "/file/x.log"), Catch::Contains("cannot create the directory"));
}

TEST_CASE("a full disk goes to the error handler once per failure, never to the caller", "[sinks][file]") {
    captured_errors errors;
    runlog::file_sink f("/dev/full", {.buffer_size = 0});
    CHECK_NOTHROW(f.write("a\n"));
    CHECK_NOTHROW(f.write("b\nc\n"));
    CHECK(f.failures() == 2);
    CHECK(f.lost_records() == 3);
    REQUIRE(errors.messages.size() == 2);
    CHECK(errors.messages[0] == "write to \"/dev/full\" failed: No space left on device");
    CHECK(errors.last_failures == 2);
    CHECK(errors.last_lost == 3);
}

namespace {
/// What fn writes to stderr (up to 1 KiB, possibly nothing), through a pipe in place of descriptor 2.
template <class Fn>
std::string stderr_of(Fn&& fn) {
    int pipefd[2];
    REQUIRE(::pipe(pipefd) == 0);
    int saved = ::dup(2);
    ::dup2(pipefd[1], 2);
    fn();
    ::dup2(saved, 2);
    ::close(saved);
    ::close(pipefd[1]);
    char buf[1024];
    auto n = ::read(pipefd[0], buf, sizeof buf);
    ::close(pipefd[0]);
    REQUIRE(n >= 0);
    return std::string(buf, static_cast<std::size_t>(n));
}
}  // namespace

TEST_CASE("the default error handler prints a sink's first failure only", "[sinks]") {
    const std::string printed = stderr_of([] {
        runlog::file_sink f("/dev/full", {.buffer_size = 0});
        f.write("a\n");
        f.write("b\n");
    });
    CHECK(printed ==
          "runlog: write to \"/dev/full\" failed: No space left on device (later failures of this sink are counted, "
          "not printed)\n");
}

TEST_CASE("the default error handler prints one-off problems once each, without the sink note", "[sinks]") {
    const std::string printed = stderr_of([] {
        runlog::detail::report_problem("first thing went wrong");
        runlog::detail::report_problem("second thing went wrong");
    });
    CHECK(printed == "runlog: first thing went wrong\nrunlog: second thing went wrong\n");
}

TEST_CASE("a console write to a failing descriptor is reported, not thrown", "[sinks][console]") {
    captured_errors errors;
    int saved = ::dup(1);
    int full = ::open("/dev/full", O_WRONLY);
    REQUIRE(full >= 0);
    std::fflush(stdout);
    ::dup2(full, 1);
    runlog::stdout_sink s;
    auto before = s.failures();
    s.write("lost\n");
    ::dup2(saved, 1);
    ::close(saved);
    ::close(full);
    CHECK(s.failures() == before + 1);
    REQUIRE(errors.messages.size() == 1);
    CHECK(errors.messages[0] == "write to stdout failed: No space left on device");
}

TEST_CASE("lines stay whole when many threads write one file", "[sinks][file]") {
    const auto path = temp_dir("threads") + "/t.log";
    {
        runlog::file_sink f(path, {.buffer_size = 4096});
        std::vector<std::thread> threads;
        for (int t = 0; t < 4; ++t)
            threads.emplace_back([&, t] {
                for (int i = 0; i < 5000; ++i) {
                    std::string line = "thread " + std::to_string(t) + " line " + std::to_string(i) + " " +
                                       std::string(static_cast<std::size_t>(i % 200), 'x') + "\n";
                    f.write(line);
                }
            });
        for (auto& th : threads) th.join();
    }
    std::ifstream in(path);
    std::set<std::string> seen;
    std::string line;
    while (std::getline(in, line)) {
        REQUIRE(line.rfind("thread ", 0) == 0);
        auto sp = line.find(' ', 7);
        auto sp2 = line.find(' ', sp + 6);
        int i = std::stoi(line.substr(sp + 6, sp2 - sp - 6));
        REQUIRE(line.size() - sp2 - 1 == static_cast<std::size_t>(i % 200));
        seen.insert(line.substr(0, sp2));
    }
    CHECK(seen.size() == 20000);
}

TEST_CASE("the memory sink keeps a bounded ring and counts what it drops", "[sinks][memory]") {
    runlog::memory_sink m(2);
    auto copy = m;  // copies share the store
    m.write("a\n");
    m.write("b\n");
    m.write("c\n");
    CHECK(copy.lines() == std::vector<std::string>{"b\n", "c\n"});
    CHECK(copy.dropped() == 1);
    CHECK(copy.text() == "b\nc\n");
    copy.clear();
    CHECK(m.size() == 0);
}

TEST_CASE("the callback sink passes bytes and contains exceptions", "[sinks][callback]") {
    captured_errors errors;
    std::string got;
    runlog::callback_sink ok([&](std::string_view s) { got.append(s); });
    ok.write("x\n");
    CHECK(got == "x\n");
    runlog::callback_sink bad([](std::string_view) { throw std::runtime_error("nope"); });
    CHECK_NOTHROW(bad.write("y\n"));
    CHECK(bad.failures() == 1);
    REQUIRE(errors.messages.size() == 1);
    CHECK(errors.messages[0] == "log callback threw: nope");
}

TEST_CASE("a file that ends in a partial line gets a newline before the next line", "[sinks][whole_lines]") {
    test_support::temp_dir dir;
    // What a process killed in the middle of a write leaves behind.
    const auto path = dir.write("events.jsonl", "{\"a\":1}\n{\"b\":2,\"cut\":\"he");
    const std::string printed = stderr_of([&] {
        runlog::file_sink sink(path);
        sink.write("{\"c\":3}\n");
    });
    CHECK(file_text(path) == "{\"a\":1}\n{\"b\":2,\"cut\":\"he\n{\"c\":3}\n");
    CHECK(printed == "runlog: " + path + ": the last line was cut short (a crash or a full disk?); ended it, so that "
                                         "new lines start whole\n");
    // A whole file is left as it is, and says nothing.
    const std::string quiet = stderr_of([&] { runlog::file_sink(path).write("{\"d\":4}\n"); });
    CHECK(quiet.empty());
    CHECK(file_text(path) == "{\"a\":1}\n{\"b\":2,\"cut\":\"he\n{\"c\":3}\n{\"d\":4}\n");
}

namespace {
/// Each line of a file; fails the test when the file does not end in a newline.
std::vector<std::string> lines_of(const std::string& path) {
    const std::string text = file_text(path);
    REQUIRE((text.empty() || text.back() == '\n'));
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}
}  // namespace

TEST_CASE("after a write that stopped part-way (full disk), the file holds whole lines only", "[sinks][whole_lines]") {
    test_support::temp_dir dir;
    const auto path = dir.path + "/full.log";
    auto line = [](int i) {
        std::string s = "record " + std::to_string(i) + " ";
        s.append(static_cast<std::size_t>(20 + i % 37), static_cast<char>('a' + i % 26));
        return s + "\n";
    };
    for (const std::size_t buffer : {std::size_t{0}, std::size_t{4096}}) {
        INFO("buffer " << buffer);
        ::unlink(path.c_str());
        std::uint64_t lost = 0;
        int total = 0;
        {
            runlog::file_sink sink(path, {.buffer_size = buffer});
            {
                const test_support::file_size_limit limit(5000);  // the "disk" fills after about 90 lines
                const std::string printed = stderr_of([&] {
                    for (; total < 300; ++total) sink.write(line(total));
                    sink.flush();
                });
                CHECK(printed.find("write to \"" + path + "\" failed: File too large") != std::string::npos);
            }
            // Space again: later lines must start on a line of their own.
            for (int i = 0; i < 50; ++i, ++total) sink.write(line(total));
            sink.flush();
            lost = sink.lost_records();
        }
        const auto lines = lines_of(path);
        CHECK(lost > 0);
        CHECK(lines.size() + lost == static_cast<std::size_t>(total));  // each line either in the file, or counted
        int previous = -1;
        for (const auto& l : lines) {
            INFO(l);
            const int i = std::stoi(l.substr(7));
            REQUIRE(l + "\n" == line(i));  // whole, and not glued to another
            CHECK(i > previous);
            previous = i;
        }
        CHECK(previous == total - 1);
    }
}

TEST_CASE("buffered file sinks write out within flush_every, also when the program is idle", "[sinks][flush_every]") {
    test_support::temp_dir dir;
    runlog::file_sink timed(dir.path + "/timed.log", {.flush_every = std::chrono::milliseconds(50)});
    runlog::file_sink untimed(dir.path + "/untimed.log", {.flush_every = std::chrono::milliseconds(0)});
    runlog::rotating_file_sink rotating(dir.path + "/rotating.log", {.max_size = 1 << 20,
                                                                    .flush_every = std::chrono::milliseconds(50)});
    runlog::file_sink by_default(dir.path + "/default.log");
    for (auto* s : {&timed, &untimed, &by_default}) s->write("one\n");
    rotating.write("one\n");
    // Nothing is written at once: the records sit in the 256 KiB buffers (the default's timer is 1 s away).
    CHECK(file_text(dir.path + "/default.log").empty());
    auto written_within = [&](const std::string& path, std::chrono::milliseconds limit) {
        const auto deadline = std::chrono::steady_clock::now() + limit;
        while (std::chrono::steady_clock::now() < deadline) {
            if (file_text(path) == "one\n") return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        return file_text(path) == "one\n";
    };
    // Generous limits: this machine may be loaded; the point is that no flush() was called.
    CHECK(written_within(dir.path + "/timed.log", std::chrono::milliseconds(1000)));
    CHECK(written_within(dir.path + "/rotating.log", std::chrono::milliseconds(1000)));
    CHECK(written_within(dir.path + "/default.log", std::chrono::milliseconds(3000)));  // 1 s by default
    CHECK(file_text(dir.path + "/untimed.log").empty());  // no timer: still buffered
    untimed.flush();
    CHECK(file_text(dir.path + "/untimed.log") == "one\n");
}

TEST_CASE("after fork, the child's file sinks are written out on time too", "[sinks][flush_every]") {
#if defined(__SANITIZE_THREAD__)
    WARN("skipped under ThreadSanitizer, which ends a child of a multi-threaded fork that starts a thread");
    return;
#endif
    test_support::temp_dir dir;
    runlog::file_sink parent(dir.path + "/parent.log", {.flush_every = std::chrono::milliseconds(20)});
    parent.write("parent\n");
    // Fork once the flusher thread is idle: a thread in the middle of starting (or of allocating) when another
    // forks leaves the sanitizers' allocator locked in the child (glibc's malloc is safe; ASan's in GCC 12 not).
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        // The flusher thread did not survive the fork; a sink made here brings one back, for every sink.
        runlog::file_sink mine(dir.path + "/child.log", {.flush_every = std::chrono::milliseconds(20)});
        mine.write("child\n");
        for (int i = 0; i < 200; ++i) {
            if (file_text(dir.path + "/child.log") == "child\n") ::_exit(0);
            ::usleep(10'000);
        }
        ::_exit(1);
    }
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    parent.flush();
    CHECK(file_text(dir.path + "/parent.log") == "parent\n");  // written out before the fork, once
}

TEST_CASE("a log file deleted while open is reported, its lost records counted, and a new one started", "[sinks][file]") {
    test_support::temp_dir dir;
    const auto path = dir.path + "/sub/gone.log";
    captured_errors errors;
    std::uint64_t lost = 0;
    {
        runlog::file_sink sink(path, {.buffer_size = 0});
        for (int i = 0; i < 10; ++i) sink.write("record " + std::to_string(i) + "\n");
        std::filesystem::remove_all(dir.path + "/sub");  // the whole directory, as `rm -rf run_dir` does
        for (int i = 10; i < 110; ++i) sink.write("record " + std::to_string(i) + "\n");
        lost = sink.lost_records();
    }
    // Checked every 64 writes: the first 64 records went into the deleted file; the rest into a new one.
    REQUIRE(errors.messages.size() == 1);
    CHECK(errors.messages[0] == "\"" + path + "\" was deleted while open: the records written to it since it was last "
                                              "seen are lost; writing to a new file there");
    CHECK(lost == 64);
    std::string expected;
    for (int i = 64; i < 110; ++i) expected += "record " + std::to_string(i) + "\n";
    CHECK(file_text(path) == expected);
    // Deleted after the last check: counted when the sink closes.
    {
        runlog::file_sink sink(path, {.buffer_size = 0});
        sink.write("last\n");
        ::unlink(path.c_str());
    }
    REQUIRE(errors.messages.size() == 2);
    CHECK(errors.last_lost == 1);  // this sink's count
}

namespace {
/// A sink written as a user would, with no locking of its own: appends to a vector.
struct vector_sink {
    std::vector<std::string>* lines;
    void write(std::string_view s) { lines->emplace_back(s); }
    void flush() {}
};

/// Counts how many threads are inside write() at once; thread_safe when told so.
template <bool Safe>
struct overlap_sink {
    static constexpr bool thread_safe = Safe;
    std::atomic<int>* inside;
    std::atomic<int>* most;
    void write(std::string_view) {
        const int now = inside->fetch_add(1) + 1;
        for (int seen = most->load(); now > seen && !most->compare_exchange_weak(seen, now);) {
        }
        std::this_thread::sleep_for(std::chrono::microseconds(200));
        inside->fetch_sub(1);
    }
    void flush() {}
};
}  // namespace

TEST_CASE("a sink without locking of its own is called one record at a time", "[sinks][threads]") {
    static_assert(!runlog::thread_safe_sink<vector_sink>);
    static_assert(runlog::thread_safe_sink<runlog::file_sink> && runlog::thread_safe_sink<runlog::stderr_sink> &&
                  runlog::thread_safe_sink<runlog::memory_sink> && runlog::thread_safe_sink<runlog::rotating_file_sink> &&
                  runlog::thread_safe_sink<runlog::null_sink>);
    std::vector<std::string> lines;
    auto log = runlog::make_logger(runlog::pipeline("vector", runlog::text_formatter("{message}"), vector_sink{&lines}));
    constexpr int threads = 8, each = 20'000;
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
        pool.emplace_back([&log, t] {
            for (int i = 0; i < each; ++i) log.info("{} {}", t, i);
        });
    for (auto& th : pool) th.join();
    REQUIRE(lines.size() == static_cast<std::size_t>(threads * each));
    std::set<std::string> unique(lines.begin(), lines.end());
    CHECK(unique.size() == lines.size());
    for (int t = 0; t < threads; ++t) CHECK(unique.count(std::to_string(t) + " " + std::to_string(each - 1) + "\n") == 1);
}

TEST_CASE("a sink that declares itself thread-safe is called without runlog's lock", "[sinks][threads]") {
    std::atomic<int> inside{0}, most_plain{0}, most_safe{0};
    auto plain = runlog::make_logger(runlog::pipeline("plain", runlog::text_formatter("{message}"),
                                                      overlap_sink<false>{&inside, &most_plain}));
    auto safe = runlog::make_logger(runlog::pipeline("safe", runlog::text_formatter("{message}"),
                                                     overlap_sink<true>{&inside, &most_safe}));
    auto hammer = [](auto& log) {
        std::vector<std::thread> pool;
        for (int t = 0; t < 4; ++t)
            pool.emplace_back([&log] {
                for (int i = 0; i < 50; ++i) log.info("x");
            });
        for (auto& th : pool) th.join();
    };
    hammer(plain);
    hammer(safe);
    CHECK(most_plain.load() == 1);
    CHECK(most_safe.load() > 1);  // 4 threads, 200 µs in each write: they meet
}
