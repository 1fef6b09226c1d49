#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include <runlog/runlog.hpp>

#include "support.hpp"

using test_support::file_text;

namespace {


bool exists(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0;
}

void spit(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary);
    out << text;
}

/// The rotated files that exist, oldest first (path.N ... path.1), then the active path.
std::vector<std::string> files_oldest_first(const std::string& path, std::size_t max_files) {
    std::vector<std::string> files;
    for (std::size_t n = max_files; n >= 1; --n)
        if (exists(path + "." + std::to_string(n))) files.push_back(path + "." + std::to_string(n));
    files.push_back(path);
    return files;
}

std::vector<std::string> split_lines(const std::string& text) {
    std::vector<std::string> lines;
    std::size_t start = 0;
    for (std::size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1)
        lines.push_back(text.substr(start, nl - start));
    return lines;
}

/// "line <i> xxx...": a numbered record whose length varies with i.
std::string numbered_line(int i) {
    return "line " + std::to_string(i) + " " + std::string(static_cast<std::size_t>(i % 57), 'x') + "\n";
}

int number_of(const std::string& line) {
    REQUIRE(line.rfind("line ", 0) == 0);
    const auto sp = line.find(' ', 5);
    REQUIRE(sp != std::string::npos);
    const int i = std::stoi(line.substr(5, sp - 5));
    REQUIRE(line.size() - sp - 1 == static_cast<std::size_t>(i % 57));
    return i;
}

/// Checks the files of a size-rotated log written with numbered_line(0 ... count-1): whole lines only, each file
/// within max_size, each rotated file full (the next record did not fit), and together a contiguous run that ends
/// with the last record. Returns the first number still on disk.
int check_size_rotated(const std::string& path, std::size_t max_files, std::uint64_t max_size, int count) {
    const auto files = files_oldest_first(path, max_files);
    int expect = -1;
    for (std::size_t f = 0; f < files.size(); ++f) {
        const std::string text = file_text(files[f]);
        INFO(files[f]);
        REQUIRE_FALSE(text.empty());
        REQUIRE(text.back() == '\n');
        REQUIRE(text.size() <= max_size);
        for (const auto& line : split_lines(text)) {
            const int i = number_of(line);
            if (expect < 0) expect = i;
            REQUIRE(i == expect);
            ++expect;
        }
        if (f + 1 < files.size()) {
            // Rotated only because the next record (the first of the next file) would not fit.
            const auto next = split_lines(file_text(files[f + 1])).front();
            CHECK(text.size() + next.size() + 1 > max_size);
        }
    }
    CHECK(expect == count);
    return number_of(split_lines(file_text(files.front())).front());
}

struct captured_errors {
    static inline std::vector<std::string> messages;
    static void handler(const runlog::sink_error& e) noexcept { messages.emplace_back(e.message); }
    runlog::error_handler previous;
    captured_errors() : previous(runlog::set_error_handler(&handler)) { messages.clear(); }
    ~captured_errors() { runlog::set_error_handler(previous); }
};

/// A clock the test moves by hand.
struct fake_clock {
    static inline std::atomic<std::int64_t> seconds{0};
    static std::chrono::system_clock::time_point now() noexcept {
        return std::chrono::system_clock::time_point(std::chrono::seconds(seconds.load()));
    }
};

/// 2026-11-24 12:40:05 UTC.
constexpr std::int64_t nov24_124005 = 1795524005;
constexpr std::int64_t nov24_1300 = 1795525200;
constexpr std::int64_t nov25_0000 = 1795564800;

void set_mtime(const std::string& path, std::int64_t seconds) {
    const timespec times[2] = {{static_cast<time_t>(seconds), 0}, {static_cast<time_t>(seconds), 0}};
    REQUIRE(::utimensat(AT_FDCWD, path.c_str(), times, 0) == 0);
}

}  // namespace

