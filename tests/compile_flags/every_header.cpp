// Every public header and a use of each subsystem, for the compiler-flag tests in tests/CMakeLists.txt:
// warning-clean under the strictest common warning set, and a clear error or a working build under
// -fno-exceptions and -fno-rtti.
#include <runlog/runlog.hpp>
#if __has_include(<runlog/crash.hpp>)  // the headers of include/; the single header has them all
#include <runlog/async.hpp>
#include <runlog/capture.hpp>
#include <runlog/config.hpp>
#include <runlog/crash.hpp>
#endif

int main() {
    auto log = runlog::make_logger(runlog::async(runlog::pipeline("file", runlog::json_formatter{}, runlog::file_sink("x.log"))),
                                   runlog::pipeline("console", runlog::text_formatter{}, runlog::stderr_sink{}));
    runlog::install_crash_handler({.time_limit = std::chrono::milliseconds(500)});
    runlog::run run(log, "job", {.store = false});
    run.execute("step", [&](runlog::step& s) {
        log.info("{} {} {:.2f}", 1, -2L, 3.5);
        s.fail("kind", "text");
    });
    return runlog::configure_from_env() ? 0 : 1;
}
