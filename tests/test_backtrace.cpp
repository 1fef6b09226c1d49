// The backtrace: a pipeline keeps the last N records below its level and writes them out, oldest first and
// marked, before a record at its trigger level, on demand, and at a crash (test_crash.cpp's probe).
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support.hpp"

using runlog::level;

namespace {

/// A clock that moves 1 ms per record, from the support's fixed time: each record's time says when it came.
std::atomic<int> ticks{0};
runlog::record::time_point stepping_clock() noexcept {
    return test_support::fixed_time() + std::chrono::milliseconds(ticks.fetch_add(1) + 1);
}

std::vector<std::string> with(const std::vector<std::string>& lines, std::string_view part) {
    std::vector<std::string> out;
    for (const auto& l : lines)
        if (l.find(part) != std::string::npos) out.push_back(l);
    return out;
}

struct point {
    int x, y;
};

}  // namespace

template <>
struct runlog::formatter<point> {
    void format(const point& p, runlog::buffer& out) const { runlog::format_to(out, "({}, {})", p.x, p.y); }
};

TEST_CASE("backtrace: a record at the trigger level writes the last N below the level first, oldest first", "[backtrace]") {
    ticks = 0;
    runlog::memory_sink sink;
    auto log = runlog::make_logger(
        "app", runlog::pipeline("console", runlog::text_formatter("{time}.{msec} {level} {message} {fields}", {.utc = true}),
                                sink, level::info)
                   .with_backtrace({.capacity = 3}));
    log.set_clock(&stepping_clock);
    CHECK(log.should_log(level::trace));  // the gate opens to what the backtrace keeps
    for (int i = 1; i <= 5; ++i) log.debug("debug {}", i);
    log.info("info");
    CHECK(sink.lines().size() == 1);  // nothing of the backtrace yet
    log.error("boom");
    const auto lines = sink.lines();
    REQUIRE(lines.size() == 7);
    CHECK(lines[0] == "12:40:05.129 INFO info \n");
    CHECK(lines[1].find("Backtrace of pipeline \"console\": the last 3 record(s) below INFO (2 older ones overwritten), "
                        "before this ERROR") != std::string::npos);
    // The records keep their own times (debug 3 was the third record: 3 ms after the fixed time) and order.
    CHECK(lines[2] == "12:40:05.126 DEBUG debug 3 backtrace=true\n");
    CHECK(lines[3] == "12:40:05.127 DEBUG debug 4 backtrace=true\n");
    CHECK(lines[4] == "12:40:05.128 DEBUG debug 5 backtrace=true\n");
    CHECK(lines[5].find("End of the backtrace of pipeline \"console\"") != std::string::npos);
    CHECK(lines[6] == "12:40:05.130 ERROR boom \n");
    CHECK(log.pipeline<0>().backtrace_overwritten() == 2);
    // Written out once: the next error has nothing before it.
    log.error("again");
    CHECK(sink.lines().size() == 8);
}

TEST_CASE("backtrace: times are the records' own, to the microsecond, in JSON", "[backtrace]") {
    ticks = 0;
    runlog::memory_sink sink;
    auto log = runlog::make_logger(
        "app", runlog::pipeline("json", runlog::json_formatter{}, sink, level::warning).with_backtrace({.capacity = 10}));
    log.set_clock(&stepping_clock);
    log.info("kept {}", 1);
    log.info("kept {}", 2);
    REQUIRE(log.dump_backtrace() == 2);
    const auto lines = sink.lines();
    REQUIRE(lines.size() == 4);
    CHECK(lines[1].find("\"body\":\"kept 1\"") != std::string::npos);
    CHECK(lines[1].find("\"backtrace\":true") != std::string::npos);
    CHECK(lines[1].find("05.124") != std::string::npos);  // 12:40:05.123456 + 1 ms
    CHECK(lines[2].find("05.125") != std::string::npos);
    CHECK(lines[0].find("on request") != std::string::npos);
    CHECK(log.dump_backtrace() == 0);  // nothing is written twice
    CHECK(sink.lines().size() == 4);
}

