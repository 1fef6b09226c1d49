#pragma once
// What the bridge tests share: a logger with a quiet console, and a stored run's lines by logger name.
#include <fstream>
#include <string>
#include <vector>

#include <runlog/runlog.hpp>

#include "../support.hpp"

namespace bridge_tests {

/// A logger that keeps its console quiet (errors only) and a run stored under a temporary directory.
struct fixture {
    test_support::temp_dir dir;
    runlog::memory_sink console;
    decltype(runlog::make_logger("etl", runlog::pipeline("console", runlog::text_formatter{}, console,
                                                         runlog::level::critical))) log =
        runlog::make_logger("etl", runlog::pipeline("console", runlog::text_formatter{}, console, runlog::level::critical));

    std::string base() const { return dir.path + "/storage"; }
    runlog::run_options options(const std::string& id = "run1") const { return {.run_id = id, .base_dir = base()}; }
    /// The lines of the run's events.jsonl that come from logger `name`.
    std::vector<std::string> lines_from(const std::string& name, const std::string& id = "run1") const {
        std::ifstream in(base() + "/" + id + "/events.jsonl");
        std::vector<std::string> out;
        for (std::string line; std::getline(in, line);)
            if (line.find("\"logger\":\"" + name + "\"") != std::string::npos) out.push_back(line);
        return out;
    }
};

inline bool has(const std::string& line, const std::string& part) { return line.find(part) != std::string::npos; }

}  // namespace bridge_tests
