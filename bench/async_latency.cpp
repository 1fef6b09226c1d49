// runlog_async_bench: the caller's cost of one log call through runlog's async pipeline, against
// spdlog's async logger and its synchronous file logger in the same run, and the end-to-end
// throughput of 4,000,000 messages into a file. Progress goes to stderr, the report to stdout.
// Options: --quick (fewer batches and 400,000 messages, 1 round), --rounds N.
#include <runlog/runlog.hpp>

#include "bench_util.hpp"

#include <algorithm>
#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <pthread.h>
#include <sched.h>
#include <x86intrin.h>

#ifndef RUNLOG_BENCH_HAVE_SPDLOG
#define RUNLOG_BENCH_HAVE_SPDLOG 0
#endif
#if RUNLOG_BENCH_HAVE_SPDLOG
#include <spdlog/async.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/spdlog.h>
#endif

namespace {

using namespace bench;

struct config {
    int batches = 200;       ///< per thread, of 1000 calls each, with a pause after each
    std::uint64_t messages = 4'000'000;
    int rounds = 3;
    std::string dir = "/tmp";
};

constexpr int batch_size = 1000;

/// Nanoseconds per TSC tick, measured against steady_clock over 200 ms.
double ns_per_tick() {
    const auto t0 = bench_clock::now();
    const std::uint64_t c0 = __rdtsc();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    const std::uint64_t c1 = __rdtsc();
    return std::chrono::duration<double, std::nano>(bench_clock::now() - t0).count() / static_cast<double>(c1 - c0);
}

void pin(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(static_cast<std::size_t>(cpu), &set);
    (void)pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

/// What one latency contestant measured: per-call ticks and per-batch mean ticks.
struct samples {
    std::vector<std::uint64_t> calls;
    std::vector<double> batch_means;
};

/// Times each call with rdtsc around it, then each 1000-call batch as a whole, pausing between batches.
template <class Call>
samples measure(const Call& call, int batches) {
    samples s;
    s.calls.reserve(static_cast<std::size_t>(batches) * batch_size);
    std::uint64_t i = 0;
    for (int w = 0; w < 2000; ++w) call(i++);  // warm-up: the queue and the caches
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    for (int b = 0; b < batches; ++b) {
        const bool whole = b % 2 == 1;  // alternate: per-call timing, then a batch timed as a whole
        if (whole) {
            const std::uint64_t t0 = __rdtsc();
            for (int k = 0; k < batch_size; ++k) call(i++);
            s.batch_means.push_back(static_cast<double>(__rdtsc() - t0) / batch_size);
        } else {
            for (int k = 0; k < batch_size; ++k) {
                const std::uint64_t t0 = __rdtsc();
                call(i++);
                const std::uint64_t t1 = __rdtsc();
                s.calls.push_back(t1 - t0);
            }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));  // the backend drains
    }
    return s;
}

struct latency_row {
    std::string label;
    samples all;
};

template <class Call>
latency_row run_latency(const std::string& label, int threads, const Call& call, int batches) {
    latency_row row{label, {}};
    std::vector<samples> per(static_cast<std::size_t>(threads));
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; ++t)
        ts.emplace_back([&, t] {
            pin(t);
            per[static_cast<std::size_t>(t)] = measure(call, batches);
        });
    for (auto& t : ts) t.join();
    for (auto& p : per) {
        row.all.calls.insert(row.all.calls.end(), p.calls.begin(), p.calls.end());
        row.all.batch_means.insert(row.all.batch_means.end(), p.batch_means.begin(), p.batch_means.end());
    }
    std::fprintf(stderr, "  %s: %zu calls timed\n", label.c_str(), row.all.calls.size());
    return row;
}

double pct(std::vector<std::uint64_t> v, double p) {
    std::sort(v.begin(), v.end());
    return static_cast<double>(v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))]);
}