TEST_CASE("backtrace: the message comes out as the call would have written it, whatever its arguments", "[backtrace]") {
    runlog::memory_sink sink;
    auto log = runlog::make_logger(
        "app", runlog::pipeline("m", runlog::text_formatter("{message}"), sink, level::info).with_backtrace({.capacity = 8}));
    const long double ld = 2.5L;
    const int x = 7;
    const char buf[] = "array";
    {
        std::string temporary = "a string that is gone before the dump";
        const char* cstr = "c string";
        log.debug("{} {:>5} {} {} {} {:.3f} {} {} {} {} {:x} {}", temporary, 42, -3, true, 'c', 3.14159, ld, cstr,
                  point{1, 2}, buf, 255u, static_cast<const void*>(&x));
        temporary.assign(temporary.size(), 'z');
    }
    log.debug(runlog::runtime("runtime {} string"), 9);
    log.debug({{"k", 1}}, "[{}]", "");  // an empty string last, after fields: nothing read past the record
    log.debug({{"rows", 3}, {"table", "zones"}}, "with fields");
    log.dump_backtrace();
    const auto lines = sink.lines();
    REQUIRE(lines.size() == 6);
    CHECK(lines[3] == "[]\n");
    CHECK(lines[1] == runlog::format("a string that is gone before the dump    42 -3 true c 3.142 2.5 c string (1, 2) "
                                     "array ff {}\n",
                                     static_cast<const void*>(&x)));
    CHECK(lines[2] == "runtime 9 string\n");
    CHECK(lines[4] == "with fields\n");
}

TEST_CASE("backtrace: fields, the step context and the location survive", "[backtrace]") {
    runlog::memory_sink sink;
    auto log = runlog::make_logger(
        "app", runlog::pipeline("j", runlog::json_formatter{}, sink, level::info).with_backtrace({.capacity = 8}));
    {
        runlog::scoped_context ctx({"run-1", "job-1", "step-1"});
        log.debug({{"rows", 3}, {"table", "zones"}, {"ratio", 0.5}, {"ok", false}}, "with fields");
    }
    log.error("trigger");
    const auto lines = sink.lines();
    REQUIRE(lines.size() == 4);
    const std::string& l = lines[1];
    INFO(l);
    CHECK(l.find("\"rows\":3") != std::string::npos);
    CHECK(l.find("\"table\":\"zones\"") != std::string::npos);
    CHECK(l.find("\"ratio\":0.5") != std::string::npos);
    CHECK(l.find("\"ok\":false") != std::string::npos);
    CHECK(l.find("\"backtrace\":true") != std::string::npos);
    CHECK(l.find("run-1") != std::string::npos);
    CHECK(l.find("step-1") != std::string::npos);
    CHECK(l.find("test_backtrace.cpp") != std::string::npos);
}

TEST_CASE("backtrace: only records below the level and at or above its lowest level are kept", "[backtrace]") {
    runlog::memory_sink sink;
    auto log = runlog::make_logger(
        "app", runlog::pipeline("m", runlog::text_formatter("{level} {message}"), sink, level::info)
                   .with_backtrace({.capacity = 8, .trigger = level::critical, .lowest = level::debug}));
    CHECK_FALSE(log.should_log(level::trace));
    CHECK(log.should_log(level::debug));
    log.trace("not kept");
    log.debug("kept");
    log.info("written");
    log.error("written, and no trigger");
    CHECK(sink.lines().size() == 2);
    log.critical("trigger");
    CHECK(sink.lines() == std::vector<std::string>{"INFO written\n", "ERROR written, and no trigger\n",
                                                    sink.lines()[2], "DEBUG kept\n", sink.lines()[4],
                                                    "CRITICAL trigger\n"});
    // Turned off: nothing more is kept, and the gate closes again.
    log.set_backtrace("m", {});
    CHECK_FALSE(log.should_log(level::debug));
    log.debug("dropped");
    CHECK(log.dump_backtrace() == 0);
    CHECK_FALSE(log.set_backtrace("nonesuch", {.capacity = 4}));
}

