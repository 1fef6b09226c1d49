// Rate limits at the call site: RUNLOG_EVERY_N, RUNLOG_FIRST_N, RUNLOG_EVERY, and the `suppressed` field.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "support.hpp"

using runlog::level;

namespace {

/// The suppressed counts of JSON lines (0 for a line without the field), and how many lines.
std::vector<std::uint64_t> suppressed_of(const std::vector<std::string>& lines) {
    std::vector<std::uint64_t> out;
    for (const auto& l : lines) {
        const auto at = l.find("\"suppressed\":");
        out.push_back(at == std::string::npos ? 0 : std::stoull(l.substr(at + 13)));
    }
    return out;
}

std::uint64_t sum(const std::vector<std::uint64_t>& v) {
    std::uint64_t s = 0;
    for (auto x : v) s += x;
    return s;
}

std::atomic<std::int64_t> fake_now{0};
std::int64_t fake_clock() noexcept { return fake_now.load(); }

/// Sets the rate-limit clock for a test and puts the steady clock back after.
struct injected_clock {
    injected_clock() { runlog::rate_limit_clock().store(&fake_clock); }
    ~injected_clock() { runlog::rate_limit_clock().store(nullptr); }
};

template <class Logger>
void every_n_call(Logger& log, int i) {
    RUNLOG_EVERY_N(log, level::warning, 100, "retry {}", i);
}

}  // namespace

TEST_CASE("rate limit: RUNLOG_EVERY_N lets the 1st, (n+1)th ... call through, exactly, from 8 threads", "[rate_limit]") {
    runlog::memory_sink sink;
    auto log = runlog::make_logger("app", runlog::pipeline("j", runlog::json_formatter{}, sink));
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t)
        threads.emplace_back([&] {
            for (int i = 0; i < 10000; ++i) every_n_call(log, i);
        });
    for (auto& th : threads) th.join();
    const auto lines = sink.lines();
    CHECK(lines.size() == 800);
    const auto counts = suppressed_of(lines);
    // Every record that got through stands for itself and the 99 before it, apart from the first; the 99
    // calls after the last record are counted at the site and would go with the next one.
    CHECK(sum(counts) == 80000 - 800 - 99);
    std::size_t firsts = 0;
    for (auto c : counts) {
        if (c == 0) ++firsts;
        else CHECK(c == 99);
    }
    CHECK(firsts == 1);
}

TEST_CASE("rate limit: each call site counts for itself, and a call below the level counts nothing", "[rate_limit]") {
    runlog::memory_sink sink;
    auto log = runlog::make_logger("app", runlog::pipeline("t", runlog::text_formatter("{message} {fields}"), sink, level::info));
    for (int i = 0; i < 5; ++i) {
        RUNLOG_EVERY_N(log, level::info, 2, "a {}", i);
        RUNLOG_EVERY_N(log, level::info, 3, "b {}", i);
        RUNLOG_EVERY_N(log, level::debug, 1, "never {}", i);
    }
    CHECK(sink.lines() == std::vector<std::string>{"a 0 \n", "b 0 \n", "a 2 suppressed=1\n", "b 3 suppressed=2\n",
                                                    "a 4 suppressed=1\n"});
}

TEST_CASE("rate limit: the call's own fields come first, then suppressed", "[rate_limit]") {
    runlog::memory_sink sink;
    auto log = runlog::make_logger("app", runlog::pipeline("t", runlog::text_formatter("{message} {fields}"), sink));
    for (int i = 0; i < 3; ++i) RUNLOG_EVERY_N(log, level::info, 2, {{"key", "k"}, {"n", i}}, "with fields");
    CHECK(sink.lines() == std::vector<std::string>{"with fields key=k n=0\n", "with fields key=k n=2 suppressed=1\n"});
}

TEST_CASE("rate limit: RUNLOG_FIRST_N lets exactly n calls through from 8 threads", "[rate_limit]") {
    runlog::memory_sink sink;
    auto log = runlog::make_logger("app", runlog::pipeline("t", runlog::text_formatter("{message}"), sink));
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t)
        threads.emplace_back([&] {
            for (int i = 0; i < 5000; ++i) RUNLOG_FIRST_N(log, level::error, 37, "first {}", i);
        });
    for (auto& th : threads) th.join();
    CHECK(sink.lines().size() == 37);
}

