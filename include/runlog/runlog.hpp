#pragma once
/// runlog: structured, Dagster-style logging for runs made of steps. The umbrella header.
///
/// Layers, lightest first: log.hpp (what a file that logs needs); the engine (format.hpp, record.hpp,
/// logger.hpp, pipeline.hpp, formatters/, sinks/, default_logger.hpp); the opt-in subsystems (config.hpp,
/// event.hpp and events.hpp, run.hpp, capture.hpp, executor.hpp, async.hpp, syslog.hpp). See detail/build.hpp for the build modes.
#include "log.hpp"

#include "default_logger.hpp"
#include "fields.hpp"
#include "format.hpp"
#include "formatters/json.hpp"
#include "formatters/logfmt.hpp"
#include "formatters/text.hpp"
#include "level.hpp"
#include "logger.hpp"
#include "rate_limit.hpp"
#include "pipeline.hpp"
#include "record.hpp"
#include "sinks/callback.hpp"
#include "sinks/console.hpp"
#include "sinks/file.hpp"
#include "sinks/memory.hpp"
#include "sinks/rotating_file.hpp"
#include "sinks/sink.hpp"

#include "async.hpp"
#include "capture.hpp"
#include "config.hpp"
#include "configured.hpp"
#include "event.hpp"
#include "events.hpp"
#include "executor.hpp"
#include "run.hpp"
#include "syslog.hpp"

#include "detail/instantiations.hpp"
