// runlog_bench: synchronous file throughput of runlog against spdlog, and the cost of calls that are
// filtered out at run time or removed at compile time. Progress goes to stderr, the Markdown report
// to stdout. Options: --quick, --rounds N, --messages N, --iterations N; RUNLOG_BENCH_DIR picks the
// directory of the log files (default /tmp).
#include <runlog/runlog.hpp>

#include "bench_util.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef RUNLOG_BENCH_HAVE_SPDLOG
#define RUNLOG_BENCH_HAVE_SPDLOG 0
#endif
#ifndef RUNLOG_BENCH_CXX_FLAGS
#define RUNLOG_BENCH_CXX_FLAGS "unknown"
#endif

#if RUNLOG_BENCH_HAVE_SPDLOG
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/spdlog.h>
#endif

namespace {

using namespace bench;

/// What one run measures, from the command line.
struct config {
    std::uint64_t messages = 4'000'000;
    std::uint64_t iterations = 100'000'000;
    int rounds = 5;
    std::string dir = "/tmp";
};

/// runlog's layout closest to spdlog's default "[%Y-%m-%d %H:%M:%S.%e] [%n] [%l] %v" (%e is milliseconds).
constexpr std::string_view spdlog_like_pattern = "[{date} {time}.{msec}] [{logger}] [{level}] {message}";

/// Keeps v and all of memory live here, so the compiler can neither delete nor merge the loop around it.
inline void barrier(std::uint64_t v) { asm volatile("" : : "r"(v) : "memory"); }

/// Logs n messages through a runlog file pipeline at level info with the given formatter; returns once the
/// logger is destroyed, so every byte is written and the file closed.
template <class Formatter>
void log_runlog(const std::string& path, std::uint64_t n, Formatter formatter) {
    auto log = runlog::make_logger(
        "bench", runlog::pipeline("file", std::move(formatter), runlog::file_sink(path, {.truncate = true}),
                                  runlog::level::info));
    for (std::uint64_t i = 0; i < n; ++i)
        log.info("iteration {} value {} name {}", i, static_cast<double>(i) * 0.5, "alice");
    log.flush();
}

/// The same JSON lines through a handler that config.yaml declares (`handlers:`) in a logger's
/// configured_pipelines slot: a formatter and sink chosen at run time, one virtual call and a locked
/// pointer copy per record.
void log_runlog_configured(const std::string& path, std::uint64_t n) {
    auto log = runlog::make_logger("bench", runlog::configured_pipelines("handlers"));
    const std::string yaml = "handlers:\n  json_file:\n    type: file\n    path: \"" + path +
                             "\"\n    level: INFO\n    formatter: json\n";
    runlog::apply_config(log, runlog::parse_config(yaml, "bench.yaml"));
    for (std::uint64_t i = 0; i < n; ++i)
        log.info("iteration {} value {} name {}", i, static_cast<double>(i) * 0.5, "alice");
    log.flush();
}

#if RUNLOG_BENCH_HAVE_SPDLOG
/// The same messages through an spdlog logger with one basic_file_sink_mt and the default pattern.
void log_spdlog(const std::string& path, std::uint64_t n) {
    spdlog::logger log("bench", std::make_shared<spdlog::sinks::basic_file_sink_mt>(path, true));
    log.set_level(spdlog::level::info);
    for (std::uint64_t i = 0; i < n; ++i)
        log.info("iteration {} value {} name {}", i, static_cast<double>(i) * 0.5, "alice");
    log.flush();
}
#endif

/// One contestant of the file throughput benchmark and its per-round results.
struct throughput_case {
    throughput_case(std::string l, std::string f, std::function<void(const std::string&, std::uint64_t)> r,
                    bool spdlog = false)
        : label(std::move(l)), file(std::move(f)), run(std::move(r)), is_spdlog(spdlog) {}

