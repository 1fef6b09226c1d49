#pragma once
// Checks for what a formatter wrote from hostile input, used by the fuzz targets: a JSON line is one valid
// JSON object (RFC 8259, strings of valid UTF-8), a text line is one line without raw control characters.
// Written for the fuzzers: small, strict, and aborting (so libFuzzer reports the input) on the first fault.
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace line_checks {

[[noreturn]] inline void fail(const char* what, std::string_view line, std::size_t at) {
    std::fprintf(stderr, "line check failed: %s at byte %zu of %zu\n", what, at, line.size());
    std::abort();
}

class json_reader {
public:
    explicit json_reader(std::string_view s) : s_(s) {}
    /// The whole text must be one object followed by a newline.
    void check_line() {
        if (s_.empty() || s_.back() != '\n') fail("no final newline", s_, s_.size());
        end_ = s_.size() - 1;
        if (peek() != '{') fail("not an object", s_, i_);
        value(0);
        if (i_ != end_) fail("bytes after the object", s_, i_);
    }

private:
    char peek() const { return i_ < end_ ? s_[i_] : '\0'; }
    void expect(char c) {
        if (peek() != c) fail("unexpected byte", s_, i_);
        ++i_;
    }
    void value(int depth) {
        if (depth > 64) fail("too deep", s_, i_);
        const char c = peek();
        if (c == '{') {
            ++i_;
            if (peek() == '}') return void(++i_);
            for (;;) {
                string();
                expect(':');
                value(depth + 1);
                if (peek() == ',') { ++i_; continue; }
                expect('}');
                return;
            }
        }
        if (c == '[') {
            ++i_;
            if (peek() == ']') return void(++i_);
            for (;;) {
                value(depth + 1);
                if (peek() == ',') { ++i_; continue; }
                expect(']');
                return;
            }
        }
        if (c == '"') return string();
        for (std::string_view lit : {std::string_view("true"), std::string_view("false"), std::string_view("null")})
            if (s_.substr(i_, lit.size()) == lit) return void(i_ += lit.size());
        number();
    }
    void number() {
        const std::size_t start = i_;
        if (peek() == '-') ++i_;
        if (peek() == '0') ++i_;
        else if (peek() >= '1' && peek() <= '9') while (peek() >= '0' && peek() <= '9') ++i_;
        else fail("bad number", s_, start);
        if (peek() == '.') {
            ++i_;
            if (!(peek() >= '0' && peek() <= '9')) fail("bad fraction", s_, i_);
            while (peek() >= '0' && peek() <= '9') ++i_;
        }
        if (peek() == 'e' || peek() == 'E') {
            ++i_;
            if (peek() == '+' || peek() == '-') ++i_;
            if (!(peek() >= '0' && peek() <= '9')) fail("bad exponent", s_, i_);
            while (peek() >= '0' && peek() <= '9') ++i_;
        }
    }
    void string() {
        expect('"');
        for (;;) {
            if (i_ >= end_) fail("unterminated string", s_, i_);
            const auto c = static_cast<unsigned char>(s_[i_]);
            if (c == '"') return void(++i_);
            if (c < 0x20) fail("raw control character in a string", s_, i_);
            if (c == '\\') {
                const char e = i_ + 1 < end_ ? s_[i_ + 1] : '\0';
                if (e == 'u') {
                    for (int k = 2; k < 6; ++k) {
                        const char h = i_ + k < end_ ? s_[i_ + k] : '\0';
                        if (!((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') || (h >= 'A' && h <= 'F')))
                            fail("bad \\u escape", s_, i_);
                    }
                    i_ += 6;
                } else if (std::string_view("\"\\/bfnrt").find(e) != std::string_view::npos && e != '\0') {
                    i_ += 2;
                } else {
                    fail("bad escape", s_, i_);
                }
                continue;
            }
            if (c < 0x80) { ++i_; continue; }
            i_ += utf8_length(i_);
        }
    }
    /// A valid UTF-8 sequence's length at p, or a failure.
    std::size_t utf8_length(std::size_t p) const {
        const auto b = [&](std::size_t k) { return p + k < end_ ? static_cast<unsigned char>(s_[p + k]) : 0u; };
        const unsigned c = b(0);
        std::size_t n = 0;
        unsigned lo = 0x80, hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF) n = 2;
        else if (c >= 0xE0 && c <= 0xEF) { n = 3; if (c == 0xE0) lo = 0xA0; if (c == 0xED) hi = 0x9F; }
        else if (c >= 0xF0 && c <= 0xF4) { n = 4; if (c == 0xF0) lo = 0x90; if (c == 0xF4) hi = 0x8F; }
        else fail("invalid UTF-8 lead byte", s_, p);
        if (b(1) < lo || b(1) > hi) fail("invalid UTF-8 continuation", s_, p);
        for (std::size_t k = 2; k < n; ++k)
            if (b(k) < 0x80 || b(k) > 0xBF) fail("invalid UTF-8 continuation", s_, p);
        return n;
    }

    std::string_view s_;
    std::size_t i_ = 0, end_ = 0;
};

inline void check_json_line(std::string_view line) { json_reader(line).check_line(); }

/// One line: a final newline and, before it, no C0 control, DEL or C1 control (U+0080-U+009F).
inline void check_text_line(std::string_view line) {
    if (line.empty() || line.back() != '\n') fail("no final newline", line, line.size());
    for (std::size_t i = 0; i + 1 < line.size(); ++i) {
        const auto c = static_cast<unsigned char>(line[i]);
        if (c < 0x20 || c == 0x7F) fail("raw control character in a text line", line, i);
        if (c == 0xC2 && i + 2 < line.size() && static_cast<unsigned char>(line[i + 1]) >= 0x80 &&
            static_cast<unsigned char>(line[i + 1]) <= 0x9F)
            fail("raw C1 control in a text line", line, i);
    }
}

}  // namespace line_checks
