#include <catch2/catch.hpp>

#include <cstdlib>

#include "support.hpp"

using namespace test_support;

TEST_CASE("the full preset is Dagster's console line", "[text][golden]") {
    runlog::record r;
    fill_fixed(r);
    r.event = &runlog::events::step_start::info;
    r.set_message("Started execution of step \"taxi_zones_file\".");
    runlog::text_formatter f(runlog::text_formatter::full_pattern, {.utc = true});
    CHECK(render(f, r) ==
          "2026-11-24 12:40:05 +0000 - runlog - DEBUG - __ASSET_JOB_0 - 5f2a9b1c-0d3e-4f5a-8b6c-7d8e9f0a1b2c - 86387 "
          "- taxi_zones_file - STEP_START - Started execution of step \"taxi_zones_file\".\n");
}

TEST_CASE("the short preset is the docs' sample", "[text][golden]") {
    runlog::record r;
    fill_fixed(r);
    r.event = &runlog::events::step_start::info;
    r.set_message("Started execution of step \"taxi_zones_file\".");
    CHECK(render(runlog::text_formatter::brief({.utc = true}), r) ==
          "12:40:05 - DEBUG - taxi_zones_file - STEP_START - Started execution of step \"taxi_zones_file\".\n");
}

TEST_CASE("empty parts are skipped with their separator", "[text][golden]") {
    runlog::record r;
    fill_fixed(r, runlog::level::info);
    r.ctx = {};
    r.set_message("Processed 12 records");
    runlog::text_formatter f(runlog::text_formatter::full_pattern, {.utc = true});
    CHECK(render(f, r) == "2026-11-24 12:40:05 +0000 - runlog - INFO - 86387 - Processed 12 records\n");
}

TEST_CASE("patterns mix literal text and fields", "[text][golden]") {
    runlog::record r;
    fill_fixed(r, static_cast<runlog::level>(25));
    r.set_message("m");
    const runlog::field fs[] = {{"rows", 3}, {"table", "taxi zones"}, {"ok", true}, {"ratio", 0.5}};
    r.fields = fs;
    runlog::text_formatter f("[{date}T{time}.{msec}|{usec}] {{{level}}} {levelno} - {run_id8} - {thread} - {fields}",
                             {.utc = true});
    CHECK(render(f, r) == "[2026-11-24T12:40:05.123|123456] {Level 25} 25 - 5f2a9b1c - 86390 - rows=3 "
                          "table=\"taxi zones\" ok=true ratio=0.5\n");
    runlog::text_formatter iso("{iso} {logger}", {.utc = true});
    CHECK(render(iso, r) == "2026-11-24T12:40:05.123456Z runlog\n");
}

TEST_CASE("a part of only literal text is always printed", "[text]") {
    runlog::record r;
    fill_fixed(r);
    r.ctx = {};
    r.set_message("x");
    runlog::text_formatter f("A - {step} - B - {message}", {.utc = true});
    CHECK(render(f, r) == "A - B - x\n");
}

TEST_CASE("bad patterns are rejected with the offset", "[text]") {
    CHECK_THROWS_WITH(runlog::text_formatter("{time} - {nope}"),
                      "text pattern \"{time} - {nope}\" at offset 9: unknown field '{nope}'");
    CHECK_THROWS_WITH(runlog::text_formatter("{time"), "text pattern \"{time\" at offset 0: '{' is not closed");
    CHECK_THROWS_WITH(runlog::text_formatter("a } b"),
                      "text pattern \"a } b\" at offset 2: '}' without '{' (write '}}' for a brace)");
    CHECK_THROWS_AS(runlog::text_formatter("{}"), runlog::format_error);
}

TEST_CASE("the level is coloured only when asked", "[text]") {
    runlog::record r;
    fill_fixed(r, runlog::level::error);
    r.set_message("boom");
    auto f = runlog::text_formatter::brief({.utc = true});
    CHECK(render(f, r, true) == "12:40:05 - \x1b[31mERROR\x1b[0m - __ASSET_JOB_0 - taxi_zones_file - boom\n");
    CHECK(render(f, r, false) == "12:40:05 - ERROR - __ASSET_JOB_0 - taxi_zones_file - boom\n");
    r.lvl = runlog::level::critical;
    CHECK(render(f, r, true).find("\x1b[1;31mCRITICAL\x1b[0m") != std::string::npos);
}

