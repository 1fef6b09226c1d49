#pragma once
#include <cstdint>
#include <initializer_list>
#include <string_view>
#include <type_traits>

namespace runlog {
inline namespace v0 {

/// The value of a structured field: a signed or unsigned integer, a double, a bool or a string.
class field_value {
public:
    /// Which alternative the value holds.
    enum class kind : unsigned char { int_, uint_, double_, bool_, string };

    template <class T>
        requires(std::is_integral_v<T> && std::is_signed_v<T> && !std::is_same_v<T, char>)
    constexpr field_value(T v) noexcept : kind_(kind::int_), i_(v) {}
    template <class T>
        requires(std::is_integral_v<T> && std::is_unsigned_v<T> && !std::is_same_v<T, bool> && !std::is_same_v<T, char>)
    constexpr field_value(T v) noexcept : kind_(kind::uint_), u_(v) {}
    template <class T>
        requires std::is_floating_point_v<T>
    constexpr field_value(T v) noexcept : kind_(kind::double_), d_(static_cast<double>(v)) {}
    template <class T>
        requires std::is_same_v<T, bool>
    constexpr field_value(T v) noexcept : kind_(kind::bool_), b_(v) {}
    constexpr field_value(std::string_view v) noexcept : kind_(kind::string), s_(v) {}
    constexpr field_value(const char* v) noexcept : kind_(kind::string), s_(v ? std::string_view(v) : std::string_view("(null)")) {}
    template <class S>
        requires(std::is_convertible_v<const S&, std::string_view> && !std::is_convertible_v<const S&, const char*>)
    constexpr field_value(const S& v) noexcept : kind_(kind::string), s_(std::string_view(v)) {}

    constexpr kind type() const noexcept { return kind_; }
    constexpr std::int64_t as_int() const noexcept { return i_; }
    constexpr std::uint64_t as_uint() const noexcept { return u_; }
    constexpr double as_double() const noexcept { return d_; }
    constexpr bool as_bool() const noexcept { return b_; }
    constexpr std::string_view as_string() const noexcept { return s_; }

private:
    kind kind_;
    union {
        std::int64_t i_;
        std::uint64_t u_;
        double d_;
        bool b_;
        std::string_view s_;
    };
};

/// One structured key-value pair attached to a record; it refers to, and does not copy, its strings.
struct field {
    std::string_view key;
    field_value value;
};

/// The list of fields a log call attaches: `log.info({{"rows", n}, {"table", "zones"}}, "...")`.
using fields = std::initializer_list<field>;

}  // namespace v0
}  // namespace runlog
