#pragma once
#include <cstddef>
#include <string_view>
#include <type_traits>

#include "../detail/build.hpp"
#include "args.hpp"

namespace runlog {
inline namespace v0 {
namespace detail {

enum class error_code : unsigned char {
  unmatched_open_brace,
  unmatched_close_brace,
  missing_argument,
  unused_argument,
  argument_index_out_of_range,
  mixed_indexing,
  invalid_argument_index,
  invalid_format_spec,
  missing_precision_digits,
  nested_replacement_field,
  number_too_large,
  invalid_type_for_integer,
  invalid_type_for_bool,
  invalid_type_for_char,
  invalid_type_for_floating_point,
  invalid_type_for_string,
  invalid_type_for_pointer,
  precision_not_allowed,
  invalid_spec_for_type,
  invalid_spec_for_custom_type,
  empty_argument,
};

// These are deliberately not constexpr: the compile-time check calls one of them on error, so the compiler's
// diagnostic ("call to non-constexpr function ...") names the problem.
inline void format_error_unmatched_open_brace() noexcept {}
inline void format_error_unmatched_close_brace() noexcept {}
inline void format_error_missing_argument() noexcept {}
inline void format_error_unused_argument() noexcept {}
inline void format_error_argument_index_out_of_range() noexcept {}
inline void format_error_mixed_manual_and_automatic_indexing() noexcept {}
inline void format_error_invalid_argument_index() noexcept {}
inline void format_error_invalid_format_spec() noexcept {}
inline void format_error_missing_precision_digits() noexcept {}
inline void format_error_nested_replacement_field_not_supported() noexcept {}
inline void format_error_number_too_large() noexcept {}
inline void format_error_invalid_type_for_integer() noexcept {}
inline void format_error_invalid_type_for_bool() noexcept {}
inline void format_error_invalid_type_for_char() noexcept {}
inline void format_error_invalid_type_for_floating_point() noexcept {}
inline void format_error_invalid_type_for_string() noexcept {}
inline void format_error_invalid_type_for_pointer() noexcept {}
inline void format_error_precision_not_allowed() noexcept {}
inline void format_error_invalid_spec_for_type() noexcept {}
inline void format_error_invalid_spec_for_custom_type() noexcept {}
inline void format_error_empty_argument() noexcept {}

/// Largest width, precision or argument index accepted.
inline constexpr unsigned max_spec_number = 65535;

/// Throws format_error describing a bad format string (found at run time: runtime() strings, vformat_to).
[[noreturn, gnu::cold]] RUNLOG_INLINE void throw_format_error(std::string_view fmt, std::size_t offset, error_code code,
                                                              char c, std::size_t n1, std::size_t n2);

/// Reports a format string error: a named compile error during constant evaluation, format_error at run time.
constexpr void report(std::string_view fmt, std::size_t offset, error_code code, char c = 0, std::size_t n1 = 0,
                      std::size_t n2 = 0) {
  if (std::is_constant_evaluated()) {
    switch (code) {
      case error_code::unmatched_open_brace: format_error_unmatched_open_brace(); break;
      case error_code::unmatched_close_brace: format_error_unmatched_close_brace(); break;
      case error_code::missing_argument: format_error_missing_argument(); break;
      case error_code::unused_argument: format_error_unused_argument(); break;
      case error_code::argument_index_out_of_range: format_error_argument_index_out_of_range(); break;
      case error_code::mixed_indexing: format_error_mixed_manual_and_automatic_indexing(); break;
      case error_code::invalid_argument_index: format_error_invalid_argument_index(); break;
      case error_code::invalid_format_spec: format_error_invalid_format_spec(); break;
      case error_code::missing_precision_digits: format_error_missing_precision_digits(); break;
      case error_code::nested_replacement_field: format_error_nested_replacement_field_not_supported(); break;
      case error_code::number_too_large: format_error_number_too_large(); break;
      case error_code::invalid_type_for_integer: format_error_invalid_type_for_integer(); break;
      case error_code::invalid_type_for_bool: format_error_invalid_type_for_bool(); break;
      case error_code::invalid_type_for_char: format_error_invalid_type_for_char(); break;
      case error_code::invalid_type_for_floating_point: format_error_invalid_type_for_floating_point(); break;
      case error_code::invalid_type_for_string: format_error_invalid_type_for_string(); break;
      case error_code::invalid_type_for_pointer: format_error_invalid_type_for_pointer(); break;
      case error_code::precision_not_allowed: format_error_precision_not_allowed(); break;
      case error_code::invalid_spec_for_type: format_error_invalid_spec_for_type(); break;
      case error_code::invalid_spec_for_custom_type: format_error_invalid_spec_for_custom_type(); break;
      case error_code::empty_argument: format_error_empty_argument(); break;
    }
  } else {
    throw_format_error(fmt, offset, code, c, n1, n2);
  }
}

enum class align_t : unsigned char { none, left, right, center };
enum class sign_t : unsigned char { none, minus, plus, space };

/// Parsed `[[fill]align][sign][#][0][width][.precision][type]`.
struct format_specs {
  int width = 0;
  int precision = -1;
  char type = 0;
  align_t align = align_t::none;
  sign_t sign = sign_t::none;
  bool alt = false;
  bool zero = false;
  unsigned char fill_size = 1;
  char fill[4] = {' ', 0, 0, 0};
};

/// Where each optional spec part was found (npos if absent); for diagnostics.
struct spec_positions {
  std::size_t sign = std::string_view::npos;
  std::size_t alt = std::string_view::npos;
  std::size_t zero = std::string_view::npos;
  std::size_t precision = std::string_view::npos;
  std::size_t type = std::string_view::npos;
};

struct index_state {
  std::size_t next = 0;
  bool automatic = false;
  bool manual = false;
};

constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

constexpr align_t align_of(char c) noexcept {
  return c == '<' ? align_t::left : c == '>' ? align_t::right : c == '^' ? align_t::center : align_t::none;
}

constexpr std::size_t utf8_sequence_length(char c) noexcept {
  const auto u = static_cast<unsigned char>(c);
  return u < 0x80 ? 1 : (u >> 5) == 0x6 ? 2 : (u >> 4) == 0xe ? 3 : (u >> 3) == 0x1e ? 4 : 1;
}

constexpr bool is_continuation(char c) noexcept { return (static_cast<unsigned char>(c) & 0xc0) == 0x80; }

constexpr bool is_one_of(char c, std::string_view set) noexcept {
  return c == 0 || set.find(c) != std::string_view::npos;
}

/// Parses decimal digits at pos into value (<= max_spec_number); returns the position after them.
constexpr std::size_t parse_number(std::string_view fmt, std::size_t pos, int& value) {
  const std::size_t start = pos;
  unsigned v = 0;
  while (pos < fmt.size() && is_digit(fmt[pos])) {
    v = v * 10 + static_cast<unsigned>(fmt[pos] - '0');
    if (v > max_spec_number) {
      report(fmt, start, error_code::number_too_large);
      return pos;
    }
    ++pos;
  }
  value = static_cast<int>(v);
  return pos;
}

/// Parses the argument id after '{' at pos (pos < size); returns the position of the ':' or '}' that follows.
constexpr std::size_t parse_arg_index(std::string_view fmt, std::size_t pos, std::size_t open, index_state& st,
                                      std::size_t nargs, std::size_t& index) {
  const char c = fmt[pos];
  if (c == '}' || c == ':') {
    if (st.manual) report(fmt, open, error_code::mixed_indexing);
    st.automatic = true;
    index = st.next++;
    if (index >= nargs) report(fmt, open, error_code::missing_argument, 0, index, nargs);
    return pos;
  }
  if (!is_digit(c)) {
    report(fmt, pos, error_code::invalid_argument_index, c);
    return pos;
  }
  const std::size_t start = pos;
  int value = 0;
  pos = parse_number(fmt, pos, value);
  if (pos >= fmt.size()) {
    report(fmt, open, error_code::unmatched_open_brace);
    return pos;
  }
  if (fmt[pos] != '}' && fmt[pos] != ':') report(fmt, pos, error_code::invalid_argument_index, fmt[pos]);
  if (st.automatic) report(fmt, open, error_code::mixed_indexing);
  st.manual = true;
  index = static_cast<std::size_t>(value);
  if (index >= nargs) report(fmt, start, error_code::argument_index_out_of_range, 0, index, nargs);
  return pos;
}

constexpr void validate_specs(std::string_view fmt, arg_category cat, const format_specs& s,
                              const spec_positions& at) {
  constexpr std::size_t npos = std::string_view::npos;
  const auto n1 = static_cast<std::size_t>(cat);
  if (cat == arg_category::custom) {
    std::size_t first = npos;
    for (const std::size_t p : {at.sign, at.alt, at.zero, at.precision, at.type})
      if (p < first) first = p;
    if (first != npos) report(fmt, first, error_code::invalid_spec_for_custom_type, fmt[first], n1);
    return;
  }
  const char t = s.type;
  bool textual = false;  // presented as text: sign, '#' and '0' make no sense
  switch (cat) {
    case arg_category::integer:
      if (!is_one_of(t, "dxXobBc")) report(fmt, at.type, error_code::invalid_type_for_integer, t, n1);
      textual = t == 'c';
      break;
    case arg_category::boolean:
      if (!is_one_of(t, "sdxXobB")) report(fmt, at.type, error_code::invalid_type_for_bool, t, n1);
      textual = t == 0 || t == 's';
      break;
    case arg_category::character:
      if (!is_one_of(t, "cdxXobB")) report(fmt, at.type, error_code::invalid_type_for_char, t, n1);
      textual = t == 0 || t == 'c';
      break;
    case arg_category::floating:
      if (!is_one_of(t, "eEfFgG")) report(fmt, at.type, error_code::invalid_type_for_floating_point, t, n1);
      break;
    case arg_category::string:
      if (!is_one_of(t, "s")) report(fmt, at.type, error_code::invalid_type_for_string, t, n1);
      textual = true;
      break;
    case arg_category::pointer:
      if (!is_one_of(t, "p")) report(fmt, at.type, error_code::invalid_type_for_pointer, t, n1);
      textual = true;
      break;
    case arg_category::custom:
    case arg_category::none: break;
  }
  if (at.precision != npos && cat != arg_category::floating && cat != arg_category::string)
    report(fmt, at.precision, error_code::precision_not_allowed, '.', n1);
  if (textual) {
    for (const std::size_t p : {at.sign, at.alt, at.zero})
      if (p != npos) report(fmt, p, error_code::invalid_spec_for_type, fmt[p], n1);
  }
}

/// Parses the spec starting at pos (just after ':') for an argument of category cat; returns the position of '}'.
constexpr std::size_t parse_specs(std::string_view fmt, std::size_t pos, std::size_t open, arg_category cat,
                                  format_specs& s) {
  const std::size_t n = fmt.size();
  spec_positions at;
  if (pos < n && fmt[pos] != '{' && fmt[pos] != '}') {
    std::size_t len = utf8_sequence_length(fmt[pos]);
    for (std::size_t k = 1; k < len; ++k) {
      if (pos + k >= n || !is_continuation(fmt[pos + k])) {
        len = 1;
        break;
      }
    }
    if (pos + len < n && align_of(fmt[pos + len]) != align_t::none) {
      for (std::size_t k = 0; k < len; ++k) s.fill[k] = fmt[pos + k];
      s.fill_size = static_cast<unsigned char>(len);
      s.align = align_of(fmt[pos + len]);
      pos += len + 1;
    } else if (align_of(fmt[pos]) != align_t::none) {
      s.align = align_of(fmt[pos]);
      ++pos;
    }
  }
  if (pos < n && (fmt[pos] == '+' || fmt[pos] == '-' || fmt[pos] == ' ')) {
    s.sign = fmt[pos] == '+' ? sign_t::plus : fmt[pos] == '-' ? sign_t::minus : sign_t::space;
    at.sign = pos++;
  }
  if (pos < n && fmt[pos] == '#') {
    s.alt = true;
    at.alt = pos++;
  }
  if (pos < n && fmt[pos] == '0') {
    s.zero = true;
    at.zero = pos++;
  }
  if (pos < n && is_digit(fmt[pos])) pos = parse_number(fmt, pos, s.width);
  if (pos < n && fmt[pos] == '.') {
    at.precision = pos++;
    if (pos < n && is_digit(fmt[pos])) {
      pos = parse_number(fmt, pos, s.precision);
    } else if (pos < n && fmt[pos] == '{') {
      report(fmt, pos, error_code::nested_replacement_field);
    } else if (pos < n) {
      report(fmt, pos, error_code::missing_precision_digits);
    }
  }
  if (pos < n && fmt[pos] == '{') report(fmt, pos, error_code::nested_replacement_field);
  if (pos < n && fmt[pos] != '}') {
    s.type = fmt[pos];
    at.type = pos++;
  }
  if (pos >= n) {
    report(fmt, open, error_code::unmatched_open_brace);
    return n;
  }
  if (fmt[pos] != '}') {
    report(fmt, pos, fmt[pos] == '{' ? error_code::nested_replacement_field : error_code::invalid_format_spec,
           fmt[pos]);
  }
  validate_specs(fmt, cat, s, at);
  return pos;
}

}  // namespace detail
}  // namespace v0
}  // namespace runlog