TEST_CASE("rate limit: RUNLOG_EVERY lets one call through per period of the injected clock", "[rate_limit]") {
    injected_clock clock;
    fake_now = 1'000'000'000;
    runlog::memory_sink sink;
    auto log = runlog::make_logger("app", runlog::pipeline("t", runlog::text_formatter("{message} {fields}"), sink));
    const auto call = [&](int i) { RUNLOG_EVERY(log, level::error, std::chrono::seconds(1), "disk full {}", i); };
    call(0);                        // through
    fake_now += 500'000'000;
    call(1), call(2), call(3);      // 0.5 s later: suppressed
    fake_now += 499'999'999;
    call(4);                        // 1 ns short of the period: suppressed
    fake_now += 1;
    call(5);                        // through, standing for four
    call(6);
    fake_now += 10'000'000'000;
    call(7);                        // through after a long quiet, standing for one
    CHECK(sink.lines() == std::vector<std::string>{"disk full 0 \n", "disk full 5 suppressed=4\n",
                                                    "disk full 7 suppressed=1\n"});
}

TEST_CASE("rate limit: RUNLOG_EVERY from 8 threads: one call per period, and every call accounted for", "[rate_limit]") {
    injected_clock clock;
    fake_now = 0;
    runlog::memory_sink sink;
    auto log = runlog::make_logger("app", runlog::pipeline("j", runlog::json_formatter{}, sink));
    std::atomic<int> calls{0};
    const auto call = [&](int i) {  // one call site
        RUNLOG_EVERY(log, level::warning, std::chrono::milliseconds(100), "hot {}", i);
        calls.fetch_add(1);
    };
    for (int period = 0; period < 5; ++period) {
        std::vector<std::thread> threads;
        for (int t = 0; t < 8; ++t)
            threads.emplace_back([&] {
                for (int i = 0; i < 2000; ++i) call(i);
            });
        for (auto& th : threads) th.join();
        fake_now += 100'000'000;
    }
    call(-1);
    const auto lines = sink.lines();
    CHECK(lines.size() == 6);  // one per period, and the last call
    // Every call but the six that got through is in exactly one record's count.
    CHECK(calls.load() == 80001);
    CHECK(sum(suppressed_of(lines)) == 80001 - 6);
}

TEST_CASE("rate limit: the macros work with an async logger and the default logger", "[rate_limit][async]") {
    runlog::memory_sink sink;
    auto log = runlog::make_logger("app", runlog::async(runlog::pipeline("t", runlog::text_formatter("{message} {fields}"), sink)));
    for (int i = 0; i < 4; ++i) RUNLOG_EVERY_N(log, level::info, 2, "async {}", i);
    log.flush();
    CHECK(sink.lines() == std::vector<std::string>{"async 0 \n", "async 2 suppressed=1\n"});
    // The default logger is a logger like any other.
    test_support::redirected_std out;
    for (int i = 0; i < 3; ++i) RUNLOG_FIRST_N(runlog::default_logger(), level::warning, 1, "default {}", i);
    runlog::default_logger().flush();
    const std::string err = out.err();
    CHECK(err.find("default 0") != std::string::npos);
    CHECK(err.find("default 1") == std::string::npos);
}

TEST_CASE("rate limit: RUNLOG_EVERY's period may be zero, negative or longer than the clock can count", "[rate_limit]") {
    injected_clock clock;
    fake_now = 5;
    runlog::memory_sink sink;
    auto log = runlog::make_logger("app", runlog::pipeline("t", runlog::text_formatter("{message}"), sink));
    for (int i = 0; i < 3; ++i) RUNLOG_EVERY(log, level::info, std::chrono::seconds(0), "zero {}", i);
    for (int i = 0; i < 3; ++i) RUNLOG_EVERY(log, level::info, std::chrono::seconds(-5), "negative {}", i);
    using megayears = std::chrono::duration<long long, std::ratio<31556952LL * 1000000>>;
    for (int i = 0; i < 3; ++i) {
        RUNLOG_EVERY(log, level::info, megayears(5), "eons {}", i);
        fake_now += 1'000'000'000'000'000'000;  // 31 years a call
    }
    CHECK(sink.lines() == std::vector<std::string>{"zero 0\n", "zero 1\n", "zero 2\n", "negative 0\n", "negative 1\n",
                                                    "negative 2\n", "eons 0\n"});
}

