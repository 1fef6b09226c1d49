#pragma once
/// The formatting engine: runlog::format, format_to and vformat_to, `{}` fields with Python's format specs.
#include <string>
#include <string_view>

#include "detail/build.hpp"
#include "format/args.hpp"
#include "format/buffer.hpp"
#include "format/error.hpp"
#include "format/specs.hpp"
#include "format/string.hpp"

namespace runlog {
inline namespace v0 {

/// Formats args into out according to fmt; throws format_error on a bad string or argument mismatch.
RUNLOG_INLINE void vformat_to(buffer& out, std::string_view fmt, format_args args);

/// Formats args into out (appending); the format string is checked at compile time.
template <class... Args>
void format_to(buffer& out, format_string<Args...> fmt, Args&&... args) {
  vformat_to(out, fmt.get(), make_format_args(args...));
}

/// Formats args into a new std::string; the format string is checked at compile time.
template <class... Args>
std::string format(format_string<Args...> fmt, Args&&... args) {
  memory_buffer buf;
  vformat_to(buf, fmt.get(), make_format_args(args...));
  return std::string(buf.data(), buf.size());
}

}  // namespace v0
}  // namespace runlog

#if RUNLOG_DEFINITIONS
#include <charconv>
#include <cstdint>
#include <cstring>

#include "detail/words.hpp"
#include "format/floats.hpp"
#include "format/integers.hpp"
#include "format/padding.hpp"

namespace runlog {
inline namespace v0 {
namespace detail {

inline constexpr std::string_view null_cstring = "(null)";

inline std::string_view cstring_view(const char* s) noexcept {
  return s ? std::string_view(s, std::strlen(s)) : null_cstring;
}

inline void write_default(buffer& out, const format_arg& arg) {
  const arg_value& v = arg_access::value(arg);
  switch (arg.type()) {
    case arg_type::int_: {
      const auto u = static_cast<unsigned long long>(v.i);
      write_decimal(out, v.i < 0 ? 0 - u : u, v.i < 0);  // 0 - u: no overflow for INT64_MIN
      return;
    }
    case arg_type::uint_: write_decimal(out, v.u, false); return;
    case arg_type::bool_: out.append(v.b ? std::string_view("true") : std::string_view("false")); return;
    case arg_type::char_: out.push_back(v.c); return;
    case arg_type::float_: write_shortest(out, v.f); return;
    case arg_type::double_: write_shortest(out, v.d); return;
    case arg_type::long_double: write_shortest(out, *v.ld); return;
    case arg_type::cstring: out.append(cstring_view(v.cs)); return;
    case arg_type::string: out.append(v.s.data, v.s.data + v.s.size); return;
    case arg_type::pointer: write_pointer(out, v.p, nullptr); return;
    case arg_type::custom: v.custom.format(v.custom.object, out); return;
    case arg_type::none: return;
  }
}

inline void write_with_specs(buffer& out, const format_arg& arg, const format_specs& s) {
  const arg_value& v = arg_access::value(arg);
  switch (arg.type()) {
    case arg_type::int_: write_signed(out, v.i, s); return;
    case arg_type::uint_: write_integer(out, v.u, false, s); return;
    case arg_type::bool_:
      if (s.type == 0 || s.type == 's') {
        const std::string_view text = v.b ? "true" : "false";
        write_padded(out, text.data(), text.size(), text.size(), s, align_t::left);
      } else {
        write_integer(out, v.b ? 1 : 0, false, s);
      }
      return;
    case arg_type::char_:
      if (s.type == 0 || s.type == 'c') write_padded(out, &v.c, 1, 1, s, align_t::left);
      else write_integer(out, static_cast<unsigned char>(v.c), false, s);
      return;
    case arg_type::float_: write_float(out, v.f, s); return;
    case arg_type::double_: write_float(out, v.d, s); return;
    case arg_type::long_double: write_float(out, *v.ld, s); return;
    case arg_type::cstring: {
      const std::string_view text = cstring_view(v.cs);
      write_string(out, text.data(), text.size(), s);
      return;
    }
    case arg_type::string: write_string(out, v.s.data, v.s.size, s); return;
    case arg_type::pointer: write_pointer(out, v.p, &s); return;
    case arg_type::custom: {
      const std::size_t start = out.size();
      v.custom.format(v.custom.object, out);
      if (s.width > 0)
        pad_in_place(out, start, 0, count_code_points(out.data() + start, out.size() - start), s, align_t::left,
                     false);
      return;
    }
    case arg_type::none: return;
  }
}

/// First '{' or '}' in [p, last), or last; scans 8 bytes per step (the byte loop finds the position).
inline const char* find_brace(const char* p, const char* last) noexcept {
  while (last - p >= 8) {
    const std::uint64_t w = load_word(p);
    if (word_has(w, '{') || word_has(w, '}')) break;
    p += 8;
  }
  while (p != last && *p != '{' && *p != '}') ++p;
  return p;
}

}  // namespace detail

/// Formats args into out according to fmt; throws format_error on a bad string or argument mismatch.
RUNLOG_INLINE void vformat_to(buffer& out, std::string_view fmt, format_args args) {
  using namespace detail;
  const char* const first = fmt.data();
  const char* const last = first + fmt.size();
  const char* p = first;
  index_state st;
  std::uint64_t used = 0;
  while (p != last) {
    const char* const q = find_brace(p, last);
    out.append(p, q);
    if (q == last) break;
    if (*q == '}') {
      if (q + 1 == last || q[1] != '}')
        report(fmt, static_cast<std::size_t>(q - first), error_code::unmatched_close_brace);
      out.push_back('}');
      p = q + 2;
      continue;
    }
    const auto open_pos = static_cast<std::size_t>(q - first);
    p = q + 1;
    if (p == last) report(fmt, open_pos, error_code::unmatched_open_brace);
    if (*p == '{') {
      out.push_back('{');
      ++p;
      continue;
    }
    std::size_t index = 0;
    std::size_t pos = static_cast<std::size_t>(p - first);
    if (*p == '}' && !st.manual) {
      st.automatic = true;
      index = st.next++;
      if (index >= args.size()) report(fmt, open_pos, error_code::missing_argument, 0, index, args.size());
    } else {
      pos = parse_arg_index(fmt, pos, open_pos, st, args.size(), index);
    }
    if (index < 64) used |= std::uint64_t{1} << index;
    const format_arg arg = args.get(index);
    if (arg.type() == arg_type::none) report(fmt, open_pos, error_code::empty_argument, 0, 0, index);
    if (first[pos] == '}') {
      write_default(out, arg);
    } else {
      format_specs specs;
      pos = parse_specs(fmt, pos + 1, open_pos, category_of(arg.type()), specs);
      write_with_specs(out, arg, specs);
    }
    p = first + pos + 1;
  }
  const std::size_t n = args.size();
  const std::uint64_t all = n >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << n) - 1;
  if (used != all) {
    std::size_t k = 0;
    while ((used >> k) & 1) ++k;
    report(fmt, fmt.size(), error_code::unused_argument, 0, k, n);
  }
  // Beyond 64 arguments only automatic numbering is fully checked for unused arguments.
  if (n > 64 && st.automatic && st.next < n) report(fmt, fmt.size(), error_code::unused_argument, 0, st.next, n);
}

}  // namespace v0
}  // namespace runlog
#endif
