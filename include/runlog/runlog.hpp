#pragma once
/// runlog: structured, Dagster-style logging for runs made of steps. The umbrella header.

#include "default_logger.hpp"
#include "event.hpp"
#include "format.hpp"
#include "formatters/json.hpp"
#include "formatters/logfmt.hpp"
#include "formatters/text.hpp"
#include "level.hpp"
#include "logger.hpp"
#include "pipeline.hpp"
#include "record.hpp"
#include "sinks/callback.hpp"
#include "sinks/console.hpp"
#include "sinks/file.hpp"
#include "sinks/memory.hpp"
#include "sinks/rotating_file.hpp"
#include "sinks/sink.hpp"
