#pragma once
#include "config.hpp"
#include "formatters/text.hpp"
#include "logger.hpp"
#include "pipeline.hpp"
#include "sinks/console.hpp"

namespace runlog {
inline namespace v0 {

/// The type of the ready-made logger: one "console" pipeline of Dagster-style lines to stderr.
using default_logger_type = basic_logger<active_level, pipeline<text_formatter, stderr_sink>>;

/// The ready-made logger: Dagster's full console layout on stderr at DEBUG, coloured on a terminal;
/// RUNLOG_CONFIG's `loggers: console: config: log_level:` applies to it.
inline default_logger_type& default_logger() {
    static default_logger_type logger("runlog", pipeline("console", text_formatter{}, stderr_sink{}, level::debug));
    static const bool configured = (configure_from_env(logger), true);  // RUNLOG_CONFIG, once
    (void)configured;
    return logger;
}

/// Logs through the default logger.
template <class... A>
void trace(format_string<A...> fmt, A&&... a) { default_logger().trace(fmt, std::forward<A>(a)...); }
template <class... A>
void debug(format_string<A...> fmt, A&&... a) { default_logger().debug(fmt, std::forward<A>(a)...); }
template <class... A>
void info(format_string<A...> fmt, A&&... a) { default_logger().info(fmt, std::forward<A>(a)...); }
template <class... A>
void warning(format_string<A...> fmt, A&&... a) { default_logger().warning(fmt, std::forward<A>(a)...); }
template <class... A>
void error(format_string<A...> fmt, A&&... a) { default_logger().error(fmt, std::forward<A>(a)...); }
template <class... A>
void critical(format_string<A...> fmt, A&&... a) { default_logger().critical(fmt, std::forward<A>(a)...); }
template <class... A>
void info(fields fs, format_string<A...> fmt, A&&... a) { default_logger().info(fs, fmt, std::forward<A>(a)...); }
template <class... A>
void warning(fields fs, format_string<A...> fmt, A&&... a) { default_logger().warning(fs, fmt, std::forward<A>(a)...); }
template <class... A>
void error(fields fs, format_string<A...> fmt, A&&... a) { default_logger().error(fs, fmt, std::forward<A>(a)...); }

}  // namespace v0
}  // namespace runlog
