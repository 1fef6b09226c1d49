#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

#include <runlog/runlog.hpp>

#include "support.hpp"

using runlog::level;

namespace {

using test_support::temp_dir;

/// A logger with the two pipelines of the example and a compile-time floor of DEBUG.
auto two_pipelines() {
    return runlog::make_logger<level::debug>(
        runlog::pipeline("console", runlog::text_formatter("{message}"), runlog::memory_sink{}, level::info),
        runlog::pipeline("json_file", runlog::json_formatter{}, runlog::memory_sink{}, level::info));
}


struct good_case {
    const char* what;
    std::string text;
    level console;
    level json_file;
};

struct bad_case {
    const char* what;
    std::string text;
    std::string message;  ///< the whole expected message, with config.yaml:line:column
};

}  // namespace

TEST_CASE("good config files and their effect", "[config]") {
    const std::vector<good_case> cases = {
        {"the issue's example", "loggers:\n  console:\n    config:\n      log_level: ERROR\n  json_file:\n    config:\n      log_level: DEBUG\n",
         level::error, level::debug},
        {"names in any case, aliases", "loggers:\n  console:\n    config:\n      log_level: warn\n  json_file:\n    config:\n      log_level: Fatal\n",
         level::warning, level::critical},
        {"integers", "loggers:\n  console:\n    config:\n      log_level: 35\n", level{35}, level::info},
        {"negative integer", "loggers:\n  console:\n    config:\n      log_level: -3\n", level{-3}, level::info},
        {"quoted values", "loggers:\n  'console':\n    config:\n      log_level: \"ERROR\"\n", level::error, level::info},
        {"escapes in a double-quoted key", "loggers:\n  \"cons\\x6fle\":\n    config:\n      log_level: '\u0045RROR'\n",
         level::error, level::info},
        {"comments, a BOM and ---", "\xEF\xBB\xBF# run config\n---\nloggers:   # the loggers\n  console:\n    config:\n"
                                    "      log_level: ERROR # only errors\n",
         level::error, level::info},
        {"flow mappings", "loggers: {console: {config: {log_level: critical}}, json_file: {config: {log_level: 10}}}\n",
         level::critical, level::debug},
        {"other top-level keys are left alone",
         "ops:\n  load:\n    config:\n      rows: [1, 2, 3]\n      path: \"data/x.csv\"\nresources:\n  - io_manager\n  - "
         "name: s3\n    bucket: b\nloggers:\n  console:\n    config:\n      log_level: ERROR\n",
         level::error, level::info},
        {"no loggers key", "execution:\n  config:\n    multiprocess: {}\n", level::info, level::info},
        {"a logger without config", "loggers:\n  console:\n  json_file:\n    config:\n", level::info, level::info},
        {"CRLF line ends", "loggers:\r\n  console:\r\n    config:\r\n      log_level: ERROR\r\n", level::error, level::info},
        {"a sequence as a mapping value at the same indentation", "tags:\n- a\n- b\nloggers:\n  console:\n    config:\n      log_level: 40\n",
         level::error, level::info},
        {"a document end", "loggers:\n  console:\n    config:\n      log_level: ERROR\n...\n# done\n", level::error, level::info},
        {"a Dagster run config with block scalars",
         "ops:\n  transform_join:\n    config:\n      query: |\n        SELECT z.zone, count(*)\n          FROM trips t\n\n"
         "        # not a comment: part of the query\n        GROUP BY 1\n      note: >-\n        folded\n        text\n"
         "      steps:\n        - |+\n          kept\n\n        - x\nloggers:\n  console:\n    config:\n      log_level: ERROR\n",
         level::error, level::info},
        {"a Dagster run config with anchors, aliases, merge keys and values over several lines",
         "resources:\n  warehouse: &wh\n    config:\n      host: db.internal\n      port: 5432\nops:\n  load:\n    config:\n"
         "      <<: &defaults {retries: 3, timeout: 30}\n      description: a long description\n        that goes on\n"
         "      tables: [trips,\n               zones]\n      target: *wh\n      sql: \"SELECT 1\n        FROM t\"\n"
         "loggers:\n  console: &errors\n    config:\n      log_level: ERROR\n  json_file:\n    <<: *errors\n",
         level::error, level::error},
        {"a merged level loses to one written beside it",
         "base: &base\n  config:\n    log_level: ERROR\nloggers:\n  json_file:\n    config:\n      <<: {log_level: ERROR}\n"
         "      log_level: DEBUG\n  console:\n    <<: [*base, {config: {log_level: INFO}}]\n",
         level::error, level::debug},
    };
    for (const auto& c : cases) {
        INFO(c.what);
        auto log = two_pipelines();
        const auto st = runlog::try_apply_config(log, c.text, "config.yaml");
        CHECK(st.problem.has_value() == false);
        if (st.problem) FAIL(st.problem->to_string());
        CHECK(log.get_level("console") == c.console);
        CHECK(log.get_level("json_file") == c.json_file);
    }
}

