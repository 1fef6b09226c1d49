#include <catch2/catch.hpp>

#include <runlog/runlog.hpp>

using runlog::level;

TEST_CASE("levels carry Python's numbers", "[level]") {
    CHECK(static_cast<int>(level::trace) == 5);
    CHECK(static_cast<int>(level::debug) == 10);
    CHECK(static_cast<int>(level::info) == 20);
    CHECK(static_cast<int>(level::warning) == 30);
    CHECK(static_cast<int>(level::error) == 40);
    CHECK(static_cast<int>(level::critical) == 50);
    CHECK(level::debug < level::info);
    CHECK(static_cast<level>(25) > level::info);
}

TEST_CASE("level names parse case-insensitively, with WARN and FATAL", "[level]") {
    CHECK(runlog::parse_level("debug") == level::debug);
    CHECK(runlog::parse_level("DEBUG") == level::debug);
    CHECK(runlog::parse_level("Info") == level::info);
    CHECK(runlog::parse_level("warning") == level::warning);
    CHECK(runlog::parse_level("WARN") == level::warning);
    CHECK(runlog::parse_level("warn") == level::warning);
    CHECK(runlog::parse_level("ERROR") == level::error);
    CHECK(runlog::parse_level("critical") == level::critical);
    CHECK(runlog::parse_level("FATAL") == level::critical);
    CHECK(runlog::parse_level("trace") == level::trace);
}

TEST_CASE("any integer is a level", "[level]") {
    CHECK(runlog::parse_level("25") == static_cast<level>(25));
    CHECK(runlog::parse_level("0") == static_cast<level>(0));
    CHECK(runlog::parse_level("-3") == static_cast<level>(-3));
    CHECK(runlog::parse_level("2147483647") == static_cast<level>(2147483647));
    CHECK_FALSE(runlog::try_parse_level("2147483648"));
    CHECK_FALSE(runlog::try_parse_level("99999999999999999999"));
    CHECK(runlog::to_string(static_cast<level>(25)) == "Level 25");
    CHECK(runlog::to_string(level::warning) == "WARNING");
}

TEST_CASE("a bad level is rejected with Dagster's wording", "[level]") {
    for (const char* bad : {"EROR", "", " info", "info ", "1.5", "-", "+", "0x10", "debugx"}) {
        CAPTURE(bad);
        CHECK_FALSE(runlog::try_parse_level(bad));
    }
    CHECK_THROWS_AS(runlog::parse_level("EROR"), runlog::level_error);
    CHECK_THROWS_WITH(runlog::parse_level("EROR"),
                      "Bad value for log level EROR: permissible values are CRITICAL, ERROR, WARNING, INFO, DEBUG, "
                      "TRACE or an integer.");
}

TEST_CASE("level parsing works at compile time", "[level]") {
    static_assert(runlog::try_parse_level("error") == level::error);
    static_assert(!runlog::try_parse_level("nope"));
    static_assert(runlog::level_name(level::critical) == "CRITICAL");
    SUCCEED();
}

TEST_CASE("levels format as their names", "[level]") {
    CHECK(runlog::format("{}", level::warning) == "WARNING");
    CHECK(runlog::format("{:>8}|", level::info) == "    INFO|");
    CHECK(runlog::format("{}", level{25}) == "Level 25");
}
