// expect: OK
#include <runlog/runlog.hpp>

int main() {
    runlog::info("{} {}", 1, 2);
    auto log = runlog::make_logger(runlog::pipeline("m", runlog::json_formatter{}, runlog::null_sink{}));
    log.warning({{"rows", 1}}, "{} {:>8.3f} {:x}", "a", 2.5, 255u);
    RUNLOG_ERROR(log, "{:d}", 42);
}
