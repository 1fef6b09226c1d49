#pragma once
#include "../detail/build.hpp"
#include "../detail/level_enum.hpp"
#include "../format/buffer.hpp"
#include "../record.hpp"
#include "color.hpp"

namespace runlog {
inline namespace v0 {

/// Options of the JSON formatter.
struct json_options {
    bool source_location = true;  ///< add code.filepath, code.lineno and code.function
};

/// OpenTelemetry's severity number for a Python level: TRACE 1, DEBUG 5, INFO 9, WARN 13, ERROR 17, FATAL 21.
constexpr int severity_number(level l) noexcept {
    const int v = static_cast<int>(l);
    if (v < 10) return 1;
    if (v < 20) return 5;
    if (v < 30) return 9;
    if (v < 40) return 13;
    if (v < 50) return 17;
    return 21;
}

/// Formats records as JSON lines with OpenTelemetry's log names: one object per line, timestamp first.
///
/// `{"timestamp":"…Z","severity_text":"INFO","severity_number":9,"body":"…","logger":"runlog",
///   "event_type":"STEP_START","run_id":"…","job_name":"…","step_key":"…","process.pid":1,"thread.id":2,
///   "code.filepath":"…","code.lineno":3,"code.function":"…","attributes":{…fields…}}`; empty context keys
/// are left out, strings are escaped and invalid UTF-8 is replaced by U+FFFD.
class json_formatter {
public:
    json_formatter() = default;
    explicit json_formatter(json_options options) noexcept : options_(options) {}

    /// Whether records show the source location.
    bool uses_location() const noexcept { return options_.source_location; }

    /// JSON never carries colour codes.
    color_mode colors() const noexcept { return color_mode::never; }

    /// Appends one JSON object and a newline.
    RUNLOG_INLINE void format(const record& r, buffer& out, bool color) const;

private:
    json_options options_{};
};

}  // namespace v0
}  // namespace runlog

#if RUNLOG_DEFINITIONS
#include <string_view>

#include "../detail/escape.hpp"
#include "../detail/fields.hpp"
#include "../detail/time.hpp"
#include "../level.hpp"

namespace runlog {
inline namespace v0 {

RUNLOG_INLINE void json_formatter::format(const record& r, buffer& out, bool /*color*/) const {
    using namespace std::string_view_literals;
    out.append(R"({"timestamp":")"sv);
    detail::append_rfc3339(out, r.time);
    out.append(R"(","severity_text":")"sv);
    if (auto n = level_name(r.lvl); !n.empty()) {
        out.append(n);
    } else {
        out.append("Level "sv);
        detail::append_number(out, static_cast<int>(r.lvl));
    }
    out.append(R"(","severity_number":)"sv);
    detail::append_number(out, severity_number(r.lvl));
    out.append(R"(,"body":)"sv);
    detail::append_json_string(out, r.message());
    auto str = [&](std::string_view key, std::string_view v) {
        if (v.empty()) return;
        out.append(key);
        detail::append_json_string(out, v);
    };
    str(R"(,"logger":)"sv, r.logger_name);
    if (r.event) str(R"(,"event_type":)"sv, r.event->name);
    str(R"(,"run_id":)"sv, r.ctx.run_id);
    str(R"(,"job_name":)"sv, r.ctx.job);
    str(R"(,"step_key":)"sv, r.ctx.step);
    if (r.pid) {
        out.append(R"(,"process.pid":)"sv);
        detail::append_number(out, r.pid);
    }
    if (r.thread) {
        out.append(R"(,"thread.id":)"sv);
        detail::append_number(out, r.thread);
    }
    if (options_.source_location && r.location.line() != 0) {
        str(R"(,"code.filepath":)"sv, r.location.file_name());
        out.append(R"(,"code.lineno":)"sv);
        detail::append_number(out, r.location.line());
        str(R"(,"code.function":)"sv, r.location.function_name());
    }
    out.append(R"(,"attributes":{)"sv);
    bool first = true;
    detail::for_each_field(r, [&](const field& f) {
        if (!first) out.push_back(',');
        first = false;
        detail::append_json_string(out, f.key);
        out.push_back(':');
        detail::append_json_value(out, f.value);
    });
    out.append("}}\n"sv);
}

}  // namespace v0
}  // namespace runlog
#endif