TEST_CASE("backtrace: set on a logger's pipeline at run time, sync and async alike", "[backtrace][async]") {
    runlog::memory_sink a, b;
    auto log = runlog::make_logger("app", runlog::pipeline("sync", runlog::text_formatter("{message}"), a, level::info),
                                   runlog::async(runlog::pipeline("async", runlog::text_formatter("{message}"), b, level::info)));
    CHECK_FALSE(log.should_log(level::debug));
    REQUIRE(log.set_backtrace("sync", {.capacity = 2}));
    REQUIRE(log.set_backtrace("async", {.capacity = 2}));
    CHECK(log.should_log(level::debug));
    for (int i = 0; i < 4; ++i) log.debug("d{}", i);
    log.error("e");
    log.flush();
    const auto marked = [](const std::vector<std::string>& lines) {
        return std::vector<std::string>(lines.begin() + 1, lines.end() - 2);
    };
    REQUIRE(a.lines().size() == 5);
    REQUIRE(b.lines().size() == 5);
    CHECK(marked(a.lines()) == std::vector<std::string>{"d2\n", "d3\n"});
    CHECK(marked(b.lines()) == std::vector<std::string>{"d2\n", "d3\n"});
    CHECK(b.lines()[0].find("below INFO (2 older ones overwritten), before this ERROR") != std::string::npos);
    CHECK(b.lines().back() == "e\n");
}

TEST_CASE("backtrace: an async pipeline keeps records on the backend and dumps them in order on request", "[backtrace][async]") {
    ticks = 0;
    runlog::memory_sink sink;
    auto log = runlog::make_logger(
        "app", runlog::async(runlog::pipeline("a", runlog::text_formatter("{message} {fields}"), sink, level::warning))
                   .with_backtrace({.capacity = 100}));
    log.set_clock(&stepping_clock);
    const std::string s = "text";
    for (int i = 0; i < 50; ++i) log.info("info {} {} {}", i, s, i * 0.5);
    log.warning("written");
    REQUIRE(log.dump_backtrace() == 50);
    const auto lines = sink.lines();
    REQUIRE(lines.size() == 53);
    CHECK(lines[0] == "written \n");
    for (int i = 0; i < 50; ++i)
        CHECK(lines[static_cast<std::size_t>(i) + 2] ==
              runlog::format("info {} text {} backtrace=true\n", i, i * 0.5));
}

TEST_CASE("backtrace: from 4 threads at once each record is kept once, and nothing is kept twice", "[backtrace]") {
    for (const bool async : {false, true}) {
        INFO((async ? "async" : "sync"));
        runlog::memory_sink sink;
        runlog::memory_sink async_sink;
        auto sync_log = runlog::make_logger(
            "s", runlog::pipeline("p", runlog::text_formatter("{message}"), sink, level::info).with_backtrace({.capacity = 4000}));
        auto async_log = runlog::make_logger(
            "a", runlog::async(runlog::pipeline("p", runlog::text_formatter("{message}"), async_sink, level::info))
                     .with_backtrace({.capacity = 4000}));
        std::vector<std::thread> threads;
        for (int t = 0; t < 4; ++t)
            threads.emplace_back([&, t] {
                for (int i = 0; i < 1000; ++i) {
                    if (async)
                        async_log.debug("t{} r{}", t, i);
                    else
                        sync_log.debug("t{} r{}", t, i);
                }
            });
        for (auto& th : threads) th.join();
        const std::size_t n = async ? async_log.dump_backtrace() : sync_log.dump_backtrace();
        CHECK(n == 4000);
        const auto lines = (async ? async_sink : sink).lines();
        REQUIRE(lines.size() == 4002);
        std::set<std::string> seen(lines.begin() + 1, lines.end() - 1);
        CHECK(seen.size() == 4000);
        // Each thread's records in the order it logged them.
        for (int t = 0; t < 4; ++t) {
            int last = -1;
            for (std::size_t i = 1; i + 1 < lines.size(); ++i) {
                int th = -1, r = -1;
                if (std::sscanf(lines[i].c_str(), "t%d r%d", &th, &r) != 2 || th != t) continue;
                CHECK(r == last + 1);
                last = r;
            }
            CHECK(last == 999);
        }
    }
}