void print_latency(const std::vector<latency_row>& rows, double tick_ns, std::uint64_t empty_ticks) {
    std::printf("| Logger | batch mean ns/call | p50 | p90 | p99 | p99.9 | max |\n|---|---:|---:|---:|---:|---:|---:|\n");
    for (const auto& r : rows) {
        double mean = 0;
        for (double b : r.all.batch_means) mean += b;
        mean /= static_cast<double>(r.all.batch_means.size());
        auto ns = [&](double ticks) { return fixed(ticks * tick_ns, 0); };
        std::printf("| %s | %s | %s | %s | %s | %s | %s |\n", r.label.c_str(), fixed(mean * tick_ns, 1).c_str(),
                    ns(pct(r.all.calls, 0.5)).c_str(), ns(pct(r.all.calls, 0.9)).c_str(), ns(pct(r.all.calls, 0.99)).c_str(),
                    ns(pct(r.all.calls, 0.999)).c_str(),
                    ns(static_cast<double>(*std::max_element(r.all.calls.begin(), r.all.calls.end()))).c_str());
    }
    std::printf("\nPer-call columns include the two rdtsc reads around the call (%s ns measured around nothing); "
                "the batch mean divides one rdtsc pair over 1000 calls.\n",
                fixed(static_cast<double>(empty_ticks) * tick_ns, 0).c_str());
}

constexpr std::string_view pattern = "[{date} {time}.{msec}] [{logger}] [{level}] {message}";

}  // namespace

int main(int argc, char** argv) {
    config cfg;
    if (const char* d = std::getenv("RUNLOG_BENCH_DIR"); d && *d) cfg.dir = d;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--quick") {
            cfg.batches = 20;
            cfg.messages = 400'000;
            cfg.rounds = 1;
        } else if (a == "--rounds" && i + 1 < argc) {
            cfg.rounds = std::max(1, std::atoi(argv[++i]));
        } else {
            fail("unknown argument \"" + a + "\" (--quick, --rounds N)");
        }
    }
    // Both backends (runlog's and spdlog's worker) get the last CPU, the callers start at CPU 0.
    const int backend_cpu = static_cast<int>(std::max(1L, ::sysconf(_SC_NPROCESSORS_ONLN))) - 1;
    {
        runlog::backend_options o;
        o.backend_cpu = backend_cpu;
        runlog::set_backend_options(o);
    }
    const double tick_ns = ns_per_tick();
    std::uint64_t empty = ~0ULL;
    for (int i = 0; i < 100000; ++i) {
        const std::uint64_t t0 = __rdtsc();
        const std::uint64_t t1 = __rdtsc();
        empty = std::min(empty, t1 - t0);
    }
    const std::string load_at_start = load_average();

    // ---- latency
    std::vector<latency_row> one, two;
    // Each contestant is measured with one caller, then two.
    auto latency_rows = [&](const std::string& label, const auto& call) {
        one.push_back(run_latency(label, 1, call, cfg.batches));
        two.push_back(run_latency(label, 2, call, cfg.batches));
    };
    {
        const std::string path = cfg.dir + "/runlog_async_bench_latency.log";
        auto log = runlog::make_logger(
            "bench", runlog::async(runlog::pipeline("file", runlog::text_formatter(pattern),
                                                    runlog::file_sink(path, {.truncate = true}), runlog::level::info)));
        auto call = [&](std::uint64_t i) { log.info("iteration {} value {} name {}", i, static_cast<double>(i) * 0.5, "alice"); };
        std::fprintf(stderr, "latency: runlog async\n");
        latency_rows("runlog async", call);
        log.flush();
        remove_file(path);
    }
    // A DEBUG call that a pipeline at INFO keeps in its backtrace, async (the backend keeps it) and sync (the
    // caller does); then suppressed calls of the rate-limit macros. Files stay empty: nothing reaches them.
    {
        const std::string path = cfg.dir + "/runlog_async_bench_backtrace.log";
        auto log = runlog::make_logger(
            "bench", runlog::async(runlog::pipeline("file", runlog::text_formatter(pattern),
                                                    runlog::file_sink(path, {.truncate = true}), runlog::level::info))
                         .with_backtrace({.capacity = 64}));
        auto call = [&](std::uint64_t i) { log.debug("iteration {} value {} name {}", i, static_cast<double>(i) * 0.5, "alice"); };
        std::fprintf(stderr, "latency: runlog async, backtrace\n");
        latency_rows("runlog async: DEBUG into the backtrace (64)", call);
        log.flush();
        remove_file(path);
    }
    {
        const std::string path = cfg.dir + "/runlog_async_bench_backtrace_sync.log";
        auto log = runlog::make_logger(
            "bench", runlog::pipeline("file", runlog::text_formatter(pattern), runlog::file_sink(path, {.truncate = true}),
                                      runlog::level::info)
                         .with_backtrace({.capacity = 64}));
        auto call = [&](std::uint64_t i) { log.debug("iteration {} value {} name {}", i, static_cast<double>(i) * 0.5, "alice"); };
        std::fprintf(stderr, "latency: runlog sync, backtrace\n");
        latency_rows("runlog sync: DEBUG into the backtrace (64)", call);
        remove_file(path);
    }
    {
        const std::string path = cfg.dir + "/runlog_async_bench_limits.log";
        auto log = runlog::make_logger(
            "bench", runlog::async(runlog::pipeline("file", runlog::text_formatter(pattern),
                                                    runlog::file_sink(path, {.truncate = true}), runlog::level::info)));
        auto every_n = [&](std::uint64_t i) {
            RUNLOG_EVERY_N(log, runlog::level::warning, 1'000'000'000, "iteration {} value {} name {}", i,
                           static_cast<double>(i) * 0.5, "alice");
        };
        auto every = [&](std::uint64_t i) {
            RUNLOG_EVERY(log, runlog::level::warning, std::chrono::hours(1), "iteration {} value {} name {}", i,
                         static_cast<double>(i) * 0.5, "alice");
        };
        auto first_n = [&](std::uint64_t i) {
            RUNLOG_FIRST_N(log, runlog::level::warning, 1, "iteration {} value {} name {}", i,
                           static_cast<double>(i) * 0.5, "alice");
        };
        std::fprintf(stderr, "latency: rate limits\n");
        latency_rows("RUNLOG_EVERY_N: a suppressed call", every_n);
        latency_rows("RUNLOG_FIRST_N: a suppressed call", first_n);
        latency_rows("RUNLOG_EVERY (1 h): a suppressed call", every);
        log.flush();
        remove_file(path);
    }
