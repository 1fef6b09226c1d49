#include <runlog/runlog.hpp>

int main() {
    auto sink = runlog::memory_sink{};
    auto log = runlog::make_logger(runlog::pipeline("memory", runlog::json_formatter{}, sink));
    log.info({{"rows", 3}}, "consumer {}", "works");
    runlog::info("hello from a consumer project");
    return sink.text().find("\"body\":\"consumer works\"") != std::string::npos ? 0 : 1;
}
