#include <catch2/catch.hpp>

#include "support.hpp"

using namespace test_support;

TEST_CASE("a logfmt line has the golden layout", "[logfmt][golden]") {
    runlog::record r;
    fill_fixed(r, runlog::level::warning);
    r.event = &runlog::events::asset_materialization::info;
    const runlog::field ev[] = {{"asset_key", "taxi_zones_file"}, {"description", ""}};
    const runlog::field call[] = {{"rows", 265}, {"note", "two words"}, {"eq", "a=b"}, {"empty", ""}};
    r.event_fields = ev;
    r.fields = call;
    r.set_message("Materialized value taxi_zones_file.");
    CHECK(render(runlog::logfmt_formatter{}, r) ==
          "time=2026-11-24T12:40:05.123456Z level=warning logger=runlog event=ASSET_MATERIALIZATION "
          "run_id=5f2a9b1c-0d3e-4f5a-8b6c-7d8e9f0a1b2c job=__ASSET_JOB_0 step=taxi_zones_file "
          "msg=\"Materialized value taxi_zones_file.\" asset_key=taxi_zones_file rows=265 note=\"two words\" "
          "eq=\"a=b\" empty=\"\"\n");
}

TEST_CASE("logfmt escapes what would break a line", "[logfmt]") {
    runlog::record r;
    fill_fixed(r, static_cast<runlog::level>(42));
    r.ctx = {};
    r.set_message("line\nbreak \"quoted\" \xff");
    CHECK(render(runlog::logfmt_formatter{}, r) ==
          "time=2026-11-24T12:40:05.123456Z level=42 logger=runlog msg=\"line\\nbreak \\\"quoted\\\" \xef\xbf\xbd\"\n");
}
