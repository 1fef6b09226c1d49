#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support.hpp"

using runlog::level;
using test_support::fixed_clock;

namespace {

using test_support::temp_dir;


/// A steady clock that moves 1.17 s forward at every reading, so durations are known in advance.
std::atomic<std::int64_t> fake_ticks{0};
std::chrono::steady_clock::time_point fake_steady() noexcept {
    return std::chrono::steady_clock::time_point(std::chrono::milliseconds(1170 * fake_ticks++));
}

std::vector<std::string> read_lines(const std::string& path) {
    std::ifstream in(path);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

bool exists(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0;
}

/// The options of a stored run in dir with a fixed id and the fake duration clock.
runlog::run_options fixed_options(const std::string& dir, std::string id = "5f2a9b1c-0d3e-4f5a-8b6c-7d8e9f0a1b2c") {
    runlog::run_options o;
    o.run_id = std::move(id);
    o.base_dir = dir;
    o.duration_clock = fake_steady;
    fake_ticks = 0;
    return o;
}

/// A console-like logger into a memory sink: `LEVEL - step - EVENT - message`, at `console_level`.
auto memory_logger(runlog::memory_sink& sink, level console_level = level::debug) {
    return runlog::make_logger(runlog::pipeline(
        "console", runlog::text_formatter("{level} - {step} - {event} - {message}"), sink, console_level));
}

std::vector<std::string> strip_newlines(std::vector<std::string> v) {
    for (auto& s : v)
        if (!s.empty() && s.back() == '\n') s.pop_back();
    return v;
}

struct custom_error : std::runtime_error {
    int code;
    explicit custom_error(int c) : std::runtime_error("custom failure " + std::to_string(c)), code(c) {}
};

}  // namespace

TEST_CASE("the demo's run prints Dagster's transcript", "[run]") {
    temp_dir dir;
    runlog::memory_sink sink;
    auto log = runlog::make_logger(
        runlog::pipeline("console", runlog::text_formatter::brief({.utc = true}), sink, level::debug));
    log.set_clock(fixed_clock);
    {
        auto options = fixed_options(dir.path);
        options.executor = "multiprocess";  // the words of the transcript's executor
        runlog::run run(log, "__ASSET_JOB_0", std::move(options));
        run.step_worker_starting("taxi_zones_file");
        run.execute("taxi_zones_file", {.worker = "subprocess", .resources = "io_manager"}, [&](runlog::step& s) {
            log.info({{"rows", 265}}, "Downloaded {} rows", 265);
            s.output();
            s.materialize("taxi_zones_file", {{"rows", 265}});
            s.handled_output();
        });
    }
    const std::string pid = std::to_string(runlog::process_id());
    // The fake clock reads 0 at the run's start, 1.17 s at the step's, 2.34 s and 3.51 s around its
    // resource init and 4.68 s at the step's end: the step took 3.51 s, the run 5.85 s.
    CHECK(strip_newlines(sink.lines()) ==
          std::vector<std::string>{
              R"(12:40:05 - DEBUG - RUN_START - Started execution of run for "__ASSET_JOB_0".)",
              "12:40:05 - DEBUG - ENGINE_EVENT - Executing steps using multiprocess executor: parent process (pid: " +
                  pid + ")",
              R"(12:40:05 - DEBUG - taxi_zones_file - STEP_WORKER_STARTING - Launching subprocess for "taxi_zones_file".)",
              R"(12:40:05 - DEBUG - STEP_WORKER_STARTED - Executing step "taxi_zones_file" in subprocess.)",
              R"(12:40:05 - DEBUG - taxi_zones_file - RESOURCE_INIT_STARTED - Starting initialization of resources [io_manager].)",
              R"(12:40:05 - DEBUG - taxi_zones_file - RESOURCE_INIT_SUCCESS - Finished initialization of resources [io_manager].)",
              R"(12:40:05 - DEBUG - taxi_zones_file - STEP_START - Started execution of step "taxi_zones_file".)",
              R"(12:40:05 - INFO - __ASSET_JOB_0 - taxi_zones_file - Downloaded 265 rows)",
              R"(12:40:05 - DEBUG - taxi_zones_file - STEP_OUTPUT - Yielded output "result" of type "Any". (Type check passed).)",
              R"(12:40:05 - DEBUG - taxi_zones_file - ASSET_MATERIALIZATION - Materialized value taxi_zones_file.)",
              R"(12:40:05 - DEBUG - taxi_zones_file - HANDLED_OUTPUT - Handled output "result" using IO manager "io_manager")",
              R"(12:40:05 - DEBUG - taxi_zones_file - STEP_SUCCESS - Finished execution of step "taxi_zones_file" in 3.51s.)",
              "12:40:05 - DEBUG - ENGINE_EVENT - Multiprocess executor: parent process exiting after 5.85s (pid: " + pid +
                  ")",
              R"(12:40:05 - DEBUG - RUN_SUCCESS - Finished execution of run for "__ASSET_JOB_0".)",
          });

    const std::string run_dir = dir.path + "/5f2a9b1c-0d3e-4f5a-8b6c-7d8e9f0a1b2c";
    const auto events = read_lines(run_dir + "/events.jsonl");
    REQUIRE(events.size() == 14);
    CHECK(events[0].rfind(R"({"timestamp":"2026-11-24T12:40:05.123456Z","severity_text":"DEBUG")", 0) == 0);
    CHECK_THAT(events[0], Catch::Contains(R"("event_type":"RUN_START","run_id":"5f2a9b1c-0d3e-4f5a-8b6c-7d8e9f0a1b2c","job_name":"__ASSET_JOB_0")"));
    CHECK_THAT(events[7], Catch::Contains(R"("body":"Downloaded 265 rows")"));
    CHECK_THAT(events[7], Catch::Contains(R"("step_key":"taxi_zones_file")"));
    CHECK_THAT(events[7], Catch::Contains(R"("attributes":{"rows":265})"));
    CHECK_THAT(events[9], Catch::Contains(R"("attributes":{"asset_key":"taxi_zones_file","rows":265})"));
    CHECK_THAT(events[11], Catch::Contains(R"("attributes":{"duration_ms":3510})"));

    const auto index = read_lines(dir.path + "/runs.jsonl");
    REQUIRE(index.size() == 2);
    CHECK_THAT(index[0], Catch::StartsWith(R"({"run_id":"5f2a9b1c-0d3e-4f5a-8b6c-7d8e9f0a1b2c","job_name":"__ASSET_JOB_0","status":"STARTED","start_time":"2026-11-24T12:40:05.123456Z")"));
    CHECK_THAT(index[1], Catch::Contains(R"("status":"SUCCESS","start_time":"2026-11-24T12:40:05.123456Z","end_time":"2026-11-24T12:40:05.123456Z","duration_ms":5850,"failed_steps":[])"));
}

TEST_CASE("a step's exception fails the step and the run and passes through unchanged", "[run]") {
    temp_dir dir;
    runlog::memory_sink sink;
    auto log = memory_logger(sink);
    log.set_clock(fixed_clock);
    const custom_error* seen = nullptr;
    try {
        runlog::run run(log, "etl", fixed_options(dir.path));
        run.execute("load", [] { throw custom_error(7); });
        FAIL("the exception did not propagate");
    } catch (const custom_error& e) {
        seen = &e;
        CHECK(e.code == 7);
        CHECK(std::string(e.what()) == "custom failure 7");
    }
    CHECK(seen != nullptr);
    const auto lines = strip_newlines(sink.lines());
    REQUIRE(lines.size() == 6);
    CHECK(lines[2] == "DEBUG - load - STEP_START - Started execution of step \"load\".");
    CHECK(lines[3] == "ERROR - load - STEP_FAILURE - Execution of step \"load\" failed. "
                      "(anonymous namespace)::custom_error: custom failure 7");
    CHECK(lines[4] == "DEBUG - ENGINE_EVENT - Finished steps in process (pid: " + std::to_string(runlog::process_id()) +
                          ") in 3.51s");
    CHECK(lines[5] == "ERROR - RUN_FAILURE - Execution of run for \"etl\" failed. Steps failed: ['load'].");
    const auto events = read_lines(dir.path + "/5f2a9b1c-0d3e-4f5a-8b6c-7d8e9f0a1b2c/events.jsonl");
    REQUIRE(events.size() == 6);
    CHECK_THAT(events[3], Catch::Contains(R"("severity_text":"ERROR")"));
    CHECK_THAT(events[3], Catch::Contains(
                              R"("error_type":"(anonymous namespace)::custom_error","error_message":"custom failure 7")"));
    CHECK_THAT(events[5], Catch::Contains(R"("failed_steps":["load"])"));
    const auto index = read_lines(dir.path + "/runs.jsonl");
    REQUIRE(index.size() == 2);
    CHECK_THAT(index[1], Catch::Contains(R"("status":"FAILURE")"));
    CHECK_THAT(index[1], Catch::Contains(R"("failed_steps":["load"])"));
}

TEST_CASE("runlog's own exception types are named without the versioned namespace", "[run][step]") {
    CHECK(runlog::detail::type_name(typeid(runlog::capture_error)) == "runlog::capture_error");
    test_support::temp_dir dir;
    runlog::memory_sink sink;
    auto log = memory_logger(sink);
    try {
        runlog::run run(log, "etl", fixed_options(dir.path));
        run.execute("load", [] { throw runlog::capture_error("no pipe"); });
    } catch (const runlog::capture_error&) {
    }
    const auto lines = strip_newlines(sink.lines());
    REQUIRE(lines.size() == 6);
    CHECK(lines[3] == "ERROR - load - STEP_FAILURE - Execution of step \"load\" failed. runlog::capture_error: no pipe");
}

TEST_CASE("an exception in the run outside any step fails the run", "[run]") {
    temp_dir dir;
    runlog::memory_sink sink;
    auto log = memory_logger(sink);
    log.set_clock(fixed_clock);
    CHECK_THROWS_WITH(([&] {
                          runlog::run run(log, "etl", fixed_options(dir.path));
                          run.execute("extract", [] {});
                          throw std::logic_error("bad plan");
                      }()),
                      "bad plan");
    const auto lines = strip_newlines(sink.lines());
    REQUIRE(lines.size() == 6);
    CHECK(lines[3] == "DEBUG - extract - STEP_SUCCESS - Finished execution of step \"extract\" in 1.17s.");
    CHECK(lines[5] ==
          "ERROR - RUN_FAILURE - Execution of run for \"etl\" failed. An exception left the run's scope.");
}

TEST_CASE("explicit failures", "[run]") {
    temp_dir dir;
    runlog::memory_sink sink;
    auto log = memory_logger(sink);
    log.set_clock(fixed_clock);
    {
        runlog::run run(log, "etl", fixed_options(dir.path));
        runlog::step s(run, "validate");
        s.fail("ValidationError", "3 rows without a zone");
        CHECK(s.failed());
    }
    {
        runlog::run run(log, "etl", fixed_options(dir.path, "second"));
        CHECK_FALSE(run.failed());
        run.fail("upstream data is stale");
        CHECK(run.failed());
    }
    const auto lines = strip_newlines(sink.lines());
    REQUIRE(lines.size() == 10);
    CHECK(lines[3] == "ERROR - validate - STEP_FAILURE - Execution of step \"validate\" failed. ValidationError: 3 rows "
                      "without a zone");
    CHECK(lines[5] == "ERROR - RUN_FAILURE - Execution of run for \"etl\" failed. Steps failed: ['validate'].");
    CHECK(lines[9] == "ERROR - RUN_FAILURE - Execution of run for \"etl\" failed. upstream data is stale");
}

TEST_CASE("nested scopes restore the context they replaced", "[run]") {
    temp_dir dir;
    runlog::memory_sink sink;
    auto log = runlog::make_logger(
        runlog::pipeline("console", runlog::text_formatter("{run_id8}|{job}|{step}|{message}"), sink, level::info));
    {
        runlog::run outer(log, "outer_job", fixed_options(dir.path, "aaaaaaaa-run"));
        log.info("in outer");
        {
            runlog::step a(outer, "a");
            log.info("in a");
            {
                runlog::step b(outer, "b");
                log.info("in b");
            }
            log.info("back in a");
            {
                runlog::run inner(log, "inner_job", fixed_options(dir.path, "bbbbbbbb-run"));
                log.info("in inner");
                runlog::step c(inner, "c");
                log.info("in c");
            }
            log.info("a again");
        }
        log.info("outer again");
    }
    log.info("outside");
    CHECK(strip_newlines(sink.lines()) == std::vector<std::string>{
                                              "aaaaaaaa|outer_job||in outer",
                                              "aaaaaaaa|outer_job|a|in a",
                                              "aaaaaaaa|outer_job|b|in b",
                                              "aaaaaaaa|outer_job|a|back in a",
                                              "bbbbbbbb|inner_job||in inner",
                                              "bbbbbbbb|inner_job|c|in c",
                                              "aaaaaaaa|outer_job|a|a again",
                                              "aaaaaaaa|outer_job||outer again",
                                              "|||outside",
                                          });
    CHECK(runlog::current_context().run_id.empty());
    // Each run's event log holds its own records only.
    CHECK(read_lines(dir.path + "/aaaaaaaa-run/events.jsonl").size() == 14);
    CHECK(read_lines(dir.path + "/bbbbbbbb-run/events.jsonl").size() == 8);
}

TEST_CASE("a step left open when its run ends fails, and the run with it", "[run]") {
    temp_dir dir;
    runlog::memory_sink sink;
    auto log = memory_logger(sink);
    log.set_clock(fixed_clock);
    runlog::step* left = nullptr;
    {
        runlog::run run(log, "etl", fixed_options(dir.path));
        left = new runlog::step(run, "forgotten");
    }
    auto lines = strip_newlines(sink.lines());
    REQUIRE(lines.size() == 6);
    CHECK(lines[3] == "ERROR - forgotten - STEP_FAILURE - Execution of step \"forgotten\" failed. "
                      "runlog::step_left_open: the step was still open when the run ended");
    CHECK(lines[5] == "ERROR - RUN_FAILURE - Execution of run for \"etl\" failed. Steps failed: ['forgotten'].");
    delete left;  // the run has ended: nothing more is emitted, and the thread's context is restored
    CHECK(sink.lines().size() == 6);
    CHECK(runlog::current_context().run_id.empty());
    CHECK(read_lines(dir.path + "/5f2a9b1c-0d3e-4f5a-8b6c-7d8e9f0a1b2c/events.jsonl").size() == 6);
}

TEST_CASE("the event log keeps every level whatever the console's level", "[run]") {
    temp_dir dir;
    runlog::memory_sink console, other;
    auto log = memory_logger(console, level::error);
    log.set_clock(fixed_clock);
    auto second = runlog::make_logger("second", runlog::pipeline("p", runlog::text_formatter("{message}"), other,
                                                                 level::critical));
    std::string events;
    {
        runlog::run run(log, "etl", fixed_options(dir.path));
        events = run.events_path();
        CHECK(log.should_log(level::trace));  // the gate opens for the event log
        run.execute("s", [&] {
            log.trace("a trace");
            log.debug("a debug");
            second.info({{"by", "second"}}, "from another logger");
            log.error("an error");
        });
    }
    CHECK_FALSE(log.should_log(level::debug));
    log.debug("after the run");  // not part of any run
    CHECK(strip_newlines(console.lines()) == std::vector<std::string>{"ERROR - s - an error"});
    CHECK(other.size() == 0);
    const auto lines = read_lines(events);
    REQUIRE(lines.size() == 10);
    CHECK_THAT(lines[3], Catch::Contains(R"("severity_text":"TRACE","severity_number":1,"body":"a trace")"));
    CHECK_THAT(lines[4], Catch::Contains(R"("body":"a debug")"));
    CHECK_THAT(lines[5], Catch::Contains(R"("body":"from another logger","logger":"second")"));
    CHECK_THAT(lines[5], Catch::Contains(R"("step_key":"s")"));
    CHECK_THAT(lines[5], Catch::Contains(R"("attributes":{"by":"second"})"));
    CHECK_THAT(lines[6], Catch::Contains(R"("body":"an error")"));
}

TEST_CASE("steps on several threads: every record once, with its step's key", "[run]") {
    temp_dir dir;
    runlog::memory_sink console;
    auto log = memory_logger(console, level::warning);
    log.set_clock(fixed_clock);
    constexpr int threads = 4, per_thread = 10'000;
    std::string events;
    {
        runlog::run run(log, "parallel", fixed_options(dir.path));
        events = run.events_path();
        std::vector<std::thread> workers;
        for (int t = 0; t < threads; ++t)
            workers.emplace_back([&, t] {
                run.execute("step_" + std::to_string(t), [&] {
                    for (int i = 0; i < per_thread; ++i) log.debug({{"t", t}, {"i", i}}, "record {} of {}", i, t);
                });
            });
        for (auto& w : workers) w.join();
    }
    const auto lines = read_lines(events);
    // RUN_START, ENGINE_EVENT, per step STEP_START + records + STEP_SUCCESS, ENGINE_EVENT, RUN_SUCCESS
    REQUIRE(lines.size() == 2 + threads * (per_thread + 2) + 2);
    std::set<std::pair<int, int>> seen;
    int malformed = 0;
    for (const auto& line : lines) {
        if (line.find("\"event_type\"") != std::string::npos) continue;
        // "body":"record I of T", ..., "step_key":"step_S", ..., "attributes":{"t":T,"i":I}}
        int i = -1, t = -1, step = -2, at = -3, ai = -4;
        const auto body = line.find(R"("body":"record )");
        const auto key = line.find(R"("step_key":"step_)");
        const auto attrs = line.find(R"("attributes":{"t":)");
        if (body == std::string::npos || key == std::string::npos || attrs == std::string::npos ||
            std::sscanf(line.c_str() + body, R"("body":"record %d of %d")", &i, &t) != 2 ||
            std::sscanf(line.c_str() + key, R"("step_key":"step_%d")", &step) != 1 ||
            std::sscanf(line.c_str() + attrs, R"("attributes":{"t":%d,"i":%d}})", &at, &ai) != 2 || t != step ||
            t != at || i != ai) {
            ++malformed;
            continue;
        }
        seen.emplace(t, i);
    }
    CHECK(malformed == 0);
    CHECK(seen.size() == static_cast<std::size_t>(threads * per_thread));
    CHECK(console.size() == 0);
}

TEST_CASE("run ids, storage places and unstored runs", "[run]") {
    const std::regex uuid4("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
    std::set<std::string> ids;
    for (int i = 0; i < 1000; ++i) {
        auto id = runlog::make_run_id();
        CHECK(std::regex_match(id, uuid4));
        ids.insert(id);
    }
    CHECK(ids.size() == 1000);

    temp_dir dir;
    ::setenv("RUNLOG_HOME", (dir.path + "/home").c_str(), 1);
    CHECK(runlog::default_base_dir() == dir.path + "/home/storage");
    ::unsetenv("RUNLOG_HOME");
    CHECK(runlog::default_base_dir() == ".runlog/storage");

    runlog::memory_sink sink;
    auto log = memory_logger(sink);
    log.set_clock(fixed_clock);
    {
        auto o = fixed_options(dir.path + "/unstored");
        o.store = false;
        runlog::run run(log, "etl", o);
        CHECK(run.events_path().empty());
        CHECK(run.log() == nullptr);
        log.debug("only on the console");
    }
    CHECK_FALSE(exists(dir.path + "/unstored"));
    CHECK(sink.size() == 5);
}

TEST_CASE("a base directory that cannot be created is an error naming it", "[run]") {
    temp_dir dir;
    std::ofstream(dir.path + "/file") << "x";
    runlog::memory_sink sink;
    auto log = memory_logger(sink);
    log.set_clock(fixed_clock);
    try {
        runlog::run run(log, "etl", fixed_options(dir.path + "/file/storage"));
        FAIL("no error");
    } catch (const std::system_error& e) {
        CHECK_THAT(e.what(), Catch::Contains("cannot create the run directory \"" + dir.path +
                                             "/file/storage/5f2a9b1c-0d3e-4f5a-8b6c-7d8e9f0a1b2c\""));
        CHECK_THAT(e.what(), Catch::Contains("Not a directory"));
    }
    CHECK(sink.size() == 0);
    // No run is left open: calls below the console's level are filtered again.
    CHECK(runlog::detail::registry::open_runs() == 0);
    CHECK_FALSE(log.should_log(level::trace));
}

TEST_CASE("run ids that cannot name a directory are refused", "[run]") {
    temp_dir dir;
    runlog::memory_sink sink;
    auto log = memory_logger(sink);
    for (const std::string& bad : std::vector<std::string>{"../../escape", "a/b", "..", ".", "with space", "quote\"", std::string(129, 'a'),
                            std::string("bad\xff")}) {
        try {
            runlog::run run(log, "etl", fixed_options(dir.path, bad));
            FAIL("accepted run id " << bad);
        } catch (const std::invalid_argument& e) {
            CHECK_THAT(e.what(), Catch::StartsWith("run id \""));
            CHECK_THAT(e.what(), Catch::Contains("cannot name the run's directory"));
        }
    }
    CHECK(sink.size() == 0);
    CHECK(runlog::detail::registry::open_runs() == 0);
    runlog::run ok(log, "etl", fixed_options(dir.path, "2026-11-25_nightly.1"));
    CHECK(ok.dir() == dir.path + "/2026-11-25_nightly.1");
}

TEST_CASE("scopes ended on another thread are reported and their context dropped", "[run]") {
    temp_dir dir;
    runlog::memory_sink sink;
    auto log = runlog::make_logger(
        runlog::pipeline("console", runlog::text_formatter("{job}|{step}|{message}"), sink, level::info));
    std::vector<std::string> reports;
    static std::vector<std::string>* seen = nullptr;
    seen = &reports;
    auto previous = runlog::set_error_handler([](const runlog::sink_error& e) { seen->emplace_back(e.message); });
    {
        auto run = std::make_unique<runlog::run>(log, "moved_job", fixed_options(dir.path));
        auto step = std::make_unique<runlog::step>(*run, "moved_step");
        std::thread([&] { step.reset(); }).join();
        log.info("the step ended elsewhere");
        std::thread([&] { run.reset(); }).join();
        log.info("so did the run");
    }
    runlog::set_error_handler(previous);
    // The thread drops the scopes that ended elsewhere at its next record.
    CHECK(strip_newlines(sink.lines()) == std::vector<std::string>{"moved_job||the step ended elsewhere", "||so did the run"});
    REQUIRE(reports.size() == 2);
    CHECK(reports[0] == "runlog: a step ended on another thread than the one that opened it");
    CHECK(reports[1] == "runlog: a run ended on another thread than the one that opened it");
    CHECK(runlog::current_context().run_id.empty());
}

TEST_CASE("the end events point at the scope's opening line", "[run]") {
    temp_dir dir;
    runlog::memory_sink sink;
    auto log = runlog::make_logger(
        runlog::pipeline("console", runlog::text_formatter("{event} {line}"), sink, level::debug));
    const int line = __LINE__ + 2;
    {
        runlog::run run(log, "etl", fixed_options(dir.path));
        runlog::step s(run, "a");
    }
    auto at = [](const char* event, int n) { return std::string(event) + " " + std::to_string(n); };
    CHECK(strip_newlines(sink.lines()) == std::vector<std::string>{at("RUN_START", line), at("ENGINE_EVENT", line),
                                                                   at("STEP_START", line + 1),
                                                                   at("STEP_SUCCESS", line + 1),
                                                                   at("ENGINE_EVENT", line), at("RUN_SUCCESS", line)});
    // A step run through execute points at the execute call, not into runlog.
    sink.clear();
    {
        runlog::run run(log, "etl", fixed_options(dir.path));
        const int call = __LINE__ + 1;
        run.execute("b", [] {});
        const auto lines = strip_newlines(sink.lines());
        CHECK(std::count(lines.begin(), lines.end(), at("STEP_START", call)) == 1);
        CHECK(std::count(lines.begin(), lines.end(), at("STEP_SUCCESS", call)) == 1);
    }
}

namespace {
/// The error a run with these options throws as it starts, or "" when it starts.
std::string start_error(const runlog::run_options& options) {
    runlog::memory_sink sink;
    auto log = memory_logger(sink);
    try {
        runlog::run run(log, "etl", options);
    } catch (const std::system_error& e) {
        return e.what();
    }
    return "";
}
}  // namespace

TEST_CASE("run storage never writes through a symbolic link planted in it", "[run][storage]") {
    temp_dir dir;
    const std::string victim = dir.write("victim.txt", "precious\n");
    const std::string base = dir.path + "/storage";
    const auto id = std::string("5f2a9b1c-0d3e-4f5a-8b6c-7d8e9f0a1b2c");
    std::filesystem::create_directories(base + "/" + id);
    ::chmod(base.c_str(), 0700);
    ::chmod((base + "/" + id).c_str(), 0700);

    std::filesystem::create_symlink(victim, base + "/" + id + "/events.jsonl");
    // Planted by another user, as it would be in a shared directory (root can make it so).
    if (::geteuid() == 0) REQUIRE(::lchown((base + "/" + id + "/events.jsonl").c_str(), 65534, 65534) == 0);
    CHECK_THAT(start_error(fixed_options(base)),
               Catch::Contains("events.jsonl\": it is a symbolic link (refused)"));
    std::filesystem::remove(base + "/" + id + "/events.jsonl");

    std::filesystem::create_symlink(victim, base + "/runs.jsonl");
    CHECK_THAT(start_error(fixed_options(base)), Catch::Contains("runs.jsonl\": it is a symbolic link (refused)"));
    std::filesystem::remove(base + "/runs.jsonl");

    // A symbolic link in place of the base directory: refused before anything is made through it.
    std::filesystem::create_directories(dir.path + "/target");
    std::filesystem::create_directory_symlink(dir.path + "/target", dir.path + "/linked_base");
    CHECK_THAT(start_error(fixed_options(dir.path + "/linked_base")),
               Catch::Contains("linked_base\" is a symbolic link (refused: it may point anywhere)"));
    CHECK(std::filesystem::is_empty(dir.path + "/target"));

    // A symbolic link in place of the run directory itself.
    std::filesystem::remove_all(base + "/" + id);
    std::filesystem::create_directories(dir.path + "/elsewhere");
    std::filesystem::create_directory_symlink(dir.path + "/elsewhere", base + "/" + id);
    CHECK_THAT(start_error(fixed_options(base)), Catch::Contains("is a symbolic link (refused: it may point anywhere)"));
    CHECK(std::filesystem::is_empty(dir.path + "/elsewhere"));

    std::ifstream in(victim);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CHECK(text == "precious\n");
}

TEST_CASE("a run writes into the directories it checked, whatever becomes of their paths", "[run][storage]") {
    // The run holds its base and run directories open and opens its files in them (openat): a path swapped for
    // a link to somewhere else after the checks (by a race, or a parent directory someone else can write) can
    // redirect nothing.
    temp_dir dir;
    const std::string base = dir.path + "/storage";
    const std::string elsewhere = dir.path + "/elsewhere";
    std::filesystem::create_directories(elsewhere + "/5f2a9b1c-0d3e-4f5a-8b6c-7d8e9f0a1b2c");
    runlog::memory_sink sink;
    auto log = memory_logger(sink);
    {
        runlog::run run(log, "etl", fixed_options(base));
        log.info("before the swap");
        std::filesystem::rename(base, dir.path + "/moved");
        std::filesystem::create_directory_symlink(elsewhere, base);
        {
            runlog::step step(run, "after");
            log.info("after the swap");
        }
    }
    // Nothing went through the link; every line is in the directory the run checked, now at its new path.
    CHECK(std::filesystem::is_empty(elsewhere + "/5f2a9b1c-0d3e-4f5a-8b6c-7d8e9f0a1b2c"));
    CHECK(std::distance(std::filesystem::directory_iterator(elsewhere), std::filesystem::directory_iterator()) == 1);
    const std::string events = test_support::file_text(dir.path + "/moved/5f2a9b1c-0d3e-4f5a-8b6c-7d8e9f0a1b2c/events.jsonl");
    CHECK(events.find("after the swap") != std::string::npos);
    CHECK(events.find("\"event_type\":\"RUN_SUCCESS\"") != std::string::npos);
    CHECK(test_support::file_text(dir.path + "/moved/runs.jsonl").find("\"status\":\"SUCCESS\"") != std::string::npos);
}

TEST_CASE("run storage is private: files 0600, directories 0700, no shared or foreign directory", "[run][storage]") {
    temp_dir dir;
    const mode_t old_umask = ::umask(022);
    const std::string base = dir.path + "/storage";
    {
        runlog::memory_sink sink;
        auto log = memory_logger(sink);
        runlog::run run(log, "etl", fixed_options(base));
        runlog::step step(run, "s");
    }
    ::umask(old_umask);
    auto mode_of = [](const std::string& p) {
        struct stat st {};
        REQUIRE(::stat(p.c_str(), &st) == 0);
        return st.st_mode & 07777;
    };
    const std::string run_dir = base + "/5f2a9b1c-0d3e-4f5a-8b6c-7d8e9f0a1b2c";
    CHECK(mode_of(base) == 0700);
    CHECK(mode_of(run_dir) == 0700);
    CHECK(mode_of(run_dir + "/events.jsonl") == 0600);
    CHECK(mode_of(base + "/runs.jsonl") == 0600);

    // Writable by everyone and not sticky: another user could swap the files.
    ::chmod(base.c_str(), 0777);
    CHECK_THAT(start_error(fixed_options(base, "run2")), Catch::Contains("is writable by every user and not sticky"));
    ::chmod(base.c_str(), 01777);  // sticky, as /tmp: fine
    CHECK(start_error(fixed_options(base, "run3")).empty());
    ::chmod(base.c_str(), 0700);
    if (::geteuid() == 0) {
        // Root can hand the directory to another user and see it refused.
        REQUIRE(::chown(base.c_str(), 65534, 65534) == 0);
        CHECK_THAT(start_error(fixed_options(base, "run4")), Catch::Contains("belongs to another user (uid 65534)"));
        REQUIRE(::chown(base.c_str(), 0, 0) == 0);
    }
    // The permissions are the caller's to choose.
    runlog::run_options shared = fixed_options(dir.path + "/shared", "run5");
    shared.file_mode = 0640;
    shared.directory_mode = 0750;
    ::umask(022);
    CHECK(start_error(shared).empty());
    ::umask(old_umask);
    CHECK(mode_of(dir.path + "/shared/run5/events.jsonl") == 0640);
    CHECK(mode_of(dir.path + "/shared/run5") == 0750);
}

TEST_CASE("a forked child that leaves the scopes does not end the parent's run and step again", "[run][fork]") {
    temp_dir dir;
    runlog::memory_sink sink;
    auto log = memory_logger(sink);
    const std::string base = dir.path + "/storage";
    pid_t child = -1;
    {
        runlog::run run(log, "etl", fixed_options(base));
        {
            runlog::step step(run, "extract");
            child = ::fork();
            REQUIRE(child >= 0);
            if (child == 0) log.info("from the child");
        }  // the child leaves the step's scope...
    }  // ...and the run's, as a program that forked without exec does on its way out
    if (child == 0) ::_exit(0);
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    REQUIRE(WIFEXITED(status));
    auto count = [](const std::string& path, const std::string& what) {
        std::ifstream in(path);
        int n = 0;
        for (std::string line; std::getline(in, line);) n += line.find(what) != std::string::npos;
        return n;
    };
    const std::string events = base + "/5f2a9b1c-0d3e-4f5a-8b6c-7d8e9f0a1b2c/events.jsonl";
    CHECK(count(events, "\"event_type\":\"STEP_SUCCESS\"") == 1);
    CHECK(count(events, "\"event_type\":\"RUN_SUCCESS\"") == 1);
    CHECK(count(events, "from the child") == 1);  // what the child logged is kept
    CHECK(count(base + "/runs.jsonl", "\"status\":\"SUCCESS\"") == 1);
    CHECK(count(base + "/runs.jsonl", "\"status\":") == 2);
}

TEST_CASE("a step opened while a step of the same key is open is reported", "[run][step]") {
    test_support::temp_dir dir;
    runlog::memory_sink sink;
    auto log = memory_logger(sink);
    std::vector<std::string> reports;
    static std::vector<std::string>* seen = nullptr;
    seen = &reports;
    auto previous = runlog::set_error_handler([](const runlog::sink_error& e) { seen->emplace_back(e.message); });
    {
        runlog::run run(log, "etl", fixed_options(dir.path));
        { runlog::step first(run, "load"); }
        { runlog::step retry(run, "load"); }  // after the first ended: a retry, fine
        CHECK(reports.empty());
        runlog::step a(run, "load");
        runlog::step b(run, "load");
    }
    runlog::set_error_handler(previous);
    REQUIRE(reports.size() == 1);
    CHECK_THAT(reports[0], Catch::Contains("step \"load\" was opened while a step of the same key is open"));
}

TEST_CASE("a relative base directory is stored as an absolute path", "[run][storage]") {
    test_support::temp_dir dir;
    char cwd[4096];
    REQUIRE(::getcwd(cwd, sizeof cwd) != nullptr);
    REQUIRE(::chdir(dir.path.c_str()) == 0);
    runlog::memory_sink sink;
    auto log = memory_logger(sink);
    std::string base, events;
    {
        runlog::run run(log, "etl", {.run_id = "rel", .base_dir = "relative/storage"});
        base = run.base_dir();
        events = run.events_path();
    }
    REQUIRE(::chdir(cwd) == 0);
    CHECK(base.front() == '/');
    CHECK(std::filesystem::equivalent(base, dir.path + "/relative/storage"));
    const auto index = read_lines(dir.path + "/relative/storage/runs.jsonl");
    REQUIRE(index.size() == 2);
    CHECK_THAT(index[1], Catch::Contains("\"events\":\"" + events + "\""));
    CHECK(events.front() == '/');
}
