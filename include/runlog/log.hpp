#pragma once
/// What a file that logs needs, and no more: levels, the format string checked at compile time, structured
/// fields, and the free functions runlog::info(...) etc. that log through the default logger. In the compiled
/// mode (RUNLOG_SEPARATE) it includes only a handful of light standard headers.
#include <initializer_list>
#include <string_view>

#include "detail/build.hpp"
#include "detail/level_enum.hpp"
#include "fields.hpp"
#include "format/args.hpp"
#include "format/string.hpp"
#include "source_location.hpp"

namespace runlog {
inline namespace v0 {
namespace detail {

/// Logs one call through the default logger when its level lets it through; the call's arguments are erased.
RUNLOG_INLINE void default_log(level l, const format_string_data& fmt, fields fs,
                                                 format_args args) noexcept;

}  // namespace detail

/// Logs through the default logger (runlog::default_logger()), below RUNLOG_ACTIVE_LEVEL not at all.
template <class... A>
void trace(format_string<A...> fmt, A&&... a) {
    if constexpr (level::trace >= active_level)
        detail::default_log(level::trace, fmt.data(), {}, format_arg_store<sizeof...(A)>{{format_arg(a)...}});
}
template <class... A>
void debug(format_string<A...> fmt, A&&... a) {
    if constexpr (level::debug >= active_level)
        detail::default_log(level::debug, fmt.data(), {}, format_arg_store<sizeof...(A)>{{format_arg(a)...}});
}
template <class... A>
void info(format_string<A...> fmt, A&&... a) {
    if constexpr (level::info >= active_level)
        detail::default_log(level::info, fmt.data(), {}, format_arg_store<sizeof...(A)>{{format_arg(a)...}});
}
template <class... A>
void warning(format_string<A...> fmt, A&&... a) {
    if constexpr (level::warning >= active_level)
        detail::default_log(level::warning, fmt.data(), {}, format_arg_store<sizeof...(A)>{{format_arg(a)...}});
}
template <class... A>
void error(format_string<A...> fmt, A&&... a) {
    if constexpr (level::error >= active_level)
        detail::default_log(level::error, fmt.data(), {}, format_arg_store<sizeof...(A)>{{format_arg(a)...}});
}
template <class... A>
void critical(format_string<A...> fmt, A&&... a) {
    if constexpr (level::critical >= active_level)
        detail::default_log(level::critical, fmt.data(), {}, format_arg_store<sizeof...(A)>{{format_arg(a)...}});
}
/// The same with structured fields: `runlog::info({{"rows", n}}, "Loaded {} rows", n)`.
template <class... A>
void trace(fields fs, format_string<A...> fmt, A&&... a) {
    if constexpr (level::trace >= active_level)
        detail::default_log(level::trace, fmt.data(), fs, format_arg_store<sizeof...(A)>{{format_arg(a)...}});
}
template <class... A>
void debug(fields fs, format_string<A...> fmt, A&&... a) {
    if constexpr (level::debug >= active_level)
        detail::default_log(level::debug, fmt.data(), fs, format_arg_store<sizeof...(A)>{{format_arg(a)...}});
}
template <class... A>
void info(fields fs, format_string<A...> fmt, A&&... a) {
    if constexpr (level::info >= active_level)
        detail::default_log(level::info, fmt.data(), fs, format_arg_store<sizeof...(A)>{{format_arg(a)...}});
}
template <class... A>
void warning(fields fs, format_string<A...> fmt, A&&... a) {
    if constexpr (level::warning >= active_level)
        detail::default_log(level::warning, fmt.data(), fs, format_arg_store<sizeof...(A)>{{format_arg(a)...}});
}
template <class... A>
void error(fields fs, format_string<A...> fmt, A&&... a) {
    if constexpr (level::error >= active_level)
        detail::default_log(level::error, fmt.data(), fs, format_arg_store<sizeof...(A)>{{format_arg(a)...}});
}
template <class... A>
void critical(fields fs, format_string<A...> fmt, A&&... a) {
    if constexpr (level::critical >= active_level)
        detail::default_log(level::critical, fmt.data(), fs, format_arg_store<sizeof...(A)>{{format_arg(a)...}});
}

}  // namespace v0
}  // namespace runlog

// Header-only: the default logger's definitions come with the first file that logs.
#if RUNLOG_HEADER_ONLY
#include "default_logger.hpp"
#endif
