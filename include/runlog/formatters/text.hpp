#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "../detail/build.hpp"
#include "../detail/level_enum.hpp"
#include "../format/buffer.hpp"
#include "../record.hpp"
#include "color.hpp"

namespace runlog {
inline namespace v0 {

namespace detail {

class second_cache;
struct text_preset;

/// What a text pattern is made of: the start of a part (parts are joined by " - "), literal text, or a field.
enum class text_token : unsigned char {
    part, literal, date, time, tz, msec, usec, iso, logger, level, levelno, job, run_id, run_id8, pid, thread,
    step, event, message, field_list, file, line, function, user_job
};

/// A parsed piece of a pattern; a literal keeps its place in the pattern (so that it survives copies).
struct text_piece {
    text_token tok = text_token::part;
    std::uint32_t offset = 0;
    std::uint32_t size = 0;
};

/// The pieces of a pattern, owned and copied with the formatter (a std::vector costs every file that
/// builds a formatter many more functions to compile).
class text_pieces {
public:
    text_pieces() noexcept = default;
    text_pieces(const text_piece* first, std::size_t n) : data_(n ? new text_piece[n] : nullptr), size_(n), capacity_(n) {
        for (std::size_t i = 0; i < n; ++i) data_[i] = first[i];
    }
    text_pieces(const text_pieces& o) : text_pieces(o.data_, o.size_) {}
    text_pieces(text_pieces&& o) noexcept : data_(o.data_), size_(o.size_), capacity_(o.capacity_) {
        o.data_ = nullptr;
        o.size_ = o.capacity_ = 0;
    }
    text_pieces& operator=(text_pieces o) noexcept {
        swap(o);
        return *this;
    }
    ~text_pieces() { delete[] data_; }

    void push_back(text_piece p) {
        if (size_ == capacity_) {
            text_pieces bigger;
            bigger.data_ = new text_piece[capacity_ ? capacity_ * 2 : 16];
            bigger.capacity_ = capacity_ ? capacity_ * 2 : 16;
            for (std::size_t i = 0; i < size_; ++i) bigger.data_[i] = data_[i];
            bigger.size_ = size_;
            swap(bigger);
        }
        data_[size_++] = p;
    }
    const text_piece* begin() const noexcept { return data_; }
    const text_piece* end() const noexcept { return data_ + size_; }

private:
    void swap(text_pieces& o) noexcept {
        text_piece* d = data_;
        data_ = o.data_;
        o.data_ = d;
        const std::size_t s = size_, c = capacity_;
        size_ = o.size_;
        capacity_ = o.capacity_;
        o.size_ = s;
        o.capacity_ = c;
    }

    text_piece* data_ = nullptr;
    std::size_t size_ = 0;
    std::size_t capacity_ = 0;
};

}  // namespace detail

/// Options of the text formatter.
struct text_options {
    bool utc = false;                            ///< UTC instead of the local time zone
    color_mode color = color_mode::automatic;    ///< automatic: on a terminal unless NO_COLOR is set
    /// Control characters in the message, the logger name, job, run id and step written as `\n`, `\x1b`, ...,
    /// so that one record is one line and cannot forge another; false writes them raw.
    bool escape_control = true;
};

/// Formats records as Dagster's console lines: parts joined by " - ", parts whose fields are all empty skipped.
///
/// A pattern is a list of parts separated by " - "; each part mixes literal text with fields:
/// {date} {time} {tz} {msec} {usec} {iso} {logger} {level} {levelno} {job} {run_id} {run_id8} {pid}
/// {thread} {step} {event} {message} {fields} {file} {line} {function} {user_job} (the job, for a user's
/// message only, as Dagster's short layout shows it); `{{` and `}}` are braces. {step} is empty for the events
/// whose console lines show no step (STEP_WORKER_STARTED, LOGS_CAPTURED).
class text_formatter {
public:
    /// Dagster's full console layout.
    static constexpr std::string_view full_pattern =
        "{date} {time} {tz} - {logger} - {level} - {job} - {run_id} - {pid} - {step} - {event} - {message}";
    /// The layout of the sample in Dagster's docs.
    static constexpr std::string_view short_pattern = "{time} - {level} - {user_job} - {step} - {event} - {message}";

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
    void format(const record& r, buffer& out, bool color) const { write_(*this, r, out, color); }

private:
    using token = detail::text_token;
    using piece = detail::text_piece;

    using writer = void (*)(const text_formatter&, const record&, buffer&, bool);
    RUNLOG_INLINE text_formatter(writer write, const detail::text_preset& preset, std::string_view pattern,
                                 text_options options);
    /// Sets uses_time_ and uses_location_ from the pieces.
    RUNLOG_INLINE void note_uses() noexcept;
    RUNLOG_INLINE detail::second_cache& seconds_cache() const;
    RUNLOG_INLINE static void render_level(level l, buffer& out, bool color);
    /// Appends a value from the record: control characters escaped unless the options keep them raw.
    RUNLOG_INLINE void put(buffer& out, std::string_view text) const;
    RUNLOG_INLINE void render(token t, const record& r, unsigned micros, const detail::second_cache& cache,
                              buffer& out, bool color) const;
    /// The full preset, written directly; and any pattern, piece by piece. Only the constructors name them, so
    /// a program that uses only the preset (the default logger) does not compile the general writer.
    RUNLOG_INLINE static void write_full(const text_formatter& f, const record& r, buffer& out, bool color);
    RUNLOG_INLINE static void write_pattern(const text_formatter& f, const record& r, buffer& out, bool color);

    writer write_;
    std::string pattern_;
    text_options options_;
    detail::text_pieces pieces_;  ///< parts (each opened by a token::part piece) of literals and fields
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

namespace detail {

/// Why a pattern is refused: where, and what is wrong there.
struct text_pattern_problem {
    std::size_t offset;
    const char* what;  ///< null when the pattern is fine
    std::string_view field{};
};

/// Parses a text pattern, handing each piece to emit; usable at compile time, for the presets.
template <class Emit>
constexpr text_pattern_problem parse_text_pattern(std::string_view s, Emit&& emit) {
    constexpr std::pair<std::string_view, text_token> names[] = {
        {"date", text_token::date},       {"time", text_token::time},       {"tz", text_token::tz},
        {"msec", text_token::msec},       {"usec", text_token::usec},       {"iso", text_token::iso},
        {"logger", text_token::logger},   {"level", text_token::level},     {"levelno", text_token::levelno},
        {"job", text_token::job},         {"run_id", text_token::run_id},   {"run_id8", text_token::run_id8},
        {"pid", text_token::pid},         {"thread", text_token::thread},   {"step", text_token::step},
        {"event", text_token::event},     {"message", text_token::message}, {"fields", text_token::field_list},
        {"file", text_token::file},       {"line", text_token::line},       {"function", text_token::function},
        {"user_job", text_token::user_job},
    };
    constexpr std::string_view sep = " - ";
    emit(text_piece{text_token::part, 0, 0});
    std::size_t i = 0, lit = 0;
    auto literal = [&](std::size_t end) {
        if (end > lit)
            emit(text_piece{text_token::literal, static_cast<std::uint32_t>(lit), static_cast<std::uint32_t>(end - lit)});
    };
    while (i < s.size()) {
        if (s.substr(i, sep.size()) == sep) {
            literal(i);
            emit(text_piece{text_token::part, 0, 0});
            i += sep.size();
            lit = i;
        } else if ((s[i] == '{' || s[i] == '}') && i + 1 < s.size() && s[i + 1] == s[i]) {
            literal(i + 1);  // a doubled brace is one literal brace
            i += 2;
            lit = i;
        } else if (s[i] == '{') {
            const auto close = s.find('}', i);
            if (close == std::string_view::npos) return {i, "'{' is not closed"};
            const auto name = s.substr(i + 1, close - i - 1);
            text_token t = text_token::literal;
            for (const auto& [n, v] : names)
                if (n == name) t = v;
            if (t == text_token::literal) return {i, "unknown field", name};
            literal(i);
            emit(text_piece{t, 0, 0});
            i = close + 1;
            lit = i;
        } else if (s[i] == '}') {
            return {i, "'}' without '{' (write '}}' for a brace)"};
        } else {
            ++i;
        }
    }
    literal(s.size());
    return {s.size(), nullptr};
}

/// A pattern parsed at compile time: the presets cost no parsing at run time.
struct text_preset {
    text_piece pieces[32];
    std::size_t count = 0;
};

consteval text_preset parse_text_preset(std::string_view pattern) {
    text_preset p;
    const auto problem = parse_text_pattern(pattern, [&](text_piece x) { p.pieces[p.count++] = x; });
    if (problem.what != nullptr) throw "a text preset does not parse";
    return p;
}

inline constexpr text_preset full_text_preset = parse_text_preset(text_formatter::full_pattern);
inline constexpr text_preset short_text_preset = parse_text_preset(text_formatter::short_pattern);

[[noreturn]] inline void throw_pattern_error(std::string_view pattern, const text_pattern_problem& p) {
    std::string m = "text pattern \"";
    m.append(pattern);
    m.append("\" at offset ");
    m.append(std::to_string(p.offset));
    m.append(": ");
    m.append(p.what);
    if (!p.field.empty()) {
        m.append(" '{");
        m.append(p.field);
        m.append("}'");
    }
    throw format_error(m);
}

}  // namespace detail

RUNLOG_INLINE text_formatter::text_formatter() : text_formatter(text_options{}) {}

RUNLOG_INLINE text_formatter::text_formatter(text_options options)
    : text_formatter(&write_full, detail::full_text_preset, full_pattern, options) {}

RUNLOG_INLINE text_formatter::text_formatter(writer write, const detail::text_preset& preset,
                                             std::string_view pattern, text_options options)
    : write_(write), pattern_(pattern), options_(options), pieces_(preset.pieces, preset.count) {
    note_uses();
}

RUNLOG_INLINE text_formatter::text_formatter(std::string_view pattern, text_options options)
    : text_formatter(&write_pattern, detail::text_preset{}, pattern, options) {
    const auto problem = detail::parse_text_pattern(pattern_, [&](piece x) { pieces_.push_back(x); });
    if (problem.what != nullptr) detail::throw_pattern_error(pattern_, problem);
    note_uses();
}

RUNLOG_INLINE void text_formatter::note_uses() noexcept {
    for (const piece& x : pieces_) {
        uses_location_ = uses_location_ || x.tok == token::file || x.tok == token::line || x.tok == token::function;
        uses_time_ = uses_time_ || x.tok == token::date || x.tok == token::time || x.tok == token::tz ||
                     x.tok == token::msec || x.tok == token::usec;
    }
}

RUNLOG_INLINE text_formatter text_formatter::brief(text_options options) {
    return text_formatter(&write_pattern, detail::short_text_preset, short_pattern, options);
}

RUNLOG_INLINE void text_formatter::put(buffer& out, std::string_view text) const {
    if (options_.escape_control) detail::append_text_escaped(out, text);
    else out.append(text);
}

RUNLOG_INLINE void text_formatter::write_full(const text_formatter& f, const record& r, buffer& out, bool color) {
    std::int64_t secs = 0;
    unsigned micros = 0;
    detail::split_time(r.time, secs, micros);
    auto& cache = f.seconds_cache();
    cache.update(secs);
    out.append(cache.date());
    out.push_back(' ');
    out.append(cache.time());
    out.push_back(' ');
    out.append(cache.tz());
    // Dagster's layout: each other part after " - ", left out when empty.
    auto part = [&](std::string_view text) {
        if (text.empty()) return;
        out.append(std::string_view(" - "));
        f.put(out, text);
    };
    part(r.logger_name);
    out.append(std::string_view(" - "));
    render_level(r.lvl, out, color);
    part(r.ctx.job);
    part(r.ctx.run_id);
    if (r.pid) {
        out.append(std::string_view(" - "));
        detail::append_number(out, r.pid);
    }
    if (!r.event || r.event->step_column) part(r.ctx.step);
    if (r.event) part(r.event->name);  // a name from the program, escaped as the rest
    part(r.message());
    out.push_back('\n');
}

RUNLOG_INLINE void text_formatter::write_pattern(const text_formatter& f, const record& r, buffer& out, bool color) {
    std::int64_t secs = 0;
    unsigned micros = 0;
    auto& cache = f.seconds_cache();
    if (f.uses_time_) {
        detail::split_time(r.time, secs, micros);
        cache.update(secs);
    }
    // A part whose fields all rendered empty is left out, with its separator.
    bool first = true, open = false, has_fields = false, any = false;
    std::size_t start = 0;
    auto end_part = [&] {
        if (!open) return;
        if (has_fields && !any)
            out.resize(start);
        else
            first = false;
    };
    for (const piece& x : f.pieces_) {
        if (x.tok == token::part) {
            end_part();
            open = true;
            has_fields = any = false;
            start = out.size();
            if (!first) out.append(std::string_view(" - "));
        } else if (x.tok == token::literal) {
            out.append(std::string_view(f.pattern_).substr(x.offset, x.size));
        } else {
            has_fields = true;
            const std::size_t before = out.size();
            f.render(x.tok, r, micros, cache, out, color);
            any = any || out.size() != before;
        }
    }
    end_part();
    out.push_back('\n');
}

RUNLOG_INLINE detail::second_cache& text_formatter::seconds_cache() const {
    thread_local detail::second_cache utc(true), local(false);
    return options_.utc ? utc : local;
}

RUNLOG_INLINE void text_formatter::render_level(level l, buffer& out, bool color) {
    if (color) {
        out.append(l >= level::critical  ? std::string_view("\x1b[1;31m")
                   : l >= level::error   ? std::string_view("\x1b[31m")
                   : l >= level::warning ? std::string_view("\x1b[33m")
                   : l >= level::info    ? std::string_view("\x1b[32m")
                   : l >= level::debug   ? std::string_view("\x1b[34m")
                                         : std::string_view("\x1b[90m"));
    }
    if (auto n = level_name(l); !n.empty()) {
        out.append(n);
    } else {
        out.append(std::string_view("Level "));
        detail::append_number(out, static_cast<int>(l));
    }
    if (color) out.append(std::string_view("\x1b[0m"));
}

RUNLOG_INLINE void text_formatter::render(token t, const record& r, unsigned micros, const detail::second_cache& cache,
                                           buffer& out, bool color) const {
    auto put = [&](std::string_view text) { this->put(out, text); };
    switch (t) {
        case token::part:
        case token::literal: break;
        case token::date: out.append(cache.date()); break;
        case token::time: out.append(cache.time()); break;
        case token::tz: out.append(cache.tz()); break;
        case token::msec: detail::append_digits(out, micros / 1000, 3); break;
        case token::usec: detail::append_digits(out, micros, 6); break;
        case token::iso: detail::append_rfc3339(out, r.time); break;
        case token::logger: put(r.logger_name); break;
        case token::level: render_level(r.lvl, out, color); break;
        case token::levelno: detail::append_number(out, static_cast<int>(r.lvl)); break;
        case token::job: put(r.ctx.job); break;
        case token::run_id: put(r.ctx.run_id); break;
        case token::run_id8: put(r.ctx.run_id.substr(0, 8)); break;
        case token::pid: if (r.pid) detail::append_number(out, r.pid); break;
        case token::thread: if (r.thread) detail::append_number(out, r.thread); break;
        case token::step: if (!r.event || r.event->step_column) put(r.ctx.step); break;
        case token::user_job: if (!r.event) put(r.ctx.job); break;
        case token::event: if (r.event) out.append(r.event->name); break;
        case token::message: put(r.message()); break;
        case token::field_list: detail::append_logfmt_fields(out, r, false); break;
        case token::file: if (r.location.file_name()) out.append(std::string_view(r.location.file_name())); break;
        case token::line: if (r.location.line()) detail::append_number(out, r.location.line()); break;
        case token::function:
            if (r.location.function_name()) out.append(std::string_view(r.location.function_name()));
            break;
    }
}

}  // namespace v0
}  // namespace runlog
#endif