TEST_CASE("size rotation keeps every line once, in order, in files no bigger than max_size", "[rotating]") {
    test_support::temp_dir dir;
    const auto path = dir.path + "/logs/run.log";
    constexpr int count = 10000;

    SECTION("with room for every file") {
        {
            runlog::rotating_file_sink f(path, {.max_size = 16 * 1024, .max_files = 100, .buffer_size = 1024});
            for (int i = 0; i < count; ++i) f.write(numbered_line(i));
            CHECK(f.failures() == 0);
        }
        CHECK(exists(path + ".20"));
        CHECK(check_size_rotated(path, 100, 16 * 1024, count) == 0);
    }
    SECTION("keeping only max_files old files: what remains is the newest run of lines") {
        {
            runlog::rotating_file_sink f(path, {.max_size = 4096, .max_files = 3, .buffer_size = 1024});
            for (int i = 0; i < count; ++i) f.write(numbered_line(i));
            CHECK(f.failures() == 0);
        }
        CHECK(exists(path + ".3"));
        CHECK_FALSE(exists(path + ".4"));
        CHECK(check_size_rotated(path, 3, 4096, count) > 0);
    }
    SECTION("unbuffered, every record at once") {
        {
            runlog::rotating_file_sink f(path, {.max_size = 1000, .max_files = 2, .buffer_size = 0});
            for (int i = 0; i < count; ++i) f.write(numbered_line(i));
        }
        CHECK_FALSE(exists(path + ".3"));
        CHECK(check_size_rotated(path, 2, 1000, count) > 0);
    }
}

TEST_CASE("a record larger than max_size goes alone into a file", "[rotating]") {
    test_support::temp_dir dir;
    const auto path = dir.path + "/big.log";
    const std::string big = std::string(30, 'B') + "\n";
    runlog::rotating_file_sink f(path, {.max_size = 10, .max_files = 5, .buffer_size = 0});
    f.write(big);  // into the empty file: nothing to rotate
    CHECK_FALSE(exists(path + ".1"));
    f.write("abc\n");
    f.write("def\n");
    f.write(big);
    f.write("ghi\n");
    CHECK(file_text(path + ".3") == big);
    CHECK(file_text(path + ".2") == "abc\ndef\n");
    CHECK(file_text(path + ".1") == big);
    CHECK(file_text(path) == "ghi\n");
    CHECK(f.failures() == 0);
}

TEST_CASE("buffered records go to the file they were written for", "[rotating]") {
    test_support::temp_dir dir;
    const auto path = dir.path + "/buf.log";
    runlog::rotating_file_sink f(path, {.max_size = 12, .max_files = 5, .flush_every = std::chrono::milliseconds(0)});
    auto copy = f;  // copies share the file and its buffer
    f.write("aaaa\n");
    copy.write("bbbb\n");
    CHECK(file_text(path).empty());  // still buffered
    f.write("cccc\n");           // 15 bytes would pass max_size: the first two go out to run.log, then it moves
    CHECK(file_text(path + ".1") == "aaaa\nbbbb\n");
    CHECK(file_text(path).empty());
    copy.write("E\n", runlog::level::error);
    CHECK(file_text(path) == "cccc\nE\n");
    CHECK(copy.path() == path);
    CHECK_FALSE(copy.is_terminal());
}

TEST_CASE("time rotation starts a new file when the clock crosses an interval boundary", "[rotating]") {
    test_support::temp_dir dir;
    const auto path = dir.path + "/hourly.log";
    fake_clock::seconds = nov24_124005;
    runlog::rotating_file_sink f(path, {.interval = std::chrono::hours(1), .buffer_size = 0, .clock = &fake_clock::now});
    f.write("a\n");
    fake_clock::seconds = nov24_1300 - 1;
    f.write("b\n");
    CHECK_FALSE(exists(path + ".1"));  // still 12:59:59

    fake_clock::seconds = nov24_1300;
    f.write("c\n");
    CHECK(file_text(path + ".1") == "a\nb\n");
    CHECK(file_text(path) == "c\n");

    fake_clock::seconds = nov24_1300 + 3 * 3600 + 600;  // three boundaries later, one new file, no empty ones
    f.write("d\n");
    CHECK(file_text(path + ".2") == "a\nb\n");
    CHECK(file_text(path + ".1") == "c\n");
    CHECK(file_text(path) == "d\n");
    CHECK_FALSE(exists(path + ".3"));

    fake_clock::seconds += 60;
    f.write("e\n");
    CHECK(file_text(path) == "d\ne\n");
    CHECK(f.failures() == 0);
}

