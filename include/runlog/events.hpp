#pragma once
/// Dagster's execution events, built in: RUN_START through HANDLED_OUTPUT with their canonical messages.
#include <array>
#include <cstdint>
#include <string_view>

#include "detail/build.hpp"
#include "detail/level_enum.hpp"
#include "event.hpp"
#include "fields.hpp"
#include "format/buffer.hpp"
#include "record.hpp"

namespace runlog {
inline namespace v0 {

/// Dagster's execution event vocabulary, with its canonical messages.
namespace events {

/// RUN_START: `Started execution of run for "J".`
struct run_start {
    static constexpr event_info info{"RUN_START", level::debug};
    std::array<field, 0> fields() const noexcept { return {}; }
    RUNLOG_INLINE void message(buffer& out, const context& c) const;
};

/// RUN_SUCCESS: `Finished execution of run for "J".`
struct run_success {
    static constexpr event_info info{"RUN_SUCCESS", level::debug};
    double duration_ms = 0;
    std::array<field, 1> fields() const noexcept { return {{{"duration_ms", duration_ms}}}; }
    RUNLOG_INLINE void message(buffer& out, const context& c) const;
};

/// RUN_FAILURE: `Execution of run for "J" failed. Steps failed: ['x'].` at ERROR.
struct run_failure {
    static constexpr event_info info{"RUN_FAILURE", level::error};
    string_list failed_steps{};  ///< the failed steps' keys (a JSON array; the message shows `['x', 'y']`)
    std::string_view reason{};        ///< why the run failed when it was not a step, e.g. an exception's text
    double duration_ms = 0;
    std::array<field, 3> fields() const noexcept {
        return {{{"failed_steps", failed_steps}, {"reason", reason}, {"duration_ms", duration_ms}}};
    }
    RUNLOG_INLINE void message(buffer& out, const context& c) const;
};

/// RUN_CANCELED: `Execution of run for "J" canceled.` at ERROR.
struct run_canceled {
    static constexpr event_info info{"RUN_CANCELED", level::error};
    std::array<field, 0> fields() const noexcept { return {}; }
    RUNLOG_INLINE void message(buffer& out, const context& c) const;
};

/// STEP_START: `Started execution of step "x".`
struct step_start {
    static constexpr event_info info{"STEP_START", level::debug};
    std::string_view step_key{};
    std::array<field, 0> fields() const noexcept { return {}; }
    RUNLOG_INLINE void message(buffer& out, const context& c) const;
};

/// STEP_SUCCESS: `Finished execution of step "x" in 1.17s.`
struct step_success {
    static constexpr event_info info{"STEP_SUCCESS", level::debug};
    double duration_ms = 0;
    std::string_view step_key{};
    std::array<field, 1> fields() const noexcept { return {{{"duration_ms", duration_ms}}}; }
    RUNLOG_INLINE void message(buffer& out, const context& c) const;
};

/// STEP_FAILURE: `Execution of step "x" failed.` at ERROR, with the error's type and message.
struct step_failure {
    static constexpr event_info info{"STEP_FAILURE", level::error};
    std::string_view error_type{};
    std::string_view error_message{};
    double duration_ms = 0;
    std::string_view step_key{};
    std::array<field, 3> fields() const noexcept {
        return {{{"error_type", error_type}, {"error_message", error_message}, {"duration_ms", duration_ms}}};
    }
    RUNLOG_INLINE void message(buffer& out, const context& c) const;
};

/// STEP_SKIPPED: `Skipped execution of step "x".`
struct step_skipped {
    static constexpr event_info info{"STEP_SKIPPED", level::debug};
    std::string_view step_key{};
    std::array<field, 0> fields() const noexcept { return {}; }
    RUNLOG_INLINE void message(buffer& out, const context& c) const;
};

/// STEP_UP_FOR_RETRY: `Execution of step "x" failed and has requested a retry in 5 seconds.`
struct step_up_for_retry {
    static constexpr event_info info{"STEP_UP_FOR_RETRY", level::debug};
    std::int64_t attempt = 1;
    double wait_seconds = 0;
    std::string_view step_key{};
    std::array<field, 2> fields() const noexcept {
        return {{{"attempt", attempt}, {"wait_seconds", wait_seconds}}};
    }
    RUNLOG_INLINE void message(buffer& out, const context& c) const;
};

/// STEP_RESTARTED: `Started re-execution (attempt # 2) of step "x".`
struct step_restarted {
    static constexpr event_info info{"STEP_RESTARTED", level::debug};
    std::int64_t attempt = 2;
    std::string_view step_key{};
    std::array<field, 1> fields() const noexcept { return {{{"attempt", attempt}}}; }
    RUNLOG_INLINE void message(buffer& out, const context& c) const;
};

/// STEP_INPUT: `Got input "x" of type "Any". (Type check passed).`
struct step_input {
    static constexpr event_info info{"STEP_INPUT", level::debug};
    std::string_view input_name{};
    std::string_view type_name = "Any";
    std::array<field, 2> fields() const noexcept {
        return {{{"input_name", input_name}, {"type_name", type_name}}};
    }
    RUNLOG_INLINE void message(buffer& out, const context&) const;
};

/// STEP_OUTPUT: `Yielded output "result" of type "Any". (Type check passed).`
struct step_output {
    static constexpr event_info info{"STEP_OUTPUT", level::debug};
    std::string_view output_name = "result";
    std::string_view type_name = "Any";
    std::array<field, 2> fields() const noexcept {
        return {{{"output_name", output_name}, {"type_name", type_name}}};
    }
    RUNLOG_INLINE void message(buffer& out, const context&) const;
};

/// STEP_WORKER_STARTING: `Launching subprocess for "x".` (the worker kind is configurable).
struct step_worker_starting {
    static constexpr event_info info{"STEP_WORKER_STARTING", level::debug};
    std::string_view step_key{};
    std::string_view worker = "subprocess";
    std::array<field, 1> fields() const noexcept { return {{{"worker", worker}}}; }
    RUNLOG_INLINE void message(buffer& out, const context& c) const;
};

/// STEP_WORKER_STARTED: `Executing step "x" in subprocess.`
struct step_worker_started {
    static constexpr event_info info{"STEP_WORKER_STARTED", level::debug, false};
    std::string_view step_key{};
    std::string_view worker = "subprocess";
    std::array<field, 1> fields() const noexcept { return {{{"worker", worker}}}; }
    RUNLOG_INLINE void message(buffer& out, const context& c) const;
};

/// RESOURCE_INIT_STARTED: `Starting initialization of resources [io_manager].`
struct resource_init_started {
    static constexpr event_info info{"RESOURCE_INIT_STARTED", level::debug};
    std::string_view resources = "io_manager";  ///< comma-separated resource keys
    std::array<field, 1> fields() const noexcept { return {{{"resources", resources}}}; }
    RUNLOG_INLINE void message(buffer& out, const context&) const;
};

/// RESOURCE_INIT_SUCCESS: `Finished initialization of resources [io_manager].`
struct resource_init_success {
    static constexpr event_info info{"RESOURCE_INIT_SUCCESS", level::debug};
    std::string_view resources = "io_manager";
    double duration_ms = 0;
    std::array<field, 2> fields() const noexcept {
        return {{{"resources", resources}, {"duration_ms", duration_ms}}};
    }
    RUNLOG_INLINE void message(buffer& out, const context&) const;
};

/// RESOURCE_INIT_FAILURE: `Initialization of resources [io_manager] failed.`
struct resource_init_failure {
    static constexpr event_info info{"RESOURCE_INIT_FAILURE", level::debug};
    std::string_view resources = "io_manager";
    std::string_view error_type{};
    std::string_view error_message{};
    std::array<field, 3> fields() const noexcept {
        return {{{"resources", resources}, {"error_type", error_type}, {"error_message", error_message}}};
    }
    RUNLOG_INLINE void message(buffer& out, const context&) const;
};

/// ENGINE_EVENT: a message from the execution engine itself.
struct engine_event {
    static constexpr event_info info{"ENGINE_EVENT", level::debug};
    std::string_view text{};
    std::array<field, 0> fields() const noexcept { return {}; }
    RUNLOG_INLINE void message(buffer& out, const context&) const;
};

/// LOGS_CAPTURED: `Started capturing logs in process (pid: N).`
struct logs_captured {
    static constexpr event_info info{"LOGS_CAPTURED", level::debug, false};
    std::string_view file_key{};
    string_list step_keys{};  ///< the captured steps' keys (a JSON array)
    std::string_view stdout_path{};
    std::string_view stderr_path{};
    std::uint32_t pid = 0;
    std::array<field, 4> fields() const noexcept {
        return {{{"file_key", file_key},
                                     {"step_keys", step_keys},
                                     {"stdout_path", stdout_path},
                                     {"stderr_path", stderr_path}}};
    }
    RUNLOG_INLINE void message(buffer& out, const context&) const;
};

/// ASSET_MATERIALIZATION: `Materialized value taxi_zones_file.`
struct asset_materialization {
    static constexpr event_info info{"ASSET_MATERIALIZATION", level::debug};
    std::string_view asset_key{};
    std::string_view description{};
    std::array<field, 2> fields() const noexcept {
        return {{{"asset_key", asset_key}, {"description", description}}};
    }
    RUNLOG_INLINE void message(buffer& out, const context&) const;
};

/// ASSET_MATERIALIZATION_PLANNED: `J intends to materialize asset ["x"]`
struct asset_materialization_planned {
    static constexpr event_info info{"ASSET_MATERIALIZATION_PLANNED", level::debug};
    std::string_view asset_key{};
    std::array<field, 1> fields() const noexcept { return {{{"asset_key", asset_key}}}; }
    RUNLOG_INLINE void message(buffer& out, const context& c) const;
};

/// ASSET_OBSERVATION: `Observed value x.`
struct asset_observation {
    static constexpr event_info info{"ASSET_OBSERVATION", level::debug};
    std::string_view asset_key{};
    std::string_view description{};
    std::array<field, 2> fields() const noexcept {
        return {{{"asset_key", asset_key}, {"description", description}}};
    }
    RUNLOG_INLINE void message(buffer& out, const context&) const;
};

/// ASSET_FAILED_TO_MATERIALIZE: `Asset x failed to materialize.`
struct asset_failed_to_materialize {
    static constexpr event_info info{"ASSET_FAILED_TO_MATERIALIZE", level::debug};
    std::string_view asset_key{};
    std::string_view reason{};
    std::array<field, 2> fields() const noexcept { return {{{"asset_key", asset_key}, {"reason", reason}}}; }
    RUNLOG_INLINE void message(buffer& out, const context&) const;
};

/// LOADED_INPUT: `Loaded input "x" using input manager "io_manager", from output "result" of step "y"`
struct loaded_input {
    static constexpr event_info info{"LOADED_INPUT", level::debug};
    std::string_view input_name{};
    std::string_view manager_key = "io_manager";
    std::string_view upstream_output = "result";
    std::string_view upstream_step{};
    std::array<field, 4> fields() const noexcept {
        return {{{"input_name", input_name},
                                     {"manager_key", manager_key},
                                     {"upstream_output", upstream_output},
                                     {"upstream_step", upstream_step}}};
    }
    RUNLOG_INLINE void message(buffer& out, const context&) const;
};

/// HANDLED_OUTPUT: `Handled output "result" using IO manager "io_manager"`
struct handled_output {
    static constexpr event_info info{"HANDLED_OUTPUT", level::debug};
    std::string_view output_name = "result";
    std::string_view manager_key = "io_manager";
    std::array<field, 2> fields() const noexcept {
        return {{{"output_name", output_name}, {"manager_key", manager_key}}};
    }
    RUNLOG_INLINE void message(buffer& out, const context&) const;
};

}  // namespace events
}  // namespace v0
}  // namespace runlog

