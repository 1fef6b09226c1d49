#pragma once
#include <array>
#include <cstddef>
#include <iosfwd>
#include <string_view>
#include <type_traits>

#include "../detail/build.hpp"
#include "../detail/level_enum.hpp"

namespace runlog {
inline namespace v0 {

class buffer;

/// Customization point: specialize with a const member `void format(const T&, runlog::buffer& out) const`.
template <class T, class Enable = void>
struct formatter {};

/// Levels format as their names (`WARNING`), or `Level N` for other integers, as Python does.
template <>
struct formatter<level> {
  RUNLOG_INLINE void format(level l, buffer& out) const;
};

namespace detail {

enum class arg_type : unsigned char {
  none, int_, uint_, bool_, char_, float_, double_, long_double, cstring, string, pointer, custom
};
enum class arg_category : unsigned char { none, integer, boolean, character, floating, string, pointer, custom };

constexpr arg_category category_of(arg_type t) noexcept {
  switch (t) {
    case arg_type::int_:
    case arg_type::uint_: return arg_category::integer;
    case arg_type::bool_: return arg_category::boolean;
    case arg_type::char_: return arg_category::character;
    case arg_type::float_:
    case arg_type::double_:
    case arg_type::long_double: return arg_category::floating;
    case arg_type::cstring:
    case arg_type::string: return arg_category::string;
    case arg_type::pointer: return arg_category::pointer;
    case arg_type::custom: return arg_category::custom;
    case arg_type::none: break;
  }
  return arg_category::none;
}

struct string_value {
  const char* data;
  std::size_t size;
};
struct custom_value {
  const void* object;
  void (*format)(const void*, buffer&);
};
union arg_value {
  long long i;
  unsigned long long u;
  bool b;
  char c;
  float f;
  double d;
  const long double* ld;  // by pointer: keeps format_arg at 24 bytes
  const char* cs;
  string_value s;
  const void* p;
  custom_value custom;
  constexpr arg_value() noexcept : i(0) {}
};

template <class T>
concept has_formatter = std::is_default_constructible_v<formatter<T>> &&
                        requires(const formatter<T>& f, const T& v, buffer& out) { f.format(v, out); };

template <class T>
inline constexpr bool is_wide_char_v = std::is_same_v<T, wchar_t> || std::is_same_v<T, char8_t> ||
                                      std::is_same_v<T, char16_t> || std::is_same_v<T, char32_t>;

/// Storage type of an argument of type T (cv and references removed); none if T is not formattable.
template <class T>
consteval arg_type arg_type_of() noexcept {
  if constexpr (has_formatter<T>) {
    return arg_type::custom;
  } else if constexpr (std::is_same_v<T, bool>) {
    return arg_type::bool_;
  } else if constexpr (std::is_same_v<T, char>) {
    return arg_type::char_;
  } else if constexpr (is_wide_char_v<T>) {
    return arg_type::none;
  } else if constexpr (std::is_integral_v<T>) {
    if constexpr (sizeof(T) > sizeof(long long)) return arg_type::none;
    else return std::is_signed_v<T> ? arg_type::int_ : arg_type::uint_;
  } else if constexpr (std::is_enum_v<T>) {
    return std::is_signed_v<std::underlying_type_t<T>> ? arg_type::int_ : arg_type::uint_;
  } else if constexpr (std::is_same_v<T, float>) {
    return arg_type::float_;
  } else if constexpr (std::is_same_v<T, double>) {
    return arg_type::double_;
  } else if constexpr (std::is_same_v<T, long double>) {
    return arg_type::long_double;
  } else if constexpr (std::is_same_v<T, const char*> || std::is_same_v<T, char*>) {
    return arg_type::cstring;
  } else if constexpr (std::is_array_v<T>) {
    return std::is_same_v<std::remove_cv_t<std::remove_extent_t<T>>, char> && std::extent_v<T> != 0
               ? arg_type::string
               : arg_type::none;
  } else if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, std::string_view>) {
    return arg_type::string;
  } else if constexpr (std::is_same_v<T, std::nullptr_t>) {
    return arg_type::pointer;
  } else if constexpr (std::is_pointer_v<T>) {
    using pointee = std::remove_pointer_t<T>;
    return std::is_object_v<pointee> || std::is_void_v<pointee> ? arg_type::pointer : arg_type::none;
  } else {
    return arg_type::none;
  }
}

template <class T>
inline constexpr bool is_formattable_v = arg_type_of<T>() != arg_type::none;

template <class T>
void format_custom_arg(const void* object, buffer& out) {
  const formatter<T> f{};
  f.format(*static_cast<const T*>(object), out);
}

struct arg_access;

}  // namespace detail

/// A type-erased reference to one argument (trivially copyable, small).
class format_arg {
public:
  /// An empty argument (type none).
  constexpr format_arg() noexcept = default;
  /// Refers to (or, for scalars, copies) value; a referenced value must outlive the use of this object.
  template <class T>
  constexpr explicit format_arg(const T& value) noexcept {
    using U = std::remove_cv_t<T>;
    constexpr detail::arg_type t = detail::arg_type_of<U>();
    static_assert(t != detail::arg_type::none,
                  "runlog: this argument type cannot be formatted; specialize runlog::formatter<T> with a const "
                  "member `void format(const T&, runlog::buffer&) const`");
    type_ = t;
    if constexpr (t == detail::arg_type::none) {
      // already diagnosed by the static_assert above
    } else if constexpr (t == detail::arg_type::custom) {
      value_.custom = {__builtin_addressof(value), &detail::format_custom_arg<U>};
    } else if constexpr (t == detail::arg_type::int_) {
      value_.i = static_cast<long long>(value);
    } else if constexpr (t == detail::arg_type::uint_) {
      value_.u = static_cast<unsigned long long>(value);
    } else if constexpr (t == detail::arg_type::bool_) {
      value_.b = value;
    } else if constexpr (t == detail::arg_type::char_) {
      value_.c = value;
    } else if constexpr (t == detail::arg_type::float_) {
      value_.f = value;
    } else if constexpr (t == detail::arg_type::double_) {
      value_.d = value;
    } else if constexpr (t == detail::arg_type::long_double) {
      value_.ld = &value;
    } else if constexpr (t == detail::arg_type::cstring) {
      value_.cs = value;
    } else if constexpr (std::is_array_v<U>) {
      // A char array is a C string bounded by its extent (no read past the end if it lacks a NUL).
      constexpr std::size_t extent = std::extent_v<U>;
      const char* nul = std::char_traits<char>::find(value, extent, '\0');
      value_.s = {value, nul ? static_cast<std::size_t>(nul - value) : extent};
    } else if constexpr (t == detail::arg_type::string) {
      value_.s = {value.data(), value.size()};
    } else if constexpr (std::is_same_v<U, std::nullptr_t>) {
      value_.p = nullptr;
    } else {
      value_.p = const_cast<const void*>(static_cast<const volatile void*>(value));
    }
  }
  /// Kind of the stored value.
  constexpr detail::arg_type type() const noexcept { return type_; }

private:
  friend struct detail::arg_access;
  detail::arg_value value_{};
  detail::arg_type type_ = detail::arg_type::none;
};

/// A view of the arguments of one call.
class format_args {
public:
  /// No arguments.
  constexpr format_args() = default;
  /// Views size arguments starting at data.
  constexpr format_args(const format_arg* data, std::size_t size) : data_(data), size_(size) {}
  /// Number of arguments.
  constexpr std::size_t size() const { return size_; }
  /// Argument i, or an empty argument if i is out of range.
  constexpr format_arg get(std::size_t i) const { return i < size_ ? data_[i] : format_arg(); }

private:
  const format_arg* data_ = nullptr;
  std::size_t size_ = 0;
};

/// Owns the type-erased argument array of one call.
template <std::size_t N>
struct format_arg_store {
  /// The arguments.
  std::array<format_arg, N> args;
  /// A view of args.
  constexpr operator format_args() const { return format_args(args.data(), N); }
};

/// Type-erases args; references them, so the result is valid for the full-expression.
template <class... T>
constexpr format_arg_store<sizeof...(T)> make_format_args(const T&... args) {
  return format_arg_store<sizeof...(T)>{{format_arg(args)...}};
}

namespace detail {

struct arg_access {
  static constexpr const arg_value& value(const format_arg& a) noexcept { return a.value_; }
};

}  // namespace detail
}  // namespace v0
}  // namespace runlog

#if RUNLOG_DEFINITIONS
#include "../level.hpp"
#include "buffer.hpp"
#include "digits.hpp"

namespace runlog {
inline namespace v0 {

RUNLOG_INLINE void formatter<level>::format(level l, buffer& out) const {
  if (auto n = level_name(l); !n.empty()) {
    out.append(n);
    return;
  }
  out.append(std::string_view("Level "));
  detail::append_integer(out, static_cast<int>(l));
}

}  // namespace v0
}  // namespace runlog
#endif
