// The run page: page/run.html with the run's data embedded as JSON (see page/DATA.md).
#include <algorithm>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <unordered_map>

#include <sys/stat.h>

#include <simdjson.h>

#include "view.hpp"

namespace runlog_view {

namespace {

constexpr std::uint64_t max_log_bytes = 5u << 20;  ///< what a page holds of one raw log

/// Strings stored once, referred to by index.
class interner {
public:
    interner() { index(""); }
    std::size_t index(const std::string& s) {
        const auto [it, added] = ids_.try_emplace(s, list_.size());
        if (added) list_.push_back(&it->first);
        return it->second;
    }
    void write(std::string& out) const {
        out += '[';
        for (std::size_t i = 0; i < list_.size(); ++i) {
            if (i) out += ',';
            json_string(out, *list_[i], true);
        }
        out += ']';
    }

private:
    std::unordered_map<std::string, std::size_t> ids_;
    std::vector<const std::string*> list_;
};

void number(std::string& out, double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3f", v);
    std::string s = buf;
    while (!s.empty() && s.back() == '0') s.pop_back();
    if (!s.empty() && s.back() == '.') s.pop_back();
    if (s == "-0") s = "0";
    out += s;
}

struct step_info {
    std::string key;
    double start = 0;
    std::optional<double> end;
    std::string status = "RUNNING";
    long thread = 0;
    std::string file_key, error_type, error_message;
    int row = 0;
};

std::string field(const std::string& fields_json, const char* key) {
    if (fields_json.empty()) return {};
    simdjson::dom::parser parser;
    simdjson::padded_string p(fields_json);
    simdjson::dom::element e;
    std::string_view v;
    if (parser.parse(p).get(e) == simdjson::SUCCESS && e[key].get_string().get(v) == simdjson::SUCCESS) return std::string(v);
    return {};
}

std::vector<std::string> field_list(const std::string& fields_json, const char* key) {
    std::vector<std::string> out;
    if (fields_json.empty()) return out;
    simdjson::dom::parser parser;
    simdjson::padded_string p(fields_json);
    simdjson::dom::element e;
    simdjson::dom::array a;
    if (parser.parse(p).get(e) == simdjson::SUCCESS && e[key].get_array().get(a) == simdjson::SUCCESS)
        for (auto item : a) {
            std::string_view s;
            if (item.get_string().get(s) == simdjson::SUCCESS) out.emplace_back(s);
        }
    return out;
}

/// The steps of a run from its events: start and end, outcome, thread, compute-log key; overlapping ones on rows.
std::vector<step_info> steps_of(const std::vector<event>& events, std::int64_t t0) {
    std::vector<step_info> steps;
    std::map<std::string, std::size_t> open;  // step key -> index of its latest start
    std::map<std::string, std::string> file_keys;
    for (const event& e : events) {
        const double t = static_cast<double>(e.t_us - t0) / 1000.0;
        if (e.type == "LOGS_CAPTURED") {
            const std::string key = field(e.fields, "file_key");
            for (const auto& s : field_list(e.fields, "step_keys")) file_keys[s] = key;
        } else if (e.type == "STEP_START" && !e.step.empty()) {
            step_info s;
            s.key = e.step;
            s.start = t;
            s.thread = e.thread;
            open[e.step] = steps.size();
            steps.push_back(std::move(s));
        } else if ((e.type == "STEP_SUCCESS" || e.type == "STEP_FAILURE") && open.count(e.step)) {
            step_info& s = steps[open[e.step]];
            s.end = t;
            s.status = e.type == "STEP_SUCCESS" ? "SUCCESS" : "FAILURE";
            if (e.type == "STEP_FAILURE") {
                s.error_type = field(e.fields, "error_type");
                s.error_message = field(e.fields, "error_message");
            }
        }
    }
    std::vector<double> row_end;  // when each row is free again
    for (step_info& s : steps) {
        auto it = file_keys.find(s.key);
        s.file_key = it != file_keys.end() && safe_file_key(it->second) ? it->second : "";
        const double end = s.end ? *s.end : std::numeric_limits<double>::infinity();
        std::size_t r = 0;
        while (r < row_end.size() && row_end[r] > s.start) ++r;
        if (r == row_end.size()) row_end.push_back(end);
        row_end[r] = end;
        s.row = static_cast<int>(r);
    }
    return steps;
}

/// Up to max_log_bytes of a compute log, and its size.
void log_part(std::string& out, const std::string& path, const std::string& download) {
    struct stat st{};
    std::uint64_t size = 0;
    std::string text;
    if (::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
        size = static_cast<std::uint64_t>(st.st_size);
        std::ifstream in(path, std::ios::binary);
        text.resize(static_cast<std::size_t>(std::min(size, max_log_bytes)));
        in.read(text.data(), static_cast<std::streamsize>(text.size()));
        text.resize(static_cast<std::size_t>(in.gcount()));
    }
    out += "{\"text\":";
    json_string(out, text, true);
    out += ",\"size\":" + std::to_string(size) + ",\"truncated\":" + (size > text.size() ? "true" : "false") + ",\"download\":";
    json_string(out, download, true);
    out += '}';
}

}  // namespace

std::string run_data(const run_info& run, const std::vector<event>& events, const std::string& stream,
                     const std::string& logs_url) {
    const std::int64_t t0 = events.empty() ? parse_time(run.start_time).value_or(0) : events.front().t_us;
    interner strings;
    std::string out = "{\"version\":1,\"live\":";
    out += stream.empty() ? "false" : "true";
    if (!stream.empty()) {
        out += ",\"stream\":";
        json_string(out, stream, true);
        out += ",\"logs_url\":";
        json_string(out, logs_url, true);
    }
    out += ",\"run\":{\"run_id\":";
    json_string(out, run.run_id, true);
    out += ",\"job_name\":";
    json_string(out, run.job_name, true);
    out += ",\"status\":";
    json_string(out, run.shown_status(), true);
    out += ",\"start_time\":";
    json_string(out, run.start_time, true);
    out += ",\"end_time\":";
    if (run.ended) json_string(out, run.end_time, true); else out += "null";
    out += ",\"duration_ms\":";
    if (run.duration_ms) number(out, *run.duration_ms); else out += "null";
    out += ",\"failed_steps\":[";
    for (std::size_t i = 0; i < run.failed_steps.size(); ++i) {
        if (i) out += ',';
        json_string(out, run.failed_steps[i], true);
    }
    out += "],\"pid\":" + std::to_string(run.pid) + ",\"tags\":";
    {
        // The tags object re-encoded so its strings are html-safe too.
        simdjson::dom::parser parser;
        simdjson::padded_string p(run.tags_json);
        simdjson::dom::object tags;
        out += '{';
        if (parser.parse(p).get(tags) == simdjson::SUCCESS) {
            bool first = true;
            for (auto [k, v] : tags) {
                if (!first) out += ',';
                first = false;
                json_string(out, k, true);
                out += ':';
                std::string_view s;
                json_string(out, v.get_string().get(s) == simdjson::SUCCESS ? std::string(s) : simdjson::minify(v), true);
            }
        }
        out += '}';
    }
    out += "},\"events\":{\"n\":" + std::to_string(events.size()) + ",\"t0_us\":" + std::to_string(t0);
    auto column = [&](const char* name, auto&& each) {
        out += ",\"";
        out += name;
        out += "\":[";
        for (std::size_t i = 0; i < events.size(); ++i) {
            if (i) out += ',';
            each(events[i]);
        }
        out += ']';
    };
    column("t", [&](const event& e) { number(out, static_cast<double>(e.t_us - t0) / 1000.0); });
    column("sev", [&](const event& e) { out += std::to_string(e.sev); });
    column("lvl", [&](const event& e) { out += std::to_string(strings.index(e.lvl)); });
    column("step", [&](const event& e) { out += std::to_string(strings.index(e.step)); });
    column("type", [&](const event& e) { out += std::to_string(strings.index(e.type)); });
    column("logger", [&](const event& e) { out += std::to_string(strings.index(e.logger)); });
    column("msg", [&](const event& e) { json_string(out, e.msg, true); });
    column("fields", [&](const event& e) { out += std::to_string(strings.index(e.fields)); });
    out += "},\"strings\":";
    strings.write(out);
    const std::vector<step_info> steps = steps_of(events, t0);
    out += ",\"steps\":[";
    for (std::size_t i = 0; i < steps.size(); ++i) {
        const step_info& s = steps[i];
        if (i) out += ',';
        out += "{\"key\":";
        json_string(out, s.key, true);
        out += ",\"start\":";
        number(out, s.start);
        out += ",\"end\":";
        if (s.end) number(out, *s.end); else out += "null";
        out += ",\"status\":\"" + s.status + "\",\"row\":" + std::to_string(s.row) + ",\"thread\":" + std::to_string(s.thread);
        out += ",\"file_key\":";
        if (s.file_key.empty()) out += "null"; else json_string(out, s.file_key, true);
        out += ",\"error_type\":";
        if (s.error_type.empty()) out += "null"; else json_string(out, s.error_type, true);
        out += ",\"error_message\":";
        if (s.error_message.empty()) out += "null"; else json_string(out, s.error_message, true);
        out += '}';
    }
    out += "],\"logs\":{";
    std::vector<std::string> keys;
    for (const step_info& s : steps)
        if (!s.file_key.empty() && std::find(keys.begin(), keys.end(), s.file_key) == keys.end()) keys.push_back(s.file_key);
    for (std::size_t i = 0; i < keys.size(); ++i) {
        if (i) out += ',';
        json_string(out, keys[i], true);
        const std::string base = run.dir + "/compute_logs/" + keys[i];
        out += ":{\"out\":";
        log_part(out, base + ".out", keys[i] + ".out");
        out += ",\"err\":";
        log_part(out, base + ".err", keys[i] + ".err");
        out += '}';
    }
    out += "}}";
    return out;
}

std::string run_page(const run_info& run, const std::vector<event>& events, const std::string& stream,
                     const std::string& logs_url) {
    const std::string_view page = page_template();
    const std::string_view marker = "<!--RUNLOG_DATA-->";
    const std::size_t at = page.find(marker);
    if (at == std::string_view::npos) throw failure("the page template has no <!--RUNLOG_DATA--> marker");
    std::string out(page.substr(0, at));
    out += "<script id=\"runlog-data\" type=\"application/json\">";
    out += run_data(run, events, stream, logs_url);
    out += "</script>";
    out += page.substr(at + marker.size());
    return out;
}

}  // namespace runlog_view