TEST_CASE("backtrace: a small ring under 4 writers and a dumper accounts for every record", "[backtrace]") {
    runlog::memory_sink sink;
    auto log = runlog::make_logger(
        "s", runlog::pipeline("p", runlog::text_formatter("{message}"), sink, level::info).with_backtrace({.capacity = 64}));
    std::atomic<bool> done{false};
    std::size_t dumped = 0;
    std::thread dumper([&] {
        while (!done.load()) dumped += log.dump_backtrace();
    });
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&, t] {
            for (int i = 0; i < 5000; ++i) log.debug("t{} r{}", t, i);
        });
    for (auto& th : threads) th.join();
    done = true;
    dumper.join();
    dumped += log.dump_backtrace();
    const auto& p = log.pipeline<0>();
    CHECK(p.backtrace_lost() == 0);
    CHECK(dumped + p.backtrace_overwritten() == 20000);
    std::set<std::string> seen;
    for (const auto& l : sink.lines())
        if (l.starts_with("t")) CHECK(seen.insert(l).second);  // none twice
    CHECK(seen.size() == dumped);
}

TEST_CASE("backtrace: inside a run the dump also goes to the run's event log, marked", "[backtrace][run]") {
    test_support::temp_dir dir;
    runlog::memory_sink sink;
    auto log = runlog::make_logger(
        "app", runlog::pipeline("console", runlog::text_formatter("{message}"), sink, level::info).with_backtrace({.capacity = 4}));
    log.debug("before the run");
    {
        runlog::run run(log, "etl", {.run_id = "bt-run", .base_dir = dir.path});
        log.debug("in the run");
        log.error("failed");
    }
    const std::string events = test_support::file_text(dir.path + "/bt-run/events.jsonl");
    std::vector<std::string> marked;
    for (const auto& l : test_support::lines_of(events))
        if (l.find("\"backtrace\":true") != std::string::npos) marked.push_back(l);
    // The first line, the last records below INFO (the user's and the run's own DEBUG events), the last line.
    REQUIRE(marked.size() >= 4);
    CHECK(marked.front().find("Backtrace of pipeline") != std::string::npos);
    CHECK(marked.back().find("End of the backtrace") != std::string::npos);
    CHECK(marked[marked.size() - 2].find("in the run") != std::string::npos);
    // Records of no run (or another run) go to the sink only, never into this run's event log.
    CHECK(events.find("before the run") == std::string::npos);
    const auto out = sink.lines();
    CHECK(std::find(out.begin(), out.end(), "before the run\n") != out.end());
    CHECK(marked.front().find("\"run_id\":\"bt-run\"") != std::string::npos);  // the first line has the run's context
}

TEST_CASE("backtrace: a pipeline that refuses a record in its filter refuses it in the dump too", "[backtrace]") {
    runlog::memory_sink sink;
    auto no_secrets = [](const runlog::record& r) { return r.message().find("secret") == std::string_view::npos; };
    auto log = runlog::make_logger(
        "app", runlog::pipeline("p", runlog::text_formatter("{message}"), sink, level::info, no_secrets)
                   .with_backtrace({.capacity = 4}));
    log.debug("secret {}", 1);
    log.debug("public");
    log.dump_backtrace();
    CHECK(with(sink.lines(), "secret").empty());
    CHECK(with(sink.lines(), "public").size() == 1);
}

