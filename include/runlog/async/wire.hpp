#pragma once
/// How a call travels through a ring: arguments by copy for trivially copyable values, strings with their
/// length, and other (user) types formatted on the caller's thread into a string; then the fields.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "../detail/build.hpp"
#include "../fields.hpp"
#include "../format.hpp"

namespace runlog {
inline namespace v0 {
namespace detail {

template <class T>
using arg_value_t = std::remove_cvref_t<T>;

template <class T>
constexpr bool is_string_arg = std::is_same_v<std::decay_t<T>, const char*> || std::is_same_v<std::decay_t<T>, char*> ||
                               std::is_same_v<T, std::string> || std::is_same_v<T, std::string_view>;

template <class T>
constexpr bool is_copied_arg = !is_string_arg<T> && (std::is_arithmetic_v<T> || std::is_enum_v<T> ||
                                                     std::is_pointer_v<T> || std::is_null_pointer_v<T>);

template <class T>
std::string_view string_of(const T& v) noexcept {
    if constexpr (std::is_array_v<T>)
        return std::string_view(v);
    else if constexpr (std::is_same_v<std::decay_t<T>, const char*> || std::is_same_v<std::decay_t<T>, char*>)
        return v ? std::string_view(v) : std::string_view("(null)");
    else
        return std::string_view(v);
}

inline constexpr std::size_t align8(std::size_t n) noexcept { return (n + 7) & ~std::size_t{7}; }

/// Whether an argument is formatted on the caller's thread (a user type).
template <class T>
constexpr bool is_formatted_arg = !is_copied_arg<T> && !is_string_arg<T> && !std::is_array_v<T>;

/// How an argument travels through the ring: copied values as themselves, everything else as the
/// bytes of a string (strings as they are, user types once formatted). Calls are encoded from these
/// "wire" values, so `const char*`, `char[N]` and `std::string` arguments share one decoder.
template <class T>
using wire_t = std::conditional_t<is_copied_arg<arg_value_t<T>>, arg_value_t<T>, std::string_view>;

/// The wire value of a copied or string argument (a user type goes through format_user_arg).
template <class T>
wire_t<T> to_wire(const T& v) noexcept {
    if constexpr (is_copied_arg<arg_value_t<T>>)
        return v;
    else
        return string_of(v);
}

inline std::size_t wire_size(std::string_view s) noexcept { return 4 + s.size(); }
template <class T>
constexpr std::size_t wire_size(const T&) noexcept {
    return sizeof(T);
}

/// Copies n bytes; short strings (most arguments) without a call to memcpy, by two overlapping moves.
inline void copy_bytes(char* to, const char* from, std::size_t n) noexcept {
    if (n >= 8 && n <= 16) {
        std::uint64_t a, b;
        std::memcpy(&a, from, 8);
        std::memcpy(&b, from + n - 8, 8);
        std::memcpy(to, &a, 8);
        std::memcpy(to + n - 8, &b, 8);
    } else if (n >= 4 && n < 8) {
        std::uint32_t a, b;
        std::memcpy(&a, from, 4);
        std::memcpy(&b, from + n - 4, 4);
        std::memcpy(to, &a, 4);
        std::memcpy(to + n - 4, &b, 4);
    } else if (n > 0 && n < 4) {
        to[0] = from[0];
        to[n / 2] = from[n / 2];
        to[n - 1] = from[n - 1];
    } else if (n > 16) {
        std::memcpy(to, from, n);
    }
}

inline void put_wire(char*& p, std::string_view s) noexcept {
    const auto n = static_cast<std::uint32_t>(s.size());
    std::memcpy(p, &n, 4);
    copy_bytes(p + 4, s.data(), s.size());
    p += 4 + s.size();
}
template <class T>
void put_wire(char*& p, const T& v) noexcept {
    std::memcpy(p, &v, sizeof(T));
    p += sizeof(T);
}

/// Formats a user-type argument into scratch and returns where its text is, as offsets (scratch may
/// grow while later arguments are formatted); other arguments take no room.
template <class T>
std::pair<std::size_t, std::size_t> format_user_arg(std::string& scratch, const T& v) {
    if constexpr (is_formatted_arg<arg_value_t<T>>) {
        memory_buffer b;
        format_to(b, "{}", v);
        const std::size_t at = scratch.size();
        scratch.append(b.view());
        return {at, b.size()};
    } else {
        return {0, 0};
    }
}
/// The wire value of any argument, once the user-type ones have been formatted into scratch.
template <class T>
wire_t<T> wire_of(const T& v, const std::string& scratch, std::pair<std::size_t, std::size_t> at) noexcept {
    if constexpr (is_formatted_arg<arg_value_t<T>>)
        return std::string_view(scratch).substr(at.first, at.second);
    else
        return to_wire(v);
}

/// Decodes an argument as its wire type: itself when copied, else a view into the ring.
template <class T>
wire_t<T> get_arg(const char*& p) noexcept {
    if constexpr (is_copied_arg<arg_value_t<T>>) {
        arg_value_t<T> v;
        std::memcpy(&v, p, sizeof v);
        p += sizeof v;
        return v;
    } else {
        std::uint32_t n;
        std::memcpy(&n, p, 4);
        std::string_view s(p + 4, n);
        p += 4 + n;
        return s;
    }
}

/// Decodes the arguments A... and formats fmt with them.
template <class... A>
void render_args(const char* p, std::string_view fmt, buffer& out) {
    (void)p;  // unused without arguments
    std::tuple<wire_t<A>...> values{get_arg<A>(p)...};
    std::apply([&](const auto&... v) { vformat_to(out, fmt, make_format_args(v...)); }, values);
}

inline void put_bytes(char*& p, std::string_view s) noexcept {
    if (s.empty()) return;  // an empty view may have a null data()
    std::memcpy(p, s.data(), s.size());
    p += s.size();
}

/// Bytes of the fields in the ring: per field a 4-byte key length, a kind byte, 3 bytes of padding, then
/// 8 bytes of value (or a string's length, or a list's item count), then the key and the string. A list
/// follows its key with padding to 8 bytes, its items' string_views (pointing into the record, which stays
/// put until the backend has written it) and their bytes.
inline std::size_t fields_size(std::span<const field> fs) noexcept {
    std::size_t n = 0;
    for (const auto& f : fs) {
        n += 16 + f.key.size();
        if (f.value.type() == field_value::kind::string) n += f.value.as_string().size();
        if (f.value.type() == field_value::kind::strings) {
            n += 7 + f.value.as_strings().count * sizeof(std::string_view);
            for (std::string_view s : f.value.as_strings()) n += s.size();
        }
    }
    return n;
}
inline void put_fields(char*& p, std::span<const field> fs) noexcept {
    for (const auto& f : fs) {
        const auto klen = static_cast<std::uint32_t>(f.key.size());
        std::memcpy(p, &klen, 4);
        const auto kind = static_cast<unsigned char>(f.value.type());
        p[4] = static_cast<char>(kind);
        p += 8;
        switch (f.value.type()) {
            case field_value::kind::int_: {
                const std::int64_t v = f.value.as_int();
                std::memcpy(p, &v, 8);
                break;
            }
            case field_value::kind::uint_: {
                const std::uint64_t v = f.value.as_uint();
                std::memcpy(p, &v, 8);
                break;
            }
            case field_value::kind::double_: {
                const double v = f.value.as_double();
                std::memcpy(p, &v, 8);
                break;
            }
            case field_value::kind::bool_: {
                const std::uint64_t v = f.value.as_bool() ? 1 : 0;
                std::memcpy(p, &v, 8);
                break;
            }
            case field_value::kind::string: {
                const std::uint64_t v = f.value.as_string().size();
                std::memcpy(p, &v, 8);
                break;
            }
            case field_value::kind::strings: {
                const std::uint64_t v = f.value.as_strings().count;
                std::memcpy(p, &v, 8);
                break;
            }
        }
        p += 8;
        put_bytes(p, f.key);
        if (f.value.type() == field_value::kind::string) put_bytes(p, f.value.as_string());
        if (f.value.type() == field_value::kind::strings) {
            const auto items = f.value.as_strings();
            std::memset(p, 0, 7);
            p += (8 - reinterpret_cast<std::uintptr_t>(p) % 8) % 8;  // the views are read in place, aligned
            char* views = p;
            p += items.count * sizeof(std::string_view);
            for (std::size_t i = 0; i < items.count; ++i) {
                const std::string_view copy(p, items.items[i].size());
                std::memcpy(views + i * sizeof(std::string_view), &copy, sizeof copy);
                put_bytes(p, items.items[i]);
            }
        }
    }
}
/// Reads n fields written by put_fields into out (the backend).
RUNLOG_INLINE void get_fields(const char*& p, std::size_t n, std::vector<field>& out);

}  // namespace detail
}  // namespace v0
}  // namespace runlog

