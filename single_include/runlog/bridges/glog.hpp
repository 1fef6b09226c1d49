#pragma once
/// runlog::glog_sink: a google::LogSink that forwards every glog message into a runlog logger. Include it
/// only in a program that has glog (0.6 or later: it includes <glog/logging.h>).
#include <chrono>
#include <string>
#include <string_view>

#include <glog/logging.h>

#include "bridge.hpp"

namespace runlog {
inline namespace v0 {

/// While alive, every glog message (`LOG(INFO)`, `LOG(WARNING)`, `VLOG(n)` ...) also becomes a runlog record:
/// INFO is info, WARNING warning, ERROR error, FATAL critical (glog then aborts, as it does without the
/// sink), with glog's time, file and line, logger name `glog` (or the name given), and the calling thread's
/// run and step. glog keeps writing its own outputs; if runlog is to be the only one, set
/// `FLAGS_stderrthreshold = google::GLOG_FATAL` and `google::SetLogDestination(severity, "")` for each
/// severity. Not `FLAGS_minloglevel`: it drops messages before they reach any sink, this one included.
class glog_sink final : public google::LogSink {
public:
    template <class Logger>
    explicit glog_sink(Logger& logger, std::string name = "glog") : bridge_(logger, std::move(name)) {
        google::AddLogSink(this);
    }
    glog_sink(const glog_sink&) = delete;
    glog_sink& operator=(const glog_sink&) = delete;
    ~glog_sink() override { google::RemoveLogSink(this); }

    static level map_level(google::LogSeverity s) noexcept {
        switch (s) {
            case google::GLOG_INFO: return level::info;
            case google::GLOG_WARNING: return level::warning;
            case google::GLOG_ERROR: return level::error;
            default: return level::critical;
        }
    }

    using google::LogSink::send;
    void send(google::LogSeverity severity, const char* full_filename, const char* /*base_filename*/, int line,
              const google::LogMessageTime& time, const char* message, size_t message_len) override {
        const auto when = std::chrono::system_clock::from_time_t(time.timestamp()) + std::chrono::microseconds(time.usec());
        bridge_.send({.lvl = map_level(severity),
                      .text = std::string_view(message, message_len),
                      .file = full_filename,
                      .line = line > 0 ? static_cast<std::uint32_t>(line) : 0,
                      .time = std::chrono::time_point_cast<record::time_point::duration>(when)});
    }

    external_logger& bridge() noexcept { return bridge_; }

private:
    external_logger bridge_;
};

}  // namespace v0
}  // namespace runlog
