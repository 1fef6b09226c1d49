// Filters, the console layout and JSON text.
#include <algorithm>
#include <cctype>

#include "view.hpp"

namespace runlog_view {

namespace {

std::string upper(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}
std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

/// The length of the valid UTF-8 sequence at s[i], or 0.
std::size_t utf8_length(std::string_view s, std::size_t i) {
    auto at = [&](std::size_t k) { return k < s.size() ? static_cast<unsigned char>(s[k]) : 0u; };
    auto cont = [&](std::size_t k) { return (at(k) & 0xC0) == 0x80; };
    const unsigned c = at(i);
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) return cont(i + 1) ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        const unsigned c1 = at(i + 1);
        if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 > 0x9F)) return 0;
        return cont(i + 1) && cont(i + 2) ? 3 : 0;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        const unsigned c1 = at(i + 1);
        if ((c == 0xF0 && c1 < 0x90) || (c == 0xF4 && c1 > 0x8F)) return 0;
        return cont(i + 1) && cont(i + 2) && cont(i + 3) ? 4 : 0;
    }
    return 0;
}

}  // namespace

int level_floor(std::string_view name) {
    const std::string n = upper(name);
    if (n == "TRACE") return 1;
    if (n == "DEBUG") return 5;
    if (n == "INFO") return 9;
    if (n == "WARNING" || n == "WARN") return 13;
    if (n == "ERROR") return 17;
    if (n == "CRITICAL" || n == "FATAL") return 21;
    return 0;
}

bool wildcard_match(std::string_view p, std::string_view t) {
    // Greedy matching with backtracking to the last '*': linear in practice, never exponential.
    std::size_t pi = 0, ti = 0, star = std::string_view::npos, mark = 0;
    while (ti < t.size()) {
        if (pi < p.size() && p[pi] == '*') {
            star = pi++;
            mark = ti;
        } else if (pi < p.size() && p[pi] == t[ti]) {
            ++pi, ++ti;
        } else if (star != std::string_view::npos) {
            pi = star + 1;
            ti = ++mark;
        } else {
            return false;
        }
    }
    while (pi < p.size() && p[pi] == '*') ++pi;
    return pi == p.size();
}

filter filter::parse(const std::vector<std::string>& tokens) {
    filter f;
    for (const std::string& tok : tokens) {
        const auto colon = tok.find(':');
        const std::string key = colon == std::string::npos ? "" : lower(tok.substr(0, colon));
        const std::string value = colon == std::string::npos ? tok : tok.substr(colon + 1);
        if (key == "step") {
            if (value.empty()) throw failure("filter 'step:' needs a step key (a '*' matches any run of characters)");
            f.steps.push_back(value);
        } else if (key == "type") {
            if (value.empty()) throw failure("filter 'type:' needs an event type, e.g. type:STEP_FAILURE");
            f.types.push_back(upper(value));
        } else if (key == "level") {
            const int floor = level_floor(value);
            if (floor == 0)
                throw failure("filter 'level:" + value + "': unknown level (TRACE, DEBUG, INFO, WARNING, ERROR or CRITICAL)");
            f.min_sev = std::max(f.min_sev, floor);
        } else if (key == "query") {
            if (!value.empty()) f.words.push_back(lower(value));
        } else {
            if (!tok.empty()) f.words.push_back(lower(tok));
        }
    }
    return f;
}

bool filter::matches(const event& e) const {
    if (e.sev < min_sev) return false;
    if (!steps.empty() &&
        std::none_of(steps.begin(), steps.end(), [&](const std::string& p) { return wildcard_match(p, e.step); }))
        return false;
    if (!types.empty() && std::find(types.begin(), types.end(), e.type) == types.end()) return false;
    if (!words.empty()) {
        const std::string m = lower(e.msg);
        for (const std::string& w : words)
            if (m.find(w) == std::string::npos) return false;
    }
    return true;
}

std::string run_json(const run_info& r) {
    std::string out = "{\"run_id\":";
    json_string(out, r.run_id);
    out += ",\"job_name\":";
    json_string(out, r.job_name);
    out += ",\"status\":";
    json_string(out, r.shown_status());
    out += ",\"start_time\":";
    json_string(out, r.start_time);
    if (r.ended) {
        out += ",\"end_time\":";
        json_string(out, r.end_time);
    }
    if (r.duration_ms) out += ",\"duration_ms\":" + std::to_string(*r.duration_ms);
    out += ",\"failed_steps\":[";
    for (std::size_t i = 0; i < r.failed_steps.size(); ++i) {
        if (i) out += ',';
        json_string(out, r.failed_steps[i]);
    }
    out += "],\"pid\":" + std::to_string(r.pid) + ",\"tags\":" + r.tags_json + "}";
    return out;
}

std::string printable(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (const char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7F) {
            static constexpr char hex[] = "0123456789abcdef";
            out += c == '\n' ? "\\n" : c == '\t' ? "\\t" : std::string{'\\', 'x', hex[u >> 4], hex[u & 15]};
        } else {
            out += c;
        }
    }
    return out;
}

std::string console_line(const event& e, bool color) {
    std::string out = show_time(e.t_us);
    auto part = [&](std::string_view s, std::string_view on = {}) {
        if (s.empty()) return;
        out += " - ";
        if (color && !on.empty()) out += on;
        out += s;
        if (color && !on.empty()) out += "\x1b[0m";
    };
    const std::string_view level_color = e.sev >= 21 ? "\x1b[1;31m"
                                         : e.sev >= 17 ? "\x1b[31m"
                                         : e.sev >= 13 ? "\x1b[33m"
                                         : e.sev >= 9  ? "\x1b[32m"
                                         : e.sev >= 5  ? "\x1b[34m"
                                                       : "\x1b[2m";
    part(printable(e.logger));
    part(printable(e.lvl), level_color);
    part(printable(e.job));
    part(e.pid ? std::to_string(e.pid) : "");
    part(printable(e.step));
    part(printable(e.type), "\x1b[1m");
    const std::string msg = printable(e.msg);
    if (!msg.empty()) out += " - " + msg;
    return out;
}

void json_string(std::string& out, std::string_view s, bool html_safe) {
    static constexpr char hex[] = "0123456789abcdef";
    out += '"';
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        const std::size_t n = utf8_length(s, i);
        if (n == 0) {
            out += "\\ufffd";  // invalid UTF-8
            ++i;
            continue;
        }
        if (n == 3 && html_safe && c == 0xE2 && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
            (static_cast<unsigned char>(s[i + 2]) == 0xA8 || static_cast<unsigned char>(s[i + 2]) == 0xA9)) {
            out += static_cast<unsigned char>(s[i + 2]) == 0xA8 ? "\\u2028" : "\\u2029";
            i += 3;
            continue;
        }
        if (n > 1) {
            out.append(s.substr(i, n));
            i += n;
            continue;
        }
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\t') {
            out += "\\t";
        } else if (c == '\r') {
            out += "\\r";
        } else if (c < 0x20 || c == 0x7F || (html_safe && (c == '<' || c == '>' || c == '&'))) {
            out += "\\u00";
            out += hex[c >> 4];
            out += hex[c & 15];
        } else {
            out += static_cast<char>(c);
        }
        ++i;
    }
    out += '"';
}

std::string valid_utf8(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size();) {
        const std::size_t n = utf8_length(s, i);
        if (n == 0) {
            out += "\xEF\xBF\xBD";
            ++i;
        } else {
            out.append(s.substr(i, n));
            i += n;
        }
    }
    return out;
}

}  // namespace runlog_view
