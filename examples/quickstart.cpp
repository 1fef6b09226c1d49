// The demo: a run of the job __ASSET_JOB_0 with three steps, whose console shows the sequence of
// events of Dagster's sample transcript. As Dagster's multiprocess executor does, each step runs in a child
// process of its own: taxi_zones_file and taxi_trips_file at once, then manhattan_stats, which loads their
// outputs from the files they wrote. Every record of the run, at every level, is also kept as a JSON line in
// $RUNLOG_HOME/storage/<run_id>/events.jsonl (RUNLOG_HOME defaults to .runlog), and the run is listed in
// $RUNLOG_HOME/storage/runs.jsonl. Each step's stdout and stderr are captured into
// $RUNLOG_HOME/storage/<run_id>/compute_logs/<step>.out and .err (and still shown).
//
//   quickstart                 the run succeeds
//   quickstart --fail STEP     STEP throws (also RUNLOG_DEMO_FAIL=STEP): STEP_FAILURE, RUN_FAILURE, exit 1
//   RUNLOG_CONFIG=config.yaml  level overrides, e.g. `loggers: console: config: log_level: ERROR`
//   RUNLOG_DEMO_TEE=0          the steps' output goes to their compute logs only (their processes then start
//                              no thread: ThreadSanitizer cannot follow threads started in a forked child)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iomanip>
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

/// The demo's IO manager: a step's output is a file under the run's directory, so that a step in another
/// process can load it (memory is not shared between the steps' processes).
struct io_manager {
    std::string dir;
    std::string path(std::string_view step) const { return dir + "/" + std::string(step); }
    template <class Logger>
    void store(Logger& log, std::string_view step, double value) const {
        const std::string where = path(step);
        log.debug({{"path", where}}, "Writing file at: {} using the demo's file IO manager...", where);
        std::ofstream(where) << std::setprecision(17) << value << "\n";
    }
    double load(std::string_view step) const {
        std::ifstream in(path(step));
        double v = 0;
        if (!(in >> v)) throw std::runtime_error("no output of step " + std::string(step) + " at " + path(step));
        return v;
    }
};

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
        runlog::run run(log, "__ASSET_JOB_0", {.tags = {{"origin", "runlog demo"}}, .executor = "multiprocess"});
        events = run.events_path();
        index = run.runs_index_path();
        compute_logs = run.dir() + "/compute_logs/";
        const io_manager io{run.dir() + "/outputs"};
        std::filesystem::create_directories(io.dir);
        // Each step in a child process, with its stdout and stderr in compute_logs/<step>.out and .err (and
        // still on the terminal); the first two at once, the third once both have succeeded.
        const char* tee = std::getenv("RUNLOG_DEMO_TEE");
        runlog::process_executor steps(run, {.tee = !(tee && std::string_view(tee) == "0")});
        steps.submit("taxi_zones_file", [&](runlog::step& s) {
            const int zones = download("taxi_zones_file", 265, fail_step);
            log.info({{"rows", zones}, {"source", "https://example.invalid/taxi_zones.csv"}},
                     "Downloaded {} taxi zones", zones);
            s.output();
            io.store(log, "taxi_zones_file", zones);
            s.materialize("taxi_zones_file", {{"rows", zones}, {"path", io.path("taxi_zones_file")}});
            s.handled_output();
        });
        steps.submit("taxi_trips_file", [&](runlog::step& s) {
            const int trips = download("taxi_trips_file", 2964624, fail_step);
            log.info({{"rows", trips}, {"month", "2023-03"}}, "Downloaded {} trips", trips);
            s.output();
            io.store(log, "taxi_trips_file", trips);
            s.materialize("taxi_trips_file", {{"rows", trips}, {"path", io.path("taxi_trips_file")}});
            s.handled_output();
        });
        steps.submit("manhattan_stats", {.after = {"taxi_zones_file", "taxi_trips_file"}}, [&](runlog::step& s) {
            const double zones = io.load("taxi_zones_file");
            s.loaded_input("taxi_zones_file", "taxi_zones_file");
            const double trips = io.load("taxi_trips_file");
            s.loaded_input("taxi_trips_file", "taxi_trips_file");
            download("manhattan_stats", 69, fail_step);
            const double per_zone = trips / zones;
            log.debug({{"zones", zones}, {"trips", trips}}, "Joining {} trips with {} zones", trips, zones);
            log.info({{"trips_per_zone", per_zone}}, "Manhattan averages {:.1f} trips per zone", per_zone);
            s.output();
            io.store(log, "manhattan_stats", per_zone);
            s.materialize("manhattan_stats", {{"trips_per_zone", per_zone}});
            s.handled_output();
        });
        if (!steps.wait()) status = 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "\nThe run failed: %s\n", e.what());
        status = 1;
    }
    std::fprintf(stderr, "\nEvent log:    %s\nRuns index:   %s\nCompute logs: %s<step>.out and .err\n", events.c_str(),
                 index.c_str(), compute_logs.c_str());
    return status;
}
