#pragma once
/// Integer writers: included by format.hpp's definitions, where vformat_to is compiled.
#include <charconv>
#include <cstddef>
#include <cstring>

#include "buffer.hpp"
#include "padding.hpp"
#include "specs.hpp"

namespace runlog {
inline namespace v0 {
namespace detail {

inline constexpr char digit_pairs[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

inline std::size_t count_digits(unsigned long long n) noexcept {
  std::size_t d = 1;
  for (;;) {
    if (n < 10) return d;
    if (n < 100) return d + 1;
    if (n < 1000) return d + 2;
    if (n < 10000) return d + 3;
    n /= 10000;
    d += 4;
  }
}

/// Writes the decimal digits of n ending just before end.
inline void write_digits_backwards(char* end, unsigned long long n) noexcept {
  while (n >= 100) {
    end -= 2;
    std::memcpy(end, digit_pairs + (n % 100) * 2, 2);
    n /= 100;
  }
  if (n >= 10) {
    std::memcpy(end - 2, digit_pairs + n * 2, 2);
  } else {
    end[-1] = static_cast<char>('0' + n);
  }
}

inline void write_decimal(buffer& out, unsigned long long magnitude, bool negative) {
  const std::size_t digits = count_digits(magnitude);
  const std::size_t start = out.size();
  const std::size_t len = digits + (negative ? 1 : 0);
  out.resize(start + len);
  char* const p = out.data() + start;
  if (negative) p[0] = '-';
  write_digits_backwards(p + len, magnitude);
}

/// Writes an integer given as magnitude and sign, honouring every integer spec.
inline void write_integer(buffer& out, unsigned long long magnitude, bool negative, const format_specs& s) {
  if (s.type == 'c') {
    const auto ch = static_cast<char>(static_cast<unsigned char>(negative ? 0 - magnitude : magnitude));
    write_padded(out, &ch, 1, 1, s, align_t::left);
    return;
  }
  char buf[72];  // sign + "0b" + 64 binary digits
  std::size_t prefix = 0;
  if (negative) buf[prefix++] = '-';
  else if (s.sign == sign_t::plus) buf[prefix++] = '+';
  else if (s.sign == sign_t::space) buf[prefix++] = ' ';
  int base = 10;
  switch (s.type) {
    case 'x':
    case 'X':
      base = 16;
      if (s.alt) {
        buf[prefix++] = '0';
        buf[prefix++] = s.type;
      }
      break;
    case 'b':
    case 'B':
      base = 2;
      if (s.alt) {
        buf[prefix++] = '0';
        buf[prefix++] = s.type;
      }
      break;
    case 'o':
      base = 8;
      if (s.alt && magnitude != 0) buf[prefix++] = '0';
      break;
    default: break;
  }
  const auto r = std::to_chars(buf + prefix, buf + sizeof buf, magnitude, base);
  if (s.type == 'X') to_upper(buf + prefix, r.ptr);
  const auto len = static_cast<std::size_t>(r.ptr - buf);
  const auto width = static_cast<std::size_t>(s.width);
  if (s.zero && s.align == align_t::none && width > len) {
    out.append(buf, buf + prefix);
    const std::size_t start = out.size();
    out.resize(start + (width - len));
    std::memset(out.data() + start, '0', width - len);
    out.append(buf + prefix, r.ptr);
    return;
  }
  write_padded(out, buf, len, len, s, align_t::right);
}

inline void write_signed(buffer& out, long long v, const format_specs& s) {
  const bool negative = v < 0;
  // 0 - u is well defined for unsigned, so INT64_MIN has no overflow
  const auto u = static_cast<unsigned long long>(v);
  write_integer(out, negative ? 0 - u : u, negative, s);
}

}  // namespace detail
}  // namespace v0
}  // namespace runlog
