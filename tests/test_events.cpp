#include <catch2/catch.hpp>

#include "support.hpp"

namespace ev = runlog::events;

namespace {

template <class E>
std::string message_of(const E& e, runlog::context c = {"run", "__ASSET_JOB_0", "taxi_zones_file"}) {
    runlog::memory_buffer b;
    e.message(b, c);
    return std::string(b.view());
}

std::string duration(double ms) {
    runlog::memory_buffer b;
    runlog::detail::format_duration(b, ms);
    return std::string(b.view());
}

// A user's own event type, declared in a few lines.
struct model_trained {
    static constexpr runlog::event_info info{"MODEL_TRAINED", runlog::level::info};
    std::string_view model{};
    double accuracy = 0;
    auto fields() const { return std::to_array<runlog::field>({{"model", model}, {"accuracy", accuracy}}); }
    void message(runlog::buffer& out, const runlog::context&) const {
        runlog::format_to(out, "Trained {} to accuracy {:.2f}.", model, accuracy);
    }
};

}  // namespace

TEST_CASE("events carry Dagster's canonical messages", "[events]") {
    CHECK(message_of(ev::run_start{}) == "Started execution of run for \"__ASSET_JOB_0\".");
    CHECK(message_of(ev::run_success{}) == "Finished execution of run for \"__ASSET_JOB_0\".");
    CHECK(message_of(ev::run_failure{}) == "Execution of run for \"__ASSET_JOB_0\" failed.");
    const std::string_view failed[] = {"x", "it's"};
    CHECK(message_of(ev::run_failure{.failed_steps = runlog::string_list(failed, 1)}) ==
          "Execution of run for \"__ASSET_JOB_0\" failed. Steps failed: ['x'].");
    CHECK(message_of(ev::run_failure{.failed_steps = runlog::string_list(failed, 2)}) ==
          "Execution of run for \"__ASSET_JOB_0\" failed. Steps failed: ['x', 'it\\'s'].");
    CHECK(message_of(ev::run_canceled{}) == "Execution of run for \"__ASSET_JOB_0\" canceled.");
    CHECK(message_of(ev::step_start{}) == "Started execution of step \"taxi_zones_file\".");
    CHECK(message_of(ev::step_start{.step_key = "other"}) == "Started execution of step \"other\".");
    CHECK(message_of(ev::step_success{.duration_ms = 1170}) ==
          "Finished execution of step \"taxi_zones_file\" in 1.17s.");
    CHECK(message_of(ev::step_failure{}) == "Execution of step \"taxi_zones_file\" failed.");
    CHECK(message_of(ev::step_failure{.error_type = "std::runtime_error", .error_message = "disk gone"}) ==
          "Execution of step \"taxi_zones_file\" failed. std::runtime_error: disk gone");
    CHECK(message_of(ev::step_skipped{}) == "Skipped execution of step \"taxi_zones_file\".");
    CHECK(message_of(ev::step_up_for_retry{.wait_seconds = 5}) ==
          "Execution of step \"taxi_zones_file\" failed and has requested a retry in 5 seconds.");
    CHECK(message_of(ev::step_restarted{.attempt = 2}) ==
          "Started re-execution (attempt # 2) of step \"taxi_zones_file\".");
    CHECK(message_of(ev::step_input{.input_name = "taxi_zones"}) ==
          "Got input \"taxi_zones\" of type \"Any\". (Type check passed).");
    CHECK(message_of(ev::step_output{}) == "Yielded output \"result\" of type \"Any\". (Type check passed).");
    CHECK(message_of(ev::step_worker_starting{}) == "Launching subprocess for \"taxi_zones_file\".");
    CHECK(message_of(ev::step_worker_started{.worker = "thread"}) == "Executing step \"taxi_zones_file\" in thread.");
    CHECK(message_of(ev::resource_init_started{}) == "Starting initialization of resources [io_manager].");
    CHECK(message_of(ev::resource_init_success{}) == "Finished initialization of resources [io_manager].");
    CHECK(message_of(ev::resource_init_failure{}) == "Initialization of resources [io_manager] failed.");
    CHECK(message_of(ev::engine_event{.text = "Executing steps in process (pid: 1)"}) ==
          "Executing steps in process (pid: 1)");
    CHECK(message_of(ev::logs_captured{.pid = 86387}) == "Started capturing logs in process (pid: 86387).");
    CHECK(message_of(ev::asset_materialization{.asset_key = "taxi_zones_file"}) ==
          "Materialized value taxi_zones_file.");
    CHECK(message_of(ev::asset_materialization_planned{.asset_key = "taxi_zones_file"}) ==
          "__ASSET_JOB_0 intends to materialize asset [\"taxi_zones_file\"]");
    CHECK(message_of(ev::asset_observation{.asset_key = "zones"}) == "Observed value zones.");
    CHECK(message_of(ev::asset_failed_to_materialize{.asset_key = "zones"}) == "Asset zones failed to materialize.");
    CHECK(message_of(ev::loaded_input{.input_name = "taxi_zones", .upstream_step = "taxi_zones_file"}) ==
          "Loaded input \"taxi_zones\" using input manager \"io_manager\", from output \"result\" of step "
          "\"taxi_zones_file\"");
    CHECK(message_of(ev::handled_output{}) == "Handled output \"result\" using IO manager \"io_manager\"");
}

TEST_CASE("failure events default to ERROR, the others to DEBUG", "[events]") {
    CHECK(ev::run_failure::info.default_level == runlog::level::error);
    CHECK(ev::step_failure::info.default_level == runlog::level::error);
    CHECK(ev::run_canceled::info.default_level == runlog::level::error);
    CHECK(ev::run_start::info.default_level == runlog::level::debug);
    CHECK(ev::step_success::info.default_level == runlog::level::debug);
    CHECK(ev::asset_materialization::info.default_level == runlog::level::debug);
    CHECK(ev::handled_output::info.name == "HANDLED_OUTPUT");
}

TEST_CASE("durations print the way Dagster prints them", "[events]") {
    CHECK(duration(0) == "0.0ms");
    CHECK(duration(0.834) == "0.83ms");
    CHECK(duration(8.3) == "8.3ms");
    CHECK(duration(533.9) == "533ms");
    CHECK(duration(1170) == "1.17s");
    CHECK(duration(2000) == "2.0s");
    CHECK(duration(5600) == "5.6s");
    CHECK(duration(292000) == "4m52s");
    CHECK(duration(3840000) == "1h4m");
    CHECK(duration(-5) == "0.0ms");
}

TEST_CASE("a user declares an event type in a few lines and logs it", "[events]") {
    static_assert(runlog::event_type<model_trained>);
    auto mem = runlog::memory_sink{};
    auto log = runlog::make_logger(runlog::pipeline("mem", runlog::json_formatter{}, mem));
    log.event(model_trained{.model = "gbm", .accuracy = 0.9312});
    const auto line = mem.text();
    CHECK(line.find(R"("severity_text":"INFO")") != std::string::npos);
    CHECK(line.find(R"("body":"Trained gbm to accuracy 0.93.")") != std::string::npos);
    CHECK(line.find(R"("event_type":"MODEL_TRAINED")") != std::string::npos);
    CHECK(line.find(R"("attributes":{"model":"gbm","accuracy":0.9312})") != std::string::npos);
}