TEST_CASE("daily rotation happens at midnight UTC and never leaves an empty file", "[rotating]") {
    test_support::temp_dir dir;
    const auto path = dir.path + "/daily.log";
    fake_clock::seconds = nov24_124005;
    runlog::rotating_file_sink f(path, {.interval = std::chrono::hours(24), .buffer_size = 0, .clock = &fake_clock::now});
    fake_clock::seconds = nov25_0000 + 5;  // a boundary passes before anything is written
    f.write("first\n");
    CHECK_FALSE(exists(path + ".1"));
    fake_clock::seconds = nov25_0000 + 86399;
    f.write("late\n");
    CHECK_FALSE(exists(path + ".1"));
    fake_clock::seconds = nov25_0000 + 86400;
    f.write("next day\n");
    CHECK(file_text(path + ".1") == "first\nlate\n");
    CHECK(file_text(path) == "next day\n");
}

TEST_CASE("size and time limits work together", "[rotating]") {
    test_support::temp_dir dir;
    const auto path = dir.path + "/both.log";
    fake_clock::seconds = nov24_124005;
    runlog::rotating_file_sink f(
        path, {.max_size = 8, .interval = std::chrono::hours(1), .max_files = 9, .clock = &fake_clock::now});
    f.write("1234\n");
    f.write("5678\n");  // size
    fake_clock::seconds = nov24_1300;
    f.write("9\n");  // time
    f.flush();
    CHECK(file_text(path + ".2") == "1234\n");
    CHECK(file_text(path + ".1") == "5678\n");
    CHECK(file_text(path) == "9\n");
}

TEST_CASE("on restart the existing file's size counts toward max_size", "[rotating]") {
    test_support::temp_dir dir;
    const auto path = dir.path + "/restart.log";
    {
        runlog::rotating_file_sink f(path, {.max_size = 20});
        f.write("0123456789\n");
    }
    {
        runlog::rotating_file_sink f(path, {.max_size = 30});
        f.write("abcdefghij\n");  // 22 bytes: appended
    }
    CHECK(file_text(path) == "0123456789\nabcdefghij\n");
    CHECK_FALSE(exists(path + ".1"));
    {
        runlog::rotating_file_sink f(path, {.max_size = 30});
        f.write("klmnopqrst\n");  // 33 bytes would pass 30
    }
    CHECK(file_text(path + ".1") == "0123456789\nabcdefghij\n");
    CHECK(file_text(path) == "klmnopqrst\n");
}

TEST_CASE("on restart with a smaller max_files the extra old files are deleted", "[rotating]") {
    test_support::temp_dir dir;
    const auto path = dir.path + "/keep.log";
    for (int n = 1; n <= 6; ++n) spit(path + "." + std::to_string(n), "old " + std::to_string(n) + "\n");
    for (const char* other : {"/keep.log.01", "/keep.log.7x", "/keep.log.", "/other.log.9"}) spit(dir.path + other, "x\n");

    SECTION("a rotating sink deletes path.N beyond max_files and nothing else") {
        runlog::rotating_file_sink f(path, {.max_size = 1000, .max_files = 3});
        for (int n = 1; n <= 3; ++n) CHECK(file_text(path + "." + std::to_string(n)) == "old " + std::to_string(n) + "\n");
        for (int n = 4; n <= 6; ++n) CHECK_FALSE(exists(path + "." + std::to_string(n)));
        for (const char* other : {"/keep.log.01", "/keep.log.7x", "/keep.log.", "/other.log.9"})
            CHECK(exists(dir.path + other));
        CHECK(f.failures() == 0);
    }
    SECTION("a sink with no limit set does not rotate, so it leaves numbered files alone") {
        runlog::rotating_file_sink f(path, {.max_files = 0});
        CHECK(exists(path + ".6"));
    }
    SECTION("relative paths are cleaned in their own directory") {
        const auto cwd = std::filesystem::current_path();
        std::filesystem::current_path(dir.path);
        {
            runlog::rotating_file_sink f("keep.log", {.max_size = 1000, .max_files = 2});
        }
        std::filesystem::current_path(cwd);
        CHECK(exists(path + ".2"));
        CHECK_FALSE(exists(path + ".3"));
    }
}

