// A plugin with its own copy of runlog (header-only, hidden symbols), as a program may dlopen two of: the
// capture test checks that only one of the copies can capture stdout and stderr at a time.
#include <memory>
#include <string>
#include <vector>

#include <runlog/runlog.hpp>

namespace {
auto plugin_logger = runlog::make_logger("plugin", runlog::pipeline("memory", runlog::text_formatter{}, runlog::memory_sink{}));
std::unique_ptr<runlog::run> the_run;
std::unique_ptr<runlog::capture> the_capture;
std::string error;
}  // namespace

/// Opens a run under base_dir and captures it; returns null, or the error's message.
extern "C" [[gnu::visibility("default")]] const char* plugin_capture_start(const char* base_dir) {
    try {
        the_run = std::make_unique<runlog::run>(plugin_logger, "plugin", runlog::run_options{.base_dir = base_dir});
        the_capture = std::make_unique<runlog::capture>(*the_run, std::vector<std::string>{});
        return nullptr;
    } catch (const std::exception& e) {
        error = e.what();
        the_run.reset();
        return error.c_str();
    }
}

extern "C" [[gnu::visibility("default")]] void plugin_capture_end() {
    the_capture.reset();
    the_run.reset();
}
