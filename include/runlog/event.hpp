#pragma once
#include <array>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <string_view>

#include "format.hpp"
#include "level.hpp"
#include "record.hpp"

namespace runlog {
inline namespace v0 {

/// A typed execution event: static `info` (name, default level), `fields()` and `message(out, ctx)`.
template <class E>
concept event_type = requires(const E& e, buffer& out, const context& c) {
    { E::info } -> std::convertible_to<event_info>;
    { e.fields() };
    { std::span<const field>(e.fields()) };
    { e.message(out, c) };
};

namespace detail {

/// The step an event speaks of: its own step_key when it has one, else the thread's step.
template <class E>
constexpr std::string_view event_step(const E& e, const context& c) noexcept {
    if constexpr (requires { e.step_key; }) {
        if (!e.step_key.empty()) return e.step_key;
    }
    return c.step;
}

/// Makes r a record of event e: its type, its own fields (kept alive by the caller in own), the call's
/// extra fields, its step and its message.
template <class E, class Own>
void set_event(record& r, const E& e, const Own& own, std::initializer_list<field> extra) noexcept {
    r.event = &E::info;
    r.event_fields = std::span<const field>(own);
    r.fields = std::span<const field>(extra.begin(), extra.size());
    r.ctx.step = event_step(e, r.ctx);
    r.set_message(&e, [](const void* self, const record& rec, buffer& out) {
        static_cast<const E*>(self)->message(out, rec.ctx);
    });
}

/// Appends a duration the way Dagster prints one: 0.83ms, 533ms, 1.17s, 4m52s, 1h4m.
inline void format_duration(buffer& out, double ms) {
    if (!(ms >= 0)) ms = 0;  // also maps NaN to zero
    auto two_decimals = [&](double v) {
        // Python's str(round(v, 2)): at least one decimal, trailing zeros dropped.
        auto hundredths = static_cast<std::uint64_t>(std::llround(v * 100));
        format_to(out, "{}.", hundredths / 100);
        auto frac = hundredths % 100;
        if (frac == 0)
            out.push_back('0');
        else if (frac % 10 == 0)
            format_to(out, "{}", frac / 10);
        else
            format_to(out, "{:02}", frac);
    };
    if (ms < 10) {
        two_decimals(ms);
        out.append(std::string_view("ms"));
    } else if (ms < 1000) {
        format_to(out, "{}ms", static_cast<std::uint64_t>(ms));
    } else if (ms < 60'000) {
        two_decimals(ms / 1000);
        out.push_back('s');
    } else if (ms < 3'600'000) {
        auto total_s = static_cast<std::uint64_t>(ms / 1000);
        format_to(out, "{}m{}s", total_s / 60, total_s % 60);
    } else {
        auto total_m = static_cast<std::uint64_t>(ms / 60'000);
        format_to(out, "{}h{}m", total_m / 60, total_m % 60);
    }
}

}  // namespace detail

/// Dagster's execution event vocabulary, with its canonical messages.
namespace events {

/// RUN_START: `Started execution of run for "J".`
struct run_start {
    static constexpr event_info info{"RUN_START", level::debug};
    std::array<field, 0> fields() const noexcept { return {}; }
    void message(buffer& out, const context& c) const { format_to(out, "Started execution of run for \"{}\".", c.job); }
};

/// RUN_SUCCESS: `Finished execution of run for "J".`
struct run_success {
    static constexpr event_info info{"RUN_SUCCESS", level::debug};
    double duration_ms = 0;
    auto fields() const noexcept { return std::to_array<field>({{"duration_ms", duration_ms}}); }
    void message(buffer& out, const context& c) const { format_to(out, "Finished execution of run for \"{}\".", c.job); }
};

/// RUN_FAILURE: `Execution of run for "J" failed. Steps failed: ['x'].` at ERROR.
struct run_failure {
    static constexpr event_info info{"RUN_FAILURE", level::error};
    std::string_view failed_steps{};  ///< Python list text, e.g. `['x', 'y']`; empty when no step failed
    std::string_view reason{};        ///< why the run failed when it was not a step, e.g. an exception's text
    double duration_ms = 0;
    auto fields() const noexcept {
        return std::to_array<field>(
            {{"failed_steps", failed_steps}, {"reason", reason}, {"duration_ms", duration_ms}});
    }
    void message(buffer& out, const context& c) const {
        format_to(out, "Execution of run for \"{}\" failed.", c.job);
        if (!failed_steps.empty()) format_to(out, " Steps failed: {}.", failed_steps);
        if (!reason.empty()) format_to(out, " {}", reason);
    }
};

/// RUN_CANCELED: `Execution of run for "J" canceled.` at ERROR.
struct run_canceled {
    static constexpr event_info info{"RUN_CANCELED", level::error};
    std::array<field, 0> fields() const noexcept { return {}; }
    void message(buffer& out, const context& c) const { format_to(out, "Execution of run for \"{}\" canceled.", c.job); }
};

/// STEP_START: `Started execution of step "x".`
struct step_start {
    static constexpr event_info info{"STEP_START", level::debug};
    std::string_view step_key{};
    std::array<field, 0> fields() const noexcept { return {}; }
    void message(buffer& out, const context& c) const {
        format_to(out, "Started execution of step \"{}\".", detail::event_step(*this, c));
    }
};

/// STEP_SUCCESS: `Finished execution of step "x" in 1.17s.`
struct step_success {
    static constexpr event_info info{"STEP_SUCCESS", level::debug};
    double duration_ms = 0;
    std::string_view step_key{};
    auto fields() const noexcept { return std::to_array<field>({{"duration_ms", duration_ms}}); }
    void message(buffer& out, const context& c) const {
        format_to(out, "Finished execution of step \"{}\" in ", detail::event_step(*this, c));
        detail::format_duration(out, duration_ms);
        out.push_back('.');
    }
};

/// STEP_FAILURE: `Execution of step "x" failed.` at ERROR, with the error's type and message.
struct step_failure {
    static constexpr event_info info{"STEP_FAILURE", level::error};
    std::string_view error_type{};
    std::string_view error_message{};
    double duration_ms = 0;
    std::string_view step_key{};
    auto fields() const noexcept {
        return std::to_array<field>(
            {{"error_type", error_type}, {"error_message", error_message}, {"duration_ms", duration_ms}});
    }
    void message(buffer& out, const context& c) const {
        format_to(out, "Execution of step \"{}\" failed.", detail::event_step(*this, c));
        if (!error_message.empty()) format_to(out, " {}: {}", error_type, error_message);
    }
};

/// STEP_SKIPPED: `Skipped execution of step "x".`
struct step_skipped {
    static constexpr event_info info{"STEP_SKIPPED", level::debug};
    std::string_view step_key{};
    std::array<field, 0> fields() const noexcept { return {}; }
    void message(buffer& out, const context& c) const {
        format_to(out, "Skipped execution of step \"{}\".", detail::event_step(*this, c));
    }
};

/// STEP_UP_FOR_RETRY: `Execution of step "x" failed and has requested a retry in 5 seconds.`
struct step_up_for_retry {
    static constexpr event_info info{"STEP_UP_FOR_RETRY", level::debug};
    std::int64_t attempt = 1;
    double wait_seconds = 0;
    std::string_view step_key{};
    auto fields() const noexcept {
        return std::to_array<field>({{"attempt", attempt}, {"wait_seconds", wait_seconds}});
    }
    void message(buffer& out, const context& c) const {
        format_to(out, "Execution of step \"{}\" failed and has requested a retry", detail::event_step(*this, c));
        if (wait_seconds > 0) format_to(out, " in {} seconds", wait_seconds);
        out.push_back('.');
    }
};

/// STEP_RESTARTED: `Started re-execution (attempt # 2) of step "x".`
struct step_restarted {
    static constexpr event_info info{"STEP_RESTARTED", level::debug};
    std::int64_t attempt = 2;
    std::string_view step_key{};
    auto fields() const noexcept { return std::to_array<field>({{"attempt", attempt}}); }
    void message(buffer& out, const context& c) const {
        format_to(out, "Started re-execution (attempt # {}) of step \"{}\".", attempt, detail::event_step(*this, c));
    }
};

/// STEP_INPUT: `Got input "x" of type "Any". (Type check passed).`
struct step_input {
    static constexpr event_info info{"STEP_INPUT", level::debug};
    std::string_view input_name{};
    std::string_view type_name = "Any";
    auto fields() const noexcept {
        return std::to_array<field>({{"input_name", input_name}, {"type_name", type_name}});
    }
    void message(buffer& out, const context&) const {
        format_to(out, "Got input \"{}\" of type \"{}\". (Type check passed).", input_name, type_name);
    }
};

/// STEP_OUTPUT: `Yielded output "result" of type "Any". (Type check passed).`
struct step_output {
    static constexpr event_info info{"STEP_OUTPUT", level::debug};
    std::string_view output_name = "result";
    std::string_view type_name = "Any";
    auto fields() const noexcept {
        return std::to_array<field>({{"output_name", output_name}, {"type_name", type_name}});
    }
    void message(buffer& out, const context&) const {
        format_to(out, "Yielded output \"{}\" of type \"{}\". (Type check passed).", output_name, type_name);
    }
};

/// STEP_WORKER_STARTING: `Launching subprocess for "x".` (the worker kind is configurable).
struct step_worker_starting {
    static constexpr event_info info{"STEP_WORKER_STARTING", level::debug};
    std::string_view step_key{};
    std::string_view worker = "subprocess";
    auto fields() const noexcept { return std::to_array<field>({{"worker", worker}}); }
    void message(buffer& out, const context& c) const {
        format_to(out, "Launching {} for \"{}\".", worker, detail::event_step(*this, c));
    }
};

/// STEP_WORKER_STARTED: `Executing step "x" in subprocess.`
struct step_worker_started {
    static constexpr event_info info{"STEP_WORKER_STARTED", level::debug};
    std::string_view step_key{};
    std::string_view worker = "subprocess";
    auto fields() const noexcept { return std::to_array<field>({{"worker", worker}}); }
    void message(buffer& out, const context& c) const {
        format_to(out, "Executing step \"{}\" in {}.", detail::event_step(*this, c), worker);
    }
};

/// RESOURCE_INIT_STARTED: `Starting initialization of resources [io_manager].`
struct resource_init_started {
    static constexpr event_info info{"RESOURCE_INIT_STARTED", level::debug};
    std::string_view resources = "io_manager";  ///< comma-separated resource keys
    auto fields() const noexcept { return std::to_array<field>({{"resources", resources}}); }
    void message(buffer& out, const context&) const {
        format_to(out, "Starting initialization of resources [{}].", resources);
    }
};

/// RESOURCE_INIT_SUCCESS: `Finished initialization of resources [io_manager].`
struct resource_init_success {
    static constexpr event_info info{"RESOURCE_INIT_SUCCESS", level::debug};
    std::string_view resources = "io_manager";
    double duration_ms = 0;
    auto fields() const noexcept {
        return std::to_array<field>({{"resources", resources}, {"duration_ms", duration_ms}});
    }
    void message(buffer& out, const context&) const {
        format_to(out, "Finished initialization of resources [{}].", resources);
    }
};

/// RESOURCE_INIT_FAILURE: `Initialization of resources [io_manager] failed.`
struct resource_init_failure {
    static constexpr event_info info{"RESOURCE_INIT_FAILURE", level::debug};
    std::string_view resources = "io_manager";
    std::string_view error_type{};
    std::string_view error_message{};
    auto fields() const noexcept {
        return std::to_array<field>(
            {{"resources", resources}, {"error_type", error_type}, {"error_message", error_message}});
    }
    void message(buffer& out, const context&) const {
        format_to(out, "Initialization of resources [{}] failed.", resources);
        if (!error_message.empty()) format_to(out, " {}: {}", error_type, error_message);
    }
};

/// ENGINE_EVENT: a message from the execution engine itself.
struct engine_event {
    static constexpr event_info info{"ENGINE_EVENT", level::debug};
    std::string_view text{};
    std::array<field, 0> fields() const noexcept { return {}; }
    void message(buffer& out, const context&) const { out.append(text); }
};

/// LOGS_CAPTURED: `Started capturing logs in process (pid: N).`
struct logs_captured {
    static constexpr event_info info{"LOGS_CAPTURED", level::debug};
    std::string_view file_key{};
    std::string_view step_keys{};  ///< comma-separated
    std::string_view stdout_path{};
    std::string_view stderr_path{};
    std::uint32_t pid = 0;
    auto fields() const noexcept {
        return std::to_array<field>({{"file_key", file_key},
                                     {"step_keys", step_keys},
                                     {"stdout_path", stdout_path},
                                     {"stderr_path", stderr_path}});
    }
    void message(buffer& out, const context&) const {
        format_to(out, "Started capturing logs in process (pid: {}).", pid ? pid : process_id());
    }
};

/// ASSET_MATERIALIZATION: `Materialized value taxi_zones_file.`
struct asset_materialization {
    static constexpr event_info info{"ASSET_MATERIALIZATION", level::debug};
    std::string_view asset_key{};
    std::string_view description{};
    auto fields() const noexcept {
        return std::to_array<field>({{"asset_key", asset_key}, {"description", description}});
    }
    void message(buffer& out, const context&) const { format_to(out, "Materialized value {}.", asset_key); }
};

/// ASSET_MATERIALIZATION_PLANNED: `J intends to materialize asset ["x"]`
struct asset_materialization_planned {
    static constexpr event_info info{"ASSET_MATERIALIZATION_PLANNED", level::debug};
    std::string_view asset_key{};
    auto fields() const noexcept { return std::to_array<field>({{"asset_key", asset_key}}); }
    void message(buffer& out, const context& c) const {
        format_to(out, "{} intends to materialize asset [\"{}\"]", c.job, asset_key);
    }
};

/// ASSET_OBSERVATION: `Observed value x.`
struct asset_observation {
    static constexpr event_info info{"ASSET_OBSERVATION", level::debug};
    std::string_view asset_key{};
    std::string_view description{};
    auto fields() const noexcept {
        return std::to_array<field>({{"asset_key", asset_key}, {"description", description}});
    }
    void message(buffer& out, const context&) const { format_to(out, "Observed value {}.", asset_key); }
};

/// ASSET_FAILED_TO_MATERIALIZE: `Asset x failed to materialize.`
struct asset_failed_to_materialize {
    static constexpr event_info info{"ASSET_FAILED_TO_MATERIALIZE", level::debug};
    std::string_view asset_key{};
    std::string_view reason{};
    auto fields() const noexcept { return std::to_array<field>({{"asset_key", asset_key}, {"reason", reason}}); }
    void message(buffer& out, const context&) const {
        format_to(out, "Asset {} failed to materialize.", asset_key);
        if (!reason.empty()) format_to(out, " {}", reason);
    }
};

/// LOADED_INPUT: `Loaded input "x" using input manager "io_manager", from output "result" of step "y"`
struct loaded_input {
    static constexpr event_info info{"LOADED_INPUT", level::debug};
    std::string_view input_name{};
    std::string_view manager_key = "io_manager";
    std::string_view upstream_output = "result";
    std::string_view upstream_step{};
    auto fields() const noexcept {
        return std::to_array<field>({{"input_name", input_name},
                                     {"manager_key", manager_key},
                                     {"upstream_output", upstream_output},
                                     {"upstream_step", upstream_step}});
    }
    void message(buffer& out, const context&) const {
        format_to(out, "Loaded input \"{}\" using input manager \"{}\"", input_name, manager_key);
        if (!upstream_step.empty())
            format_to(out, ", from output \"{}\" of step \"{}\"", upstream_output, upstream_step);
    }
};

/// HANDLED_OUTPUT: `Handled output "result" using IO manager "io_manager"`
struct handled_output {
    static constexpr event_info info{"HANDLED_OUTPUT", level::debug};
    std::string_view output_name = "result";
    std::string_view manager_key = "io_manager";
    auto fields() const noexcept {
        return std::to_array<field>({{"output_name", output_name}, {"manager_key", manager_key}});
    }
    void message(buffer& out, const context&) const {
        format_to(out, "Handled output \"{}\" using IO manager \"{}\"", output_name, manager_key);
    }
};

}  // namespace events
}  // namespace v0
}  // namespace runlog
