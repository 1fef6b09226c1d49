// The bridges, each with its real library: std::clog through stream_bridge, SQLite's and libxml2's error
// hooks through callback_bridge, spdlog through spdlog_sink (glog: test_glog_bridge.cpp). Every message must
// reach the run's events.jsonl as one record, with its level, logger name and step.
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include <catch2/catch.hpp>
#include <libxml/parser.h>
#include <libxml/xmlerror.h>
#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include <runlog/bridges/callback.hpp>
#include <runlog/bridges/spdlog.hpp>
#include <runlog/bridges/stream.hpp>
#include <runlog/runlog.hpp>

#include "fixture.hpp"

using bridge_tests::fixture;
using bridge_tests::has;

using runlog::level;

TEST_CASE("stream_bridge: lines written to std::clog by 4 threads in steps arrive once each, whole, with their step",
          "[bridges][stream]") {
    fixture f;
    std::streambuf* const original = std::clog.rdbuf();
    {
        runlog::run run(f.log, "etl", f.options());
        runlog::stream_bridge bridge(std::clog, f.log);
        std::vector<std::thread> threads;
        for (int t = 0; t < 4; ++t)
            threads.emplace_back([&run, t] {
                runlog::step step(run, "t" + std::to_string(t));
                for (int i = 0; i < 200; ++i) {
                    // A line in several pieces, as iostreams write it, with a flush in the middle.
                    std::clog << "thread " << t << " line " << i << std::flush << " part A, ";
                    std::clog << "part B" << '\n';
                }
                std::clog << "thread " << t << " ends without a newline";
            });
        for (auto& th : threads) th.join();
        CHECK(std::clog.rdbuf() != original);
    }
    CHECK(std::clog.rdbuf() == original);  // restored exactly
    CHECK(std::clog.good());
    const auto lines = f.lines_from("iostream.clog");
    REQUIRE(lines.size() == 4 * 201);
    for (int t = 0; t < 4; ++t) {
        for (int i = 0; i < 200; ++i) {
            const std::string body = "\"body\":\"thread " + std::to_string(t) + " line " + std::to_string(i) +
                                     " part A, part B\"";
            int found = 0;
            for (const auto& l : lines)
                if (has(l, body)) {
                    ++found;
                    CHECK(has(l, "\"step_key\":\"t" + std::to_string(t) + "\""));
                    CHECK(has(l, "\"severity_text\":\"INFO\""));
                    CHECK(has(l, "\"run_id\":\"run1\""));
                }
            INFO(body);
            CHECK(found == 1);
        }
        // The partial line was sent as a line at the bridge's end.
        int ends = 0;
        for (const auto& l : lines) ends += has(l, "\"body\":\"thread " + std::to_string(t) + " ends without a newline\"");
        CHECK(ends == 1);
    }
}

TEST_CASE("stream_bridge: an exception ending the bridge restores the stream and keeps the partial line",
          "[bridges][stream]") {
    fixture f;
    std::ostringstream mine;
    mine << "before|";
    mine.setstate(std::ios::eofbit);  // an odd state, to be given back as it was
    std::streambuf* const original = mine.rdbuf();
    {
        runlog::run run(f.log, "etl", f.options());
        try {
            runlog::stream_bridge bridge(mine, f.log, {.lvl = level::warning, .name = "legacy"});
            mine << "complete line\npartial";
            throw std::runtime_error("boom");
        } catch (const std::runtime_error&) {
        }
        mine << "after|";
    }
    CHECK(mine.rdbuf() == original);
    CHECK(mine.eof());
    mine.clear();
    mine << "end";
    CHECK(mine.str() == "before|end");  // "after|" met the eof state, as it would have without the bridge
    const auto lines = f.lines_from("legacy");
    REQUIRE(lines.size() == 2);
    CHECK(has(lines[0], "\"body\":\"complete line\""));
    CHECK(has(lines[0], "\"severity_text\":\"WARNING\""));
    CHECK(has(lines[1], "\"body\":\"partial\""));
}

