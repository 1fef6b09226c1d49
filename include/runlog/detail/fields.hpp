#pragma once
/// Structured fields as JSON and logfmt text; included by the formatters' definitions.
#include <charconv>
#include <type_traits>

#include "../format/buffer.hpp"
#include "../format/digits.hpp"
#include "../record.hpp"
#include "escape.hpp"

namespace runlog {
inline namespace v0 {
namespace detail {

/// Calls f(field) for the event's fields, then the call's; empty strings of an event are skipped
/// (an event's optional text, such as a description, that was not given).
template <class F>
void for_each_field(const record& r, F&& f) {
    for (const field& x : r.event_fields) {
        const auto k = x.value.type();
        if ((k != field_value::kind::string || !x.value.as_string().empty()) &&
            (k != field_value::kind::strings || !x.value.as_strings().empty()))
            f(x);
    }
    for (const field& x : r.fields) f(x);
}

/// Appends a number: integers through runlog's digit writer, doubles as their shortest round-trip form.
template <class T>
void append_number(buffer& out, T v) {
    if constexpr (std::is_integral_v<T>) {
        append_integer(out, v);
    } else {
        char tmp[32];
        auto res = std::to_chars(tmp, tmp + sizeof tmp, v);
        out.append(tmp, res.ptr);
    }
}

/// Appends a field value as JSON; non-finite doubles become the strings "NaN", "Infinity", "-Infinity".
inline void append_json_value(buffer& out, const field_value& v) {
    switch (v.type()) {
        case field_value::kind::int_: append_number(out, v.as_int()); break;
        case field_value::kind::uint_: append_number(out, v.as_uint()); break;
        case field_value::kind::double_: {
            double d = v.as_double();
            if (__builtin_isnan(d)) out.append(std::string_view("\"NaN\""));
            else if (__builtin_isinf(d)) out.append(d > 0 ? std::string_view("\"Infinity\"") : std::string_view("\"-Infinity\""));
            else append_number(out, d);
            break;
        }
        case field_value::kind::bool_: out.append(v.as_bool() ? std::string_view("true") : std::string_view("false")); break;
        case field_value::kind::string: append_json_string(out, v.as_string()); break;
        case field_value::kind::strings: {
            out.push_back('[');
            bool first = true;
            for (std::string_view s : v.as_strings()) {
                if (!first) out.push_back(',');
                first = false;
                append_json_string(out, s);
            }
            out.push_back(']');
            break;
        }
    }
}

/// Appends a field value as logfmt text (strings quoted when needed).
inline void append_text_value(buffer& out, const field_value& v) {
    switch (v.type()) {
        case field_value::kind::int_: append_number(out, v.as_int()); break;
        case field_value::kind::uint_: append_number(out, v.as_uint()); break;
        case field_value::kind::double_: append_number(out, v.as_double()); break;
        case field_value::kind::bool_: out.append(v.as_bool() ? std::string_view("true") : std::string_view("false")); break;
        case field_value::kind::string: append_logfmt_value(out, v.as_string()); break;
        case field_value::kind::strings: {  // logfmt has no lists: the items joined by commas, as one value
            basic_memory_buffer<128> joined;
            bool first = true;
            for (std::string_view s : v.as_strings()) {
                if (!first) joined.push_back(',');
                first = false;
                joined.append(s);
            }
            append_logfmt_value(out, joined.view());
            break;
        }
    }
}

/// Appends ` key=value` for each field of the record.
inline void append_logfmt_fields(buffer& out, const record& r, bool leading_space) {
    for_each_field(r, [&](const field& f) {
        if (leading_space) out.push_back(' ');
        leading_space = true;
        append_logfmt_value(out, f.key);
        out.push_back('=');
        append_text_value(out, f.value);
    });
}

}  // namespace detail
}  // namespace v0
}  // namespace runlog