TEST_CASE("backtrace: config.yaml sets it per pipeline and per handler, and refuses bad values where they are",
          "[backtrace][config]") {
    test_support::temp_dir dir;  // outlives the logger, whose handler writes into it
    runlog::memory_sink sink;
    auto log = runlog::make_logger("app", runlog::pipeline("console", runlog::text_formatter("{message}"), sink, level::info),
                                   runlog::configured_pipelines());
    auto status = runlog::try_apply_config(log,
                                           "loggers:\n"
                                           "  console:\n"
                                           "    config:\n"
                                           "      log_level: WARNING\n"
                                           "      backtrace: 2\n"
                                           "      backtrace_trigger: CRITICAL\n"
                                           "      backtrace_level: INFO\n",
                                           "config.yaml");
    REQUIRE(status);
    const auto b = log.pipeline<0>().backtrace();
    CHECK(b.capacity == 2);
    CHECK(b.trigger == level::critical);
    CHECK(b.lowest == level::info);
    CHECK_FALSE(log.should_log(level::debug));
    log.info("one");
    log.info("two");
    log.error("written, no trigger");
    log.critical("trigger");
    CHECK(with(sink.lines(), "Backtrace of pipeline").size() == 1);
    CHECK(with(sink.lines(), "one").size() == 1);
    CHECK(with(sink.lines(), "two").size() == 1);

    const auto problem = [&](const std::string& text) {
        const auto s = runlog::try_apply_config(log, text, "config.yaml");
        return s.problem ? s.problem->to_string() : std::string("accepted");
    };
    CHECK(problem("loggers:\n  console:\n    config:\n      backtrace: lots\n") ==
          "config.yaml:4:18: 'loggers.console.config.backtrace' must be a whole number of records from 0 (none) to "
          "1000000, found 'lots'");
    CHECK(problem("loggers:\n  console:\n    config:\n      backtrace: 2000000\n").starts_with("config.yaml:4:18: "));
    CHECK(problem("loggers:\n  console:\n    config:\n      backtrace: -1\n").starts_with("config.yaml:4:18: "));
    CHECK(problem("loggers:\n  console:\n    config:\n      backtrace_trigger: ERROR\n") ==
          "config.yaml:4:26: 'loggers.console.config.backtrace_trigger' needs 'backtrace: N' (how many records to keep) "
          "beside it");
    CHECK(problem("loggers:\n  console:\n    config:\n      backtrace: 4\n      backtrace_trigger: EROR\n")
              .starts_with("config.yaml:5:26: bad value for log level 'EROR'"));
    CHECK(problem("loggers:\n  console:\n    config:\n      backtrace: 4\n      backtrace_trigger: INFO\n"
                  "      backtrace_level: ERROR\n")
              .starts_with("config.yaml:6:24: 'loggers.console.config.backtrace_level' (ERROR) must be below"));
    CHECK(problem("loggers:\n  console:\n    config:\n      backtrace: 4\n      backtrace_trigger: TRACE\n") ==
          "config.yaml:5:26: 'loggers.console.config.backtrace_trigger' (TRACE) must be above 'backtrace_level' (TRACE, "
          "the default)");
    CHECK(problem("loggers:\n  console:\n    config:\n      backtrace: \"5\"\n") ==
          "config.yaml:4:18: 'loggers.console.config.backtrace' must be a number, found the quoted string '5': write it "
          "without quotes");
    CHECK(problem("loggers:\n  console:\n    config:\n      backtrce: 4\n").find("did you mean 'backtrace'") !=
          std::string::npos);
    CHECK(problem("loggers:\n  handlers:\n    config:\n      backtrace: 4\n")
              .starts_with("config.yaml:4:18: 'handlers' is the slot of the handlers config.yaml declares"));
    const auto warned = runlog::try_apply_config(log,
                                                 "loggers:\n  console:\n    config:\n      log_level: INFO\n"
                                                 "      backtrace: 2\n      backtrace_level: INFO\n"
                                                 "      backtrace_trigger: ERROR\n",
                                                 "config.yaml");
    REQUIRE(warned);
    REQUIRE(warned.warnings.size() == 1);
    CHECK(warned.warnings[0] == "config.yaml:5:18: the backtrace of 'console' keeps nothing: its lowest level INFO is not "
                                "below the log level INFO");
    REQUIRE(runlog::try_apply_config(log,
                                     "loggers:\n  console:\n    config:\n      log_level: WARNING\n      backtrace: 2\n"
                                     "      backtrace_trigger: CRITICAL\n      backtrace_level: INFO\n",
                                     "config.yaml"));
    // Refused files changed nothing.
    CHECK(log.pipeline<0>().backtrace().capacity == 2);

    // A handler with a backtrace: its slot opens the logger's gate to what it keeps.
    const std::string path = dir.path + "/h.log";
    REQUIRE(runlog::try_apply_config(log,
                                     "handlers:\n  h:\n    type: file\n    formatter: brief\n    level: ERROR\n"
                                     "    path: " + path + "\n    backtrace: 8\n",
                                     "config.yaml"));
    CHECK(log.should_log(level::trace));
    log.debug("handler debug");
    log.error("handler error");
    log.flush();
    const std::string text = test_support::file_text(path);
    INFO(text);
    CHECK(text.find("handler debug") != std::string::npos);
    CHECK(text.find("Backtrace of pipeline \"h\"") != std::string::npos);
    CHECK(text.find("handler error") > text.find("handler debug"));
}