TEST_CASE("colours follow the mode, the terminal and NO_COLOR", "[text]") {
    auto mem = runlog::memory_sink{};
    using mode = runlog::color_mode;
    auto make = [&](mode m) { return runlog::pipeline("p", runlog::text_formatter("{level}", {.color = m}), mem); };
    CHECK_FALSE(make(mode::automatic).colored());  // a memory sink is no terminal
    CHECK(make(mode::always).colored());
    CHECK_FALSE(make(mode::never).colored());
    ::setenv("NO_COLOR", "1", 1);
    CHECK_FALSE(runlog::detail::use_color(mode::automatic, runlog::stderr_sink{}));
    ::unsetenv("NO_COLOR");
    CHECK(runlog::detail::use_color(mode::automatic, runlog::stderr_sink{}) == (::isatty(2) == 1));
}

TEST_CASE("the local time zone is applied", "[text]") {
    const char* old = std::getenv("TZ");
    std::string saved = old ? old : "";
    ::setenv("TZ", "UTC+05:30", 1);  // POSIX sign: five and a half hours west of UTC
    ::tzset();
    runlog::record r;
    fill_fixed(r);
    r.set_message("m");
    runlog::text_formatter f("{date} {time} {tz}");
    CHECK(render(f, r) == "2026-11-24 07:10:05 -0530\n");
    if (old) ::setenv("TZ", saved.c_str(), 1);
    else ::unsetenv("TZ");
    ::tzset();
}

TEST_CASE("civil dates are right across eras", "[text]") {
    const runlog::text_formatter f("{date} {time}", {.utc = true, .color = runlog::color_mode::never});
    auto at = [&](std::int64_t secs) {
        runlog::record r;
        fill_fixed(r);
        r.time = runlog::record::time_point(std::chrono::seconds(secs));
        return render(f, r);
    };
    CHECK(at(0) == "1970-01-01 00:00:00\n");
    CHECK(at(951782400) == "2000-02-29 00:00:00\n");
    CHECK(at(-1) == "1969-12-31 23:59:59\n");
    CHECK(at(4102444799) == "2099-12-31 23:59:59\n");
}

TEST_CASE("the full preset writes what its pattern does, part by part", "[text]") {
    // text_formatter{} writes the full layout directly; the same pattern given as text goes piece by piece.
    for (const bool utc : {true, false}) {
        const runlog::text_formatter preset({.utc = utc, .color = runlog::color_mode::never});
        const runlog::text_formatter pattern(runlog::text_formatter::full_pattern,
                                             {.utc = utc, .color = runlog::color_mode::never});
        for (int mask = 0; mask < 64; ++mask) {
            runlog::record r;
            fill_fixed(r, mask & 32 ? runlog::level::warning : static_cast<runlog::level>(25));
            if (mask & 1) r.logger_name = "";
            if (mask & 2) r.ctx.job = "";
            if (mask & 4) r.ctx.run_id = "";
            if (mask & 8) r.pid = 0;
            if (mask & 16) r.ctx.step = "";
            r.event = mask % 3 ? &runlog::events::step_start::info : nullptr;
            r.set_message(mask % 5 ? "message" : "");
            for (const bool color : {false, true}) {
                INFO("mask " << mask << ", utc " << utc << ", color " << color);
                CHECK(render(preset, r, color) == render(pattern, r, color));
            }
        }
    }
}

