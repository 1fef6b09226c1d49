// The demo: a small run of the job __ASSET_JOB_0 whose console reproduces the sequence of events of
// Dagster's sample transcript, with every record also kept as JSON lines in
// $RUNLOG_HOME/storage/<run_id>/events.jsonl (RUNLOG_HOME defaults to .runlog).
//
// Events are emitted by hand here; run and step scopes that emit them for you are on the roadmap.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>

#include <runlog/runlog.hpp>

namespace ev = runlog::events;

namespace {

std::string make_run_id() {
    std::random_device rd;
    std::mt19937_64 rng((static_cast<std::uint64_t>(rd()) << 32) ^ rd());
    std::uint64_t hi = rng(), lo = rng();
    hi = (hi & 0xFFFFFFFFFFFF0FFFULL) | 0x0000000000004000ULL;  // version 4
    lo = (lo & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;  // RFC 4122 variant
    char s[37];
    std::snprintf(s, sizeof s, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
                  static_cast<unsigned>(hi >> 16 & 0xFFFF), static_cast<unsigned>(hi & 0xFFFF),
                  static_cast<unsigned>(lo >> 48), static_cast<unsigned long long>(lo & 0xFFFFFFFFFFFFULL));
    return s;
}

template <class Log>
void run_step(Log& log, const std::string& run_id, std::string_view step, int rows) {
    runlog::scoped_context ctx({.run_id = run_id, .job = "__ASSET_JOB_0", .step = step});
    const auto start = std::chrono::steady_clock::now();
    log.event(ev::step_worker_started{.worker = "thread"});
    log.event(ev::resource_init_started{});
    log.event(ev::resource_init_success{});
    log.event(ev::step_start{});
    log.info({{"rows", rows}, {"source", "https://example.invalid/" + std::string(step) + ".csv"}},
             "Downloaded {} rows for {}", rows, step);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    log.event(ev::step_output{});
    log.event(ev::asset_materialization{.asset_key = step}, {{"rows", rows}});
    log.event(ev::handled_output{});
    const std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - start;
    log.event(ev::step_success{.duration_ms = took.count()});
}

}  // namespace

int main() {
    const char* home_env = std::getenv("RUNLOG_HOME");
    const std::string home = home_env && *home_env ? home_env : ".runlog";
    const std::string run_id = make_run_id();
    const std::string events_path = home + "/storage/" + run_id + "/events.jsonl";

    auto log = runlog::make_logger(
        runlog::pipeline("console", runlog::text_formatter::brief(), runlog::stderr_sink{}, runlog::level::debug),
        runlog::pipeline("json_file", runlog::json_formatter{}, runlog::file_sink(events_path)));

    const auto start = std::chrono::steady_clock::now();
    {
        runlog::scoped_context ctx({.run_id = run_id, .job = "__ASSET_JOB_0", .step = ""});
        log.event(ev::run_start{});
        log.event(ev::engine_event{.text = "Executing steps in process (pid: " + std::to_string(runlog::process_id()) + ")"});
        for (auto step : {"taxi_zones_file", "taxi_trips_file", "manhattan_stats"})
            log.event(ev::step_worker_starting{.step_key = step, .worker = "thread"});
    }
    run_step(log, run_id, "taxi_zones_file", 265);
    run_step(log, run_id, "taxi_trips_file", 2964624);
    run_step(log, run_id, "manhattan_stats", 69);
    {
        runlog::scoped_context ctx({.run_id = run_id, .job = "__ASSET_JOB_0", .step = ""});
        const std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - start;
        log.event(ev::run_success{.duration_ms = took.count()});
    }
    log.flush();
    std::fprintf(stderr, "\nEvent log: %s\n", events_path.c_str());
}
