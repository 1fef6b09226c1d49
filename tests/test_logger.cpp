#include <catch2/catch.hpp>

#include <atomic>
#include <thread>
#include <vector>

#include "support.hpp"

using runlog::level;
using test_support::fixed_clock;

namespace {

// A user type that counts how often it is formatted, to prove the message is formatted once.
struct counted {
    static inline std::atomic<int> formats{0};
};

}  // namespace

template <>
struct runlog::formatter<counted> {
    void format(const counted&, runlog::buffer& out) const {
        ++counted::formats;
        out.append(std::string_view("counted"));
    }
};

TEST_CASE("a call fans out to every pipeline at or above its level", "[logger]") {
    runlog::memory_sink text, json, errors_only;
    auto log = runlog::make_logger(
        runlog::pipeline("text", runlog::text_formatter("{level} {message}"), text, level::info),
        runlog::pipeline("json", runlog::json_formatter{}, json, level::debug),
        runlog::pipeline("errors", runlog::text_formatter("{message}"), errors_only, level::error));
    log.debug("d {}", 1);
    log.info("i {}", 2);
    log.error("e {}", 3);
    CHECK(text.lines() == std::vector<std::string>{"INFO i 2\n", "ERROR e 3\n"});
    CHECK(json.size() == 3);
    CHECK(errors_only.lines() == std::vector<std::string>{"e 3\n"});
}

TEST_CASE("the message is formatted once however many pipelines read it", "[logger]") {
    runlog::memory_sink a, b, c;
    auto log = runlog::make_logger(runlog::pipeline("a", runlog::text_formatter("{message}"), a),
                                   runlog::pipeline("b", runlog::json_formatter{}, b),
                                   runlog::pipeline("c", runlog::logfmt_formatter{}, c));
    counted::formats = 0;
    log.info("{}", counted{});
    CHECK(counted::formats == 1);
    CHECK(a.lines() == std::vector<std::string>{"counted\n"});
    counted::formats = 0;
    log.set_level(level::critical);
    log.info("{}", counted{});
    CHECK(counted::formats == 0);
}

TEST_CASE("levels change at run time by pipeline name", "[logger]") {
    runlog::memory_sink console, file;
    auto log = runlog::make_logger(runlog::pipeline("console", runlog::text_formatter("{message}"), console),
                                   runlog::pipeline("json_file", runlog::json_formatter{}, file));
    CHECK(log.pipeline_names() == std::array<std::string_view, 2>{"console", "json_file"});
    CHECK(log.set_level("console", level::error));
    CHECK_FALSE(log.set_level("nope", level::error));
    CHECK(log.get_level("console") == level::error);
    CHECK(log.get_level("json_file") == level::trace);
    CHECK_FALSE(log.get_level("nope"));
    log.warning("w");
    CHECK(console.size() == 0);
    CHECK(file.size() == 1);
    log.set_level("json_file", level::critical);
    CHECK_FALSE(log.should_log(level::warning));  // the gate is the lowest pipeline level
    CHECK(log.should_log(level::error));
    log.set_level(static_cast<level>(15));
    CHECK(log.should_log(static_cast<level>(15)));
    CHECK_FALSE(log.should_log(level::debug));
}

TEST_CASE("the compile-time floor removes calls below it", "[logger]") {
    runlog::memory_sink mem;
    auto log = runlog::make_logger<level::warning>(runlog::pipeline("m", runlog::text_formatter("{message}"), mem));
    STATIC_REQUIRE(decltype(log)::floor == level::warning);
    int evaluated = 0;
    auto side_effect = [&] { return ++evaluated; };
    log.info("i");
    log.log(level::debug, "runtime level below the floor");
    log.event(runlog::events::step_start{});  // DEBUG by default
    RUNLOG_INFO(log, "macro {}", side_effect());
    CHECK(evaluated == 0);
    RUNLOG_ERROR(log, "macro {}", side_effect());
    CHECK(evaluated == 1);
    log.event(runlog::events::step_failure{});
    CHECK(mem.lines() == std::vector<std::string>{"macro 1\n", "Execution of step \"\" failed.\n"});
}

