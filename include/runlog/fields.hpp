#pragma once
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string_view>
#include <type_traits>
#include <utility>

namespace runlog {
inline namespace v0 {

/// A list of strings that a field refers to (a JSON array): `runlog::string_list(keys)` for a vector or array
/// of std::string_view, which must outlive the log call.
struct string_list {
    const std::string_view* items = nullptr;
    std::size_t count = 0;
    constexpr string_list() noexcept = default;
    constexpr string_list(const std::string_view* p, std::size_t n) noexcept : items(p), count(n) {}
    template <class R>
        requires(std::is_convertible_v<decltype(std::declval<const R&>().data()), const std::string_view*> &&
                 std::is_integral_v<decltype(std::declval<const R&>().size())>)
    constexpr explicit string_list(const R& r) noexcept : items(r.data()), count(r.size()) {}
    template <std::size_t N>
    constexpr explicit string_list(const std::string_view (&a)[N]) noexcept : items(a), count(N) {}
    constexpr const std::string_view* begin() const noexcept { return items; }
    constexpr const std::string_view* end() const noexcept { return items + count; }
    constexpr bool empty() const noexcept { return count == 0; }
};

/// The value of a structured field: a signed or unsigned integer, a double, a bool, a string or a list of
/// strings.
class field_value {
public:
    /// Which alternative the value holds.
    enum class kind : unsigned char { int_, uint_, double_, bool_, string, strings };

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
    constexpr field_value(string_list v) noexcept : kind_(kind::strings), l_(v) {}
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
    constexpr string_list as_strings() const noexcept { return l_; }

private:
    kind kind_;
    union {
        std::int64_t i_;
        std::uint64_t u_;
        double d_;
        bool b_;
        std::string_view s_;
        string_list l_;
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