    std::string label;
    std::string file;  ///< name of the log file inside the bench directory
    std::function<void(const std::string&, std::uint64_t)> run;
    bool is_spdlog;
    std::vector<double> seconds;
    std::uint64_t bytes = 0;  ///< size of the last verified file
};

/// Times one contestant from its first call until its file is closed, then checks and deletes the file.
void run_throughput(throughput_case& c, const config& cfg) {
    const std::string path = cfg.dir + "/" + c.file;
    remove_file(path);
    const auto start = bench_clock::now();
    c.run(path, cfg.messages);
    const double secs = seconds_since(start);
    c.bytes = verify_file(path, cfg.messages);
    remove_file(path);
    c.seconds.push_back(secs);
    std::fprintf(stderr, "  %-40s %7.3f s  %6.2f M msgs/s\n", c.label.c_str(), secs,
                 static_cast<double>(cfg.messages) / secs / 1e6);
}

/// The loop every call-cost loop is compared with: the same counter and barrier, no call.
[[gnu::noinline]] double time_empty_loop(std::uint64_t n) {
    const auto start = bench_clock::now();
    for (std::uint64_t i = 0; i < n; ++i) barrier(i);
    return seconds_since(start);
}

/// n debug calls on a runlog logger whose pipeline (runtime) or floor (compile time) rejects debug.
template <class Logger>
[[gnu::noinline]] double time_runlog_debug(Logger& log, std::uint64_t n) {
    const auto start = bench_clock::now();
    for (std::uint64_t i = 0; i < n; ++i) {
        log.debug("iteration {} value {} name {}", i, static_cast<double>(i) * 0.5, "alice");
        barrier(i);
    }
    return seconds_since(start);
}

#if RUNLOG_BENCH_HAVE_SPDLOG
/// n debug calls on an spdlog logger at level info.
[[gnu::noinline]] double time_spdlog_debug(spdlog::logger& log, std::uint64_t n) {
    const auto start = bench_clock::now();
    for (std::uint64_t i = 0; i < n; ++i) {
        log.debug("iteration {} value {} name {}", i, static_cast<double>(i) * 0.5, "alice");
        barrier(i);
    }
    return seconds_since(start);
}
#endif

/// One loop of the call-cost benchmark and its per-round seconds.
struct call_case {
    call_case(std::string l, std::function<double(std::uint64_t)> r) : label(std::move(l)), run(std::move(r)) {}

    std::string label;
    std::function<double(std::uint64_t)> run;  ///< runs the loop n times, returns seconds
    std::vector<double> seconds;
};

std::uint64_t parse_count(const char* option, const char* text) {
    std::uint64_t v = 0;
    const std::string_view s = text ? text : "";
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || end != s.data() + s.size() || v == 0)
        fail(std::string(option) + " needs a positive integer, got \"" + std::string(s) + "\"");
    return v;
}

config parse_args(int argc, char** argv) {
    config cfg;
    if (const char* d = std::getenv("RUNLOG_BENCH_DIR"); d && *d) cfg.dir = d;
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
        if (a == "--quick") {
            cfg.messages = 400'000;
            cfg.iterations = 10'000'000;
            cfg.rounds = 1;
        } else if (a == "--rounds") {
            cfg.rounds = static_cast<int>(std::min<std::uint64_t>(parse_count("--rounds", value()), 1000));
        } else if (a == "--messages") {
            cfg.messages = parse_count("--messages", value());
        } else if (a == "--iterations") {
            cfg.iterations = parse_count("--iterations", value());
        } else if (a == "--help" || a == "-h") {
            std::printf(
                "usage: runlog_bench [--quick] [--rounds N] [--messages N] [--iterations N]\n"
                "  --quick        400,000 messages, 10,000,000 iterations, 1 round (a smoke run)\n"
                "  --rounds N     rounds, libraries alternating within each (default 5)\n"
                "  --messages N   messages per file throughput run (default 4,000,000)\n"
                "  --iterations N loop iterations per call-cost run (default 100,000,000)\n"
                "RUNLOG_BENCH_DIR: directory of the log files (default /tmp)\n");
            std::exit(0);
        } else {
            fail("unknown argument \"" + std::string(a) + "\" (try --help)");
        }
    }
    return cfg;
}

}  // namespace

