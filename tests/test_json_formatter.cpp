#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "support.hpp"

using namespace test_support;

TEST_CASE("a JSON line has the golden layout", "[json][golden]") {
    runlog::record r;
    fill_fixed(r);
    r.event = &runlog::events::step_success::info;
    const runlog::field ev[] = {{"duration_ms", 1170.5}};
    const runlog::field call[] = {{"rows", -3}, {"bytes", 18446744073709551615ULL}, {"ok", false}, {"table", "zones"}};
    r.event_fields = ev;
    r.fields = call;
    r.set_message("Finished execution of step \"taxi_zones_file\" in 1.17s.");
    CHECK(render(runlog::json_formatter{}, r) ==
          R"({"timestamp":"2026-11-24T12:40:05.123456Z","severity_text":"DEBUG","severity_number":5,)"
          R"("body":"Finished execution of step \"taxi_zones_file\" in 1.17s.","logger":"runlog",)"
          R"("event_type":"STEP_SUCCESS","run_id":"5f2a9b1c-0d3e-4f5a-8b6c-7d8e9f0a1b2c","job_name":"__ASSET_JOB_0",)"
          R"("step_key":"taxi_zones_file","process.pid":86387,"thread.id":86390,)"
          R"("attributes":{"duration_ms":1170.5,"rows":-3,"bytes":18446744073709551615,"ok":false,"table":"zones"}})"
          "\n");
}

TEST_CASE("JSON leaves out empty context and may carry the source location", "[json][golden]") {
    runlog::record r;
    fill_fixed(r, runlog::level::warning);
    r.ctx = {};
    r.location = runlog::source_location::current();
    r.set_message("w");
    const auto line = render(runlog::json_formatter{}, r);
    CHECK(line.find("\"run_id\"") == std::string::npos);
    CHECK(line.find("\"step_key\"") == std::string::npos);
    CHECK(line.find("\"severity_text\":\"WARNING\",\"severity_number\":13") != std::string::npos);
    CHECK(line.find("\"code.lineno\":" + std::to_string(r.location.line())) != std::string::npos);
    CHECK(line.find("test_json_formatter.cpp") != std::string::npos);
    const auto bare = render(runlog::json_formatter({.source_location = false}), r);
    CHECK(bare.find("code.") == std::string::npos);
}

TEST_CASE("severity numbers follow OpenTelemetry's ranges", "[json]") {
    CHECK(runlog::severity_number(runlog::level::trace) == 1);
    CHECK(runlog::severity_number(runlog::level::debug) == 5);
    CHECK(runlog::severity_number(runlog::level::info) == 9);
    CHECK(runlog::severity_number(static_cast<runlog::level>(25)) == 9);
    CHECK(runlog::severity_number(runlog::level::warning) == 13);
    CHECK(runlog::severity_number(runlog::level::error) == 17);
    CHECK(runlog::severity_number(runlog::level::critical) == 21);
    CHECK(runlog::severity_number(static_cast<runlog::level>(99)) == 21);
}

TEST_CASE("non-finite numbers stay valid JSON", "[json]") {
    runlog::record r;
    fill_fixed(r);
    const runlog::field fs[] = {{"nan", std::numeric_limits<double>::quiet_NaN()},
                                {"inf", std::numeric_limits<double>::infinity()},
                                {"ninf", -std::numeric_limits<double>::infinity()}};
    r.fields = fs;
    r.set_message("m");
    CHECK(render(runlog::json_formatter{}, r).find(R"("attributes":{"nan":"NaN","inf":"Infinity","ninf":"-Infinity"})") !=
          std::string::npos);
}

namespace {
/// s as the JSON formatter writes a message: the inside of the "body" string.
std::string escaped(std::string_view s) {
    runlog::record r;
    fill_fixed(r);
    r.set_message(s);
    const std::string line = render(runlog::json_formatter{}, r);
    const std::string open = R"("body":")", close = R"(","logger":)";
    const auto a = line.find(open), b = line.find(close);
    REQUIRE(a != std::string::npos);
    REQUIRE(b != std::string::npos);
    return line.substr(a + open.size(), b - a - open.size());
}
}  // namespace