TEST_CASE("stream_bridge: a thread's unfinished line is sent when its step ends, in the step", "[bridges][stream]") {
    fixture f;
    {
        runlog::run run(f.log, "etl", f.options());
        runlog::stream_bridge bridge(std::clog, f.log);
        std::thread([&run] {
            runlog::step step(run, "progress");
            std::clog << "progress: 100%";  // no newline
        }).join();
        run.execute("later", [] { std::clog << "a line of the later step\n"; });
    }  // the bridge ends after the run: the unfinished line was sent already
    const auto lines = f.lines_from("iostream.clog");
    REQUIRE(lines.size() == 2);
    CHECK(has(lines[0], "\"body\":\"progress: 100%\""));
    CHECK(has(lines[0], "\"step_key\":\"progress\""));
    CHECK(has(lines[1], "\"step_key\":\"later\""));
}

TEST_CASE("stream_bridge: bridges on one stream may end in any order", "[bridges][stream]") {
    fixture f;
    std::ostringstream out;
    std::streambuf* const original = out.rdbuf();
    {
        runlog::run run(f.log, "etl", f.options());
        auto first = std::make_unique<runlog::stream_bridge>(out, f.log, runlog::stream_bridge_options{.name = "first"});
        auto second = std::make_unique<runlog::stream_bridge>(out, f.log, runlog::stream_bridge_options{.name = "second"});
        out << "to the second\n";
        first.reset();  // out of order: the second now restores what the first found
        out << "still the second\n";
        CHECK(second->original() == original);
        second.reset();
        out << "plain";
    }
    CHECK(out.rdbuf() == original);
    CHECK(out.good());
    CHECK(out.str() == "plain");
    CHECK(f.lines_from("second").size() == 2);
    CHECK(f.lines_from("first").empty());
}

TEST_CASE("stream_bridge: a line longer than max_line is cut into records; CRLF endings are dropped",
          "[bridges][stream]") {
    fixture f;
    {
        runlog::run run(f.log, "etl", f.options());
        std::ostringstream out;
        runlog::stream_bridge bridge(out, f.log, {.max_line = 10});
        out << std::string(25, 'x') << "\r\n" << "short\r\n";
    }
    const auto lines = f.lines_from("iostream");
    REQUIRE(lines.size() == 4);
    CHECK(has(lines[0], "\"body\":\"xxxxxxxxxx\""));
    CHECK(has(lines[1], "\"body\":\"xxxxxxxxxx\""));
    CHECK(has(lines[2], "\"body\":\"xxxxx\""));
    CHECK(has(lines[3], "\"body\":\"short\""));
}

TEST_CASE("stream_bridge with runlog::capture: std::clog lines are records, the rest is seen by the capture only",
          "[bridges][stream][capture]") {
    test_support::redirected_std real;  // the terminal sees nothing; what reaches the original fds is checked
    test_support::temp_dir dir;
    auto log = runlog::make_logger(
        "etl", runlog::pipeline("console", runlog::text_formatter::brief(), runlog::stderr_sink{}, level::info));
    runlog::run_options options{.run_id = "run1", .base_dir = dir.path + "/storage"};
    std::streambuf* const original = std::clog.rdbuf();
    std::string err_path, out_path;
    {
        runlog::run run(log, "etl", options);
        runlog::stream_bridge clog_lines(std::clog, log);  // run-wide, begun before the capture
        run.execute("load", [&](runlog::step& s) {
            runlog::capture cap(s, {.tee = false});
            err_path = cap.stderr_path();
            out_path = cap.stdout_path();
            std::clog << "clog says " << 42 << '\n';
            std::fprintf(stderr, "fprintf to stderr\n");
            std::fflush(stderr);
            CHECK(::write(2, "write(2) to stderr\n", 19) == 19);
            std::cout << "cout line" << std::endl;
            CHECK(std::system("echo 'child to stderr' >&2") == 0);
        });
        std::clog << "clog after the step\n";
    }
    CHECK(std::clog.rdbuf() == original);

    // events.jsonl holds the clog lines as records of the step (the run-wide one outside any step),
    // and nothing of what bypassed the stream.
    const std::string events = test_support::file_text(dir.path + "/storage/run1/events.jsonl");
    std::vector<std::string> clog;
    std::istringstream in(events);
    for (std::string line; std::getline(in, line);)
        if (has(line, "\"logger\":\"iostream.clog\"")) clog.push_back(line);
    REQUIRE(clog.size() == 2);
    CHECK(has(clog[0], "\"body\":\"clog says 42\""));
    CHECK(has(clog[0], "\"step_key\":\"load\""));
    CHECK(has(clog[1], "\"body\":\"clog after the step\""));
    CHECK_FALSE(has(clog[1], "\"step_key\""));
    CHECK_FALSE(has(events, "fprintf to stderr"));
    CHECK_FALSE(has(events, "write(2) to stderr"));
    CHECK_FALSE(has(events, "child to stderr"));

    // The .err compute log has the console rendering of the clog record beside the raw bytes.
    const std::string err = test_support::file_text(err_path);
    CHECK(has(err, "clog says 42\n"));
    CHECK(has(err, "fprintf to stderr\n"));
    CHECK(has(err, "write(2) to stderr\n"));
    CHECK(has(err, "child to stderr\n"));
    CHECK(test_support::file_text(out_path) == "cout line\n");
    // With tee off, the original stderr saw only what was logged outside the capture.
    CHECK_FALSE(has(real.err(), "clog says 42"));
    CHECK_FALSE(has(real.err(), "fprintf to stderr"));
    CHECK(has(real.err(), "clog after the step"));
}