TEST_CASE("backtrace: set_backtrace refuses a lowest level not below the trigger, and a new capacity counts what it drops",
          "[backtrace]") {
    runlog::memory_sink sink;
    auto log = runlog::make_logger(
        "app", runlog::pipeline("p", runlog::text_formatter("{message}"), sink, level::info).with_backtrace({.capacity = 4}));
    CHECK_THROWS_AS(log.set_backtrace("p", {.capacity = 4, .trigger = level::debug, .lowest = level::debug}),
                    std::invalid_argument);
    CHECK(log.pipeline<0>().backtrace().capacity == 4);  // unchanged
    for (int i = 0; i < 6; ++i) log.debug("old {}", i);  // two overwritten, four kept
    log.set_backtrace("p", {.capacity = 8});  // a new ring: the four kept records are dropped, and counted
    CHECK(log.pipeline<0>().backtrace_lost() == 4);
    CHECK(log.pipeline<0>().backtrace_overwritten() == 2);  // the counts run on across rings
    log.debug("three");
    log.dump_backtrace();
    const auto lines = sink.lines();
    REQUIRE(lines.size() == 3);
    CHECK(lines[0].find("the last 1 record(s) below INFO (2 older ones overwritten, 4 not kept), on request") !=
          std::string::npos);
    CHECK(lines[1] == "three\n");
    // Capacity 0: off, and what was kept is dropped.
    log.debug("four");
    log.set_backtrace("p", {});
    CHECK(log.dump_backtrace() == 0);
}

TEST_CASE("backtrace: a huge message and bytes that are not UTF-8 are kept whole and written valid", "[backtrace]") {
    runlog::memory_sink sink;
    auto log = runlog::make_logger(
        "app", runlog::pipeline("j", runlog::json_formatter{}, sink, level::info).with_backtrace({.capacity = 2}));
    const std::string big(1 << 20, 'x');
    const std::string binary("\xff\xfe\x00\x01" "bad" "\xc3", 8);
    log.debug("big {} end", big);
    log.debug("binary {}", binary);
    REQUIRE(log.dump_backtrace() == 2);
    const auto lines = sink.lines();
    REQUIRE(lines.size() == 4);
    CHECK(lines[1].size() > big.size());
    CHECK(lines[1].find("x end") != std::string::npos);
    // The formatter escapes what it would escape for any record: no raw NUL or control byte, one line.
    CHECK(lines[2].find('\0') == std::string::npos);
    CHECK(lines[2].find("\\u0000") != std::string::npos);
    CHECK(lines[2].find('\n') == lines[2].size() - 1);
}