TEST_CASE("strings are escaped and invalid UTF-8 replaced", "[json]") {
    CHECK(escaped("plain") == "plain");
    CHECK(escaped("q\"b\\") == "q\\\"b\\\\");
    CHECK(escaped("\n\r\t\b\f") == "\\n\\r\\t\\b\\f");
    CHECK(escaped(std::string_view("\0\x01\x1f", 3)) == "\\u0000\\u0001\\u001f");
    CHECK(escaped("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80") == "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
    const std::string r = "\xef\xbf\xbd";
    CHECK(escaped("\xff") == r);
    CHECK(escaped("a\x80z") == "a" + r + "z");
    CHECK(escaped("\xc0\xaf") == r + r);              // overlong lead: each byte replaced
    CHECK(escaped("\xe0\x80\xaf") == r + r + r);      // E0 needs A0..BF next
    CHECK(escaped("\xed\xa0\x80") == r + r + r);      // surrogate
    CHECK(escaped("\xf4\x90\x80\x80") == r + r + r + r);  // above U+10FFFF
    CHECK(escaped("\xe2\x82") == r);                  // a truncated sequence is one maximal subpart
    CHECK(escaped("\xf0\x9f\x98" "x") == r + "x");
    CHECK(escaped("\xe2\x28\xa1") == r + "(" + r);
}

TEST_CASE("a 1 MB message is written whole", "[json]") {
    runlog::record r;
    fill_fixed(r);
    std::string big(1 << 20, 'a');
    r.set_message(big);
    const auto line = render(runlog::json_formatter{}, r);
    CHECK(line.find("\"body\":\"" + big + "\"") != std::string::npos);
}

TEST_CASE("JSON's source location is short by default: file name, line, and code.function on request", "[json]") {
    runlog::record r;
    fill_fixed(r);
    static constexpr char file[] = "/home/ci/project/src/pipeline/ingest.cpp";
    static constexpr char function[] = "void {anonymous}::worker<T>::run(int) const [with T = int]";
    r.location = runlog::source_location::current();
    const auto at = r.location;  // the real one is this test's; check the shortening on strings below
    const auto line = render(runlog::json_formatter{}, r);
    CHECK(line.find(R"("code.filepath":"test_json_formatter.cpp","code.lineno":)" + std::to_string(at.line()) + "}") !=
          std::string::npos);
    CHECK(line.find("code.function") == std::string::npos);
    CHECK(line.find("attributes") == std::string::npos);  // no fields: no empty object
    const auto with_fn = render(runlog::json_formatter({.function_name = true}), r);
    const auto fn = runlog::detail::short_function_name(at.function_name());  // Catch's generated function
    INFO(with_fn);
    CHECK(fn.name.find_first_of("( ") == std::string_view::npos);
    CHECK(with_fn.find(R"("code.function":")" + std::string(fn.name) + "\"") != std::string::npos);
    const auto full = render(runlog::json_formatter({.function_name = true, .full_location = true}), r);
    CHECK(full.find(std::string(R"("code.filepath":")") + at.file_name() + "\"") != std::string::npos);
    CHECK(full.find(std::string(R"("code.function":")") + at.function_name() + "\"") != std::string::npos);

    using runlog::detail::short_function_name;
    auto shown = [](runlog::detail::function_name_parts p) {
        return p.scope.empty() ? std::string(p.name) : std::string(p.scope) + "::" + std::string(p.name);
    };
    CHECK(shown(short_function_name(function)) == "worker::run");
    CHECK(shown(short_function_name("void {anonymous}::log_one(uint64_t)")) == "log_one");
    CHECK(shown(short_function_name("int main()")) == "main");
    CHECK(shown(short_function_name("bool ns::cls::operator()(const int&) const")) == "cls::operator()");
    CHECK(shown(short_function_name("void ns::cls::operator<<(int)")) == "cls::operator<<");
    CHECK(shown(short_function_name("std::vector<int> a::b::c<x<y>>::get(std::pair<int, int>) &&")) == "c::get");
    CHECK(shown(short_function_name("main()::<lambda()>")) == "main()::<lambda()>");        // kept whole
    CHECK(shown(short_function_name("void (*f())(int)")) == "void (*f())(int)");            // kept whole
    CHECK(shown(short_function_name("")).empty());
    CHECK(runlog::detail::file_base_name(file) == "ingest.cpp");
    CHECK(runlog::detail::file_base_name("C:\\src\\a.cpp") == "a.cpp");
    CHECK(runlog::detail::file_base_name("plain.cpp") == "plain.cpp");
}
