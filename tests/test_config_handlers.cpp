// config.yaml's handlers:, formatters: and external_loggers: (the pipelines and bridge levels a file declares).
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <dirent.h>
#include <fstream>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

#include <runlog/bridges/callback.hpp>
#include <runlog/runlog.hpp>

#include "support.hpp"

using runlog::level;
using test_support::file_text;
using test_support::temp_dir;

namespace {

/// A logger with a console pipeline and a configured slot.
auto slotted_logger(runlog::memory_sink& console) {
    return runlog::make_logger("app", runlog::pipeline("console", runlog::text_formatter("{message}"), console, level::info),
                               runlog::configured_pipelines("handlers"));
}

std::vector<std::string> lines(const std::string& path) {
    std::vector<std::string> out;
    std::ifstream in(path);
    for (std::string l; std::getline(in, l);) out.push_back(l);
    return out;
}

/// How many descriptors this process has open.
int open_descriptors() {
    int n = 0;
    if (DIR* d = ::opendir("/proc/self/fd")) {
        while (dirent* e = ::readdir(d)) n += e->d_name[0] != '.';
        ::closedir(d);
    }
    return n - 1;  // the directory's own
}

}  // namespace

TEST_CASE("handlers: a file declares pipelines with their formatters, sinks and levels", "[config][handlers]") {
    temp_dir dir;
    runlog::memory_sink console;
    auto log = slotted_logger(console);
    const std::string text = "formatters:\n"
                             "  short:\n"
                             "    type: text\n"
                             "    pattern: '{level} {message}'\n"
                             "handlers:\n"
                             "  everything:\n"
                             "    type: file\n"
                             "    path: " + dir.path + "/all.jsonl\n"
                             "  problems:\n"
                             "    type: rotating_file\n"
                             "    path: " + dir.path + "/problems.log\n"
                             "    level: WARNING\n"
                             "    formatter: short\n"
                             "    max_size: 1M\n"
                             "    interval: 1d\n"
                             "    max_files: 3\n"
                             "  kv:\n"
                             "    type: file\n"
                             "    path: " + dir.path + "/kv.log\n"
                             "    formatter: logfmt\n"
                             "    level: ERROR\n";
    const auto st = runlog::try_apply_config(log, text, "config.yaml");
    INFO((st.problem ? st.problem->to_string() : ""));
    REQUIRE(st);
    CHECK(log.pipeline<1>().handler_names() == std::vector<std::string>{"everything", "problems", "kv"});
    // The slot takes everything its handlers take: DEBUG reaches the JSON file although the console is at INFO.
    CHECK(log.should_log(level::debug));
    log.debug("a debug line");
    log.warning("a warning {}", 1);
    log.error("an error");
    log.flush();
    const auto all = lines(dir.path + "/all.jsonl");
    REQUIRE(all.size() == 3);
    CHECK_THAT(all[0], Catch::Contains("\"body\":\"a debug line\""));
    CHECK_THAT(all[1], Catch::Contains("\"severity_text\":\"WARNING\""));
    CHECK(lines(dir.path + "/problems.log") == std::vector<std::string>{"WARNING a warning 1", "ERROR an error"});
    const auto kv = lines(dir.path + "/kv.log");
    REQUIRE(kv.size() == 1);
    CHECK_THAT(kv[0], Catch::Contains("msg=\"an error\""));
    CHECK(console.size() == 2);  // the console pipeline kept its own level

    // An empty handlers: removes them (and the gate closes again); a file without the key leaves them.
    REQUIRE(runlog::try_apply_config(log, "handlers: {}\n"));
    CHECK(log.pipeline<1>().handler_names().empty());
    CHECK_FALSE(log.should_log(level::debug));
}

