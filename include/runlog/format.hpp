#ifndef RUNLOG_FORMAT_HPP
#define RUNLOG_FORMAT_HPP

#include <array>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#if __has_include(<source_location>)
#include <source_location>
#endif

namespace runlog {
inline namespace v0 {

#if defined(__cpp_lib_source_location)
/// Caller location carried by format strings (std::source_location when the standard library has it).
using source_location = std::source_location;
#else
/// Fallback for toolchains without std::source_location (e.g. clang 14 with libstdc++ 12); same members.
class source_location {
public:
  /// Location of the call site (via default arguments, like std::source_location::current()).
  static constexpr source_location current(const char* file = __builtin_FILE(),
                                           const char* function = __builtin_FUNCTION(),
                                           std::uint_least32_t line = __builtin_LINE(),
#if defined(__has_builtin) && __has_builtin(__builtin_COLUMN)
                                           std::uint_least32_t column = __builtin_COLUMN()
#else
                                           std::uint_least32_t column = 0
#endif
                                               ) noexcept {
    source_location loc;
    loc.file_ = file;
    loc.function_ = function;
    loc.line_ = line;
    loc.column_ = column;
    return loc;
  }
  /// An empty location.
  constexpr source_location() noexcept = default;
  /// Source file name.
  constexpr const char* file_name() const noexcept { return file_; }
  /// Enclosing function name.
  constexpr const char* function_name() const noexcept { return function_; }
  /// Line number (1-based).
  constexpr std::uint_least32_t line() const noexcept { return line_; }
  /// Column number (0 when unknown).
  constexpr std::uint_least32_t column() const noexcept { return column_; }

private:
  const char* file_ = "";
  const char* function_ = "";
  std::uint_least32_t line_ = 0;
  std::uint_least32_t column_ = 0;
};
#endif

/// Thrown for a bad format string given at run time (runtime()) and by vformat_to.
class format_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// Growable contiguous char buffer that formatting writes into.
class buffer {
public:
  buffer(const buffer&) = delete;
  buffer& operator=(const buffer&) = delete;

  /// Pointer to the first byte.
  char* data() noexcept { return ptr_; }
  /// Pointer to the first byte.
  const char* data() const noexcept { return ptr_; }
  /// Number of bytes written.
  std::size_t size() const noexcept { return size_; }
  /// Number of bytes that fit without growing.
  std::size_t capacity() const noexcept { return capacity_; }
  /// Iterator to the first byte.
  char* begin() noexcept { return ptr_; }
  /// Iterator past the last byte.
  char* end() noexcept { return ptr_ + size_; }
  /// Iterator to the first byte.
  const char* begin() const noexcept { return ptr_; }
  /// Iterator past the last byte.
  const char* end() const noexcept { return ptr_ + size_; }
  /// Sets the size to zero, keeping the capacity.
  void clear() noexcept { size_ = 0; }

  /// Appends one byte.
  void push_back(char c) {
    if (size_ == capacity_) grow(size_ + 1);
    ptr_[size_++] = c;
  }
  /// Appends the bytes of s (embedded NULs included).
  void append(std::string_view s) { append(s.data(), s.data() + s.size()); }
  /// Appends the bytes [first, last).
  void append(const char* first, const char* last) {
    const auto n = static_cast<std::size_t>(last - first);
    if (n == 0) return;
    if (capacity_ - size_ < n) grow(size_ + n);
    std::memcpy(ptr_ + size_, first, n);
    size_ += n;
  }
  /// Sets the size to n, growing if needed; new bytes are unspecified.
  void resize(std::size_t n) {
    if (n > capacity_) grow(n);
    size_ = n;
  }
  /// Ensures a capacity of at least n.
  void reserve(std::size_t n) {
    if (n > capacity_) grow(n);
  }
  /// The written bytes.
  std::string_view view() const noexcept { return std::string_view(ptr_, size_); }

protected:
  /// Starts empty over the given storage.
  buffer(char* data, std::size_t capacity) noexcept : ptr_(data), size_(0), capacity_(capacity) {}
  /// Must make capacity() >= min_capacity (keeping the content) or throw; called only when capacity is short.
  virtual void grow(std::size_t min_capacity) = 0;
  /// Replaces the storage pointer and capacity; the size is kept.
  void set(char* data, std::size_t capacity) noexcept {
    ptr_ = data;
    capacity_ = capacity;
  }
  ~buffer() = default;

private:
  char* ptr_;
  std::size_t size_;
  std::size_t capacity_;
};

/// Buffer with N bytes inline; grows on the heap beyond that. Movable, not copyable.
template <std::size_t N = 256>
class basic_memory_buffer final : public buffer {
  static_assert(N > 0, "basic_memory_buffer needs a non-empty inline buffer");

public:
  /// An empty buffer using the inline storage.
  basic_memory_buffer() noexcept : buffer(store_, N) {}
  /// Takes over other's content; other is left empty.
  basic_memory_buffer(basic_memory_buffer&& other) noexcept : buffer(store_, N) { take(other); }
  /// Takes over other's content; other is left empty.
  basic_memory_buffer& operator=(basic_memory_buffer&& other) noexcept {
    if (this != &other) {
      release();
      set(store_, N);
      clear();
      take(other);
    }
    return *this;
  }
  ~basic_memory_buffer() { release(); }

  /// A copy of the content as a std::string.
  std::string str() const { return std::string(data(), size()); }

private:
  void grow(std::size_t min_capacity) override {
    const std::size_t old = capacity();
    std::size_t cap = old <= std::numeric_limits<std::size_t>::max() / 2 ? old * 2 : min_capacity;
    if (cap < min_capacity) cap = min_capacity;
    char* fresh = new char[cap];
    if (size() != 0) std::memcpy(fresh, data(), size());
    release();
    set(fresh, cap);
  }
  void release() noexcept {
    if (data() != store_) delete[] data();
  }
  void take(basic_memory_buffer& other) noexcept {
    const std::size_t n = other.size();
    if (other.data() == other.store_) {
      if (n != 0) std::memcpy(store_, other.store_, n);
    } else {
      set(other.data(), other.capacity());
      other.set(other.store_, N);
    }
    resize(n);  // never grows: capacity is at least n here
    other.clear();
  }

  char store_[N];
};

/// A memory buffer with 256 inline bytes.
using memory_buffer = basic_memory_buffer<256>;

/// Customization point: specialize with a const member `void format(const T&, runlog::buffer& out) const`.
template <class T, class Enable = void>
struct formatter {};

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

inline const char* category_name(arg_category c) noexcept {
  switch (c) {
    case arg_category::integer: return "an integer";
    case arg_category::boolean: return "a bool";
    case arg_category::character: return "a char";
    case arg_category::floating: return "a floating-point number";
    case arg_category::string: return "a string";
    case arg_category::pointer: return "a pointer";
    case arg_category::custom: return "a user-defined type";
    case arg_category::none: break;
  }
  return "an empty argument";
}

inline void append_number(std::string& s, std::size_t n) {
  char tmp[24];
  const auto r = std::to_chars(tmp, tmp + sizeof tmp, n);
  s.append(tmp, r.ptr);
}

inline void append_quoted_char(std::string& s, char c) {
  const auto u = static_cast<unsigned char>(c);
  s += '\'';
  if (u >= 0x20 && u < 0x7f) {
    s += c;
  } else {
    constexpr char hex[] = "0123456789abcdef";
    s += "\\x";
    s += hex[u >> 4];
    s += hex[u & 15];
  }
  s += '\'';
}

[[noreturn, gnu::noinline, gnu::cold]] inline void throw_format_error(std::string_view fmt, std::size_t offset,
                                                                        error_code code, char c, std::size_t n1,
                                                                        std::size_t n2) {
  constexpr std::size_t max_shown = 80;
  std::string msg = "format string \"";
  const std::string_view shown = fmt.substr(0, max_shown);
  for (const char ch : shown) {
    const auto u = static_cast<unsigned char>(ch);
    if (ch == '"' || ch == '\\') {
      msg += '\\';
      msg += ch;
    } else if (u >= 0x20 && u != 0x7f) {
      msg += ch;
    } else {
      constexpr char hex[] = "0123456789abcdef";
      msg += "\\x";
      msg += hex[u >> 4];
      msg += hex[u & 15];
    }
  }
  if (fmt.size() > max_shown) msg += "...";
  msg += "\" at offset ";
  append_number(msg, offset);
  msg += ": ";
  const auto cat = static_cast<arg_category>(n1);
  switch (code) {
    case error_code::unmatched_open_brace: msg += "unmatched '{' (missing '}'; write '{{' for a literal brace)"; break;
    case error_code::unmatched_close_brace: msg += "unmatched '}' (write '}}' for a literal brace)"; break;
    case error_code::missing_argument:
      msg += "no argument for replacement field #";
      append_number(msg, n1);
      msg += " (";
      append_number(msg, n2);
      msg += " argument(s) given)";
      break;
    case error_code::unused_argument:
      msg += "argument ";
      append_number(msg, n1);
      msg += " is not used (";
      append_number(msg, n2);
      msg += " argument(s) given)";
      break;
    case error_code::argument_index_out_of_range:
      msg += "argument index ";
      append_number(msg, n1);
      msg += " out of range (";
      append_number(msg, n2);
      msg += " argument(s) given)";
      break;
    case error_code::mixed_indexing: msg += "cannot mix automatic '{}' and manual '{N}' argument numbering"; break;
    case error_code::invalid_argument_index:
      msg += "invalid argument index ";
      append_quoted_char(msg, c);
      msg += " (expected digits, ':' or '}')";
      break;
    case error_code::invalid_format_spec:
      msg += "unexpected ";
      append_quoted_char(msg, c);
      msg += " in format spec (expected '}')";
      break;
    case error_code::missing_precision_digits: msg += "missing precision digits after '.'"; break;
    case error_code::nested_replacement_field:
      msg += "nested replacement fields (dynamic width or precision) are not supported";
      break;
    case error_code::number_too_large:
      msg += "number too large (width, precision and argument index are limited to ";
      append_number(msg, max_spec_number);
      msg += ")";
      break;
    case error_code::invalid_type_for_integer:
    case error_code::invalid_type_for_bool:
    case error_code::invalid_type_for_char:
    case error_code::invalid_type_for_floating_point:
    case error_code::invalid_type_for_string:
    case error_code::invalid_type_for_pointer:
      msg += "invalid type ";
      append_quoted_char(msg, c);
      msg += " for ";
      msg += category_name(cat);
      break;
    case error_code::precision_not_allowed:
      msg += "precision is not allowed for ";
      msg += category_name(cat);
      break;
    case error_code::invalid_spec_for_type:
      append_quoted_char(msg, c);
      msg += " is not allowed for ";
      msg += category_name(cat);
      msg += " with this presentation type";
      break;
    case error_code::invalid_spec_for_custom_type:
      msg += "invalid spec ";
      append_quoted_char(msg, c);
      msg += " for a user-defined type (only fill, align and width are allowed)";
      break;
    case error_code::empty_argument:
      msg += "argument ";
      append_number(msg, n2);
      msg += " has no value";
      break;
  }
  throw format_error(msg);
}

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

/// Compile-time validation of fmt against the argument categories.
template <std::size_t N>
constexpr void check_format_string(std::string_view fmt, const std::array<arg_category, N>& cats) {
  bool used[N + 1] = {};
  index_state st;
  const std::size_t n = fmt.size();
  std::size_t i = 0;
  while (i < n) {
    const char c = fmt[i];
    if (c == '}') {
      if (i + 1 < n && fmt[i + 1] == '}') {
        i += 2;
        continue;
      }
      report(fmt, i, error_code::unmatched_close_brace);
      return;
    }
    if (c != '{') {
      ++i;
      continue;
    }
    const std::size_t open = i++;
    if (i == n) {
      report(fmt, open, error_code::unmatched_open_brace);
      return;
    }
    if (fmt[i] == '{') {
      ++i;
      continue;
    }
    std::size_t index = 0;
    i = parse_arg_index(fmt, i, open, st, N, index);
    if (index >= N) return;
    used[index] = true;
    if (fmt[i] == ':') {
      format_specs specs;
      i = parse_specs(fmt, i + 1, open, cats[index], specs);
    }
    ++i;
  }
  for (std::size_t k = 0; k < N; ++k)
    if (!used[k]) report(fmt, n, error_code::unused_argument, 0, k, N);
}

}  // namespace detail

/// Marks a format string known only at run time: not checked at compile time; errors throw format_error.
struct runtime_format_string {
  /// The format string.
  std::string_view str;
};

/// Wraps a run-time format string for format/format_to (checked only when formatting).
inline runtime_format_string runtime(std::string_view s) noexcept { return runtime_format_string{s}; }

/// Format string checked at compile time against Args; also carries the caller's source location.
template <class... Args>
class basic_format_string {
public:
  /// Checks s against Args at compile time; loc defaults to the caller's location.
  template <class S>
    requires std::is_convertible_v<const S&, std::string_view>
  consteval basic_format_string(const S& s, source_location loc = source_location::current())
      : str_(s), loc_(loc) {
    static_assert((detail::is_formattable_v<std::remove_cvref_t<Args>> && ...),
                  "runlog: an argument type cannot be formatted; specialize runlog::formatter<T> with a const "
                  "member `void format(const T&, runlog::buffer&) const`");
    constexpr std::array<detail::arg_category, sizeof...(Args)> cats{
        detail::category_of(detail::arg_type_of<std::remove_cvref_t<Args>>())...};
    detail::check_format_string(str_, cats);
  }
  /// Unchecked run-time format string; errors throw format_error when formatting.
  basic_format_string(runtime_format_string s, source_location loc = source_location::current()) noexcept
      : str_(s.str), loc_(loc), static_(false) {}

