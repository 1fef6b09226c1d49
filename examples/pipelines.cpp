// Pipelines composed at compile time: coloured console lines at INFO, every record as JSON lines
// in a file, and logfmt of the errors only, each with its own runtime level.
#include <runlog/runlog.hpp>

int main() {
    auto log = runlog::make_logger<runlog::level::debug>(  // calls below DEBUG compile to nothing
        "pipelines",
        runlog::pipeline("console", runlog::text_formatter::brief(), runlog::stderr_sink{}, runlog::level::info),
        runlog::pipeline("json_file", runlog::json_formatter{}, runlog::file_sink(".runlog/pipelines.jsonl")),
        runlog::pipeline("errors", runlog::logfmt_formatter{}, runlog::stdout_sink{}, runlog::level::trace,
                         [](const runlog::record& r) { return r.lvl >= runlog::level::error; }));

    runlog::scoped_context ctx({.run_id = "example-run", .job = "pipelines_job", .step = "load"});
    log.debug("only in the JSON file: {} bytes read", 4096);
    log.info({{"rows", 265}, {"table", "taxi_zones"}}, "Loaded {} rows into {}", 265, "taxi_zones");
    log.trace("compiled out: below the floor");
    log.error({{"path", "/data/missing.csv"}}, "Could not open {}", "/data/missing.csv");

    log.set_level("console", runlog::level::error);  // at run time, from any thread
    log.warning("no longer on the console, still in the file");
    log.flush();
}