TEST_CASE("handlers: a JSON formatter's location keys shape code.filepath and code.function", "[config][handlers]") {
    temp_dir dir;
    runlog::memory_sink console;
    auto log = slotted_logger(console);
    const std::string text = "formatters:\n"
                             "  located:\n"
                             "    type: json\n"
                             "    function_name: true\n"
                             "  whole:\n"
                             "    type: json\n"
                             "    function_name: true\n"
                             "    full_location: true\n"
                             "handlers:\n"
                             "  short:\n"
                             "    type: file\n"
                             "    path: " + dir.path + "/short.jsonl\n"
                             "    formatter: located\n"
                             "  long:\n"
                             "    type: file\n"
                             "    path: " + dir.path + "/long.jsonl\n"
                             "    formatter: whole\n"
                             "  plain:\n"
                             "    type: file\n"
                             "    path: " + dir.path + "/plain.jsonl\n";
    const auto st = runlog::try_apply_config(log, text, "config.yaml");
    INFO((st.problem ? st.problem->to_string() : ""));
    REQUIRE(st);
    const auto here = runlog::source_location::current();
    log.info("located");
    log.flush();
    const auto fn = runlog::detail::short_function_name(here.function_name());
    const auto short_lines = lines(dir.path + "/short.jsonl");
    REQUIRE(short_lines.size() == 1);
    CHECK_THAT(short_lines[0], Catch::Contains(R"("code.filepath":"test_config_handlers.cpp")"));
    CHECK_THAT(short_lines[0], Catch::Contains(R"("code.function":")" + std::string(fn.name) + "\""));
    const auto long_lines = lines(dir.path + "/long.jsonl");
    REQUIRE(long_lines.size() == 1);
    CHECK_THAT(long_lines[0], Catch::Contains(std::string(R"("code.filepath":")") + here.file_name() + "\""));
    CHECK_THAT(long_lines[0], Catch::Contains(std::string(R"("code.function":")") + here.function_name() + "\""));
    const auto plain = lines(dir.path + "/plain.jsonl");
    REQUIRE(plain.size() == 1);
    CHECK_THAT(plain[0], Catch::Contains(R"("code.filepath":"test_config_handlers.cpp")"));
    CHECK(plain[0].find("code.function") == std::string::npos);
}

TEST_CASE("handlers: the default logger gets a JSON file from config alone", "[config][handlers][default]") {
    temp_dir dir;
    auto& log = runlog::default_logger();
    const auto st = runlog::try_apply_config(log, "handlers:\n  json:\n    type: file\n    path: " + dir.path + "/app.jsonl\n");
    REQUIRE(st);
    runlog::info("to the console and the JSON file, {}", 42);
    log.flush();
    const auto got = lines(dir.path + "/app.jsonl");
    REQUIRE(got.size() == 1);
    CHECK_THAT(got[0], Catch::Contains("\"body\":\"to the console and the JSON file, 42\""));
    REQUIRE(runlog::try_apply_config(log, "handlers:\n"));  // back as it was for the other tests
    CHECK(log.pipeline<1>().handler_names().empty());
}

