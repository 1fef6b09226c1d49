#pragma once
/// Logger types that many programs use, compiled once in the compiled mode's implementation unit (and
/// declared `extern` everywhere else); header-only, every file compiles what it uses, as always. Only types
/// with the floor that removes nothing are listed, so RUNLOG_ACTIVE_LEVEL cannot make a unit ask for a
/// type the library lacks.
#include "../async.hpp"
#include "../default_logger.hpp"
#include "../formatters/json.hpp"
#include "../formatters/logfmt.hpp"
#include "../formatters/text.hpp"
#include "../logger.hpp"
#include "../sinks/console.hpp"
#include "../sinks/file.hpp"
#include "../sinks/rotating_file.hpp"
#include "build.hpp"

/// Calls X(pipelines) for each common logger type (the default logger's is in default_logger.hpp).
#ifndef RUNLOG_DETAIL_COMMON_LOGGERS
#define RUNLOG_DETAIL_COMMON_LOGGERS(X)                                                                   \
    X(::runlog::pipeline<::runlog::text_formatter, ::runlog::stdout_sink>)                                \
    X(::runlog::pipeline<::runlog::json_formatter, ::runlog::stdout_sink>)                                \
    X(::runlog::pipeline<::runlog::text_formatter, ::runlog::file_sink>)                                  \
    X(::runlog::pipeline<::runlog::json_formatter, ::runlog::file_sink>)                                  \
    X(::runlog::pipeline<::runlog::logfmt_formatter, ::runlog::file_sink>)                                \
    X(::runlog::pipeline<::runlog::text_formatter, ::runlog::rotating_file_sink>)                         \
    X(::runlog::pipeline<::runlog::json_formatter, ::runlog::rotating_file_sink>)                         \
    X(::runlog::pipeline<::runlog::text_formatter, ::runlog::stderr_sink>,                                \
      ::runlog::pipeline<::runlog::json_formatter, ::runlog::file_sink>)                                  \
    X(::runlog::pipeline<::runlog::text_formatter, ::runlog::stderr_sink>,                                \
      ::runlog::pipeline<::runlog::json_formatter, ::runlog::rotating_file_sink>)                         \
    X(::runlog::async_pipeline<::runlog::pipeline<::runlog::text_formatter, ::runlog::file_sink>>)        \
    X(::runlog::async_pipeline<::runlog::pipeline<::runlog::json_formatter, ::runlog::file_sink>>)
#endif

#define RUNLOG_DETAIL_EXTERN_COMMON(...) \
    RUNLOG_EXTERN_LOGGER(::runlog::basic_logger<::runlog::detail::lowest_level, __VA_ARGS__>);
#define RUNLOG_DETAIL_INSTANTIATE_COMMON(...) \
    RUNLOG_INSTANTIATE_LOGGER(::runlog::basic_logger<::runlog::detail::lowest_level, __VA_ARGS__>);

#if RUNLOG_EXTERN_TEMPLATES
RUNLOG_DETAIL_COMMON_LOGGERS(RUNLOG_DETAIL_EXTERN_COMMON)
#endif

// In the implementation unit only: the definitions of those instantiations, after every other definition.
#if RUNLOG_DEFINITIONS
#if defined(RUNLOG_IMPLEMENTATION)
RUNLOG_INSTANTIATE_LOGGER(::runlog::default_logger_type);
RUNLOG_DETAIL_COMMON_LOGGERS(RUNLOG_DETAIL_INSTANTIATE_COMMON)
#endif
#endif
