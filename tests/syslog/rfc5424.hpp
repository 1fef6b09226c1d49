// A strict reader of RFC 5424 messages (the ABNF of its section 6), shared by test_syslog.cpp and the
// syslog fuzz target: it says what makes a message invalid, and takes a valid one apart.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>


namespace test_rfc5424 {

/// An RFC 5424 message taken apart by a strict reading of the RFC's ABNF (section 6).
struct message5424 {
    int pri = -1;
    std::string timestamp, hostname, app_name, procid, msgid;
    std::string sd_id;  ///< empty for "-"
    std::vector<std::pair<std::string, std::string>> params;  ///< values unescaped
    std::optional<std::string> msg;
    std::string param(std::string_view name) const {
        for (const auto& [k, v] : params)
            if (k == name) return v;
        return "<absent>";
    }
};

inline bool valid_utf8(std::string_view s) {
    // Well-formed UTF-8 (Unicode's table 3-7): no overlong forms, surrogates or code points above U+10FFFF.
    std::size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        std::size_t n = 0;
        unsigned char lo = 0x80, hi = 0xBF;
        if (c < 0x80) n = 1;
        else if (c >= 0xC2 && c <= 0xDF) n = 2;
        else if (c >= 0xE0 && c <= 0xEF) n = 3, lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
        else if (c >= 0xF0 && c <= 0xF4) n = 4, lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
        else return false;
        if (i + n > s.size()) return false;
        for (std::size_t k = 1; k < n; ++k) {
            const auto b = static_cast<unsigned char>(s[i + k]);
            if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xBF)) return false;
        }
        i += n;
    }
    return true;
}

/// The message, or an empty optional with *why saying what is wrong with it.
inline std::optional<message5424> parse5424(std::string_view s, std::string* why) {
    message5424 m;
    std::size_t i = 0;
    auto bad = [&](std::string what) {
        *why = what + " at byte " + std::to_string(i) + " of: " + std::string(s);
        return std::optional<message5424>();
    };
    auto printable = [](char c) { return c >= 33 && c <= 126; };
    if (s.empty() || s[0] != '<') return bad("no '<'");
    ++i;
    std::size_t digits = 0;
    int pri = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9' && digits < 3) pri = pri * 10 + (s[i++] - '0'), ++digits;
    if (digits == 0 || pri > 191 || i >= s.size() || s[i] != '>') return bad("bad PRI");
    m.pri = pri;
    ++i;
    if (s.substr(i, 2) != "1 ") return bad("no version 1");
    i += 2;
    auto field = [&](std::string& out, std::size_t max) {
        const std::size_t start = i;
        while (i < s.size() && s[i] != ' ') {
            if (!printable(s[i])) return false;
            ++i;
        }
        out = std::string(s.substr(start, i - start));
        if (out.empty() || out.size() > max || i >= s.size()) return false;
        ++i;  // the space
        return true;
    };
    if (!field(m.timestamp, 40)) return bad("bad TIMESTAMP");
    if (m.timestamp.size() != 27 || m.timestamp[4] != '-' || m.timestamp[10] != 'T' || m.timestamp[19] != '.' ||
        m.timestamp.back() != 'Z')
        return bad("TIMESTAMP not in RFC 3339 UTC with microseconds");
    if (!field(m.hostname, 255)) return bad("bad HOSTNAME");
    if (!field(m.app_name, 48)) return bad("bad APP-NAME");
    if (!field(m.procid, 128)) return bad("bad PROCID");
    if (!field(m.msgid, 32)) return bad("bad MSGID");
    if (i >= s.size()) return bad("no STRUCTURED-DATA");
    auto sd_name = [&](std::string& out) {
        const std::size_t start = i;
        while (i < s.size() && printable(s[i]) && s[i] != '=' && s[i] != ']' && s[i] != '"') ++i;
        out = std::string(s.substr(start, i - start));
        return !out.empty() && out.size() <= 32;
    };
    if (s[i] == '-') {
        ++i;
    } else {
        if (s[i] != '[') return bad("STRUCTURED-DATA neither '-' nor '['");
        while (i < s.size() && s[i] == '[') {
            ++i;
            std::string id;
            if (!sd_name(id)) return bad("bad SD-ID");
            if (m.sd_id.empty()) m.sd_id = id;
            while (i < s.size() && s[i] == ' ') {
                ++i;
                std::string name, value;
                if (!sd_name(name)) return bad("bad PARAM-NAME");
                if (s.substr(i, 2) != "=\"") return bad("no =\" after a PARAM-NAME");
                i += 2;
                for (;;) {
                    if (i >= s.size()) return bad("PARAM-VALUE never ends");
                    const char c = s[i];
                    if (c == '"') break;
                    if (c == ']') return bad("unescaped ']' in a PARAM-VALUE");
                    if (c == '\\') {
                        if (i + 1 >= s.size() || (s[i + 1] != '"' && s[i + 1] != '\\' && s[i + 1] != ']'))
                            return bad("a backslash that escapes nothing");
                        value.push_back(s[i + 1]);
                        i += 2;
                        continue;
                    }
                    value.push_back(c);
                    ++i;
                }
                ++i;  // the closing quote
                if (!valid_utf8(value)) return bad("PARAM-VALUE is not UTF-8");
                m.params.emplace_back(name, value);
            }
            if (i >= s.size() || s[i] != ']') return bad("SD-ELEMENT not closed");
            ++i;
        }
    }
    if (i == s.size()) return m;
    if (s[i] != ' ') return bad("no space before MSG");
    m.msg = std::string(s.substr(i + 1));
    if (m.msg->rfind("\xEF\xBB\xBF", 0) == 0) return bad("a BOM");
    if (!valid_utf8(*m.msg)) return bad("MSG is not UTF-8");
    return m;
}

}  // namespace test_rfc5424