#if RUNLOG_BENCH_HAVE_SPDLOG
    {
        // spdlog's own backtrace, for comparison: its logger formats the message into the ring on the caller.
        const std::string path = cfg.dir + "/runlog_async_bench_spdlog_backtrace.log";
        spdlog::logger log("bench_bt", std::make_shared<spdlog::sinks::basic_file_sink_mt>(path, true));
        log.set_level(spdlog::level::info);
        log.enable_backtrace(64);
        auto call = [&](std::uint64_t i) { log.debug("iteration {} value {} name {}", i, static_cast<double>(i) * 0.5, "alice"); };
        std::fprintf(stderr, "latency: spdlog backtrace\n");
        latency_rows("spdlog sync: DEBUG into enable_backtrace(64)", call);
        remove_file(path);
    }
    {
        const std::string path = cfg.dir + "/runlog_async_bench_spdlog_async.log";
        spdlog::init_thread_pool(8192, 1, [backend_cpu] { pin(backend_cpu); });
        auto log = spdlog::create_async<spdlog::sinks::basic_file_sink_mt>("bench_async", path, true);
        auto call = [&](std::uint64_t i) { log->info("iteration {} value {} name {}", i, static_cast<double>(i) * 0.5, "alice"); };
        std::fprintf(stderr, "latency: spdlog async\n");
        latency_rows("spdlog async (queue 8192, block)", call);
        log->flush();
        spdlog::drop_all();
        remove_file(path);
    }
    {
        const std::string path = cfg.dir + "/runlog_async_bench_spdlog_sync.log";
        spdlog::logger log("bench_sync", std::make_shared<spdlog::sinks::basic_file_sink_mt>(path, true));
        auto call = [&](std::uint64_t i) { log.info("iteration {} value {} name {}", i, static_cast<double>(i) * 0.5, "alice"); };
        std::fprintf(stderr, "latency: spdlog sync\n");
        latency_rows("spdlog sync file", call);
        log.flush();
        remove_file(path);
    }
#endif

    // ---- throughput: every message in the file, counted
    struct contestant {
        std::string label;
        std::function<void(const std::string&, std::uint64_t)> run;
        std::vector<double> seconds;
    };
    std::vector<contestant> contestants;
    contestants.push_back({"runlog async", [](const std::string& path, std::uint64_t n) {
                               auto log = runlog::make_logger(
                                   "bench", runlog::async(runlog::pipeline("file", runlog::text_formatter(pattern),
                                                                           runlog::file_sink(path, {.truncate = true}),
                                                                           runlog::level::info)));
                               for (std::uint64_t i = 0; i < n; ++i)
                                   log.info("iteration {} value {} name {}", i, static_cast<double>(i) * 0.5, "alice");
                           }, {}});
