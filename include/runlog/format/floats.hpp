#pragma once
/// Floating-point writers: included by format.hpp's definitions, where vformat_to is compiled.
#include <charconv>
#include <cstddef>
#include <cstring>
#include <limits>
#include <type_traits>

#include "buffer.hpp"
#include "padding.hpp"
#include "specs.hpp"

namespace runlog {
inline namespace v0 {
namespace detail {

/// How a spec asks for a floating-point number: the shortest round-trip form, or a chars_format with a precision.
struct float_request {
  bool shortest = false;
  std::chars_format form = std::chars_format::general;
  int precision = 6;
};

inline float_request float_request_of(const format_specs& s) noexcept {
  float_request q;
  switch (s.type) {
    case 'e':
    case 'E': q.form = std::chars_format::scientific; break;
    case 'f':
    case 'F': q.form = std::chars_format::fixed; break;
    case 'g':
    case 'G': break;
    default: q.shortest = s.precision < 0; break;
  }
  if (s.precision >= 0) q.precision = s.precision;
  return q;
}

/// Appends the digits of v as q asks, growing the room until to_chars fits.
template <class F>
inline void append_float_digits(buffer& out, F v, const float_request& q) {
  const std::size_t start = out.size();
  const std::size_t full = static_cast<std::size_t>(q.precision) +
                           static_cast<std::size_t>(std::numeric_limits<F>::max_exponent10) + 32;
  std::size_t cap = q.shortest ? 64 : static_cast<std::size_t>(q.precision) + 40;
  for (;;) {
    out.resize(start + cap);
    char* p = out.data() + start;
    const auto r = q.shortest ? std::to_chars(p, p + cap, v) : std::to_chars(p, p + cap, v, q.form, q.precision);
    if (r.ec == std::errc{}) {
      out.resize(start + static_cast<std::size_t>(r.ptr - p));
      return;
    }
    cap = cap < full ? full : cap * 2;
  }
}

/// Applies case, '#', sign and width to the digits written from start on.
inline void finish_float(buffer& out, std::size_t start, const format_specs& s) {
  char* p = out.data() + start;
  auto len = out.size() - start;
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

/// Writes v as the spec asks. A float widens to double except for the shortest form, which is shorter for
/// a float (0.1f is 0.1, not 0.10000000149011612): every other form prints the exact value, the same in both.
template <class F>
inline void write_float(buffer& out, F v, const format_specs& s) {
  const float_request q = float_request_of(s);
  const std::size_t start = out.size();
  if constexpr (std::is_same_v<F, float>) {
    if (q.shortest)
      append_float_digits(out, v, q);
    else
      append_float_digits(out, static_cast<double>(v), q);
  } else {
    append_float_digits(out, v, q);
  }
  finish_float(out, start, s);
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
