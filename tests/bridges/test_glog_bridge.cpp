// The glog bridge, in a file of its own: glog defines a CHECK macro of its own, which must not replace
// Catch's (it is undefined here before Catch is included).
#include <runlog/bridges/glog.hpp>
#undef CHECK

#include <string>

#include <catch2/catch.hpp>

#include "fixture.hpp"

using bridge_tests::fixture;
using bridge_tests::has;

TEST_CASE("glog_sink: glog messages reach the run with level, file, line and step", "[bridges][glog]") {
    fixture f;
    static bool initialised = false;
    if (!initialised) {
        FLAGS_log_dir = f.dir.path;  // glog's own files, out of the way
        FLAGS_logtostderr = false;
        FLAGS_stderrthreshold = google::GLOG_FATAL;
        google::InitGoogleLogging("runlog_bridge_tests");
        initialised = true;
    }
    int line = 0;
    {
        runlog::run run(f.log, "etl", f.options());
        runlog::glog_sink sink(f.log);
        {
            runlog::step step(run, "train");
            line = __LINE__ + 1;
            LOG(WARNING) << "loss is " << 0.25;
            LOG(ERROR) << "diverged";
            LOG(INFO) << "epoch " << 3;
        }
    }
    LOG(INFO) << "after the sink ended: not in the run";
    const auto lines = f.lines_from("glog");
    REQUIRE(lines.size() == 3);
    CHECK(has(lines[0], "\"body\":\"loss is 0.25\""));
    CHECK(has(lines[0], "\"severity_text\":\"WARNING\""));
    CHECK(has(lines[0], "\"code.lineno\":" + std::to_string(line)));
    CHECK(has(lines[1], "\"severity_text\":\"ERROR\""));
    CHECK(has(lines[2], "\"body\":\"epoch 3\""));
    for (const auto& l : lines) CHECK(has(l, "\"step_key\":\"train\""));
}

