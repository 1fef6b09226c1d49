// The demo: a run of the job __ASSET_JOB_0 with three steps, whose console shows the sequence of
// events of Dagster's sample transcript. Every record of the run, at every level, is also kept as a
// JSON line in $RUNLOG_HOME/storage/<run_id>/events.jsonl (RUNLOG_HOME defaults to .runlog), and the
// run is listed in $RUNLOG_HOME/storage/runs.jsonl. Each step's stdout and stderr are captured into
// $RUNLOG_HOME/storage/<run_id>/compute_logs/<step>.out and .err (and still shown).
//
//   quickstart                 the run succeeds
//   quickstart --fail STEP     STEP throws (also RUNLOG_DEMO_FAIL=STEP): STEP_FAILURE, RUN_FAILURE, exit 1
//   RUNLOG_CONFIG=config.yaml  level overrides, e.g. `loggers: console: config: log_level: ERROR`
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>

#include <runlog/runlog.hpp>

namespace {

/// The demo's step work: pretend to download a file of rows (it prints, so there is stdout to capture), or fail
/// when asked to.
int download(std::string_view name, int rows, std::string_view fail_step) {
    std::this_thread::sleep_for(std::chrono::milliseconds(15));
    if (name == fail_step)
        throw std::runtime_error("HTTP 503 while downloading https://example.invalid/" + std::string(name) + ".csv");
    std::printf("downloaded %.*s: %d rows\n", static_cast<int>(name.size()), name.data(), rows);
    std::fflush(stdout);
    return rows;
}

}  // namespace

int main(int argc, char** argv) {
    std::string fail_step;
    if (const char* env = std::getenv("RUNLOG_DEMO_FAIL")) fail_step = env;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--fail") == 0 && i + 1 < argc) {
            fail_step = argv[++i];
        } else {
            std::fprintf(stderr, "usage: %s [--fail STEP]\n", argv[0]);
            return 2;
        }
    }

    // The console, and a JSON log of INFO and above that rotates at 10 MiB. RUNLOG_CONFIG may name a
    // config.yaml whose `loggers: console: config: log_level:` (or json_file's) overrides their levels.
    auto log = runlog::make_logger(
        runlog::pipeline("console", runlog::text_formatter::brief(), runlog::stderr_sink{}, runlog::level::debug),
        runlog::pipeline("json_file", runlog::json_formatter{},
                         runlog::rotating_file_sink(runlog::runlog_home() + "/logs/demo.jsonl",
                                                    {.max_size = 10 << 20, .max_files = 3}),
                         runlog::level::info));
    runlog::configure_from_env(log);  // a missing or bad file is reported on stderr; the levels stay

    std::string events, index, compute_logs;
    int status = 0;
    try {
        runlog::run run(log, "__ASSET_JOB_0", {.tags = {{"origin", "runlog demo"}}});
        events = run.events_path();
        index = run.runs_index_path();
        compute_logs = run.dir() + "/compute_logs/";
        // The steps run in this process (runlog's in_process executor), one after the other. Each step's stdout
        // and stderr go to compute_logs/<step>.out and .err from just before it starts, so LOGS_CAPTURED comes
        // before STEP_START, as in Dagster's transcript.
        const runlog::step_options init{.resources = "io_manager"};
        auto step = [&](const char* key, auto&& work) {
            runlog::capture logs(run, {key}, {.file_key = key});
            run.execute(key, init, work);
        };

        int zones = 0, trips = 0;
        step("taxi_zones_file", [&](runlog::step& s) {
            zones = download("taxi_zones_file", 265, fail_step);
            log.info({{"rows", zones}, {"source", "https://example.invalid/taxi_zones.csv"}},
                     "Downloaded {} taxi zones", zones);
            s.output();
            s.materialize("taxi_zones_file", {{"rows", zones}, {"path", "data/taxi_zones_file.csv"}});
            s.handled_output();
        });
        step("taxi_trips_file", [&](runlog::step& s) {
            trips = download("taxi_trips_file", 2964624, fail_step);
            log.info({{"rows", trips}, {"month", "2023-03"}}, "Downloaded {} trips", trips);
            s.output();
            s.materialize("taxi_trips_file", {{"rows", trips}, {"path", "data/taxi_trips_file.csv"}});
            s.handled_output();
        });
        step("manhattan_stats", [&](runlog::step& s) {
            s.loaded_input("taxi_zones_file", "taxi_zones_file");
            s.loaded_input("taxi_trips_file", "taxi_trips_file");
            download("manhattan_stats", 69, fail_step);
            const double per_zone = static_cast<double>(trips) / zones;
            log.debug({{"zones", zones}, {"trips", trips}}, "Joining {} trips with {} zones", trips, zones);
            log.info({{"trips_per_zone", per_zone}}, "Manhattan averages {:.1f} trips per zone", per_zone);
            s.output();
            s.materialize("manhattan_stats", {{"trips_per_zone", per_zone}});
            s.handled_output();
        });
    } catch (const std::exception& e) {
        std::fprintf(stderr, "\nThe run failed: %s\n", e.what());
        status = 1;
    }
    std::fprintf(stderr, "\nEvent log:    %s\nRuns index:   %s\nCompute logs: %s<step>.out and .err\n", events.c_str(),
                 index.c_str(), compute_logs.c_str());
    return status;
}
