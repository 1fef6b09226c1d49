// Writes JSON lines made from hostile strings to <prefix>.jsonl and the raw strings, hex-encoded,
// to <prefix>.expected, for check_hostile_json.py to read back with an independent JSON parser.
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include <runlog/runlog.hpp>

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s OUTPUT_PREFIX\n", argv[0]);
        return 2;
    }
    const std::string prefix = argv[1];
    std::vector<std::string> inputs = {
        "plain text",
        "quotes \" and backslashes \\ and \\\" together",
        "slash / and unicode \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
        "lone continuation \x80 and \xbf",
        "bad leads \xc0\xaf \xc1\xbf \xf5\x80\x80\x80 \xff \xfe",
        "overlong \xe0\x80\xaf and \xf0\x80\x80\xaf",
        "surrogate \xed\xa0\x80 and \xed\xbf\xbf",
        "above max \xf4\x90\x80\x80",
        "truncated at end \xe2\x82",
        "truncated four \xf0\x9f\x98",
        "",
    };
    std::string controls;
    for (int c = 0; c < 0x20; ++c) controls.push_back(static_cast<char>(c));
    controls += "\x7f end";
    inputs.push_back(controls);
    std::mt19937_64 rng(20261125);
    for (int i = 0; i < 50; ++i) {
        std::string bin(static_cast<std::size_t>(rng() % 4096), '\0');
        for (auto& ch : bin) ch = static_cast<char>(rng() & 0xff);
        inputs.push_back(bin);
    }
    std::string huge(1 << 20, 'x');
    for (std::size_t i = 0; i < huge.size(); i += 997) huge[i] = static_cast<char>(rng() & 0xff);
    inputs.push_back(huge);

    {
        auto log = runlog::make_logger(runlog::pipeline(
            "json", runlog::json_formatter{}, runlog::file_sink(prefix + ".jsonl", {.truncate = true})));
        runlog::scoped_context ctx({.run_id = "run\"id\n", .job = "job\xff", .step = "step\\"});
        for (const auto& s : inputs) log.info({{"value", s}, {"key\"\x01\xfe", 1}}, "{}", s);
    }
    std::FILE* f = std::fopen((prefix + ".expected").c_str(), "wb");
    if (!f) return 1;
    for (const auto& s : inputs) {
        for (const char c : s) std::fprintf(f, "%02x", static_cast<unsigned>(static_cast<unsigned char>(c)));
        std::fputc('\n', f);
    }
    return std::fclose(f) == 0 ? 0 : 1;
}
