#pragma once
#include <cstddef>
#include <string_view>

#include "../detail/build.hpp"
#include "../detail/level_enum.hpp"
#include "../format/buffer.hpp"
#include "../record.hpp"
#include "color.hpp"

namespace runlog {
inline namespace v0 {

namespace detail {

/// The last component of a path.
constexpr std::string_view file_base_name(std::string_view path) noexcept {
    std::size_t i = path.size();
    while (i > 0 && path[i - 1] != '/' && path[i - 1] != '\\') --i;
    return path.substr(i);
}

/// A function's name and the scope that encloses it, both without template arguments.
struct function_name_parts {
    std::string_view scope;  ///< empty for a function at namespace level
    std::string_view name;
};

/// Splits the signature a compiler reports (`void {anonymous}::worker<T>::run(int) [with T = int]`) into the
/// function's name and its innermost scope (`run`, `worker`): no return type, parameters, template arguments
/// or outer scopes. A signature it does not recognise (a lambda's `main()::<lambda()>`) is the name, whole.
constexpr function_name_parts short_function_name(std::string_view sig) noexcept {
    const function_name_parts whole{{}, sig};
    std::string_view s = sig;
    if (const auto with = s.find(" [with "); with != std::string_view::npos && !s.empty() && s.back() == ']')
        s = s.substr(0, with);
    for (bool stripped = true; stripped;) {  // qualifiers after the parameters
        stripped = false;
        for (const std::string_view q : {std::string_view(" const"), std::string_view(" volatile"),
                                         std::string_view(" &"), std::string_view(" &&"), std::string_view(" noexcept")})
            if (s.size() > q.size() && s.substr(s.size() - q.size()) == q) {
                s.remove_suffix(q.size());
                stripped = true;
            }
    }
    if (s.empty() || s.back() != ')') return whole;
    // The parameter list: from the last ')' back to its '('.
    std::size_t i = s.size() - 1;
    for (int depth = 0;; --i) {
        if (s[i] == ')') ++depth;
        else if (s[i] == '(' && --depth == 0) break;
        if (i == 0) return whole;
    }
    // One scope component ending at end, template arguments dropped, into out; its start, or npos for none.
    constexpr auto none = std::string_view::npos;
    auto component = [&](std::size_t end, std::string_view& out) -> std::size_t {
        std::size_t e = end;
        if (e > 0 && s[e - 1] == '>' && s.substr(0, e).find("operator") == std::string_view::npos) {
            int d = 0;
            std::size_t j = e;
            while (j > 0) {
                --j;
                if (s[j] == '>') ++d;
                else if (s[j] == '<' && --d == 0) break;
            }
            if (d != 0) return none;
            e = j;
        }
        std::size_t b = e;
        while (b > 0 && s[b - 1] != ' ' && s[b - 1] != ':' && s[b - 1] != '*' && s[b - 1] != '&') --b;
        if (b == e) return none;
        out = s.substr(b, e - b);
        return b;
    };
    function_name_parts p;
    const std::size_t b = component(i, p.name);
    if (b == none) return whole;
    if (p.name != "operator()" && p.name.find_first_of("()") != std::string_view::npos) return whole;
    if (b >= 2 && s[b - 1] == ':' && s[b - 2] == ':' && (component(b - 2, p.scope) == none || p.scope == "{anonymous}"))
        p.scope = {};
    return p;
}

}  // namespace detail

/// Options of the JSON formatter.
struct json_options {
    bool source_location = true;  ///< add code.filepath and code.lineno
    bool function_name = false;   ///< with source_location, add code.function too
    /// The location as the compiler gives it: code.filepath the whole path and, with function_name,
    /// code.function the whole signature (`void ns::worker<int>::run(int) [with ...]`). By default code.filepath
    /// is the file's name and code.function the function's name with its enclosing scope (`worker::run`; a
    /// lambda's is the compiler's whole string), which keeps a line short.
    bool full_location = false;
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
///   "code.filepath":"main.cpp","code.lineno":3,"attributes":{…fields…}}` (code.function on request); empty context keys
/// and an empty `attributes` are left out, strings are escaped and invalid UTF-8 is replaced by U+FFFD.
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
        const std::string_view file = r.location.file_name() ? r.location.file_name() : "";
        const std::string_view function = r.location.function_name() ? r.location.function_name() : "";
        str(R"(,"code.filepath":)"sv, options_.full_location ? file : detail::file_base_name(file));
        out.append(R"(,"code.lineno":)"sv);
        detail::append_number(out, r.location.line());
        if (options_.function_name && options_.full_location) {
            str(R"(,"code.function":)"sv, function);
        } else if (options_.function_name) {
            if (const auto f = detail::short_function_name(function); !f.name.empty()) {
                out.append(R"(,"code.function":")"sv);
                if (!f.scope.empty()) {
                    detail::append_json_escaped(out, f.scope);
                    out.append("::"sv);
                }
                detail::append_json_escaped(out, f.name);
                out.push_back('"');
            }
        }
    }
    bool first = true;
    detail::for_each_field(r, [&](const field& f) {
        out.append(first ? R"(,"attributes":{)"sv : ","sv);
        first = false;
        detail::append_json_string(out, f.key);
        out.push_back(':');
        detail::append_json_value(out, f.value);
    });
    out.append(first ? "}\n"sv : "}}\n"sv);
}

}  // namespace v0
}  // namespace runlog
#endif
