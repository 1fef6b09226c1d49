// libFuzzer target for the config.yaml parser: any input either applies to a logger or is refused
// with a config_error whose message starts with the file name and a line:column inside the input;
// a refused input leaves the levels unchanged. Nothing else may happen (no crash, hang or leak).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <runlog/runlog.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    static auto log = runlog::make_logger<runlog::level::debug>(
        runlog::pipeline("console", runlog::text_formatter("{message}"), runlog::null_sink{}, runlog::level::info),
        runlog::pipeline("json_file", runlog::json_formatter{}, runlog::null_sink{}, runlog::level::info));
    log.set_level(runlog::level::info);
    try {
        const runlog::config c = runlog::parse_config(input, "fuzz.yaml");
        (void)runlog::apply_config(log, c);
    } catch (const runlog::config_error& e) {
        const auto& p = e.problem();
        const std::string what = e.what();
        if (what.rfind("fuzz.yaml:", 0) != 0 || p.line < 1 || p.column < 1 || p.message.empty()) std::abort();
        // Lines are counted in the input: never past its last line.
        std::size_t lines = 1;
        for (char ch : input) lines += ch == '\n';
        if (static_cast<std::size_t>(p.line) > lines) std::abort();
        if (log.get_level("console") != runlog::level::info || log.get_level("json_file") != runlog::level::info)
            std::abort();
    }
    return 0;
}
