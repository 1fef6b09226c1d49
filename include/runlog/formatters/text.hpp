#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "../detail/build.hpp"
#include "../detail/level_enum.hpp"
#include "../format/buffer.hpp"
#include "../record.hpp"
#include "color.hpp"

namespace runlog {
inline namespace v0 {

namespace detail {
class second_cache;
}  // namespace detail

/// Options of the text formatter.
struct text_options {
    bool utc = false;                            ///< UTC instead of the local time zone
    color_mode color = color_mode::automatic;    ///< automatic: on a terminal unless NO_COLOR is set
};

/// Formats records as Dagster's console lines: parts joined by " - ", parts whose fields are all empty skipped.
///
/// A pattern is a list of parts separated by " - "; each part mixes literal text with fields:
/// {date} {time} {tz} {msec} {usec} {iso} {logger} {level} {levelno} {job} {run_id} {run_id8} {pid}
/// {thread} {step} {event} {message} {fields} {file} {line} {function}; `{{` and `}}` are braces.
class text_formatter {
public:
    /// Dagster's full console layout.
    static constexpr std::string_view full_pattern =
        "{date} {time} {tz} - {logger} - {level} - {job} - {run_id} - {pid} - {step} - {event} - {message}";
    /// The layout of the sample in Dagster's docs.
    static constexpr std::string_view short_pattern = "{time} - {level} - {step} - {event} - {message}";

    /// The full layout.
    RUNLOG_INLINE text_formatter();
    /// The full preset with options: `text_formatter({.utc = true})`.
    RUNLOG_INLINE explicit text_formatter(text_options options);
    /// A layout from a pattern; throws format_error naming an unknown or unclosed field and its offset.
    RUNLOG_INLINE explicit text_formatter(std::string_view pattern, text_options options = {});

    /// The short layout of Dagster's docs sample.
    RUNLOG_INLINE static text_formatter brief(text_options options = {});

    /// Whether the pattern shows the source location (async pipelines leave it out of their records when not).
    bool uses_location() const noexcept { return uses_location_; }
    color_mode colors() const noexcept { return options_.color; }
    std::string_view pattern() const noexcept { return pattern_; }

    /// Appends one line for r, newline included.
    RUNLOG_INLINE void format(const record& r, buffer& out, bool color) const;

private:
    enum class token {
        literal, date, time, tz, msec, usec, iso, logger, level, levelno, job, run_id, run_id8, pid, thread,
        step, event, message, field_list, file, line, function
    };
    struct piece {
        token tok;
        std::size_t offset = 0, size = 0;  // a literal's place in pattern_ (offsets survive copies)
    };
    struct part {
        std::vector<piece> pieces;
        bool has_tokens = false;
    };

    RUNLOG_INLINE detail::second_cache& seconds_cache() const;
    RUNLOG_INLINE static std::string_view level_color(level l) noexcept;
    RUNLOG_INLINE void render(token t, const record& r, unsigned micros, buffer& out, bool color) const;
    RUNLOG_INLINE void parse();

    std::string pattern_;
    text_options options_;
    std::vector<part> parts_;
    bool uses_time_ = false;
    bool uses_location_ = false;
};

}  // namespace v0
}  // namespace runlog

#if RUNLOG_DEFINITIONS
#include <utility>

#include "../detail/fields.hpp"
#include "../detail/time.hpp"
#include "../format.hpp"
#include "../level.hpp"