TEST_CASE("on restart a file last written in an earlier interval is rotated at open", "[rotating]") {
    test_support::temp_dir dir;
    const auto path = dir.path + "/stale.log";
    spit(path, "yesterday\n");
    set_mtime(path, nov24_124005);
    const runlog::rotating_options daily{.interval = std::chrono::hours(24), .buffer_size = 0, .clock = &fake_clock::now};

    SECTION("after midnight") {
        fake_clock::seconds = nov25_0000 + 1;
        runlog::rotating_file_sink f(path, daily);
        CHECK(file_text(path + ".1") == "yesterday\n");
        CHECK(file_text(path).empty());
        f.write("today\n");
        CHECK(file_text(path) == "today\n");
    }
    SECTION("still the same day") {
        fake_clock::seconds = nov25_0000 - 1;
        runlog::rotating_file_sink f(path, daily);
        f.write("today\n");
        CHECK_FALSE(exists(path + ".1"));
        CHECK(file_text(path) == "yesterday\ntoday\n");
    }
    SECTION("an empty stale file is reused, not rotated") {
        spit(path, "");
        set_mtime(path, nov24_124005);
        fake_clock::seconds = nov25_0000 + 1;
        runlog::rotating_file_sink f(path, daily);
        CHECK_FALSE(exists(path + ".1"));
    }
}

TEST_CASE("a rotating file sink works through a logger pipeline", "[rotating]") {
    test_support::temp_dir dir;
    const auto path = dir.path + "/pipeline.log";
    {
        auto log = runlog::make_logger(runlog::pipeline(
            "file", runlog::text_formatter("{message}"),
            runlog::rotating_file_sink(path, {.max_size = 200, .max_files = 100})));
        for (int i = 0; i < 300; ++i) log.info("line {} {}", i, std::string(static_cast<std::size_t>(i % 57), 'x'));
    }
    CHECK(exists(path + ".40"));
    CHECK(check_size_rotated(path, 100, 200, 300) == 0);
}

TEST_CASE("concurrent writers lose and repeat nothing across rotations", "[rotating]") {
    test_support::temp_dir dir;
    const auto path = dir.path + "/threads.log";
    constexpr int threads = 4, per_thread = 5000;
    constexpr std::uint64_t max_size = 32 * 1024;
    {
        runlog::rotating_file_sink f(path, {.max_size = max_size, .max_files = 1000, .buffer_size = 4096});
        std::vector<std::thread> pool;
        for (int t = 0; t < threads; ++t)
            pool.emplace_back([f, t]() mutable {  // each thread its own copy: they share one state
                for (int i = 0; i < per_thread; ++i)
                    f.write("thread " + std::to_string(t) + " record " + std::to_string(i) + " " +
                            std::string(static_cast<std::size_t>(i % 100), 'y') + "\n");
            });
        for (auto& th : pool) th.join();
        CHECK(f.failures() == 0);
    }
    const auto files = files_oldest_first(path, 1000);
    CHECK(files.size() > 5);
    std::map<int, int> next;  // thread -> next record expected: each thread's order survives rotation
    std::size_t total = 0;
    for (const auto& file : files) {
        const std::string text = file_text(file);
        REQUIRE(text.size() <= max_size);
        REQUIRE(text.back() == '\n');
        for (const auto& line : split_lines(text)) {
            int t = -1, i = -1, skip = 0;
            REQUIRE(std::sscanf(line.c_str(), "thread %d record %d %n", &t, &i, &skip) == 2);
            REQUIRE(line.size() - static_cast<std::size_t>(skip) == static_cast<std::size_t>(i % 100));
            REQUIRE(i == next[t]);
            ++next[t];
            ++total;
        }
    }
    CHECK(total == static_cast<std::size_t>(threads * per_thread));
    for (int t = 0; t < threads; ++t) CHECK(next[t] == per_thread);
}

