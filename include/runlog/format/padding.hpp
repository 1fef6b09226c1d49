#pragma once
/// Padding, strings and pointers: included by format.hpp's definitions, where vformat_to is compiled.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "buffer.hpp"
#include "digits.hpp"
#include "specs.hpp"

namespace runlog {
inline namespace v0 {
namespace detail {

inline void to_upper(char* first, char* last) noexcept {
  for (; first != last; ++first)
    if (*first >= 'a' && *first <= 'z') *first = static_cast<char>(*first - 'a' + 'A');
}

inline void append_fill(buffer& out, const format_specs& s, std::size_t count) {
  if (count == 0) return;
  const std::size_t start = out.size();
  if (s.fill_size == 1) {
    out.resize(start + count);
    std::memset(out.data() + start, s.fill[0], count);
    return;
  }
  out.resize(start + count * s.fill_size);
  char* p = out.data() + start;
  for (std::size_t i = 0; i < count; ++i, p += s.fill_size) std::memcpy(p, s.fill, s.fill_size);
}

inline std::size_t count_code_points(const char* p, std::size_t n) noexcept {
  std::size_t count = 0;
  for (std::size_t i = 0; i < n; ++i) count += !is_continuation(p[i]);
  return count;
}

/// Byte length of the first max_points code points of [p, p + n).
inline std::size_t prefix_bytes(const char* p, std::size_t n, std::size_t max_points) noexcept {
  std::size_t points = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (!is_continuation(p[i])) {
      if (points == max_points) return i;
      ++points;
    }
  }
  return n;
}

/// Appends [p, p + n), which is `units` characters wide, padded to the spec's width.
inline void write_padded(buffer& out, const char* p, std::size_t n, std::size_t units, const format_specs& s,
                         align_t default_align) {
  const auto width = static_cast<std::size_t>(s.width);
  if (width <= units) {
    out.append(p, p + n);
    return;
  }
  const std::size_t pad = width - units;
  const align_t a = s.align == align_t::none ? default_align : s.align;
  const std::size_t left = a == align_t::left ? 0 : a == align_t::right ? pad : pad / 2;
  append_fill(out, s, left);
  out.append(p, p + n);
  append_fill(out, s, pad - left);
}

/// Pads the text already in out from start on (`units` wide, the first prefix_len bytes being sign/prefix).
inline void pad_in_place(buffer& out, std::size_t start, std::size_t prefix_len, std::size_t units,
                         const format_specs& s, align_t default_align, bool zero_ok) {
  const auto width = static_cast<std::size_t>(s.width);
  if (width <= units) return;
  const std::size_t pad = width - units;
  const std::size_t content = out.size() - start;
  if (zero_ok && s.zero && s.align == align_t::none) {
    out.resize(out.size() + pad);
    char* b = out.data() + start;
    std::memmove(b + prefix_len + pad, b + prefix_len, content - prefix_len);
    std::memset(b + prefix_len, '0', pad);
    return;
  }
  const align_t a = s.align == align_t::none ? default_align : s.align;
  const std::size_t left = a == align_t::left ? 0 : a == align_t::right ? pad : pad / 2;
  const std::size_t fs = s.fill_size;
  out.resize(out.size() + pad * fs);
  char* b = out.data() + start;
  std::memmove(b + left * fs, b, content);
  char* right = b + left * fs + content;
  for (std::size_t i = 0; i < left; ++i) std::memcpy(b + i * fs, s.fill, fs);
  for (std::size_t i = left; i < pad; ++i, right += fs) std::memcpy(right, s.fill, fs);
}

inline void write_pointer(buffer& out, const void* v, const format_specs* s) {
  char buf[2 + 2 * sizeof(void*)];
  buf[0] = '0';
  buf[1] = 'x';
  char digits[2 * sizeof(void*)];
  char* const end = digits + sizeof digits;
  const char* first = write_base_digits(end, reinterpret_cast<std::uintptr_t>(v), 16);
  const auto n = static_cast<std::size_t>(end - first);
  std::memcpy(buf + 2, first, n);
  const std::size_t len = n + 2;
  if (s) write_padded(out, buf, len, len, *s, align_t::right);
  else out.append(buf, buf + len);
}

inline void write_string(buffer& out, const char* p, std::size_t n, const format_specs& s) {
  if (s.precision >= 0) n = prefix_bytes(p, n, static_cast<std::size_t>(s.precision));
  if (s.width == 0) {
    out.append(p, p + n);
    return;
  }
  write_padded(out, p, n, count_code_points(p, n), s, align_t::left);
}

}  // namespace detail
}  // namespace v0
}  // namespace runlog