namespace {
runlog::level sqlite_level(int code) {
    switch (code & 0xff) {
        case SQLITE_NOTICE: return level::info;
        case SQLITE_WARNING: return level::warning;
        default: return level::error;
    }
}
}  // namespace

TEST_CASE("callback_bridge: SQLite's error log (SQLITE_CONFIG_LOG) reaches the run with the step and the code",
          "[bridges][callback][sqlite]") {
    fixture f;
    {
        runlog::run run(f.log, "etl", f.options());
        runlog::callback_bridge bridge(f.log, "sqlite", &sqlite_level);
        REQUIRE(sqlite3_shutdown() == SQLITE_OK);  // the log hook may be set only while SQLite is not initialised
        REQUIRE(sqlite3_config(SQLITE_CONFIG_LOG, &runlog::callback_bridge::entry, bridge.user_data()) == SQLITE_OK);
        {
            runlog::step step(run, "query");
            sqlite3* db = nullptr;
            REQUIRE(sqlite3_open(":memory:", &db) == SQLITE_OK);
            sqlite3_stmt* stmt = nullptr;
            CHECK(sqlite3_prepare_v2(db, "SELEC 1", -1, &stmt, nullptr) == SQLITE_ERROR);  // SQLite logs it
            CHECK(sqlite3_prepare_v2(db, "SELECT * FROM missing_table", -1, &stmt, nullptr) == SQLITE_ERROR);
            sqlite3_log(SQLITE_WARNING, "a warning of the program's own, %d", 7);
            sqlite3_close(db);
        }
        sqlite3_shutdown();
        sqlite3_config(SQLITE_CONFIG_LOG, nullptr, nullptr);
    }
    const auto lines = f.lines_from("sqlite");
    REQUIRE(lines.size() == 3);
    CHECK(has(lines[0], "near \\\"SELEC\\\": syntax error"));
    CHECK(has(lines[0], "\"severity_text\":\"ERROR\""));
    CHECK(has(lines[0], "\"code\":1"));
    CHECK(has(lines[1], "no such table: missing_table"));
    CHECK(has(lines[2], "\"body\":\"a warning of the program's own, 7\""));
    CHECK(has(lines[2], "\"severity_text\":\"WARNING\""));
    CHECK(has(lines[2], "\"code\":28"));
    for (const auto& l : lines) CHECK(has(l, "\"step_key\":\"query\""));
}

