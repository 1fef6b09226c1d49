#pragma once
#include <span>
#include <string_view>

#include "configured.hpp"
#include "detail/build.hpp"
#include "detail/level_enum.hpp"
#include "formatters/text.hpp"
#include "log.hpp"
#include "logger.hpp"
#include "pipeline.hpp"
#include "sinks/console.hpp"

namespace runlog {
inline namespace v0 {

/// The type of the ready-made logger: one "console" pipeline of Dagster-style lines to stderr, and a
/// "handlers" slot for the pipelines config.yaml declares (empty until then). Its floor removes nothing: the
/// free functions runlog::info(...) apply RUNLOG_ACTIVE_LEVEL at their call sites.
using default_logger_type = basic_logger<detail::lowest_level, pipeline<text_formatter, stderr_sink>, configured_pipelines>;

/// The ready-made logger: Dagster's full console layout on stderr at DEBUG, coloured on a terminal. In the
/// compiled mode RUNLOG_CONFIG applies to it at its first use; header-only, once the program calls
/// runlog::configure_from_env() (see config.hpp), so that files that log do not compile the config reader.
RUNLOG_INLINE default_logger_type& default_logger();

namespace detail {
/// Set while configure_from_env() builds the default logger: RUNLOG_CONFIG is about to be applied to it.
inline bool default_config_requested = false;
/// Header-only: says once on stderr that RUNLOG_CONFIG is set but not applied to the default logger.
RUNLOG_INLINE void note_unapplied_env_config() noexcept;
/// Compiled mode: applies RUNLOG_CONFIG to the default logger (defined with the config reader, config.hpp).
RUNLOG_INLINE void configure_default_logger(default_logger_type& logger) noexcept;
}  // namespace detail

}  // namespace v0
}  // namespace runlog

#if RUNLOG_EXTERN_TEMPLATES
RUNLOG_EXTERN_LOGGER(::runlog::default_logger_type);
#endif

#if RUNLOG_DEFINITIONS
#include <cstdlib>

namespace runlog {
inline namespace v0 {

RUNLOG_INLINE default_logger_type& default_logger() {
    static default_logger_type logger("runlog", pipeline("console", text_formatter{}, stderr_sink{}, level::debug),
                                      configured_pipelines("handlers"));
#if RUNLOG_HEADER_ONLY
    static const bool checked = (detail::note_unapplied_env_config(), true);
#else
    static const bool checked = (detail::configure_default_logger(logger), true);  // RUNLOG_CONFIG, once
#endif
    (void)checked;
    return logger;
}

RUNLOG_INLINE void detail::note_unapplied_env_config() noexcept {
    const char* path = std::getenv("RUNLOG_CONFIG");
    if (path == nullptr || *path == '\0' || default_config_requested) return;
    report_problem(
        "RUNLOG_CONFIG is set, but this header-only build applies it to the default logger only from the program's "
        "call to runlog::configure_from_env() on (make it at the start of main, before logging; or build with "
        "runlog::compiled / RUNLOG_SEPARATE)");
}

RUNLOG_INLINE void detail::default_log(level l, const format_string_data& fmt, fields fs, format_args args) noexcept {
    default_logger().vlog(l, fmt.get(), fmt.location(), std::span<const field>(fs.begin(), fs.size()), args);
}

}  // namespace v0
}  // namespace runlog
#endif
