// libFuzzer target for the run-time parsers of the core: text formatter patterns and level names.
// A pattern either parses and formats a record, or throws format_error; nothing else may happen. The input is
// also the message, a field and a logger name of a record that the JSON formatter must turn into one valid JSON
// line and the default text formatter into one line without raw control characters.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <runlog/runlog.hpp>

#include "line_checks.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    (void)runlog::try_parse_level(input);
    try {
        (void)runlog::parse_level(input);
    } catch (const runlog::level_error&) {
    }
    {
        runlog::record r;
        r.time = runlog::record::time_point(std::chrono::seconds(1795524005));
        r.ctx = {input, "job", input.substr(0, input.size() / 2)};
        r.logger_name = input.substr(input.size() / 3);
        r.pid = 1;
        r.thread = 2;
        const runlog::field fs[] = {{"k", input}, {input, 1}, {"d", static_cast<double>(size) / 7.0}};
        r.fields = fs;
        r.set_message(input);
        runlog::memory_buffer json, text;
        runlog::json_formatter{}.format(r, json, false);
        line_checks::check_json_line(json.view());
        runlog::text_formatter({.utc = true, .color = runlog::color_mode::never}).format(r, text, false);
        line_checks::check_text_line(text.view());
    }
    try {
        runlog::text_formatter f(input, {.utc = true});
        runlog::record r;
        r.time = runlog::record::time_point(std::chrono::seconds(1795524005));
        r.ctx = {"run", "job", "step"};
        r.pid = 1;
        r.thread = 2;
        const runlog::field fs[] = {{"k", input}, {"n", 1}};
        r.fields = fs;
        r.set_message(input);
        runlog::memory_buffer out;
        f.format(r, out, true);
        runlog::json_formatter{}.format(r, out, false);
        runlog::logfmt_formatter{}.format(r, out, false);
    } catch (const runlog::format_error&) {
    }
    return 0;
}
