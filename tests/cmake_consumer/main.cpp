#include <runlog/runlog.hpp>

#include "app_logger.hpp"

#if defined(RUNLOG_CONSUMER_EXPECT_COMPILED) && !defined(RUNLOG_SEPARATE)
#error "runlog::compiled must bring RUNLOG_SEPARATE to its users"
#endif

int other();

int main() {
    auto sink = runlog::memory_sink{};
    auto log = runlog::make_logger(runlog::pipeline("memory", runlog::json_formatter{}, sink));
    log.info({{"rows", 3}}, "consumer {}", "works");
    runlog::info("hello from a consumer project");
    auto app_sink = runlog::memory_sink{};
    app_logger app("app", runlog::pipeline("memory", runlog::json_formatter{}, app_sink));
    app.debug("own logger type {}", 2);
    return sink.text().find("\"body\":\"consumer works\"") != std::string::npos && other() == 7 &&
                   app_sink.text().find("\"body\":\"own logger type 2\"") != std::string::npos
               ? 0
               : 1;
}