TEST_CASE("macros skip argument evaluation below the runtime level too", "[logger]") {
    runlog::memory_sink mem;
    auto log = runlog::make_logger(runlog::pipeline("m", runlog::text_formatter("{message}"), mem, level::info));
    int evaluated = 0;
    RUNLOG_DEBUG(log, "{}", ++evaluated);
    CHECK(evaluated == 0);
    RUNLOG_WARNING(log, "{}", ++evaluated);
    CHECK(mem.lines() == std::vector<std::string>{"1\n"});
}

TEST_CASE("records carry fields, context, location, clock and identity", "[logger]") {
    runlog::memory_sink mem;
    auto log = runlog::make_logger("etl", runlog::pipeline("m", runlog::json_formatter{}, mem));
    log.set_clock(&fixed_clock);
    runlog::scoped_context outer({.run_id = "r1", .job = "j", .step = ""});
    {
        runlog::scoped_context inner({.run_id = "r1", .job = "j", .step = "s"});
        log.info({{"rows", 3}, {"ok", true}, {"ratio", 0.25}, {"name", std::string("zones")}, {"big", 1ULL << 63}},
                 "loaded {} rows", 3);
    }
    log.warning("outside");
    auto lines = mem.lines();
    REQUIRE(lines.size() == 2);
    CHECK(lines[0].rfind(R"({"timestamp":"2026-11-24T12:40:05.123456Z","severity_text":"INFO")", 0) == 0);
    CHECK(lines[0].find(R"("logger":"etl","run_id":"r1","job_name":"j","step_key":"s")") != std::string::npos);
    CHECK(lines[0].find(R"("attributes":{"rows":3,"ok":true,"ratio":0.25,"name":"zones","big":9223372036854775808})") !=
          std::string::npos);
    CHECK(lines[0].find(R"("process.pid":)" + std::to_string(::getpid())) != std::string::npos);
    CHECK(lines[0].find(R"("thread.id":)" + std::to_string(runlog::thread_id())) != std::string::npos);
    CHECK(lines[0].find("test_logger.cpp") != std::string::npos);
    CHECK(lines[1].find(R"("step_key")") == std::string::npos);
    CHECK(runlog::current_context().run_id == "r1");
}

TEST_CASE("events attach their fields and the call's extra ones", "[logger]") {
    runlog::memory_sink mem;
    auto log = runlog::make_logger(runlog::pipeline("m", runlog::logfmt_formatter{}, mem));
    log.set_clock(&fixed_clock);
    runlog::scoped_context ctx({.run_id = "r", .job = "j", .step = ""});
    log.event(runlog::events::step_success{.duration_ms = 1170, .step_key = "taxi_trips_file"}, {{"rows", 10}});
    log.event(level::warning, runlog::events::asset_materialization{.asset_key = "trips"});
    CHECK(mem.lines() ==
          std::vector<std::string>{
              "time=2026-11-24T12:40:05.123456Z level=debug logger=runlog event=STEP_SUCCESS run_id=r job=j "
              "step=taxi_trips_file msg=\"Finished execution of step \\\"taxi_trips_file\\\" in 1.17s.\" "
              "duration_ms=1170 rows=10\n",
              "time=2026-11-24T12:40:05.123456Z level=warning logger=runlog event=ASSET_MATERIALIZATION run_id=r "
              "job=j msg=\"Materialized value trips.\" asset_key=trips\n"});
}

TEST_CASE("filters decide what reaches a sink", "[logger]") {
    runlog::memory_sink events_only, no_steps;
    auto log = runlog::make_logger(
        runlog::pipeline("events", runlog::text_formatter("{event}"), events_only, level::trace,
                         [](const runlog::record& r) { return r.event != nullptr; }),
        runlog::pipeline("no_steps", runlog::text_formatter("{message}"), no_steps, level::trace,
                         [](const runlog::record& r) { return r.ctx.step.empty(); },
                         [](const runlog::record& r) { return r.message().find("secret") == std::string_view::npos; }));
    log.info("plain");
    log.info("secret");
    log.event(runlog::events::run_start{});
    {
        runlog::scoped_context ctx({.run_id = "r", .job = "j", .step = "s"});
        log.info("in a step");
    }
    CHECK(events_only.lines() == std::vector<std::string>{"RUN_START\n"});
    CHECK(no_steps.lines() == std::vector<std::string>{"plain\n", "Started execution of run for \"\".\n"});
}