TEST_CASE("control characters are escaped, so one record is one line", "[text]") {
    runlog::record r;
    fill_fixed(r);
    const std::string message = std::string("line one\nFAKE - ERROR - forged\r\x1b[2J\tend") + '\0' + "\x7f\\ok é";
    r.set_message(message);  // the record refers to it
    r.logger_name = "log\ngen";
    r.ctx.job = "job\x01";
    r.ctx.step = "step\n";
    const std::string expected_message = "line one\\nFAKE - ERROR - forged\\r\\x1b[2J\\tend\\x00\\x7f\\ok é";
    const runlog::text_options opts{.utc = true, .color = runlog::color_mode::never};
    const runlog::text_formatter preset(opts);
    const runlog::text_formatter pattern(runlog::text_formatter::full_pattern, opts);
    const runlog::text_formatter pieces("{logger}|{job}|{step}|{message}", opts);
    for (const auto* f : {&preset, &pattern}) {
        const auto line = render(*f, r);
        CHECK(line.find('\n') == line.size() - 1);
        CHECK(line.find('\r') == std::string::npos);
        CHECK(line.find('\x1b') == std::string::npos);
        CHECK(line.find('\0') == std::string::npos);
        CHECK(line.find(" - log\\ngen - ") != std::string::npos);
        CHECK(line.find(" - job\\x01 - ") != std::string::npos);
        CHECK(line.find(" - step\\n - ") != std::string::npos);
        CHECK(line.substr(line.size() - 1 - expected_message.size()) == expected_message + "\n");
    }
    CHECK(render(pieces, r) == "log\\ngen|job\\x01|step\\n|" + expected_message + "\n");
    // Fields go logfmt's way: quoted and escaped.
    const runlog::field fs[] = {{"note", "a\nb"}};
    r.fields = fs;
    CHECK(render(runlog::text_formatter("{fields}", opts), r) == "note=\"a\\nb\"\n");
    // Raw output when asked for.
    const runlog::text_formatter raw("{logger}|{message}", {.utc = true, .color = runlog::color_mode::never,
                                                            .escape_control = false});
    CHECK(render(raw, r) == "log\ngen|" + message + "\n");
    // C1 controls (U+009B is a one-character CSI on some terminals, U+0085 is NEL) are escaped too; other
    // two-byte characters starting 0xC2 stay as they are.
    const std::string c1 = "csi \xc2\x9b" "2J nel \xc2\x85 nbsp \xc2\xa0 end \xc2";
    r.set_message(c1);
    CHECK(render(runlog::text_formatter("{message}", opts), r) == "csi \\u009b2J nel \\u0085 nbsp \xc2\xa0 end \xc2\n");
}

TEST_CASE("escaping skips eight plain bytes at a time and still sees every special byte at every offset", "[text][json]") {
    // The scans test words of eight bytes; a special byte at any offset of a word, and at the seams, must be
    // found. Compared with a byte-by-byte reference for text lines and for JSON strings.
    auto text_ref = [](std::string_view s) {
        std::string o;
        for (std::size_t i = 0; i < s.size(); ++i) {
            const auto c = static_cast<unsigned char>(s[i]);
            char b[8];
            if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) >= 0x80 &&
                static_cast<unsigned char>(s[i + 1]) <= 0x9F) {
                std::snprintf(b, sizeof b, "\\u00%02x", static_cast<unsigned char>(s[++i]));
                o += b;
            } else if (c == '\n') o += "\\n";
            else if (c == '\r') o += "\\r";
            else if (c == '\t') o += "\\t";
            else if (c < 0x20 || c == 0x7F) {
                std::snprintf(b, sizeof b, "\\x%02x", c);
                o += b;
            } else o += static_cast<char>(c);
        }
        return o;
    };
    auto json_ref = [](std::string_view s) {
        std::string o;
        for (const char ch : s) {
            const auto c = static_cast<unsigned char>(ch);
            char b[8];
            if (c == '"') o += "\\\"";
            else if (c == '\\') o += "\\\\";
            else if (c == '\n') o += "\\n";
            else if (c == '\r') o += "\\r";
            else if (c == '\t') o += "\\t";
            else if (c == '\b') o += "\\b";
            else if (c == '\f') o += "\\f";
            else if (c < 0x20) {
                std::snprintf(b, sizeof b, "\\u%04x", c);
                o += b;
            } else o += ch;  // ASCII only in this test: UTF-8 has its own tests
        }
        return o;
    };
    const unsigned char specials[] = {0x00, 0x01, 0x09, 0x0A, 0x1B, 0x1F, 0x7F, '"', '\\', 0xC2, 0x20, 0x7E, 'a'};
    for (std::size_t len = 0; len <= 40; ++len)
        for (std::size_t at = 0; at < len; ++at)
            for (const unsigned char sp : specials) {
                std::string s(len, 'x');
                s[at] = static_cast<char>(sp);
                if (sp == 0xC2 && at + 1 < len) s[at + 1] = static_cast<char>(0x9B);  // a C1 control
                // Through the formatters (the escapers themselves are not visible in the compiled mode).
                runlog::record r;
                fill_fixed(r);
                r.set_message(s);
                CHECK(render(runlog::text_formatter("{message}"), r) == text_ref(s) + "\n");
                if (sp < 0x80)
                    CHECK_THAT(render(runlog::json_formatter({.source_location = false}), r),
                               Catch::Contains(R"("body":")" + json_ref(s) + R"(","logger")"));
            }
}