TEST_CASE("bad config files: exact messages, and the levels stay as they were", "[config]") {
    const std::string huge(70'000, 'x');
    const std::string deep = [] {
        std::string s;
        for (int i = 0; i < 70; ++i) s += std::string(static_cast<std::size_t>(i) * 2, ' ') + "k" + std::to_string(i) + ":\n";
        return s;
    }();
    const std::vector<bad_case> cases = {
        {"bad level", "loggers:\n  console:\n    config:\n      log_level: EROR\n",
         "config.yaml:4:18: bad value for log level 'EROR': permissible values are CRITICAL, ERROR, WARNING, INFO, DEBUG, "
         "TRACE or an integer"},
        {"empty file", "", "config.yaml:1:1: the file is empty: expected a mapping with a 'loggers' key"},
        {"only comments", "# nothing\n\n", "config.yaml:1:1: the file is empty: expected a mapping with a 'loggers' key"},
        {"unknown logger", "loggers:\n  consol:\n    config:\n      log_level: ERROR\n",
         "config.yaml:2:3: unknown logger 'consol': this program's loggers are console, json_file; did you mean 'console'?"},
        {"unknown logger without suggestion", "loggers:\n  syslog:\n    config:\n      log_level: ERROR\n",
         "config.yaml:2:3: unknown logger 'syslog': this program's loggers are console, json_file"},
        {"unknown key under config", "loggers:\n  console:\n    config:\n      log_levl: ERROR\n",
         "config.yaml:4:7: unknown key 'log_levl' under 'loggers.console.config': expected 'log_level', 'backtrace', "
         "'backtrace_trigger' or 'backtrace_level' (or 'name'); did you mean 'log_level'?"},
        {"unknown key under a logger", "loggers:\n  console:\n    confg:\n      log_level: ERROR\n",
         "config.yaml:3:5: unknown key 'confg' under 'loggers.console': expected 'config'; did you mean 'config'?"},
        {"tab indentation", "loggers:\n\tconsole:\n", "config.yaml:2:1: a tab in the indentation: YAML indents with spaces only"},
        {"unknown alias", "loggers: *l\n", "config.yaml:1:10: unknown alias '*l': no anchor '&l' comes before it"},
        {"merge of a scalar", "base: &b 1\nloggers:\n  <<: *b\n",
         "config.yaml:3:7: a merge key ('<<') takes a mapping (usually an alias such as '*base') or a sequence of them"},
        {"tag", "loggers: !!map\n", "config.yaml:1:10: tags ('!') are not supported"},
        {"block scalar header", "ops:\n  q: |x\n    a\nloggers: {}\n",
         "config.yaml:2:7: unexpected 'x' after a block scalar's indicator: expected '-', '+', a digit 1-9 or the end of "
         "the line"},
        {"block scalar empty line wider than its text", "ops:\n  q: |\n      \n    a\nloggers: {}\n",
         "config.yaml:3:7: an empty line of a block scalar is indented more than its first line"},
        {"a node on the --- line", "--- |\n  a\n", "config.yaml:1:5: a node on the '---' line is not supported: start "
                                                  "it on the next line"},
        {"a node on the --- line after a tab", "---\tscalar\n",
         "config.yaml:1:5: a node on the '---' line is not supported: start it on the next line"},
        {"two documents", "---\nloggers: {}\n---\nloggers: {}\n",
         "config.yaml:3:1: a second document ('---'): multi-document streams are not supported"},
        {"duplicate key", "loggers:\n  console:\n    config:\n      log_level: ERROR\n  console:\n    config: {}\n",
         "config.yaml:5:3: duplicate key 'console' (first at line 2, column 3)"},
        {"duplicate key in a flow mapping", "loggers: {console: {}, console: {}}\n",
         "config.yaml:1:24: duplicate key 'console' (first at line 1, column 11)"},
        {"loggers is a sequence", "loggers: [console]\n",
         "config.yaml:1:10: 'loggers' must be a mapping of logger names, found a sequence"},
        {"loggers is a scalar", "loggers: console\n",
         "config.yaml:1:10: 'loggers' must be a mapping of logger names, found a scalar"},
        {"config is a scalar", "loggers:\n  console:\n    config: ERROR\n",
         "config.yaml:3:13: 'loggers.console.config' must be a mapping, found a scalar"},
        {"log_level is a sequence", "loggers:\n  console:\n    config:\n      log_level: [ERROR]\n",
         "config.yaml:4:18: log level of 'loggers.console' must be a scalar, found a sequence"},
        {"log_level is empty", "loggers:\n  console:\n    config:\n      log_level:\n",
         "config.yaml:4:17: log level of 'loggers.console' is empty: permissible values are CRITICAL, ERROR, WARNING, INFO, "
         "DEBUG, TRACE or an integer"},
        {"top level is a sequence", "- loggers\n", "config.yaml:1:1: expected a mapping at the top level, found a sequence"},
        {"unterminated quote", "loggers:\n  \"console:\n",
         "config.yaml:2:3: unterminated double-quoted scalar"},
        {"unknown escape", "loggers:\n  console:\n    config:\n      log_level: \"\\q\"\n",
         "config.yaml:4:19: unknown escape '\\q' in a double-quoted scalar"},
        {"unterminated flow mapping", "loggers: {console: {}\n",
         "config.yaml:1:10: unterminated flow mapping: expected '}'"},
        {"flow mapping going on less indented", "loggers: {console:\n{}}\n",
         "config.yaml:2:1: this line of a flow mapping (opened at line 1) must be indented more than column 1, where the "
         "keys of its block start"},
        {"missing colon", "loggers:\n  console\n    config:\n", "config.yaml:2:10: expected ':' after a key"},
        {"plain ': ' in a value", "loggers:\n  console:\n    config:\n      log_level: a: b\n",
         "config.yaml:4:19: a second ':' on the line: mapping values cannot hold plain ': ' (quote the value)"},
        {"bad indentation", "loggers:\n  console:\n    config:\n      log_level: ERROR\n   json_file: {}\n",
         "config.yaml:5:4: unexpected indentation: expected a key at column 3"},
        {"deep nesting", deep, "config.yaml:66:131: nesting deeper than 64 levels"},
        {"huge scalar", "loggers:\n  console:\n    config:\n      log_level: " + huge + "\n",
         "config.yaml:4:18: a scalar longer than 65536 bytes"},
        {"binary garbage", std::string("loggers:\n  \x01\x02\xff\xfe", 14), "config.yaml:2:3: control character U+0001 is not allowed (is this a binary file?)"},
        {"invalid UTF-8", "loggers:\n  caf\xC3\x28: {}\n", "config.yaml:2:6: invalid UTF-8: the file must be UTF-8 text"},
        {"NUL byte", std::string("loggers:\0\n", 10), "config.yaml:1:9: control character U+0000 is not allowed (is this a binary file?)"},
        {"directive", "%YAML 1.2\n---\nloggers: {}\n", "config.yaml:1:1: directives ('%') are not supported"},
        {"complex key", "? loggers\n: {}\n", "config.yaml:1:1: complex keys ('?') are not supported"},
        {"content after the document end", "loggers: {}\n...\nmore: 1\n",
         "config.yaml:3:1: content after the end of the document ('...')"},
        {"lone carriage return", "loggers:\r  console: {}\n", "config.yaml:1:9: a carriage return not followed by a line feed"},
    };
    REQUIRE(cases.size() >= 25);
    for (const auto& c : cases) {
        INFO(c.what);
        auto log = two_pipelines();
        log.set_level("console", level::warning);
        const auto st = runlog::try_apply_config(log, c.text, "config.yaml");
        REQUIRE(st.problem.has_value());
        CHECK(st.problem->to_string() == c.message);
        CHECK(log.get_level("console") == level::warning);
        CHECK(log.get_level("json_file") == level::info);
        // The throwing API reports the same.
        CHECK_THROWS_WITH(runlog::apply_config(log, runlog::parse_config(c.text, "config.yaml")), c.message);
    }
}

TEST_CASE("a bad file changes nothing, even when its first loggers are good", "[config]") {
    auto log = two_pipelines();
    const std::string text =
        "loggers:\n  console:\n    config:\n      log_level: ERROR\n  jsonfile:\n    config:\n      log_level: DEBUG\n";
    try {
        runlog::apply_config(log, runlog::parse_config(text, "config.yaml"));
        FAIL("no error");
    } catch (const runlog::config_error& e) {
        CHECK(std::string(e.what()) ==
              "config.yaml:5:3: unknown logger 'jsonfile': this program's loggers are console, json_file; did you mean "
              "'json_file'?");
        CHECK(e.problem().line == 5);
        CHECK(e.problem().column == 3);
    }
    CHECK(log.get_level("console") == level::info);
}

TEST_CASE("a level below the compile-time floor is applied with a warning", "[config]") {
    auto log = two_pipelines();
    const auto st = runlog::try_apply_config(log, "loggers:\n  console:\n    config:\n      log_level: TRACE\n", "c.yaml");
    REQUIRE(st);
    CHECK(log.get_level("console") == level::trace);
    REQUIRE(st.warnings.size() == 1);
    CHECK(st.warnings[0] ==
          "c.yaml:4:18: log level TRACE for 'console' is below the compile-time floor DEBUG: calls below DEBUG were "
          "compiled out and stay silent");
}

TEST_CASE("config files: unreadable, missing, a directory, too big", "[config]") {
    temp_dir dir;
    auto log = two_pipelines();
    auto st = runlog::try_apply_config_file(log, dir.path + "/missing.yaml");
    REQUIRE_FALSE(st);
    CHECK(st.problem->to_string() == dir.path + "/missing.yaml: cannot read the file: No such file or directory");
    st = runlog::try_apply_config_file(log, dir.path);
    REQUIRE_FALSE(st);
    CHECK(st.problem->to_string() == dir.path + ": not a regular file: it is a directory");
    st = runlog::try_apply_config_file(log, "/dev/null");
    REQUIRE_FALSE(st);
    CHECK(st.problem->to_string() == "/dev/null: not a regular file: it is a device");
    const auto big = dir.write("big.yaml", "# " + std::string(2 << 20, 'x') + "\n");
    st = runlog::try_apply_config_file(log, big);
    REQUIRE_FALSE(st);
    CHECK(st.problem->to_string() == big + ":1:1: the file is larger than 1048576 bytes");
    const auto good = dir.write("config.yaml", "loggers:\n  json_file:\n    config:\n      log_level: ERROR\n");
    CHECK(runlog::apply_config_file(log, good).empty());
    CHECK(log.get_level("json_file") == level::error);
    CHECK_THROWS_AS(runlog::load_config(dir.path + "/missing.yaml"), runlog::config_error);
}

TEST_CASE("config files: a FIFO is refused at once, not waited on", "[config]") {
    temp_dir dir;
    auto log = two_pipelines();
    const std::string fifo = dir.path + "/config.yaml";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    // No writer ever opens it: a blocking open would hang here (ctest's timeout would then fail the test).
    auto st = runlog::try_apply_config_file(log, fifo);
    REQUIRE_FALSE(st);
    CHECK(st.problem->to_string() == fifo + ": not a regular file: it is a FIFO");
    ::setenv("RUNLOG_CONFIG", fifo.c_str(), 1);
    st = runlog::configure_from_env(log);
    ::unsetenv("RUNLOG_CONFIG");
    REQUIRE_FALSE(st);
    CHECK(st.problem->message == "not a regular file: it is a FIFO");
    CHECK(log.get_level("console") == level::info);
}

TEST_CASE("config text: a second BOM is an error where it is", "[config]") {
    auto log = two_pipelines();
    const std::string message = "a byte order mark (U+FEFF) after the start of the file: only the first byte may start one";
    auto st = runlog::try_apply_config(log, "\xEF\xBB\xBF\xEF\xBB\xBFloggers:\n  console:\n    config:\n      log_level: ERROR\n",
                                       "c.yaml");
    REQUIRE_FALSE(st);
    CHECK(st.problem->to_string() == "c.yaml:1:1: " + message);
    st = runlog::try_apply_config(log, "loggers:\n  console:\n    config:\n      log_level: \xEF\xBB\xBF" "ERROR\n", "c.yaml");
    REQUIRE_FALSE(st);
    CHECK(st.problem->to_string() == "c.yaml:4:18: " + message);
    CHECK(log.get_level("console") == level::info);
    // One leading BOM is fine.
    CHECK(runlog::try_apply_config(log, "\xEF\xBB\xBFloggers:\n  console:\n    config:\n      log_level: ERROR\n", "c.yaml"));
    CHECK(log.get_level("console") == level::error);
}

TEST_CASE("RUNLOG_CONFIG: applied at start, a bad file reported and ignored", "[config]") {
    temp_dir dir;
    auto log = two_pipelines();
    ::setenv("RUNLOG_CONFIG", dir.write("c.yaml", "loggers:\n  console:\n    config:\n      log_level: ERROR\n").c_str(), 1);
    CHECK(runlog::configure_from_env(log));
    CHECK(log.get_level("console") == level::error);
    ::setenv("RUNLOG_CONFIG", dir.write("bad.yaml", "loggers:\n  console:\n    config:\n      log_level: NOPE\n").c_str(), 1);
    const auto st = runlog::configure_from_env(log);
    REQUIRE_FALSE(st);
    CHECK_THAT(st.problem->to_string(), Catch::EndsWith("bad.yaml:4:18: bad value for log level 'NOPE': permissible values "
                                                        "are CRITICAL, ERROR, WARNING, INFO, DEBUG, TRACE or an integer"));
    CHECK(log.get_level("console") == level::error);
    ::unsetenv("RUNLOG_CONFIG");
    CHECK(runlog::configure_from_env(log));
}

TEST_CASE("the watcher re-applies edits and keeps the levels through a bad one, while threads log", "[config]") {
    temp_dir dir;
    runlog::memory_sink console;
    auto log = runlog::make_logger(runlog::pipeline("console", runlog::text_formatter("{message}"), console, level::info));
    const auto path = dir.write("config.yaml", "loggers:\n  console:\n    config:\n      log_level: ERROR\n");
    std::vector<runlog::config_status> reports;
    std::mutex reports_mutex;
    runlog::config_watcher watcher(log, path, std::chrono::milliseconds(5), [&](const runlog::config_status& st) {
        std::lock_guard lock(reports_mutex);
        reports.push_back(st);
    });
    REQUIRE(watcher.initial());
    CHECK(log.get_level("console") == level::error);

    std::atomic<bool> stop{false};
    std::vector<std::thread> writers;
    for (int t = 0; t < 4; ++t)
        writers.emplace_back([&] {
            while (!stop) log.warning("w");
        });
    auto wait_for_reloads = [&](std::uint64_t n) {
        for (int i = 0; i < 2000 && watcher.reloads() < n; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(2));
        REQUIRE(watcher.reloads() >= n);
    };
    // Rewrite through a new file and rename, as editors do, so the inode changes too.
    auto replace = [&](const std::string& text) {
        const auto tmp = dir.write("next.yaml", text);
        REQUIRE(std::rename(tmp.c_str(), path.c_str()) == 0);
    };
    replace("loggers:\n  console:\n    config:\n      log_level: WARNING\n");
    wait_for_reloads(1);
    CHECK(log.get_level("console") == level::warning);
    replace("loggers:\n  console:\n    config:\n      log_level: WARNNG\n");
    wait_for_reloads(2);
    CHECK(log.get_level("console") == level::warning);
    replace("loggers:\n  console:\n    config:\n      log_level: CRITICAL\n");
    wait_for_reloads(3);
    CHECK(log.get_level("console") == level::critical);
    stop = true;
    for (auto& w : writers) w.join();
    watcher.stop();
    std::lock_guard lock(reports_mutex);
    REQUIRE(reports.size() >= 4);  // the first application, then the three edits
    CHECK(reports[0]);
    CHECK(reports[1]);
    REQUIRE_FALSE(reports[2]);
    CHECK_THAT(reports[2].problem->to_string(), Catch::Contains("config.yaml:4:18: bad value for log level 'WARNNG'"));
    CHECK(reports[3]);
    CHECK(console.size() > 0);  // warnings got through while the level was WARNING
}

TEST_CASE("large files parse in linear time", "[config]") {
    std::string many = "loggers:\n  console:\n    config:\n      log_level: ERROR\n";
    for (int i = 0; many.size() < 1'000'000; ++i) many += "k" + std::to_string(i) + ": [a, b]\n";
    std::string wide = "loggers: {console: {config: {log_level: ERROR}}}\nwide: [";
    while (wide.size() < 1'000'000) wide += "\u00e9, ";
    wide += "x]\n";
    auto log = two_pipelines();
    for (const auto* text : {&many, &wide}) {
        log.set_level(level::info);
        const auto st = runlog::try_apply_config(log, *text, "big.yaml");
        CHECK(st);
        CHECK(log.get_level("console") == level::error);
    }
    many += "k7: again\n";
    const auto st = runlog::try_apply_config(log, many, "big.yaml");
    REQUIRE_FALSE(st);
    CHECK_THAT(st.problem->message, Catch::StartsWith("duplicate key 'k7' (first at line 12, column 1)"));
}

TEST_CASE("one config for several loggers, and near misses of 'loggers' are warned about", "[config]") {
    auto first = two_pipelines();
    auto second = runlog::make_logger("second", runlog::pipeline("audit", runlog::text_formatter("{message}"),
                                                                  runlog::memory_sink{}, level::info));
    const std::string text =
        "loggers:\n  console:\n    config:\n      log_level: ERROR\n  audit:\n    config:\n      log_level: "
        "CRITICAL\n      name: dagster\n";
    CHECK(runlog::try_apply_config(first, text, "c.yaml"));
    CHECK(runlog::try_apply_config(second, text, "c.yaml"));
    CHECK(first.get_level("console") == level::error);
    CHECK(second.get_level("audit") == level::critical);
    // A name no logger of the program has is still an error, listing them all.
    const auto st = runlog::try_apply_config(second, "loggers:\n  audt: {}\n", "c.yaml");
    REQUIRE_FALSE(st);
    CHECK(st.problem->to_string() ==
          "c.yaml:2:3: unknown logger 'audt': this program's loggers are audit, console, json_file; did you mean 'audit'?");
    const auto near = runlog::try_apply_config(first, "logger:\n  console:\n    config:\n      log_level: ERROR\n", "c.yaml");
    REQUIRE(near);
    REQUIRE(near.warnings.size() == 1);
    CHECK(near.warnings[0] == "c.yaml:1:1: top-level key 'logger' is ignored; did you mean 'loggers'?");
    // Leading zeros and null words are refused rather than guessed.
    auto bad = runlog::try_apply_config(first, "loggers:\n  console:\n    config:\n      log_level: 040\n", "c.yaml");
    REQUIRE_FALSE(bad);
    CHECK(bad.problem->to_string() == "c.yaml:4:18: log level '040' has a leading zero (YAML 1.1 reads it as octal, 1.2 as "
                                      "decimal): write it without");
    bad = runlog::try_apply_config(first, "loggers:\n  console:\n    config:\n      log_level: ~\n", "c.yaml");
    REQUIRE_FALSE(bad);
    CHECK_THAT(bad.problem->message, Catch::StartsWith("log level of 'loggers.console' is empty"));
}