TEST_CASE("a failed rename is reported and the records stay in the current file", "[rotating]") {
    captured_errors errors;
    test_support::temp_dir dir;
    const auto path = dir.path + "/stuck.log";

    SECTION("path.1 cannot be replaced") {
        std::filesystem::create_directories(path + ".1/occupied");  // rename(2) cannot put a file over a directory
        runlog::rotating_file_sink f(path, {.max_size = 10, .max_files = 1, .buffer_size = 0});
        f.write("aaaa\n");
        f.write("bbbb\n");
        CHECK_NOTHROW(f.write("cccc\n"));  // rotation fails
        CHECK(f.failures() == 1);
        CHECK(f.lost_records() == 0);
        REQUIRE(errors.messages.size() == 1);
        CHECK_THAT(errors.messages[0], Catch::StartsWith("cannot rename log file \"" + path + "\": "));
        f.write("dddd\n");  // the next attempt waits for another max_size bytes
        CHECK(f.failures() == 1);
        f.write("eeee\n");
        CHECK(f.failures() == 2);
        CHECK(file_text(path) == "aaaa\nbbbb\ncccc\ndddd\neeee\n");
    }
    SECTION("an old file cannot be shifted: the others stay as they were") {
        spit(path + ".1", "one\n");
        spit(path + ".2", "two\n");
        std::filesystem::create_directories(path + ".3/occupied");
        runlog::rotating_file_sink f(path, {.max_size = 6, .max_files = 3, .buffer_size = 0});
        f.write("abcd\n");
        f.write("efgh\n");
        CHECK(f.failures() == 1);
        CHECK(f.lost_records() == 0);
        REQUIRE(errors.messages.size() == 1);
        CHECK_THAT(errors.messages[0], Catch::StartsWith("cannot rename old log file \"" + path + ".2\": "));
        CHECK(file_text(path + ".1") == "one\n");
        CHECK(file_text(path + ".2") == "two\n");
        CHECK(file_text(path) == "abcd\nefgh\n");
    }
}

TEST_CASE("a rotating file sink refuses a path it cannot use, naming it", "[rotating]") {
    CHECK_THROWS_WITH(runlog::rotating_file_sink("", {}), Catch::Contains("log file path is empty"));
    CHECK_THROWS_AS(runlog::rotating_file_sink("/proc/runlog-no/x.log", {.max_size = 100}), std::system_error);
    CHECK_THROWS_WITH(runlog::rotating_file_sink("/proc/runlog-no/x.log", {.max_size = 100}),
                      Catch::Contains("\"/proc/runlog-no/x.log\""));

    test_support::temp_dir dir;
    spit(dir.path + "/file", "");
    CHECK_THROWS_WITH(runlog::rotating_file_sink(dir.path + "/file/x.log", {.max_size = 100}),
                      Catch::Contains("cannot create the directory of log file \"" + dir.path + "/file/x.log\""));
    CHECK_THROWS_WITH(runlog::rotating_file_sink(dir.path, {.max_size = 100}),
                      Catch::Contains("cannot open log file \"" + dir.path + "\""));

    if (::geteuid() != 0) {
        const auto locked = dir.path + "/locked";
        std::filesystem::create_directory(locked);
        std::filesystem::permissions(locked, std::filesystem::perms::owner_read | std::filesystem::perms::owner_exec);
        try {
            runlog::rotating_file_sink f(locked + "/x.log", {.max_size = 100});
            FAIL("opened a file in a read-only directory");
        } catch (const std::system_error& e) {
            CHECK(e.code() == std::errc::permission_denied);
            CHECK_THAT(e.what(), Catch::Contains("cannot open log file \"" + locked + "/x.log\""));
        }
    } else {
        WARN("running as root: a read-only directory does not stop root, so that case is not checked");
    }
}

TEST_CASE("rotating options that make no sense are refused", "[rotating]") {
    test_support::temp_dir dir;
    const auto path = dir.path + "/opts.log";
    CHECK_THROWS_WITH(runlog::rotating_file_sink(path, {.max_size = 100, .max_files = 0}),
                      Catch::Contains("max_files must be at least 1"));
    CHECK_THROWS_AS(runlog::rotating_file_sink(path, {.interval = std::chrono::hours(1), .max_files = 0}),
                    std::invalid_argument);
    CHECK_THROWS_WITH(runlog::rotating_file_sink(path, {.interval = std::chrono::seconds(-1)}),
                      Catch::Contains("interval must not be negative"));
    CHECK_NOTHROW(runlog::rotating_file_sink(path, {.max_files = 0}));  // no limit: a plain appending file
    static_assert(runlog::sink<runlog::rotating_file_sink>);
}

namespace {
/// The names in dir, sorted.
std::vector<std::string> names_in(const std::string& dir) {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(dir)) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
}

/// Sets TZ for the test's lifetime.
struct time_zone {
    std::string saved;
    bool had = false;
    explicit time_zone(const char* tz) {
        if (const char* old = std::getenv("TZ")) saved = old, had = true;
        ::setenv("TZ", tz, 1);
        ::tzset();
    }
    ~time_zone() {
        if (had)
            ::setenv("TZ", saved.c_str(), 1);
        else
            ::unsetenv("TZ");
        ::tzset();
    }
};
}  // namespace