TEST_CASE("handlers: bad files are refused where the problem is, and change nothing", "[config][handlers]") {
    temp_dir dir;
    runlog::memory_sink console;
    auto log = slotted_logger(console);
    REQUIRE(runlog::try_apply_config(log, "handlers:\n  keep:\n    type: file\n    path: " + dir.path + "/keep.log\n"));
    const int fds = open_descriptors();
    struct bad {
        std::string text, message;
    };
    const std::string unwritable = dir.path + "/not_a_dir";
    { std::ofstream(unwritable) << "a file where a directory should be"; }
    const std::vector<bad> cases = {
        {"handlers:\n  x:\n    type: stdrr\n",
         "config.yaml:3:11: unknown handler type 'stdrr': expected stderr, stdout, file, rotating_file or syslog; did you mean 'stderr'?"},
        {"handlers:\n  x:\n    type: file\n", "config.yaml:2:3: 'handlers.x' is a file handler and needs a 'path'"},
        {"handlers:\n  x:\n    level: INFO\n", "config.yaml:3:5: 'handlers.x' needs a 'type' (stderr, stdout, file, rotating_file or syslog)"},
        {"formatters:\n  f:\n    type: text\n    pattern: '{level} {mesage}'\n",
         "config.yaml:4:14: bad pattern for 'formatters.f': "},
        {"formatters:\n  f:\n    type: text\n    function_name: true\n",
         "config.yaml:4:20: 'function_name' is for json formatters; 'formatters.f' is text"},
        {"formatters:\n  f:\n    type: json\n    full_location: maybe\n",
         "config.yaml:4:20: 'formatters.f.full_location'"},
        {"formatters:\n  f:\n    type: yaml\n",
         "config.yaml:3:11: unknown formatter type 'yaml': expected text, json or logfmt"},
        {"handlers:\n  x:\n    type: stderr\n    formatter: jsn\n",
         "config.yaml:4:16: unknown formatter 'jsn': define it under 'formatters:' or use text, brief, json or logfmt; did you mean 'json'?"},
        {"handlers:\n  x:\n    type: file\n    path: " + unwritable + "/x.log\n",
         "config.yaml:4:11: handler 'x': cannot create the directory of log file \"" + unwritable + "/x.log\": Not a directory"},
        {"handlers:\n  x:\n    type: stderr\n  x:\n    type: stdout\n", "config.yaml:4:3: duplicate key 'x' (first at line 2"},
        {"handlers:\n  x:\n    type: stderr\n    path: a.log\n",
         "config.yaml:4:11: 'path' is for file and rotating_file handlers; 'handlers.x' is stderr"},
        {"handlers:\n  x:\n    type: file\n    path: a.log\n    max_size: 10\n",
         "config.yaml:5:15: 'max_size' is for rotating_file handlers; 'handlers.x' is file"},
        {"handlers:\n  x:\n    type: rotating_file\n    path: a.log\n    max_size: 10 parsecs\n",
         "config.yaml:5:15: 'handlers.x.max_size': unknown unit 'parsecs'"},
        {"handlers:\n  x:\n    type: rotating_file\n    path: a.log\n    interval: soon\n",
         "config.yaml:5:15: 'handlers.x.interval' must be a whole number of seconds"},
        {"handlers:\n  x:\n    type: stderr\n    lvl: INFO\n",
         "config.yaml:4:5: unknown key 'lvl' under 'handlers.x': expected 'type', 'level', 'formatter', 'path', 'max_size', "
         "'interval', 'max_files', 'backtrace', 'backtrace_trigger', 'backtrace_level', or for syslog 'transport', 'address', 'facility', 'app_name', 'hostname', 'sd_id', "
         "'max_message', 'buffer_size', 'source_location'; did you mean 'level'?"},
        // syslog handlers: each key checked where it is, and an address that cannot be resolved refused at build.
        {"handlers:\n  s:\n    type: syslog\n    transport: tpc\n",
         "config.yaml:4:16: unknown syslog transport 'tpc': expected udp, tcp or local; did you mean 'tcp'?"},
        {"handlers:\n  s:\n    type: syslog\n    transport: udp\n",
         "config.yaml:2:3: 'handlers.s' sends over udp and needs an 'address' (host:port)"},
        {"handlers:\n  s:\n    type: syslog\n    transport: tcp\n    address: '::1'\n",
         "config.yaml:5:14: bad address for 'handlers.s': the address \"::1\" looks like an IPv6 address: write it as "
         "[address]:port"},
        {"handlers:\n  s:\n    type: syslog\n    transport: tcp\n    address: localhost:99999\n",
         "config.yaml:5:14: bad address for 'handlers.s': the address \"localhost:99999\" has no valid port (1-65535) after ':'"},
        {"handlers:\n  s:\n    type: syslog\n    transport: tcp\n    address: no-such-host.invalid:514\n",
         "config.yaml:5:14: handler 's': syslog address \"no-such-host.invalid:514\": cannot resolve \"no-such-host.invalid\""},
        {"handlers:\n  s:\n    type: syslog\n    facility: local8\n",
         "config.yaml:4:15: unknown syslog facility 'local8': expected kern, user, mail, daemon, auth, syslog, lpr, news, "
         "uucp, cron, authpriv, ftp, local0 to local7, or a number 0-23"},
        {"handlers:\n  s:\n    type: syslog\n    facility: 24\n", "config.yaml:4:15: unknown syslog facility '24'"},
        {"handlers:\n  s:\n    type: syslog\n    sd_id: 'run log@1'\n",
         "config.yaml:4:12: bad sd_id for 'handlers.s': the SD-ID \"run log@1\" holds a character RFC 5424 does not allow"},
        {"handlers:\n  s:\n    type: syslog\n    sd_id: runlog\n",
         "config.yaml:4:12: bad sd_id for 'handlers.s': the SD-ID \"runlog\" has no '@'"},
        {"handlers:\n  s:\n    type: syslog\n    app_name: 'my app'\n",
         "config.yaml:4:15: 'handlers.s.app_name' holds ' ': RFC 5424 allows only printable ASCII without spaces there"},
        {"handlers:\n  s:\n    type: syslog\n    max_message: 100\n",
         "config.yaml:4:18: 'handlers.s.max_message' must be between 512 bytes and 16777216, found '100'"},
        {"handlers:\n  s:\n    type: syslog\n    transport: udp\n    address: 127.0.0.1:514\n    max_message: 64K\n",
         "config.yaml:6:18: 'handlers.s.max_message' must be between 512 bytes and 65507 (the largest UDP datagram)"},
        {"handlers:\n  s:\n    type: syslog\n    formatter: json\n",
         "config.yaml:4:16: 'formatter' does not apply to syslog handlers: they write RFC 5424 messages of their own"},
        {"handlers:\n  s:\n    type: stderr\n    facility: user\n",
         "config.yaml:4:15: 'facility' is for syslog handlers; 'handlers.s' is stderr"},
        {"handlers:\n  x:\n    type: stderr\n    level: LOUD\n", "config.yaml:4:12: bad value for log level 'LOUD'"},
        {"handlers:\n  - stderr\n", "config.yaml:2:3: 'handlers' must be a mapping of handler names, found a sequence"},
        {"formatters:\n  json:\n    type: text\n",
         "config.yaml:2:3: 'formatters.json': json is a built-in formatter's name (text, brief, json, logfmt); choose another"},
        {"handlers:\n  a:\n    type: file\n    path: same.log\n  b:\n    type: rotating_file\n    path: same.log\n",
         "config.yaml:7:11: handlers 'a' and 'b' both write to \"same.log\": give each file one handler"},
        {"external_loggers:\n  iostream.clgo:\n    log_level: ERROR\n",
         "config.yaml:2:3: unknown external logger 'iostream.clgo': the known ones are iostream, iostream.clog, "
         "iostream.cerr, iostream.cout, spdlog, glog; did you mean 'iostream.clog'? (a bridge of another name is "
         "accepted if it is made before the file is applied)"},
        {"external_loggers:\n  IOSTREAM.CLOG:\n    log_level: ERROR\n",
         "config.yaml:2:3: unknown external logger 'IOSTREAM.CLOG': names are case-sensitive; did you mean "
         "'iostream.clog'?"},
        {"external_loggers:\n  glog:\n    level: ERROR\n",
         "config.yaml:3:5: unknown key 'level' under 'external_loggers.glog': expected 'log_level'"},
        // A good handler before a bad one: neither is applied, and the console's level stays.
        {"loggers:\n  console:\n    config:\n      log_level: ERROR\nhandlers:\n  fine:\n    type: file\n    path: " + dir.path +
             "/fine.log\n  broken:\n    type: file\n    path: " + unwritable + "/y.log\n",
         "config.yaml:11:11: handler 'broken': cannot create the directory of log file"},
    };
    for (const auto& c : cases) {
        INFO(c.text);
        const auto st = runlog::try_apply_config(log, c.text, "config.yaml");
        REQUIRE_FALSE(st);
        CHECK_THAT(st.problem->to_string(), Catch::StartsWith(c.message));
        CHECK(log.pipeline<1>().handler_names() == std::vector<std::string>{"keep"});
        CHECK(log.get_level("console") == level::info);
        CHECK(open_descriptors() == fds);  // what was built for the bad file is closed again
    }
    // The good handler's file, created while the bad file was tried, is gone again.
    CHECK_FALSE(std::filesystem::exists(dir.path + "/fine.log"));
}

