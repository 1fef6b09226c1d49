#pragma once
#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string_view>

#include "detail/build.hpp"
#include "fields.hpp"
#include "format/buffer.hpp"
#include "record.hpp"

namespace runlog {
inline namespace v0 {

/// A typed execution event: static `info` (name, default level), `fields()` and `message(out, ctx)`.
template <class E>
concept event_type = requires(const E& e, buffer& out, const context& c) {
    { E::info } -> std::convertible_to<event_info>;
    { e.fields() };
    { std::span<const field>(e.fields()) };
    { e.message(out, c) };
};

namespace detail {

/// The step an event speaks of: its own step_key when it has one, else the thread's step.
template <class E>
constexpr std::string_view event_step(const E& e, const context& c) noexcept {
    if constexpr (requires { e.step_key; }) {
        if (!e.step_key.empty()) return e.step_key;
    }
    return c.step;
}

/// Makes r a record of event e: its type, its own fields (kept alive by the caller in own), the call's
/// extra fields, its step and its message.
template <class E, class Own>
void set_event(record& r, const E& e, const Own& own, std::initializer_list<field> extra) noexcept {
    r.event = &E::info;
    r.event_fields = std::span<const field>(own);
    r.fields = std::span<const field>(extra.begin(), extra.size());
    r.ctx.step = event_step(e, r.ctx);
    r.set_message(&e, [](const void* self, const record& rec, buffer& out) {
        static_cast<const E*>(self)->message(out, rec.ctx);
    });
}

/// Appends a duration the way Dagster prints one: 0.83ms, 533ms, 1.17s, 4m52s, 1h4m.
RUNLOG_INLINE void format_duration(buffer& out, double ms);

}  // namespace detail

}  // namespace v0
}  // namespace runlog

#if RUNLOG_DEFINITIONS
#include <cstdint>

#include "format.hpp"

namespace runlog {
inline namespace v0 {

RUNLOG_INLINE void detail::format_duration(buffer& out, double ms) {
    if (!(ms >= 0)) ms = 0;  // also maps NaN to zero
    auto two_decimals = [&](double v) {
        // Python's str(round(v, 2)): at least one decimal, trailing zeros dropped.
        auto hundredths = static_cast<std::uint64_t>(__builtin_llround(v * 100));
        format_to(out, "{}.", hundredths / 100);
        auto frac = hundredths % 100;
        if (frac == 0)
            out.push_back('0');
        else if (frac % 10 == 0)
            format_to(out, "{}", frac / 10);
        else
            format_to(out, "{:02}", frac);
    };
    if (ms < 10) {
        two_decimals(ms);
        out.append(std::string_view("ms"));
    } else if (ms < 1000) {
        format_to(out, "{}ms", static_cast<std::uint64_t>(ms));
    } else if (ms < 60'000) {
        two_decimals(ms / 1000);
        out.push_back('s');
    } else if (ms < 3'600'000) {
        auto total_s = static_cast<std::uint64_t>(ms / 1000);
        format_to(out, "{}m{}s", total_s / 60, total_s % 60);
    } else {
        auto total_m = static_cast<std::uint64_t>(ms / 60'000);
        format_to(out, "{}h{}m", total_m / 60, total_m % 60);
    }
}

}  // namespace v0
}  // namespace runlog
#endif
