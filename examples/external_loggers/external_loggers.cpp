// Everything a program logs lands in its run: lines written to std::clog, SQLite's error log and an spdlog
// logger, inside runlog steps, all reach the run's events.jsonl with their levels and steps. Run it with
// RUNLOG_CONFIG=external_loggers.yaml (beside this file) and the default logger also writes a JSON file,
// from the config alone.
#include <iostream>
#include <memory>

#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include <runlog/bridges/callback.hpp>
#include <runlog/bridges/spdlog.hpp>
#include <runlog/bridges/stream.hpp>
#include <runlog/runlog.hpp>

int main() {
    runlog::configure_from_env();  // handlers:, formatters:, external_loggers: and levels for the default logger
    auto& log = runlog::default_logger();

    // The bridges, made once; each record they make carries the calling thread's run and step.
    runlog::stream_bridge clog_lines(std::clog, log);
    runlog::callback_bridge sqlite(log, "sqlite", [](int code) {
        return (code & 0xff) == SQLITE_WARNING ? runlog::level::warning : runlog::level::error;
    });
    sqlite3_config(SQLITE_CONFIG_LOG, &runlog::callback_bridge::entry, sqlite.user_data());
    auto db_log = std::make_shared<spdlog::logger>("db", std::make_shared<runlog::spdlog_sink_mt>(log));

    runlog::run run("external_loggers");
    run.execute("extract", [&] {
        std::clog << "reading " << 3 << " files\n";  // a library that writes to std::clog
        db_log->info("connected to {}", ":memory:");
    });
    run.execute("load", [&] {
        sqlite3* db = nullptr;
        sqlite3_open(":memory:", &db);
        sqlite3_exec(db, "INSERT INTO missing VALUES (1)", nullptr, nullptr, nullptr);  // SQLite logs the error
        sqlite3_close(db);
        db_log->warn("{} rows rejected", 1);
    });
    sqlite3_shutdown();
    sqlite3_config(SQLITE_CONFIG_LOG, nullptr, nullptr);
    return 0;
}