#if RUNLOG_DEFINITIONS
namespace runlog {
inline namespace v0 {
namespace detail {

RUNLOG_INLINE void get_fields(const char*& p, std::size_t n, std::vector<field>& out) {
    out.clear();
    for (std::size_t i = 0; i < n; ++i) {
        std::uint32_t klen;
        std::memcpy(&klen, p, 4);
        const auto kind = static_cast<field_value::kind>(static_cast<unsigned char>(p[4]));
        p += 8;
        std::uint64_t raw;
        std::memcpy(&raw, p, 8);
        p += 8;
        const std::string_view key(p, klen);
        p += klen;
        switch (kind) {
            case field_value::kind::int_: out.push_back({key, static_cast<std::int64_t>(raw)}); break;
            case field_value::kind::uint_: out.push_back({key, raw}); break;
            case field_value::kind::double_: {
                double d;
                std::memcpy(&d, &raw, 8);
                out.push_back({key, d});
                break;
            }
            case field_value::kind::bool_: out.push_back({key, raw != 0}); break;
            case field_value::kind::string:
                out.push_back({key, std::string_view(p, static_cast<std::size_t>(raw))});
                p += raw;
                break;
            case field_value::kind::strings: {
                p += (8 - reinterpret_cast<std::uintptr_t>(p) % 8) % 8;
                const auto* views = reinterpret_cast<const std::string_view*>(p);
                out.push_back({key, string_list(views, static_cast<std::size_t>(raw))});
                p += raw * sizeof(std::string_view);
                for (std::size_t item = 0; item < raw; ++item) p += views[item].size();
                break;
            }
        }
    }
}

}  // namespace detail
}  // namespace v0
}  // namespace runlog
#endif