TEST_CASE("a bad runtime format string becomes the message, never an exception", "[logger]") {
    runlog::memory_sink mem;
    auto log = runlog::make_logger(runlog::pipeline("m", runlog::text_formatter("{message}"), mem));
    CHECK_NOTHROW(log.info(runlog::runtime("{} and {}"), 1));
    REQUIRE(mem.size() == 1);
    CHECK(mem.lines()[0].rfind("[runlog: could not format message: ", 0) == 0);
}

TEST_CASE("an exception from a filter drops the record and is reported", "[logger]") {
    static std::vector<std::string> reported;
    reported.clear();
    auto previous = runlog::set_error_handler([](const runlog::sink_error& e) noexcept { reported.emplace_back(e.message); });
    runlog::memory_sink mem;
    auto log = runlog::make_logger(runlog::pipeline("m", runlog::text_formatter("{message}"), mem, level::trace,
                                                    [](const runlog::record&) -> bool { throw std::runtime_error("bad filter"); }));
    CHECK_NOTHROW(log.info("x"));
    runlog::set_error_handler(previous);
    CHECK(mem.size() == 0);
    REQUIRE(reported.size() == 1);
    CHECK(reported[0] == "pipeline \"m\" dropped a record: bad filter");
}

TEST_CASE("logging and level changes from many threads are safe", "[logger][threads]") {
    runlog::memory_sink mem;
    auto log = runlog::make_logger(runlog::pipeline("a", runlog::json_formatter{}, mem),
                                   runlog::pipeline("b", runlog::text_formatter("{message}"), runlog::null_sink{}));
    std::atomic<bool> stop{false};
    std::thread flipper([&] {
        while (!stop) {
            log.set_level("b", level::error);
            log.set_level("b", level::debug);
        }
    });
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&, t] {
            runlog::scoped_context ctx({.run_id = "r", .job = "j", .step = t % 2 ? "odd" : "even"});
            for (int i = 0; i < 2000; ++i) log.info({{"i", i}, {"t", t}}, "thread {} record {}", t, i);
        });
    for (auto& th : threads) th.join();
    stop = true;
    flipper.join();
    CHECK(mem.size() == 8000);
}

TEST_CASE("the default logger is ready with a console pipeline at DEBUG", "[logger][default]") {
    auto& log = runlog::default_logger();
    // And a slot for config.yaml's handlers, which lets nothing through while empty.
    CHECK(log.pipeline_names() == std::array<std::string_view, 2>{"console", "handlers"});
    CHECK(log.pipeline<1>().handler_names().empty());
    CHECK(log.get_level("console") == level::debug);
    CHECK(log.should_log(level::debug));
    CHECK_FALSE(log.should_log(level::trace));
}

TEST_CASE("a synchronous record's time, read through the TSC, stays with the system clock across re-bases",
          "[logger][clock]") {
    // Records are stamped with detail::wall_clock_now(): the TSC mapped to system time, calibrated over the
    // first 10 ms and re-based every second. Each record's time must lie between system_clock readings taken
    // just before and just after the call, within a small tolerance, for longer than one re-base period,
    // from two threads at once.
    runlog::memory_sink sink;
    auto log = runlog::make_logger("clock", runlog::pipeline("mem", runlog::text_formatter("{iso}"), sink));
    constexpr auto tolerance = std::chrono::milliseconds(2);  // preemption inside a re-base's paired reads
    std::atomic<long> worst_ns{0}, outside{0}, records{0};
    auto worker = [&] {
        const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(1300);
        while (std::chrono::steady_clock::now() < end) {
            const auto before = std::chrono::system_clock::now();
            runlog::record r;
            log.stamp(r, level::info, runlog::source_location::current());
            const auto after = std::chrono::system_clock::now();
            long off = 0;
            if (r.time < before) off = static_cast<long>(std::chrono::duration_cast<std::chrono::nanoseconds>(before - r.time).count());
            if (r.time > after) off = static_cast<long>(std::chrono::duration_cast<std::chrono::nanoseconds>(r.time - after).count());
            long w = worst_ns.load();
            while (off > w && !worst_ns.compare_exchange_weak(w, off)) {}
            if (off > std::chrono::duration_cast<std::chrono::nanoseconds>(tolerance).count()) ++outside;
            ++records;
        }
    };
    std::thread a(worker), b(worker);
    a.join();
    b.join();
    INFO("records " << records.load() << ", worst distance outside the bracket " << worst_ns.load() << " ns");
    CHECK(records.load() > 1000);
    CHECK(outside.load() == 0);
}
