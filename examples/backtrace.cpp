// A pipeline at INFO that keeps the last DEBUG lines in a backtrace and writes them out before an ERROR, and a
// warning in a hot loop limited to one per 1000 calls. Prints to stderr.
#include <runlog/runlog.hpp>

#include <string>

int main() {
    // Dagster's brief layout with the fields after the message (the backtrace's marks, `suppressed`).
    auto log = runlog::make_logger("etl", runlog::pipeline("console", runlog::text_formatter("{time} - {level} - {message} {fields}"),
                                                           runlog::stderr_sink{}, runlog::level::info)
                                              .with_backtrace({.capacity = 3}));
    const std::string table = "zones";
    log.info("loading {}", table);
    for (int row = 1; row <= 64; ++row) log.debug("parsed row {} of {}", row, table);  // kept, not written
    log.error("constraint violated in {}", table);  // the last 3 DEBUG lines first, then this

    for (int attempt = 0; attempt < 2500; ++attempt)
        RUNLOG_EVERY_N(log, runlog::level::warning, 1000, "retrying {} (attempt {})", table, attempt);
    return 0;
}
