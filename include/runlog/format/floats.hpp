#pragma once
/// Floating-point writers: included by format.hpp's definitions, where vformat_to is compiled.
#include <charconv>
#include <cstddef>
#include <cstring>
#include <limits>

#include "buffer.hpp"
#include "padding.hpp"
#include "specs.hpp"

namespace runlog {
inline namespace v0 {
namespace detail {

template <class F>
inline void write_float(buffer& out, F v, const format_specs& s) {
  std::chars_format cf = std::chars_format::general;
  int precision = s.precision;
  bool shortest = false;
  switch (s.type) {
    case 'e':
    case 'E': cf = std::chars_format::scientific; break;
    case 'f':
    case 'F': cf = std::chars_format::fixed; break;
    case 'g':
    case 'G': break;
    default: shortest = precision < 0; break;
  }
  if (!shortest && precision < 0) precision = 6;
  const std::size_t start = out.size();
  const std::size_t full = static_cast<std::size_t>(precision < 0 ? 0 : precision) +
                           static_cast<std::size_t>(std::numeric_limits<F>::max_exponent10) + 32;
  std::size_t cap = shortest ? 64 : static_cast<std::size_t>(precision) + 40;
  std::to_chars_result r{};
  for (;;) {
    out.resize(start + cap);
    char* p = out.data() + start;
    r = shortest ? std::to_chars(p, p + cap, v) : std::to_chars(p, p + cap, v, cf, precision);
    if (r.ec == std::errc{}) break;
    cap = cap < full ? full : cap * 2;
  }
  char* p = out.data() + start;
  auto len = static_cast<std::size_t>(r.ptr - p);
  out.resize(start + len);
  const bool negative = p[0] == '-';
  const std::size_t body = negative ? 1 : 0;
  const bool finite = body < len && is_digit(p[body]);
  if (s.type == 'E' || s.type == 'F' || s.type == 'G') to_upper(p + body, p + len);
  if (s.alt && finite && std::memchr(p, '.', len) == nullptr) {
    std::size_t e = body;
    while (e < len && p[e] != 'e' && p[e] != 'E') ++e;
    out.resize(start + len + 1);
    p = out.data() + start;
    std::memmove(p + e + 1, p + e, len - e);
    p[e] = '.';
    ++len;
  }
  std::size_t prefix = body;
  if (!negative && (s.sign == sign_t::plus || s.sign == sign_t::space)) {
    out.resize(start + len + 1);
    p = out.data() + start;
    std::memmove(p + 1, p, len);
    p[0] = s.sign == sign_t::plus ? '+' : ' ';
    ++len;
    prefix = 1;
  }
  if (s.width > 0) pad_in_place(out, start, prefix, len, s, align_t::right, finite);
}

template <class F>
inline void write_shortest(buffer& out, F v) {
  constexpr std::size_t cap = 64;
  const std::size_t start = out.size();
  out.resize(start + cap);
  char* const p = out.data() + start;
  const auto r = std::to_chars(p, p + cap, v);
  out.resize(start + static_cast<std::size_t>(r.ptr - p));
}

}  // namespace detail
}  // namespace v0
}  // namespace runlog
