// expect: format_error_unused_argument
#include <runlog/runlog.hpp>

int main() {
    auto log = runlog::make_logger(runlog::pipeline("m", runlog::json_formatter{}, runlog::null_sink{}));
    log.warning({{"rows", 1}}, "{}", 1, 2);
}
