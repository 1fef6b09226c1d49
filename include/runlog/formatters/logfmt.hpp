#pragma once
#include "../detail/build.hpp"
#include "../format/buffer.hpp"
#include "../record.hpp"
#include "color.hpp"

namespace runlog {
inline namespace v0 {

/// Formats records as logfmt: `time=… level=info event=STEP_START run_id=… job=… step=… msg="…" key=value`.
class logfmt_formatter {
public:
    /// logfmt lines do not show the source location.
    bool uses_location() const noexcept { return false; }
    /// logfmt never carries colour codes.
    color_mode colors() const noexcept { return color_mode::never; }

    /// Appends one line and a newline; empty context keys are left out.
    RUNLOG_INLINE void format(const record& r, buffer& out, bool color) const;
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

RUNLOG_INLINE void logfmt_formatter::format(const record& r, buffer& out, bool /*color*/) const {
    using namespace std::string_view_literals;
    out.append("time="sv);
    detail::append_rfc3339(out, r.time);
    out.append(" level="sv);
    if (auto n = level_name(r.lvl); !n.empty()) {
        for (char c : n) out.push_back(static_cast<char>(c - 'A' + 'a'));
    } else {
        detail::append_number(out, static_cast<int>(r.lvl));
    }
    auto kv = [&](std::string_view key, std::string_view v) {
        if (v.empty()) return;
        out.append(key);
        detail::append_logfmt_value(out, v);
    };
    kv(" logger="sv, r.logger_name);
    if (r.event) kv(" event="sv, r.event->name);
    kv(" run_id="sv, r.ctx.run_id);
    kv(" job="sv, r.ctx.job);
    kv(" step="sv, r.ctx.step);
    out.append(" msg="sv);
    detail::append_logfmt_value(out, r.message());
    detail::append_logfmt_fields(out, r, true);
    out.push_back('\n');
}

}  // namespace v0
}  // namespace runlog
#endif