#if RUNLOG_DEFINITIONS
#include "buffer.hpp"
#include "digits.hpp"
#include "error.hpp"

namespace runlog {
inline namespace v0 {
namespace detail {

/// Each error's message: %1 and %2 are the numbers n1 and n2, %c the character, %k the category n1 names,
/// %m the largest number a spec may hold.
inline constexpr const char* format_error_messages[] = {
    "unmatched '{' (missing '}'; write '{{' for a literal brace)",
    "unmatched '}' (write '}}' for a literal brace)",
    "no argument for replacement field #%1 (%2 argument(s) given)",
    "argument %1 is not used (%2 argument(s) given)",
    "argument index %1 out of range (%2 argument(s) given)",
    "cannot mix automatic '{}' and manual '{N}' argument numbering",
    "invalid argument index %c (expected digits, ':' or '}')",
    "unexpected %c in format spec (expected '}')",
    "missing precision digits after '.'",
    "nested replacement fields (dynamic width or precision) are not supported",
    "number too large (width, precision and argument index are limited to %m)",
    "invalid type %c for %k",
    "invalid type %c for %k",
    "invalid type %c for %k",
    "invalid type %c for %k",
    "invalid type %c for %k",
    "invalid type %c for %k",
    "precision is not allowed for %k",
    "%c is not allowed for %k with this presentation type",
    "invalid spec %c for a user-defined type (only fill, align and width are allowed)",
    "argument %2 has no value",
};
static_assert(sizeof format_error_messages / sizeof *format_error_messages ==
              static_cast<std::size_t>(error_code::empty_argument) + 1);

inline constexpr const char* category_names[] = {
    "an empty argument", "an integer", "a bool", "a char", "a floating-point number", "a string", "a pointer",
    "a user-defined type",
};

/// Appends c for a message: printable ASCII as itself, the rest as \xNN.
inline void append_shown_char(buffer& out, char c, char quote) {
  const auto u = static_cast<unsigned char>(c);
  if (quote != 0 && (c == quote || c == '\\')) {
    out.push_back('\\');
    out.push_back(c);
  } else if (u >= 0x20 && u < 0x7f) {
    out.push_back(c);
  } else {
    constexpr char hex[] = "0123456789abcdef";
    const char e[4] = {'\\', 'x', hex[u >> 4], hex[u & 15]};
    out.append(e, e + 4);
  }
}

[[noreturn]] RUNLOG_INLINE void throw_format_error(std::string_view fmt, std::size_t offset, error_code code, char c,
                                                   std::size_t n1, std::size_t n2) {
  constexpr std::size_t max_shown = 80;
  basic_memory_buffer<256> msg;
  msg.append(std::string_view("format string \""));
  for (const char ch : fmt.substr(0, max_shown)) append_shown_char(msg, ch, '"');
  if (fmt.size() > max_shown) msg.append(std::string_view("..."));
  msg.append(std::string_view("\" at offset "));
  append_integer(msg, offset);
  msg.append(std::string_view(": "));
  for (const char* p = format_error_messages[static_cast<std::size_t>(code)]; *p != 0; ++p) {
    if (*p != '%') {
      msg.push_back(*p);
      continue;
    }
    switch (*++p) {
      case '1': append_integer(msg, n1); break;
      case '2': append_integer(msg, n2); break;
      case 'm': append_integer(msg, max_spec_number); break;
      case 'k': msg.append(std::string_view(category_names[n1 < 8 ? n1 : 0])); break;
      case 'c':
        msg.push_back('\'');
        append_shown_char(msg, c, 0);
        msg.push_back('\'');
        break;
    }
  }
  throw format_error(msg.str());
}

}  // namespace detail
}  // namespace v0
}  // namespace runlog
#endif