int main(int argc, char** argv) {
    const config cfg = parse_args(argc, argv);
    const std::string load_at_start = load_average();

    std::vector<throughput_case> files;
    files.emplace_back("runlog, spdlog-like pattern", "runlog_bench_runlog_simple.log",
                       [](const std::string& p, std::uint64_t n) {
                           log_runlog(p, n, runlog::text_formatter(spdlog_like_pattern));
                       });
    files.emplace_back("runlog, Dagster full pattern", "runlog_bench_runlog_full.log",
                       [](const std::string& p, std::uint64_t n) { log_runlog(p, n, runlog::text_formatter()); });
    files.emplace_back("runlog, JSON", "runlog_bench_runlog_json.log",
                       [](const std::string& p, std::uint64_t n) { log_runlog(p, n, runlog::json_formatter()); });
    files.emplace_back("runlog, JSON, a config.yaml handler", "runlog_bench_runlog_configured.log",
                       log_runlog_configured);
#if RUNLOG_BENCH_HAVE_SPDLOG
    files.emplace_back("spdlog, basic_file_sink_mt, default pattern", "runlog_bench_spdlog.log", log_spdlog, true);
#endif

    // Loggers for the call-cost loops: debug never reaches their (empty) files.
    const std::string runtime_path = cfg.dir + "/runlog_bench_filtered_runtime.log";
    const std::string floor_path = cfg.dir + "/runlog_bench_filtered_floor.log";
    auto runtime_log = runlog::make_logger(
        "bench", runlog::pipeline("file", runlog::text_formatter(spdlog_like_pattern),
                                  runlog::file_sink(runtime_path, {.truncate = true}), runlog::level::info));
    auto floor_log = runlog::make_logger<runlog::level::warning>(
        "bench", runlog::pipeline("file", runlog::text_formatter(spdlog_like_pattern),
                                  runlog::file_sink(floor_path, {.truncate = true}), runlog::level::trace));
    std::vector<call_case> calls;
    calls.emplace_back("empty loop", time_empty_loop);
    calls.emplace_back("runlog `debug` below the runtime level (info)",
                       [&](std::uint64_t n) { return time_runlog_debug(runtime_log, n); });
    calls.emplace_back("runlog `debug` below the compile-time floor (warning)",
                       [&](std::uint64_t n) { return time_runlog_debug(floor_log, n); });
#if RUNLOG_BENCH_HAVE_SPDLOG
    const std::string spdlog_path = cfg.dir + "/runlog_bench_filtered_spdlog.log";
    spdlog::logger spdlog_log("bench", std::make_shared<spdlog::sinks::basic_file_sink_mt>(spdlog_path, true));
    spdlog_log.set_level(spdlog::level::info);
    calls.emplace_back("spdlog `debug` below the logger level (info)",
                       [&](std::uint64_t n) { return time_spdlog_debug(spdlog_log, n); });
#endif

    // Rounds alternate the contestants, each round starting one later, so drift hits all alike.
    for (int round = 0; round < cfg.rounds; ++round) {
        std::fprintf(stderr, "round %d/%d\n", round + 1, cfg.rounds);
        for (std::size_t k = 0; k < files.size(); ++k)
            run_throughput(files[(k + static_cast<std::size_t>(round)) % files.size()], cfg);
        for (std::size_t k = 0; k < calls.size(); ++k) {
            auto& c = calls[(k + static_cast<std::size_t>(round)) % calls.size()];
            c.seconds.push_back(c.run(cfg.iterations));
        }
    }

    // The filtered loggers must not have written a byte.
    runtime_log.flush();
    floor_log.flush();
    std::vector<std::string> filtered_paths{runtime_path, floor_path};
#if RUNLOG_BENCH_HAVE_SPDLOG
    spdlog_log.flush();
    filtered_paths.push_back(spdlog_path);
#endif
    for (const auto& p : filtered_paths) {
        struct stat st {};
        if (::stat(p.c_str(), &st) != 0) fail("cannot stat " + p);
        if (st.st_size != 0) fail(p + " is not empty: a filtered call wrote a record");
        remove_file(p);
    }

    const double n_msgs = static_cast<double>(cfg.messages);
    const double n_iter = static_cast<double>(cfg.iterations);
    double spdlog_rate = 0;
    for (const auto& c : files)
        if (c.is_spdlog) spdlog_rate = n_msgs / median(c.seconds);

    std::printf("## runlog_bench\n\n");
    std::printf("### Sync file throughput: %s messages, one thread, median of %d round%s\n\n",
                grouped(cfg.messages).c_str(), cfg.rounds, cfg.rounds == 1 ? "" : "s");
    std::printf("| Pipeline | msgs/s | ns/msg | bytes/line | vs spdlog |\n|---|---:|---:|---:|---:|\n");
    for (const auto& c : files) {
        const double secs = median(c.seconds);
        const double rate = n_msgs / secs;
        std::printf("| %s | %s | %s | %s | %s |\n", c.label.c_str(), grouped(static_cast<std::uint64_t>(rate)).c_str(),
                    fixed(secs / n_msgs * 1e9, 0).c_str(), fixed(static_cast<double>(c.bytes) / n_msgs, 1).c_str(),
                    spdlog_rate > 0 ? (fixed(rate / spdlog_rate, 2) + "×").c_str() : "n/a");
    }

    const double empty_ns = median(calls.front().seconds) / n_iter * 1e9;
    std::printf("\n### Call cost: %s iterations, median of %d round%s\n\n", grouped(cfg.iterations).c_str(),
                cfg.rounds, cfg.rounds == 1 ? "" : "s");
    std::printf("| Loop body | ns/iteration | minus empty loop | min–max ns |\n|---|---:|---:|---:|\n");
    for (const auto& c : calls) {
        const double ns = median(c.seconds) / n_iter * 1e9;
        const auto [lo, hi] = std::minmax_element(c.seconds.begin(), c.seconds.end());
        std::printf("| %s | %s | %s | %s–%s |\n", c.label.c_str(), fixed(ns, 3).c_str(),
                    &c == &calls.front() ? "—" : fixed(ns - empty_ns, 3).c_str(),
                    fixed(*lo / n_iter * 1e9, 3).c_str(), fixed(*hi / n_iter * 1e9, 3).c_str());
    }

    std::printf("\n### Machine\n\n");
    std::printf("- CPU: %s, nproc %ld\n", cpu_model().c_str(), ::sysconf(_SC_NPROCESSORS_ONLN));
    std::printf("- Compiler: %s %s, flags `%s`\n",
#if defined(__clang__)
                "clang",
#else
                "g++",
#endif
                __VERSION__, RUNLOG_BENCH_CXX_FLAGS);
#if RUNLOG_BENCH_HAVE_SPDLOG
    std::printf("- spdlog %d.%d.%d (fmt %d), runlog %s\n", SPDLOG_VER_MAJOR, SPDLOG_VER_MINOR, SPDLOG_VER_PATCH,
                FMT_VERSION, "(this tree)");
#else
    std::printf("- spdlog was not found at build time: runlog-only results\n");
#endif
    std::printf("- Load average (1/5/15 min): %s at start, %s at end; log files in %s\n", load_at_start.c_str(),
                load_average().c_str(), cfg.dir.c_str());

    std::printf("\n### Method\n\n");
    std::printf(
        "Each round runs every contestant once, the order rotating by one per round, and the table gives the "
        "median round: file throughput is timed from the first call until the logger is destroyed (its file "
        "flushed and closed), then the file's line count and last line are checked and the file deleted. "
        "Call cost times a loop of `debug(\"iteration {} value {} name {}\", i, i * 0.5, \"alice\")` calls "
        "that the level rejects, each iteration ending in an empty `asm volatile` memory barrier, against the "
        "same loop without the call; the filtered loggers' files are checked to be empty.\n");
    return 0;
}