#if RUNLOG_DEFINITIONS
#include "format.hpp"

namespace runlog {
inline namespace v0 {
namespace events {

RUNLOG_INLINE void run_start::message(buffer& out, const context& c) const {
    format_to(out, "Started execution of run for \"{}\".", c.job);
}

RUNLOG_INLINE void run_success::message(buffer& out, const context& c) const {
    format_to(out, "Finished execution of run for \"{}\".", c.job);
}

RUNLOG_INLINE void run_failure::message(buffer& out, const context& c) const {
    format_to(out, "Execution of run for \"{}\" failed.", c.job);
    if (!failed_steps.empty()) {
        // Python's repr of the list of keys, as Dagster's message has it: ['a', 'b\'s']
        out.append(std::string_view(" Steps failed: ["));
        bool first = true;
        for (std::string_view k : failed_steps) {
            out.append(first ? std::string_view("'") : std::string_view(", '"));
            first = false;
            for (char ch : k) {
                if (ch == '\'' || ch == '\\') out.push_back('\\');
                out.push_back(ch);
            }
            out.push_back('\'');
        }
        out.append(std::string_view("]."));
    }
    if (!reason.empty()) format_to(out, " {}", reason);
}

RUNLOG_INLINE void run_canceled::message(buffer& out, const context& c) const {
    format_to(out, "Execution of run for \"{}\" canceled.", c.job);
}

RUNLOG_INLINE void step_start::message(buffer& out, const context& c) const {
    format_to(out, "Started execution of step \"{}\".", detail::event_step(*this, c));
}

RUNLOG_INLINE void step_success::message(buffer& out, const context& c) const {
    format_to(out, "Finished execution of step \"{}\" in ", detail::event_step(*this, c));
    detail::format_duration(out, duration_ms);
    out.push_back('.');
}

RUNLOG_INLINE void step_failure::message(buffer& out, const context& c) const {
    format_to(out, "Execution of step \"{}\" failed.", detail::event_step(*this, c));
    if (!error_message.empty()) format_to(out, " {}: {}", error_type, error_message);
}

RUNLOG_INLINE void step_skipped::message(buffer& out, const context& c) const {
    format_to(out, "Skipped execution of step \"{}\".", detail::event_step(*this, c));
}

RUNLOG_INLINE void step_up_for_retry::message(buffer& out, const context& c) const {
    format_to(out, "Execution of step \"{}\" failed and has requested a retry", detail::event_step(*this, c));
    if (wait_seconds > 0) format_to(out, " in {} seconds", wait_seconds);
    out.push_back('.');
}

RUNLOG_INLINE void step_restarted::message(buffer& out, const context& c) const {
    format_to(out, "Started re-execution (attempt # {}) of step \"{}\".", attempt, detail::event_step(*this, c));
}

RUNLOG_INLINE void step_input::message(buffer& out, const context&) const {
    format_to(out, "Got input \"{}\" of type \"{}\". (Type check passed).", input_name, type_name);
}

RUNLOG_INLINE void step_output::message(buffer& out, const context&) const {
    format_to(out, "Yielded output \"{}\" of type \"{}\". (Type check passed).", output_name, type_name);
}

RUNLOG_INLINE void step_worker_starting::message(buffer& out, const context& c) const {
    format_to(out, "Launching {} for \"{}\".", worker, detail::event_step(*this, c));
}

RUNLOG_INLINE void step_worker_started::message(buffer& out, const context& c) const {
    format_to(out, "Executing step \"{}\" in {}.", detail::event_step(*this, c), worker);
}

RUNLOG_INLINE void resource_init_started::message(buffer& out, const context&) const {
    format_to(out, "Starting initialization of resources [{}].", resources);
}

RUNLOG_INLINE void resource_init_success::message(buffer& out, const context&) const {
    format_to(out, "Finished initialization of resources [{}].", resources);
}

RUNLOG_INLINE void resource_init_failure::message(buffer& out, const context&) const {
    format_to(out, "Initialization of resources [{}] failed.", resources);
    if (!error_message.empty()) format_to(out, " {}: {}", error_type, error_message);
}

RUNLOG_INLINE void engine_event::message(buffer& out, const context&) const {
    out.append(text);
}

RUNLOG_INLINE void logs_captured::message(buffer& out, const context&) const {
    format_to(out, "Started capturing logs in process (pid: {}).", pid ? pid : process_id());
}

RUNLOG_INLINE void asset_materialization::message(buffer& out, const context&) const {
    format_to(out, "Materialized value {}.", asset_key);
}

RUNLOG_INLINE void asset_materialization_planned::message(buffer& out, const context& c) const {
    format_to(out, "{} intends to materialize asset [\"{}\"]", c.job, asset_key);
}

RUNLOG_INLINE void asset_observation::message(buffer& out, const context&) const {
    format_to(out, "Observed value {}.", asset_key);
}

RUNLOG_INLINE void asset_failed_to_materialize::message(buffer& out, const context&) const {
    format_to(out, "Asset {} failed to materialize.", asset_key);
    if (!reason.empty()) format_to(out, " {}", reason);
}

RUNLOG_INLINE void loaded_input::message(buffer& out, const context&) const {
    format_to(out, "Loaded input \"{}\" using input manager \"{}\"", input_name, manager_key);
    if (!upstream_step.empty())
        format_to(out, ", from output \"{}\" of step \"{}\"", upstream_output, upstream_step);
}

RUNLOG_INLINE void handled_output::message(buffer& out, const context&) const {
    format_to(out, "Handled output \"{}\" using IO manager \"{}\"", output_name, manager_key);
}

}  // namespace events
}  // namespace v0
}  // namespace runlog
#endif
