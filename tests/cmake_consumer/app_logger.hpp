// A logger type of the program's own, compiled once (in app_logger.cpp) however many files use it.
#pragma once
#include <runlog/runlog.hpp>

using app_logger = runlog::basic_logger<runlog::level::debug, runlog::pipeline<runlog::json_formatter, runlog::memory_sink>>;
RUNLOG_EXTERN_LOGGER(app_logger);