TEST_CASE("callback_bridge: libxml2's structured error hook, through an adapter", "[bridges][callback][libxml2]") {
    fixture f;
    {
        runlog::run run(f.log, "etl", f.options());
        runlog::callback_bridge bridge(f.log, "libxml2", [](int lvl) {
            return lvl == XML_ERR_WARNING ? level::warning : lvl == XML_ERR_ERROR ? level::error : level::critical;
        });
        // libxml2 hands over a struct: the adapter picks its level and message.
        xmlSetStructuredErrorFunc(bridge.user_data(), [](void* user, xmlErrorPtr e) {
            static_cast<runlog::callback_bridge*>(user)->log_code(static_cast<int>(e->level), e->message);
        });
        {
            runlog::step step(run, "parse");
            xmlDocPtr doc = xmlReadMemory("<a><b></a>", 10, "broken.xml", nullptr, XML_PARSE_NONET);
            if (doc) xmlFreeDoc(doc);
        }
        xmlSetStructuredErrorFunc(nullptr, nullptr);
    }
    const auto lines = f.lines_from("libxml2");
    REQUIRE(!lines.empty());
    CHECK(has(lines[0], "Opening and ending tag mismatch: b line 1 and a"));
    CHECK(has(lines[0], "\"severity_text\":\"CRITICAL\""));  // XML_ERR_FATAL
    CHECK(has(lines[0], "\"step_key\":\"parse\""));
}

TEST_CASE("callback_bridge: hooks without user data go to the global bridge; a null message is said", "[bridges][callback]") {
    fixture f;
    {
        runlog::run run(f.log, "etl", f.options());
        void (*hook)(int, const char*) = &runlog::callback_bridge::global_entry;
        hook(1, "before any bridge is global: dropped");
        {
            runlog::callback_bridge bridge(f.log, "plain");
            bridge.make_global();
            hook(3, "one\n");
            hook(4, nullptr);
        }
        hook(5, "after the bridge ended: dropped");
    }
    const auto lines = f.lines_from("plain");
    REQUIRE(lines.size() == 2);
    CHECK(has(lines[0], "\"body\":\"one\""));
    CHECK(has(lines[0], "\"code\":3"));
    CHECK(has(lines[1], "\"body\":\"(null)\""));
}

TEST_CASE("spdlog_sink: spdlog records reach the run with level, logger name, location and step", "[bridges][spdlog]") {
    fixture f;
    int line = 0;
    {
        runlog::run run(f.log, "etl", f.options());
        auto sink = std::make_shared<runlog::spdlog_sink_mt>(f.log);
        spdlog::logger db("db", sink);
        db.set_level(spdlog::level::trace);
        {
            runlog::step step(run, "load");
            line = __LINE__ + 1;
            SPDLOG_LOGGER_WARN(&db, "slow query: {} ms", 1200);
            db.debug("a debug line");
            db.critical("on fire");
            db.log(spdlog::level::off, "never");
        }
    }
    const auto lines = f.lines_from("spdlog.db");
    REQUIRE(lines.size() == 3);
    CHECK(has(lines[0], "\"body\":\"slow query: 1200 ms\""));
    CHECK(has(lines[0], "\"severity_text\":\"WARNING\""));
    CHECK(has(lines[0], "\"step_key\":\"load\""));
    CHECK(has(lines[0], "\"code.lineno\":" + std::to_string(line)));
    CHECK(has(lines[0], "test_bridges.cpp\""));
    CHECK(has(lines[1], "\"severity_text\":\"DEBUG\""));
    CHECK(has(lines[2], "\"severity_text\":\"CRITICAL\""));
    CHECK(has(lines[0], "\"thread.id\":" + std::to_string(runlog::thread_id())));
}

TEST_CASE("bridges: each has its own level, by name", "[bridges]") {
    fixture f;
    {
        runlog::run run(f.log, "etl", f.options());
        runlog::callback_bridge a(f.log, "noisy");
        a.set_level(level::error);
        a.log(level::warning, "dropped");
        a.log(level::error, "kept");
        CHECK(!a.should_log(level::info));
    }
    const auto lines = f.lines_from("noisy");
    REQUIRE(lines.size() == 1);
    CHECK(has(lines[0], "\"body\":\"kept\""));
}
