// Compiled at -O2 and disassembled by check_floor.py: a function whose only statements are calls
// below the logger's compile-time floor must be the same instructions as an empty function.
#include <runlog/runlog.hpp>

using probe_logger = runlog::basic_logger<runlog::level::warning,
                                          runlog::pipeline<runlog::text_formatter, runlog::stderr_sink>>;

int expensive(int x);

extern "C" void probe_empty(probe_logger&, int) {}

extern "C" void probe_below_floor(probe_logger& log, int x) {
    log.debug("value {} and {}", x, 2.5);
    log.info({{"rows", x}}, "rows {}", x);
    log.trace("nothing {}", "here");
    log.event(runlog::events::step_start{});
    RUNLOG_DEBUG(log, "expensive {}", expensive(x));
}

extern "C" void probe_above_floor(probe_logger& log, int x) { log.error("value {}", x); }
