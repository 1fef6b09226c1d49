#pragma once
/// Integer writers: included by format.hpp's definitions, where vformat_to is compiled.
#include <cstddef>
#include <cstring>

#include "buffer.hpp"
#include "digits.hpp"
#include "padding.hpp"
#include "specs.hpp"

namespace runlog {
inline namespace v0 {
namespace detail {

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
  unsigned base = 10;
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
  char digits[64];
  char* const digits_end = digits + sizeof digits;
  const char* first = base == 10 ? digits_end - count_digits(magnitude) : nullptr;
  if (base == 10)
    write_digits_backwards(digits_end, magnitude);
  else
    first = write_base_digits(digits_end, magnitude, base);
  const auto ndigits = static_cast<std::size_t>(digits_end - first);
  std::memcpy(buf + prefix, first, ndigits);
  char* const end = buf + prefix + ndigits;
  if (s.type == 'X') to_upper(buf + prefix, end);
  const auto len = static_cast<std::size_t>(end - buf);
  const auto width = static_cast<std::size_t>(s.width);
  if (s.zero && s.align == align_t::none && width > len) {
    out.append(buf, buf + prefix);
    const std::size_t start = out.size();
    out.resize(start + (width - len));
    std::memset(out.data() + start, '0', width - len);
    out.append(buf + prefix, end);
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
