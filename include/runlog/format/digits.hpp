#pragma once
/// Integers as decimal (or binary, octal, hex) digits, without <charconv>'s integer templates, which cost
/// every unit that compiles them more than all of runlog's writers.
#include <cstddef>
#include <cstring>
#include <type_traits>

#include "buffer.hpp"

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

/// Writes n in base 2, 8 or 16 (lower case) ending just before end; returns where the digits start.
inline char* write_base_digits(char* end, unsigned long long n, unsigned base) noexcept {
  const unsigned shift = base == 16 ? 4 : base == 8 ? 3 : 1;
  do {
    *--end = "0123456789abcdef"[n & (base - 1)];
    n >>= shift;
  } while (n != 0);
  return end;
}

/// Appends an integer of any type in decimal.
template <class T>
inline void append_integer(buffer& out, T v) {
  static_assert(std::is_integral_v<T>);
  if constexpr (std::is_signed_v<T>) {
    const auto u = static_cast<unsigned long long>(static_cast<long long>(v));
    write_decimal(out, v < 0 ? 0 - u : u, v < 0);  // 0 - u: no overflow for the most negative value
  } else {
    write_decimal(out, static_cast<unsigned long long>(v), false);
  }
}

}  // namespace detail
}  // namespace v0
}  // namespace runlog
