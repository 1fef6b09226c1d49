#pragma once
/// Async pipelines: runlog::async(pipeline) queues records per thread and one backend thread writes them.
#include "async/backend.hpp"
#include "async/clock.hpp"
#include "async/options.hpp"
#include "async/pipeline.hpp"
#include "async/ring.hpp"
#include "async/wire.hpp"