TEST_CASE("external_loggers: bridges get their levels by name, also those made after the file was applied",
          "[config][handlers][external]") {
    runlog::memory_sink console;
    auto log = slotted_logger(console);
    runlog::callback_bridge before(log, "mylib");
    // "later_lib" and "spdlog.db" have no bridge yet, and are no misspellings of a known name: their levels wait
    // for their bridges.
    REQUIRE(runlog::try_apply_config(log, "external_loggers:\n  mylib:\n    log_level: ERROR\n  iostream.clog:\n"
                                          "    config:\n      log_level: WARNING\n  later_lib:\n    log_level: CRITICAL\n"
                                          "  spdlog.db:\n    log_level: INFO\n"));
    CHECK(before.get_level() == level::error);
    runlog::callback_bridge after(log, "iostream.clog");
    CHECK(after.get_level() == level::warning);
    runlog::callback_bridge later(log, "later_lib");
    CHECK(later.get_level() == level::critical);
    // A name in the family of a standard one (an spdlog sink named for its logger) is not a misspelling of it.
    runlog::callback_bridge family(log, "spdlog.db");
    CHECK(family.get_level() == level::info);
    before.log(level::warning, "dropped by the bridge's level");
    before.log(level::error, "kept");
    CHECK(console.lines() == std::vector<std::string>{"kept\n"});
}

