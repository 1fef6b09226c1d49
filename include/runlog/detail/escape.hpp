#pragma once
/// JSON, logfmt and text-line escaping; included by the formatters' definitions.
#include <cstdint>
#include <string_view>

#include "../format/buffer.hpp"
#include "words.hpp"

namespace runlog {
inline namespace v0 {
namespace detail {

/// At p: a valid UTF-8 sequence's length (1 to 4) as a positive number, or the length of the
/// maximal invalid subpart as a negative one, so each such subpart becomes one U+FFFD (Unicode's
/// recommended practice, also Python's and WHATWG's).
inline int utf8_sequence_length(const unsigned char* p, const unsigned char* end) noexcept {
    const unsigned char c = p[0];
    if (c < 0x80) return 1;
    int n;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0) lo = 0xA0;       // no overlong forms
        else if (c == 0xED) hi = 0x9F;  // no UTF-16 surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0) lo = 0x90;
        else if (c == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
    } else {
        return -1;
    }
    const auto avail = end - p;
    if (avail < 2 || p[1] < lo || p[1] > hi) return -1;
    for (int i = 2; i < n; ++i)
        if (i >= avail || p[i] < 0x80 || p[i] > 0xBF) return -i;
    return n;
}

inline constexpr std::string_view replacement_character = "\xEF\xBF\xBD";

/// Eight bytes a JSON string takes as they are: printable ASCII other than '"' and '\\'.
constexpr bool json_plain_word(std::uint64_t w) noexcept {
    return (w & word_highs) == 0 && !word_has_below(w, 0x20) && !word_has(w, '"') && !word_has(w, '\\');
}
/// Eight bytes a text line takes as they are: no C0 control, no DEL, no 0xC2 (the lead byte of a C1 control).
constexpr bool text_plain_word(std::uint64_t w) noexcept {
    return !word_has_below(w, 0x20) && !word_has(w, 0x7F) && !word_has(w, 0xC2);
}

/// Appends s as the inside of a JSON string: quotes, backslashes and control characters escaped,
/// invalid UTF-8 replaced by U+FFFD.
inline void append_json_escaped(buffer& out, std::string_view s) {
    auto p = reinterpret_cast<const unsigned char*>(s.data());
    const auto end = p + s.size();
    while (p < end) {
        auto run = p;
        while (end - run >= 8 && json_plain_word(load_word(run))) run += 8;
        while (run < end && *run >= 0x20 && *run < 0x80 && *run != '"' && *run != '\\') ++run;
        out.append(reinterpret_cast<const char*>(p), reinterpret_cast<const char*>(run));
        p = run;
        if (p == end) break;
        const unsigned char c = *p;
        if (c >= 0x80) {
            auto n = utf8_sequence_length(p, end);
            if (n < 0) {
                out.append(replacement_character);
                p += -n;
            } else {
                out.append(reinterpret_cast<const char*>(p), reinterpret_cast<const char*>(p + n));
                p += n;
            }
            continue;
        }
        ++p;
        switch (c) {
            case '"': out.append(std::string_view("\\\"")); break;
            case '\\': out.append(std::string_view("\\\\")); break;
            case '\n': out.append(std::string_view("\\n")); break;
            case '\r': out.append(std::string_view("\\r")); break;
            case '\t': out.append(std::string_view("\\t")); break;
            case '\b': out.append(std::string_view("\\b")); break;
            case '\f': out.append(std::string_view("\\f")); break;
            default: {
                constexpr char hex[] = "0123456789abcdef";
                char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
                out.append(u, u + 6);
            }
        }
    }
}

/// Appends s for a text line: each control character (U+0000-U+001F, U+007F) written as an escape, `\n` `\r`
/// `\t` or `\xHH`, so that a record stays one line and no raw ESC, CR or NUL reaches a terminal or a file.
/// Everything else, backslashes and UTF-8 included, is copied as it is.
inline void append_text_escaped(buffer& out, std::string_view s) {
    const char* p = s.data();
    const char* const end = p + s.size();
    for (;;) {
        const char* run = p;
        // C1 controls (U+0080 to U+009F, in UTF-8 0xC2 0x80 to 0xC2 0x9F) act like ESC sequences on some
        // terminals (U+009B is CSI): they are escaped as \u0080 to \u009f.
        auto c1 = [&](const char* q) {
            return static_cast<unsigned char>(*q) == 0xC2 && q + 1 < end && static_cast<unsigned char>(q[1]) >= 0x80 &&
                   static_cast<unsigned char>(q[1]) <= 0x9F;
        };
        while (end - run >= 8 && text_plain_word(load_word(run))) run += 8;
        while (run < end && static_cast<unsigned char>(*run) >= 0x20 && *run != 0x7F && !c1(run)) ++run;
        out.append(p, run);
        if (run == end) return;
        const auto c = static_cast<unsigned char>(*run);
        p = run + 1;
        if (c == 0xC2) {
            constexpr char hex[] = "0123456789abcdef";
            const auto v = static_cast<unsigned char>(run[1]);
            const char u[6] = {'\\', 'u', '0', '0', hex[v >> 4], hex[v & 15]};
            out.append(u, u + 6);
            p = run + 2;
        } else if (c == '\n') {
            out.append(std::string_view("\\n"));
        } else if (c == '\r') {
            out.append(std::string_view("\\r"));
        } else if (c == '\t') {
            out.append(std::string_view("\\t"));
        } else {
            constexpr char hex[] = "0123456789abcdef";
            const char x[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};
            out.append(x, x + 4);
        }
    }
}

/// Appends s as a JSON string, quotes included.
inline void append_json_string(buffer& out, std::string_view s) {
    out.push_back('"');
    append_json_escaped(out, s);
    out.push_back('"');
}

/// Whether a logfmt value must be quoted: empty, or holding a space, '=', '"', a control or non-ASCII byte.
inline bool logfmt_needs_quotes(std::string_view s) noexcept {
    if (s.empty()) return true;
    for (const char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if (c <= 0x20 || c == '=' || c == '"' || c == '\\' || c >= 0x7F) return true;
    }
    return false;
}

/// Appends a logfmt value, quoted and escaped (with JSON's rules) when it needs to be.
inline void append_logfmt_value(buffer& out, std::string_view s) {
    if (logfmt_needs_quotes(s))
        append_json_string(out, s);
    else
        out.append(s);
}

}  // namespace detail
}  // namespace v0
}  // namespace runlog
