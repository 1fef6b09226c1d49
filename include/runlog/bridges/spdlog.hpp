#pragma once
/// runlog::spdlog_sink: an spdlog sink that forwards every spdlog record into a runlog logger. Include it
/// only in a program that has spdlog (it includes <spdlog/sinks/base_sink.h>).
#include <mutex>
#include <string>
#include <string_view>

#include <spdlog/details/null_mutex.h>
#include <spdlog/sinks/base_sink.h>

#include "bridge.hpp"

namespace runlog {
inline namespace v0 {

/// An spdlog sink whose records become runlog records: spdlog's level (trace ... critical; off is dropped),
/// its logger's name as `spdlog.<name>` (`spdlog` for the unnamed default logger), its time, thread id and
/// source location (`SPDLOG_INFO(...)` and the other macros fill it in), and the calling thread's run and
/// step. Add it to spdlog loggers used on the threads that run steps: a logger with spdlog's async thread
/// pool calls it from the pool's thread, where no step is known. Its level is spdlog's sink level; as a
/// bridge (`name`, by default "spdlog") it also has one of its own that config.yaml can set.
template <class Mutex>
class spdlog_sink final : public spdlog::sinks::base_sink<Mutex> {
public:
    template <class Logger>
    explicit spdlog_sink(Logger& logger, std::string name = "spdlog") : bridge_(logger, std::move(name)) {}

    /// The runlog level of an spdlog level; off (and anything unknown) has none.
    static bool map_level(spdlog::level::level_enum l, level* out) noexcept {
        switch (l) {
            case spdlog::level::trace: *out = level::trace; return true;
            case spdlog::level::debug: *out = level::debug; return true;
            case spdlog::level::info: *out = level::info; return true;
            case spdlog::level::warn: *out = level::warning; return true;
            case spdlog::level::err: *out = level::error; return true;
            case spdlog::level::critical: *out = level::critical; return true;
            default: return false;
        }
    }

    external_logger& bridge() noexcept { return bridge_; }

protected:
    void sink_it_(const spdlog::details::log_msg& msg) override {
        level l{};
        if (!map_level(msg.level, &l) || !bridge_.should_log(l)) return;
        const std::string_view spd_name(msg.logger_name.data(), msg.logger_name.size());
        std::string logger_name = bridge_.name();
        if (!spd_name.empty()) logger_name.append(".").append(spd_name);
        bridge_.send({.lvl = l,
                      .text = std::string_view(msg.payload.data(), msg.payload.size()),
                      .logger_name = logger_name,
                      .file = msg.source.filename,
                      .line = msg.source.line > 0 ? static_cast<std::uint32_t>(msg.source.line) : 0,
                      .function = msg.source.funcname,
                      .thread = msg.thread_id,
                      .time = std::chrono::time_point_cast<record::time_point::duration>(msg.time)});
    }
    void flush_() override {}

private:
    external_logger bridge_;
};

using spdlog_sink_mt = spdlog_sink<std::mutex>;                      ///< for spdlog loggers shared by threads
using spdlog_sink_st = spdlog_sink<spdlog::details::null_mutex>;  ///< for a logger one thread uses

}  // namespace v0
}  // namespace runlog