namespace runlog {
inline namespace v0 {

RUNLOG_INLINE text_formatter::text_formatter() : text_formatter(full_pattern) {}

RUNLOG_INLINE text_formatter::text_formatter(text_options options) : text_formatter(full_pattern, options) {}

RUNLOG_INLINE text_formatter::text_formatter(std::string_view pattern, text_options options)
    : pattern_(pattern), options_(options) {
    parse();
}

RUNLOG_INLINE text_formatter text_formatter::brief(text_options options) { return text_formatter(short_pattern, options); }

RUNLOG_INLINE void text_formatter::format(const record& r, buffer& out, bool color) const {
    std::int64_t secs = 0;
    unsigned micros = 0;
    if (uses_time_) {
        detail::split_time(r.time, secs, micros);
        seconds_cache().update(secs);
    }
    bool first = true;
    for (const part& p : parts_) {
        const std::size_t start = out.size();
        if (!first) out.append(std::string_view(" - "));
        bool any = false;
        for (const piece& x : p.pieces) {
            if (x.tok == token::literal) {
                out.append(std::string_view(pattern_).substr(x.offset, x.size));
                continue;
            }
            const std::size_t before = out.size();
            render(x.tok, r, micros, out, color);
            any = any || out.size() != before;
        }
        if (p.has_tokens && !any)
            out.resize(start);
        else
            first = false;
    }
    out.push_back('\n');
}

RUNLOG_INLINE detail::second_cache& text_formatter::seconds_cache() const {
    thread_local detail::second_cache utc(true), local(false);
    return options_.utc ? utc : local;
}

RUNLOG_INLINE std::string_view text_formatter::level_color(level l) noexcept {
    if (l >= level::critical) return "\x1b[1;31m";
    if (l >= level::error) return "\x1b[31m";
    if (l >= level::warning) return "\x1b[33m";
    if (l >= level::info) return "\x1b[32m";
    if (l >= level::debug) return "\x1b[34m";
    return "\x1b[90m";
}

RUNLOG_INLINE void text_formatter::render(token t, const record& r, unsigned micros, buffer& out, bool color) const {
    auto& cache = seconds_cache();
    switch (t) {
        case token::literal: break;
        case token::date: out.append(cache.date()); break;
        case token::time: out.append(cache.time()); break;
        case token::tz: out.append(cache.tz()); break;
        case token::msec: detail::append_digits(out, micros / 1000, 3); break;
        case token::usec: detail::append_digits(out, micros, 6); break;
        case token::iso: detail::append_rfc3339(out, r.time); break;
        case token::logger: out.append(r.logger_name); break;
        case token::level: {
            if (color) out.append(level_color(r.lvl));
            if (auto n = level_name(r.lvl); !n.empty()) {
                out.append(n);
            } else {
                out.append(std::string_view("Level "));
                detail::append_number(out, static_cast<int>(r.lvl));
            }
            if (color) out.append(std::string_view("\x1b[0m"));
            break;
        }
        case token::levelno: detail::append_number(out, static_cast<int>(r.lvl)); break;
        case token::job: out.append(r.ctx.job); break;
        case token::run_id: out.append(r.ctx.run_id); break;
        case token::run_id8: out.append(r.ctx.run_id.substr(0, 8)); break;
        case token::pid: if (r.pid) detail::append_number(out, r.pid); break;
        case token::thread: if (r.thread) detail::append_number(out, r.thread); break;
        case token::step: out.append(r.ctx.step); break;
        case token::event: if (r.event) out.append(r.event->name); break;
        case token::message: out.append(r.message()); break;
        case token::field_list: detail::append_logfmt_fields(out, r, false); break;
        case token::file: if (r.location.file_name()) out.append(std::string_view(r.location.file_name())); break;
        case token::line: if (r.location.line()) detail::append_number(out, r.location.line()); break;
        case token::function:
            if (r.location.function_name()) out.append(std::string_view(r.location.function_name()));
            break;
    }
}

RUNLOG_INLINE void text_formatter::parse() {
    static constexpr std::pair<std::string_view, token> names[] = {
        {"date", token::date},       {"time", token::time},       {"tz", token::tz},
        {"msec", token::msec},       {"usec", token::usec},       {"iso", token::iso},
        {"logger", token::logger},   {"level", token::level},     {"levelno", token::levelno},
        {"job", token::job},         {"run_id", token::run_id},   {"run_id8", token::run_id8},
        {"pid", token::pid},         {"thread", token::thread},   {"step", token::step},
        {"event", token::event},     {"message", token::message}, {"fields", token::field_list},
        {"file", token::file},       {"line", token::line},       {"function", token::function},
    };
    const std::string_view s = pattern_;
    constexpr std::string_view sep = " - ";
    parts_.emplace_back();
    std::size_t i = 0, lit = 0;
    auto flush_literal = [&](std::size_t end) {
        if (end > lit) parts_.back().pieces.push_back({token::literal, lit, end - lit});
    };
    while (i < s.size()) {
        if (s.compare(i, sep.size(), sep) == 0) {
            flush_literal(i);
            parts_.emplace_back();
            i += sep.size();
            lit = i;
        } else if (s[i] == '{' && i + 1 < s.size() && s[i + 1] == '{') {
            flush_literal(i + 1);
            i += 2;
            lit = i;
        } else if (s[i] == '}' && i + 1 < s.size() && s[i + 1] == '}') {
            flush_literal(i + 1);
            i += 2;
            lit = i;
        } else if (s[i] == '{') {
            auto close = s.find('}', i);
            if (close == std::string_view::npos)
                throw format_error("text pattern \"" + pattern_ + "\" at offset " + std::to_string(i) +
                                   ": '{' is not closed");
            auto name = s.substr(i + 1, close - i - 1);
            token t = token::literal;
            for (const auto& [n, v] : names)
                if (n == name) t = v;
            if (t == token::literal)
                throw format_error("text pattern \"" + pattern_ + "\" at offset " + std::to_string(i) +
                                   ": unknown field '{" + std::string(name) + "}'");
            flush_literal(i);
            parts_.back().pieces.push_back({t, 0, 0});
            parts_.back().has_tokens = true;
            uses_location_ = uses_location_ || t == token::file || t == token::line || t == token::function;
            uses_time_ = uses_time_ || t == token::date || t == token::time || t == token::tz ||
                         t == token::msec || t == token::usec;
            i = close + 1;
            lit = i;
        } else if (s[i] == '}') {
            throw format_error("text pattern \"" + pattern_ + "\" at offset " + std::to_string(i) +
                               ": '}' without '{' (write '}}' for a brace)");
        } else {
            ++i;
        }
    }
    flush_literal(s.size());
}

}  // namespace v0
}  // namespace runlog
#endif