TEST_CASE("a dated file name starts a file per interval and keeps max_files old ones", "[rotating][dated]") {
    test_support::temp_dir dir;
    fake_clock::seconds = nov25_0000 - 1;  // 2026-11-24 23:59:59 UTC
    {
        runlog::rotating_file_sink f(dir.path + "/app_%Y-%m-%d.log", {.interval = std::chrono::hours(24), .max_files = 2,
                                                                   .buffer_size = 0, .clock = &fake_clock::now});
        CHECK(f.path() == dir.path + "/app_2026-11-24.log");
        f.write("day 24\n");
        for (int day = 0; day < 4; ++day) {
            fake_clock::seconds = nov25_0000 + day * 86400 + 1;
            f.write("day " + std::to_string(25 + day) + "\n");
        }
        CHECK(f.path() == dir.path + "/app_2026-11-28.log");
    }
    // The active file and the 2 newest old ones; nothing renamed.
    CHECK(names_in(dir.path) == std::vector<std::string>{"app_2026-11-26.log", "app_2026-11-27.log", "app_2026-11-28.log"});
    CHECK(file_text(dir.path + "/app_2026-11-27.log") == "day 27\n");
    // A restart within the day appends to that day's file.
    fake_clock::seconds = nov25_0000 + 3 * 86400 + 7200;
    {
        runlog::rotating_file_sink f(dir.path + "/app_%Y-%m-%d.log", {.interval = std::chrono::hours(24), .max_files = 2,
                                                                   .buffer_size = 0, .clock = &fake_clock::now});
        f.write("again\n");
    }
    CHECK(file_text(dir.path + "/app_2026-11-28.log") == "day 28\nagain\n");
}

TEST_CASE("intervals in local time start at local midnight", "[rotating][dated]") {
    test_support::temp_dir dir;
    const time_zone est("EST5");  // UTC-5, no summer time: local midnight is 05:00 UTC
    fake_clock::seconds = nov25_0000 + 5 * 3600 - 1;  // 2026-11-24 23:59:59 local
    runlog::rotating_file_sink dated(dir.path + "/d_%Y%m%d.log", {.interval = std::chrono::hours(24), .local_time = true,
                                                                 .buffer_size = 0, .clock = &fake_clock::now});
    runlog::rotating_file_sink numbered(dir.path + "/n.log", {.interval = std::chrono::hours(24), .local_time = true,
                                                             .buffer_size = 0, .clock = &fake_clock::now});
    dated.write("late on the 24th\n");
    numbered.write("late on the 24th\n");
    fake_clock::seconds = nov25_0000 + 3600;  // 01:00 UTC: still the 24th here
    dated.write("still the 24th\n");
    numbered.write("still the 24th\n");
    CHECK(dated.path() == dir.path + "/d_20261124.log");
    CHECK_FALSE(std::filesystem::exists(dir.path + "/n.log.1"));
    fake_clock::seconds = nov25_0000 + 5 * 3600;  // local midnight
    dated.write("the 25th\n");
    numbered.write("the 25th\n");
    CHECK(dated.path() == dir.path + "/d_20261125.log");
    CHECK(file_text(dir.path + "/d_20261124.log") == "late on the 24th\nstill the 24th\n");
    CHECK(file_text(dir.path + "/n.log.1") == "late on the 24th\nstill the 24th\n");
    CHECK(file_text(dir.path + "/n.log") == "the 25th\n");
}

TEST_CASE("a dated file name is checked when the sink is made", "[rotating][dated]") {
    test_support::temp_dir dir;
    CHECK_THROWS_WITH(runlog::rotating_file_sink(dir.path + "/a_%Z.log", {.interval = std::chrono::hours(1)}),
                      Catch::Contains("a dated file name takes %Y %m %d %H %M %S %j and %% only"));
    CHECK_THROWS_WITH(runlog::rotating_file_sink(dir.path + "/a_%Y.log", {}),
                      Catch::Contains("a dated file name needs an interval and takes no max_size"));
    CHECK_THROWS_WITH(runlog::rotating_file_sink(dir.path + "/%Y/a.log", {.interval = std::chrono::hours(1)}),
                      Catch::Contains("the date goes in the file's name, not in its directories"));
}
