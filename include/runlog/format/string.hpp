#pragma once
#include <array>
#include <cstddef>
#include <string_view>
#include <type_traits>

#include "../source_location.hpp"
#include "args.hpp"
#include "specs.hpp"

namespace runlog {
inline namespace v0 {
namespace detail {

/// Compile-time validation of fmt against the argument categories.
template <std::size_t N>
constexpr void check_format_string(std::string_view fmt, const std::array<arg_category, N>& cats) {
  bool used[N + 1] = {};
  index_state st;
  const std::size_t n = fmt.size();
  std::size_t i = 0;
  while (i < n) {
    const char c = fmt[i];
    if (c == '}') {
      if (i + 1 < n && fmt[i + 1] == '}') {
        i += 2;
        continue;
      }
      report(fmt, i, error_code::unmatched_close_brace);
      return;
    }
    if (c != '{') {
      ++i;
      continue;
    }
    const std::size_t open = i++;
    if (i == n) {
      report(fmt, open, error_code::unmatched_open_brace);
      return;
    }
    if (fmt[i] == '{') {
      ++i;
      continue;
    }
    std::size_t index = 0;
    i = parse_arg_index(fmt, i, open, st, N, index);
    if (index >= N) return;
    used[index] = true;
    if (fmt[i] == ':') {
      format_specs specs;
      i = parse_specs(fmt, i + 1, open, cats[index], specs);
    }
    ++i;
  }
  for (std::size_t k = 0; k < N; ++k)
    if (!used[k]) report(fmt, n, error_code::unused_argument, 0, k, N);
}

}  // namespace detail

/// Marks a format string known only at run time: not checked at compile time; errors throw format_error.
struct runtime_format_string {
  /// The format string.
  std::string_view str;
};

/// Wraps a run-time format string for format/format_to (checked only when formatting).
inline runtime_format_string runtime(std::string_view s) noexcept { return runtime_format_string{s}; }

namespace detail {

/// What a format string holds: its text, where it was written and whether it was checked at compile time.
/// Not a template, so that whatever reads it is compiled once, not once per argument list.
class format_string_data {
public:
  constexpr format_string_data(std::string_view s, source_location loc, bool checked) noexcept
      : str_(s), loc_(loc), static_(checked) {}

  /// The format string.
  constexpr std::string_view get() const noexcept { return str_; }
  /// Where the format string was written (the caller of the logging/formatting function).
  constexpr source_location location() const noexcept { return loc_; }
  /// Whether the string was checked at compile time, and so lives in static storage (async pipelines
  /// keep a pointer to it rather than a copy).
  constexpr bool is_static() const noexcept { return static_; }

private:
  std::string_view str_;
  source_location loc_;
  bool static_;
};

}  // namespace detail

/// Format string checked at compile time against Args; also carries the caller's source location.
template <class... Args>
class basic_format_string {
public:
  /// Checks s against Args at compile time; loc defaults to the caller's location.
  template <class S>
    requires std::is_convertible_v<const S&, std::string_view>
  consteval basic_format_string(const S& s, source_location loc = source_location::current()) : data_(s, loc, true) {
    static_assert((detail::is_formattable_v<Args> && ...),
                  "runlog: an argument type cannot be formatted; specialize runlog::formatter<T> with a const "
                  "member `void format(const T&, runlog::buffer&) const`");
    constexpr std::array<detail::arg_category, sizeof...(Args)> cats{detail::category_of(detail::arg_type_of<Args>())...};
    detail::check_format_string(data_.get(), cats);
  }
  /// Unchecked run-time format string; errors throw format_error when formatting.
  basic_format_string(runtime_format_string s, source_location loc = source_location::current()) noexcept
      : data_(s.str, loc, false) {}

  /// The format string.
  constexpr std::string_view get() const noexcept { return data_.get(); }
  /// Where the format string was written (the caller of the logging/formatting function).
  constexpr source_location location() const noexcept { return data_.location(); }
  /// Whether the string was checked at compile time, and so lives in static storage.
  constexpr bool is_static() const noexcept { return data_.is_static(); }
  /// All of the above, in a type that does not depend on Args.
  constexpr const detail::format_string_data& data() const noexcept { return data_; }

private:
  // A member, not a base: clang 14 crashes on consteval constructors of derived classes (llvm#58299).
  detail::format_string_data data_;
};

/// Format string type for arguments Args (non-deduced, so Args come from the function arguments; the same
/// type for `int`, `int&` and `const int&`).
template <class... Args>
using format_string = basic_format_string<std::remove_cvref_t<Args>...>;

}  // namespace v0
}  // namespace runlog
