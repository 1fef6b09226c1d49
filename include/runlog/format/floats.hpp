#pragma once
/// Floating-point writers: included by format.hpp's definitions, where vformat_to is compiled.
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

#include "buffer.hpp"
#include "digits.hpp"
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

/// Writes n / 10^d (d <= 4, n not a multiple of 10 when d > 0) as std::to_chars writes the shortest form;
/// returns the end, or nullptr when to_chars would pick the exponent form (1e+06, 1e-04) instead.
inline char* write_fixed_decimal(char* p, bool negative, unsigned long long n, int d) noexcept {
  // Divisions by constants (a multiply each), not by a table entry (a 64-bit divide).
  unsigned long long whole = n, frac = 0;
  switch (d) {
    case 1: whole = n / 10, frac = n % 10; break;
    case 2: whole = n / 100, frac = n % 100; break;
    case 3: whole = n / 1000, frac = n % 1000; break;
    case 4: whole = n / 10000, frac = n % 10000; break;
    default: break;
  }
  const std::size_t whole_digits = count_digits(whole);
  // to_chars picks the shorter of the fixed and the exponent form, the fixed one on a tie. With d > 0 and
  // a whole part the fixed form is always shorter; otherwise count (exponents stay below 100 here).
  if (d == 0 && whole_digits > 5) {
    unsigned long long sig = n;
    while (sig % 10 == 0) sig /= 10;
    const std::size_t sig_digits = count_digits(sig);
    if (whole_digits > sig_digits + (sig_digits > 1 ? 1 : 0) + 4) return nullptr;
  } else if (d > 0 && whole == 0) {
    const std::size_t sig_digits = count_digits(n);
    if (2 + static_cast<std::size_t>(d) > sig_digits + (sig_digits > 1 ? 1 : 0) + 4) return nullptr;
  }
  if (negative) *p++ = '-';
  write_digits_backwards(p + whole_digits, whole);
  p += whole_digits;
  if (d > 0) {
    *p++ = '.';
    for (int k = d - 1; k >= 0; --k) {
      p[k] = static_cast<char>('0' + frac % 10);
      frac /= 10;
    }
    p += d;
  }
  return p;
}

/// What std::to_chars(first, last, v) writes for a double below 2^39 with at most four decimals (42, 0.5,
/// 1234.25, 19.99), written without it; returns the end, or nullptr for any other number (to_chars then).
///
/// A double that is exactly n / 10^d (its binary fraction has at most four bits: 0.5, 0.25, ...) is read off
/// its bits. Otherwise (0.1, 19.99) d goes from 1 to 4 until the nearest n reads back as v. Either way no
/// shorter form exists: below 2^39, half an ulp of v times 10^d' is under a third of 10^(d'-d), so the only
/// d'-decimal form that can read back as v is the nearest one, which the smaller d' would have found.
inline char* write_short_decimal(char* p, double v) noexcept {
  std::uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  const bool negative = (bits >> 63) != 0;
  const double a = negative ? -v : v;
  if (!(a >= 1e-4 && a < 549755813888.0)) return nullptr;  // 2^39; zero, NaN, infinity and tiny ones too
  const int biased = static_cast<int>((bits >> 52) & 0x7FF);
  const std::uint64_t mantissa = (bits & ((std::uint64_t{1} << 52) - 1)) | (std::uint64_t{1} << 52);
  const int shift = 1075 - biased;  // a = mantissa / 2^shift, shift > 13 here
  const int tz = __builtin_ctzll(mantissa);
  if (tz >= shift) return write_fixed_decimal(p, negative, mantissa >> shift, 0);
  if (shift - tz <= 4) {
    const int d = shift - tz;
    constexpr unsigned long long pow5[] = {1, 5, 25, 125, 625};
    return write_fixed_decimal(p, negative, (mantissa >> tz) * pow5[d], d);
  }
  constexpr double pow10[] = {1.0, 10.0, 100.0, 1000.0, 10000.0};
  for (int d = 1; d <= 4; ++d) {
    const auto n = static_cast<unsigned long long>(a * pow10[d] + 0.5);
    if (static_cast<double>(n) / pow10[d] == a) return n % 10 == 0 ? nullptr : write_fixed_decimal(p, negative, n, d);
  }
  return nullptr;
}

template <class F>
inline void write_shortest(buffer& out, F v) {
  constexpr std::size_t cap = 64;
  const std::size_t start = out.size();
  out.resize(start + cap);
  char* const p = out.data() + start;
  if constexpr (std::is_same_v<F, double>) {
    if (char* e = write_short_decimal(p, v)) {
      out.resize(start + static_cast<std::size_t>(e - p));
      return;
    }
  }
  const auto r = std::to_chars(p, p + cap, v);
  out.resize(start + static_cast<std::size_t>(r.ptr - p));
}

}  // namespace detail
}  // namespace v0
}  // namespace runlog
