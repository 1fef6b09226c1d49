#pragma once
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include "detail/build.hpp"
#include "detail/level_enum.hpp"

namespace runlog {
inline namespace v0 {

/// Thrown when a level name or number cannot be parsed.
class level_error : public std::invalid_argument {
public:
    using std::invalid_argument::invalid_argument;
};

/// The canonical upper-case name of a standard level, or an empty view for other integers.
constexpr std::string_view level_name(level l) noexcept {
    switch (l) {
        case level::trace: return "TRACE";
        case level::debug: return "DEBUG";
        case level::info: return "INFO";
        case level::warning: return "WARNING";
        case level::error: return "ERROR";
        case level::critical: return "CRITICAL";
    }
    return {};
}

/// Level names as the error message lists them, highest first.
inline constexpr std::string_view permissible_levels = "CRITICAL, ERROR, WARNING, INFO, DEBUG, TRACE or an integer";

/// Parses a level name (case-insensitive; WARN and FATAL accepted) or a decimal integer.
constexpr std::optional<level> try_parse_level(std::string_view s) noexcept {
    constexpr auto iequals = [](std::string_view a, std::string_view b) {
        if (a.size() != b.size()) return false;
        for (std::size_t i = 0; i < a.size(); ++i) {
            char c = a[i];
            if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
            if (c != b[i]) return false;
        }
        return true;
    };
    constexpr std::pair<std::string_view, level> names[] = {
        {"TRACE", level::trace},     {"DEBUG", level::debug},       {"INFO", level::info},
        {"WARNING", level::warning}, {"WARN", level::warning},      {"ERROR", level::error},
        {"CRITICAL", level::critical}, {"FATAL", level::critical},
    };
    for (const auto& [name, value] : names)
        if (iequals(s, name)) return value;
    std::size_t i = 0;
    bool negative = false;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) negative = s[i++] == '-';
    if (i == s.size() || s.size() - i > 10) return std::nullopt;
    long long v = 0;
    for (; i < s.size(); ++i) {
        if (s[i] < '0' || s[i] > '9') return std::nullopt;
        v = v * 10 + (s[i] - '0');
    }
    if (negative) v = -v;
    if (v < -2147483648LL || v > 2147483647LL) return std::nullopt;
    return static_cast<level>(static_cast<int>(v));
}

/// The message for a value that is not a level, in Dagster's wording.
RUNLOG_INLINE std::string bad_level_message(std::string_view value);

/// Parses a level like try_parse_level, throwing level_error with Dagster's wording on failure.
RUNLOG_INLINE level parse_level(std::string_view s);

/// The level's name, or "Level N" for a non-standard integer (as Python's logging prints it).
RUNLOG_INLINE std::string to_string(level l);

}  // namespace v0
}  // namespace runlog

#if RUNLOG_DEFINITIONS
namespace runlog {
inline namespace v0 {

RUNLOG_INLINE std::string bad_level_message(std::string_view value) {
    std::string m = "Bad value for log level ";
    m.append(value);
    m.append(": permissible values are ");
    m.append(permissible_levels);
    m.push_back('.');
    return m;
}

RUNLOG_INLINE level parse_level(std::string_view s) {
    if (auto l = try_parse_level(s)) return *l;
    throw level_error(bad_level_message(s));
}

RUNLOG_INLINE std::string to_string(level l) {
    if (auto n = level_name(l); !n.empty()) return std::string(n);
    return "Level " + std::to_string(static_cast<int>(l));
}

}  // namespace v0
}  // namespace runlog
#endif