#if RUNLOG_BENCH_HAVE_SPDLOG
    contestants.push_back({"spdlog async", [backend_cpu](const std::string& path, std::uint64_t n) {
                               auto log = spdlog::create_async<spdlog::sinks::basic_file_sink_mt>("tp_async", path, true);
                               for (std::uint64_t i = 0; i < n; ++i)
                                   log->info("iteration {} value {} name {}", i, static_cast<double>(i) * 0.5, "alice");
                               log->flush();
                               spdlog::drop("tp_async");
                               log.reset();
                               spdlog::shutdown();
                               spdlog::init_thread_pool(8192, 1, [backend_cpu] { pin(backend_cpu); });
                           }, {}});
    contestants.push_back({"spdlog sync file", [](const std::string& path, std::uint64_t n) {
                               spdlog::logger log("tp_sync", std::make_shared<spdlog::sinks::basic_file_sink_mt>(path, true));
                               for (std::uint64_t i = 0; i < n; ++i)
                                   log.info("iteration {} value {} name {}", i, static_cast<double>(i) * 0.5, "alice");
                               log.flush();
                           }, {}});
#endif
    pin(0);  // the producing thread, as in the latency part; the backends keep their CPU
    for (int r = 0; r < cfg.rounds; ++r) {
        std::fprintf(stderr, "throughput round %d/%d\n", r + 1, cfg.rounds);
        for (std::size_t k = 0; k < contestants.size(); ++k) {
            auto& c = contestants[(k + static_cast<std::size_t>(r)) % contestants.size()];
            const std::string path = cfg.dir + "/runlog_async_bench_tp.log";
            remove_file(path);
            const auto start = bench_clock::now();
            c.run(path, cfg.messages);
            c.seconds.push_back(seconds_since(start));
            verify_file(path, cfg.messages);
            remove_file(path);
            std::fprintf(stderr, "  %-20s %.3f s\n", c.label.c_str(), c.seconds.back());
        }
    }

    std::printf("## runlog_async_bench\n\n### Caller latency, one thread (pinned to CPU 0; the backend has CPU %d)\n\n",
                backend_cpu);
    print_latency(one, tick_ns, empty);
    std::printf("\n### Caller latency, two threads (CPUs 0 and 1; the backend, on CPU %d, competes with them)\n\n",
                backend_cpu);
    print_latency(two, tick_ns, empty);
    std::printf("\n### Throughput: %s messages from one thread until all are in the file, median of %d round%s\n\n",
                grouped(cfg.messages).c_str(), cfg.rounds, cfg.rounds == 1 ? "" : "s");
    std::printf("| Logger | msgs/s | vs spdlog sync |\n|---|---:|---:|\n");
    double sync_rate = 0;
    for (const auto& c : contestants)
        if (c.label == "spdlog sync file") sync_rate = static_cast<double>(cfg.messages) / median(c.seconds);
    for (const auto& c : contestants) {
        const double rate = static_cast<double>(cfg.messages) / median(c.seconds);
        std::printf("| %s | %s | %s |\n", c.label.c_str(), grouped(static_cast<std::uint64_t>(rate)).c_str(),
                    sync_rate > 0 ? (fixed(rate / sync_rate, 2) + "×").c_str() : "n/a");
    }
    std::printf("\n### Machine and method\n\n- CPU: %s, nproc %ld; TSC %.3f ns/tick\n- Load average: %s at start, %s at end\n",
                cpu_model().c_str(), ::sysconf(_SC_NPROCESSORS_ONLN), tick_ns, load_at_start.c_str(), load_average().c_str());
    std::printf("- Message `\"iteration {} value {} name {}\"` with a uint64, a double and \"alice\"; runlog's pattern "
                "matches spdlog's default. Latency: 2000 warm-up calls, then %d batches of %d calls per thread, even "
                "batches timed call by call, odd ones as a whole, 2 ms pause after each. Throughput: from the first "
                "call until the logger is flushed and destroyed, then the file's lines counted. runlog's backend "
                "(backend_options::backend_cpu) and spdlog's worker (init_thread_pool's on_thread_start) are "
                "pinned to CPU %d; the throughput's producing thread to CPU 0.\n",
                cfg.batches, batch_size, backend_cpu);
    return 0;
}