  /// The format string.
  constexpr std::string_view get() const noexcept { return str_; }
  /// Where the format string was written (the caller of the logging/formatting function).
  constexpr source_location location() const noexcept { return loc_; }
  /// Whether the string was checked at compile time, and so lives in static storage (async pipelines
  /// keep a pointer to it rather than a copy).
  constexpr bool is_static() const noexcept { return static_; }

private:
  std::string_view str_;
  source_location loc_;
  bool static_ = true;
};

/// Format string type for arguments Args (non-deduced, so Args come from the function arguments).
template <class... Args>
using format_string = basic_format_string<std::type_identity_t<Args>...>;

namespace detail {

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

inline void to_upper(char* first, char* last) noexcept {
  for (; first != last; ++first)
    if (*first >= 'a' && *first <= 'z') *first = static_cast<char>(*first - 'a' + 'A');
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

inline void write_pointer(buffer& out, const void* v, const format_specs* s) {
  char buf[2 + 2 * sizeof(void*)];
  buf[0] = '0';
  buf[1] = 'x';
  const auto r = std::to_chars(buf + 2, buf + sizeof buf, reinterpret_cast<std::uintptr_t>(v), 16);
  const auto len = static_cast<std::size_t>(r.ptr - buf);
  if (s) write_padded(out, buf, len, len, *s, align_t::right);
  else out.append(buf, r.ptr);
}

inline void write_string(buffer& out, const char* p, std::size_t n, const format_specs& s) {
  if (s.precision >= 0) n = prefix_bytes(p, n, static_cast<std::size_t>(s.precision));
  if (s.width == 0) {
    out.append(p, p + n);
    return;
  }
  write_padded(out, p, n, count_code_points(p, n), s, align_t::left);
}

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

/// First '{' or '}' in [p, last), or last; scans 8 bytes per step.
inline const char* find_brace(const char* p, const char* last) noexcept {
  constexpr std::uint64_t ones = 0x0101010101010101u;
  constexpr std::uint64_t highs = 0x8080808080808080u;
  while (last - p >= 8) {
    std::uint64_t word;
    std::memcpy(&word, p, 8);
    // a byte of x is zero iff the classic (x - 1) & ~x & 0x80 test flags it; this only detects, the byte
    // loop below finds the position
    const std::uint64_t open = word ^ (ones * '{');
    const std::uint64_t close = word ^ (ones * '}');
    if ((((open - ones) & ~open) | ((close - ones) & ~close)) & highs) break;
    p += 8;
  }
  while (p != last && *p != '{' && *p != '}') ++p;
  return p;
}

}  // namespace detail

/// Formats args into out according to fmt; throws format_error on a bad string or argument mismatch.
inline void vformat_to(buffer& out, std::string_view fmt, format_args args) {
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

#endif  // RUNLOG_FORMAT_HPP
