// Emits every built-in event, with every field set, through a synchronous and an asynchronous JSON file
// pipeline inside a stored run; check_event_types.py then checks the JSON type of every field in those files,
// the run's events.jsonl and runs.jsonl (one type per field name, everywhere).
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include <runlog/runlog.hpp>

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    const std::string dir = argv[1];
    namespace ev = runlog::events;
    auto log = runlog::make_logger(
        "types", runlog::pipeline("sync", runlog::json_formatter{}, runlog::file_sink(dir + "/sync.jsonl", {.truncate = true})),
        runlog::async(runlog::pipeline("async", runlog::json_formatter{}, runlog::file_sink(dir + "/async.jsonl", {.truncate = true}))));
    const std::string_view keys[] = {"extract", "load"};
    try {
        runlog::run run(log, "types_job", {.base_dir = dir + "/storage"});
        run.event(ev::run_success{.duration_ms = 1.5});
        run.event(ev::run_failure{.failed_steps = runlog::string_list(keys), .reason = "a reason", .duration_ms = 2});
        run.event(ev::run_canceled{});
        run.event(ev::step_start{.step_key = "extract"});
        run.event(ev::step_success{.duration_ms = 3.25, .step_key = "extract"});
        run.event(ev::step_failure{.error_type = "E", .error_message = "m", .duration_ms = 4, .step_key = "load"});
        run.event(ev::step_skipped{.step_key = "load"});
        run.event(ev::step_up_for_retry{.attempt = 2, .wait_seconds = 0.5, .step_key = "load"});
        run.event(ev::step_restarted{.attempt = 3, .step_key = "load"});
        run.event(ev::step_input{.input_name = "rows", .type_name = "DataFrame"});
        run.event(ev::step_output{.output_name = "result", .type_name = "DataFrame"});
        run.event(ev::step_worker_starting{.step_key = "load", .worker = "subprocess"});
        run.event(ev::step_worker_started{.worker = "process 1"});
        run.event(ev::resource_init_started{.resources = "io_manager"});
        run.event(ev::resource_init_success{.resources = "io_manager", .duration_ms = 0.25});
        run.event(ev::resource_init_failure{.resources = "db", .error_type = "E", .error_message = "m"});
        run.event(ev::engine_event{.text = "an engine event"});
        run.event(ev::logs_captured{.file_key = "k", .step_keys = runlog::string_list(keys), .stdout_path = "/o",
                                    .stderr_path = "/e", .pid = 42});
        run.event(ev::asset_materialization{.asset_key = "a", .description = "d"});
        run.event(ev::asset_materialization_planned{.asset_key = "a"});
        run.event(ev::asset_observation{.asset_key = "a", .description = "d"});
        run.event(ev::asset_failed_to_materialize{.asset_key = "a", .reason = "r"});
        run.event(ev::loaded_input{.input_name = "i", .manager_key = "io", .upstream_output = "o", .upstream_step = "s"});
        run.event(ev::handled_output{.output_name = "o", .manager_key = "io"});
        {
            runlog::capture captured(run, {"extract", "load"}, {.tee = false});
        }
        run.execute("load", [] { throw std::runtime_error("the step fails, so the run does"); });
    } catch (const std::runtime_error&) {
    }
    log.flush();
    return 0;
}