TEST_CASE("handlers: a watcher reload that moves a file while 4 threads log loses no record and leaks no descriptor",
          "[config][handlers][reload]") {
    temp_dir dir;
    runlog::memory_sink console;
    auto log = slotted_logger(console);
    log.set_level("console", level::critical);
    auto config_for = [&](int n) {
        return "handlers:\n  out:\n    type: file\n    path: " + dir.path + "/out" + std::to_string(n) + ".log\n"
               "    formatter: logfmt\n";
    };
    const auto path = dir.write("config.yaml", config_for(0));
    const int fds_before = open_descriptors();
    std::atomic<int> reloads_ok{0};
    {
        runlog::config_watcher watcher(log, path, std::chrono::milliseconds(5), [&](const runlog::config_status& st) {
            if (st) ++reloads_ok;
        });
        REQUIRE(watcher.initial());
        std::atomic<bool> stop{false};
        std::atomic<int> written[4] = {};
        std::vector<std::thread> writers;
        for (int t = 0; t < 4; ++t)
            writers.emplace_back([&, t] {
                for (int i = 0; !stop; ++i) {
                    log.info("t={} i={}", t, i);
                    written[t] = i + 1;
                }
            });
        for (int n = 1; n <= 5; ++n) {
            const auto tmp = dir.write("next.yaml", config_for(n));
            REQUIRE(std::rename(tmp.c_str(), path.c_str()) == 0);
            for (int i = 0; i < 2000 && watcher.reloads() < static_cast<std::uint64_t>(n); ++i)
                std::this_thread::sleep_for(std::chrono::milliseconds(2));
            REQUIRE(watcher.reloads() >= static_cast<std::uint64_t>(n));
        }
        stop = true;
        for (auto& w : writers) w.join();
        watcher.stop();
        log.flush();
        // Every record is in exactly one of the six files.
        std::set<std::string> seen;
        std::size_t total = 0;
        for (int n = 0; n <= 5; ++n)
            for (const auto& l : lines(dir.path + "/out" + std::to_string(n) + ".log")) {
                const auto at = l.find("msg=");
                REQUIRE(at != std::string::npos);
                CHECK(seen.insert(l.substr(at)).second);
                ++total;
            }
        std::size_t expected = 0;
        for (auto& w : written) expected += static_cast<std::size_t>(w.load());
        CHECK(total == expected);
        CHECK(lines(dir.path + "/out5.log").size() > 0);
        // The old files are closed; the current one is the only one open (the watcher's thread has ended).
        CHECK(open_descriptors() == fds_before + 1);
    }
    REQUIRE(runlog::try_apply_config(log, "handlers:\n"));
    CHECK(open_descriptors() == fds_before);
    CHECK(reloads_ok >= 6);
}
