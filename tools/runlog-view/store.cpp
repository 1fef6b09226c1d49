// Reading runlog's storage: runs.jsonl, events.jsonl, compute logs. JSON goes through simdjson.
#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <map>

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>
#include <sys/stat.h>

#include <simdjson.h>

#include "view.hpp"

namespace runlog_view {

namespace {

/// A file's bytes from `from` on; throws failure naming it when it cannot be read.
std::string read_file(const std::string& path, std::uint64_t from = 0) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) throw failure(path + ": cannot open: " + std::strerror(errno));
    struct stat st{};
    std::string data;
    if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && static_cast<std::uint64_t>(st.st_size) > from)
        data.reserve(static_cast<std::size_t>(static_cast<std::uint64_t>(st.st_size) - from));
    off_t at = static_cast<off_t>(from);
    char chunk[1 << 16];
    for (;;) {
        const ssize_t n = ::pread(fd, chunk, sizeof chunk, at);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            const int err = errno;
            ::close(fd);
            throw failure(path + ": read error: " + std::strerror(err));
        }
        if (n == 0) break;
        data.append(chunk, static_cast<std::size_t>(n));
        at += n;
    }
    ::close(fd);
    return data;
}

std::string str(simdjson::dom::element obj, const char* key) {
    std::string_view v;
    if (obj[key].get_string().get(v) == simdjson::SUCCESS) return std::string(v);
    return {};
}
long integer(simdjson::dom::element obj, const char* key) {
    int64_t i;
    if (obj[key].get_int64().get(i) == simdjson::SUCCESS) return static_cast<long>(i);
    return 0;
}

bool process_gone(long pid) {
    if (pid <= 0) return false;
    return ::kill(static_cast<pid_t>(pid), 0) == -1 && errno == ESRCH;
}

/// Parses one JSON line (copied into a padded buffer).
simdjson::error_code parse_line(simdjson::dom::parser& parser, std::string_view line, std::vector<char>& buf,
                                simdjson::dom::element& out) {
    buf.resize(line.size() + simdjson::SIMDJSON_PADDING);
    std::memcpy(buf.data(), line.data(), line.size());
    return parser.parse(buf.data(), line.size(), false).get(out);
}

}  // namespace

std::string storage_dir(const std::optional<std::string>& home) {
    std::string h;
    if (home) {
        h = *home;
    } else {
        const char* env = std::getenv("RUNLOG_HOME");
        h = env && *env ? env : ".runlog";
    }
    if (h.empty()) throw failure("--home: an empty directory name");
    return h + "/storage";
}

std::optional<std::int64_t> parse_time(std::string_view s) {
    // YYYY-MM-DDTHH:MM:SS[.ffffff]Z
    if (s.size() < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':') return std::nullopt;
    auto num = [&](std::size_t at, std::size_t n, int& v) {
        v = 0;
        for (std::size_t i = at; i < at + n; ++i) {
            if (s[i] < '0' || s[i] > '9') return false;
            v = v * 10 + (s[i] - '0');
        }
        return true;
    };
    std::tm tm{};
    int y, mo, d, h, mi, se;
    if (!num(0, 4, y) || !num(5, 2, mo) || !num(8, 2, d) || !num(11, 2, h) || !num(14, 2, mi) || !num(17, 2, se))
        return std::nullopt;
    tm.tm_year = y - 1900, tm.tm_mon = mo - 1, tm.tm_mday = d, tm.tm_hour = h, tm.tm_min = mi, tm.tm_sec = se;
    std::int64_t us = 0;
    std::size_t i = 19;
    if (i < s.size() && s[i] == '.') {
        int digits = 0;
        for (++i; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i)
            if (digits < 6) us = us * 10 + (s[i] - '0'), ++digits;
        for (; digits < 6; ++digits) us *= 10;
    }
    if (i >= s.size() || s[i] != 'Z') return std::nullopt;
    return static_cast<std::int64_t>(timegm(&tm)) * 1000000 + us;
}

std::string show_time(std::int64_t t_us, bool millis) {
    const std::time_t sec = static_cast<std::time_t>(t_us / 1000000);
    std::tm tm{};
    gmtime_r(&sec, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
    std::string out = buf;
    if (millis) {
        char ms[8];
        std::snprintf(ms, sizeof ms, ".%03d", static_cast<int>((t_us % 1000000) / 1000));
        out += ms;
    }
    return out + " +0000";
}

std::string show_duration(double ms) {
    char buf[32];
    if (ms < 1000)
        std::snprintf(buf, sizeof buf, "%.0fms", ms);
    else if (ms < 60'000)
        std::snprintf(buf, sizeof buf, "%.2fs", ms / 1000);
    else if (ms < 3'600'000)
        std::snprintf(buf, sizeof buf, "%dm%02ds", static_cast<int>(ms / 60'000), static_cast<int>(ms / 1000) % 60);
    else
        std::snprintf(buf, sizeof buf, "%dh%02dm", static_cast<int>(ms / 3'600'000), static_cast<int>(ms / 60'000) % 60);
    return buf;
}

std::vector<run_info> read_runs(const std::string& storage, std::vector<std::string>& notes) {
    struct stat st{};
    if (::stat(storage.c_str(), &st) != 0)
        throw failure(storage + ": no runlog storage here (" + std::strerror(errno) +
                      "); set RUNLOG_HOME or pass --home DIR");
    const std::string index = storage + "/runs.jsonl";
    if (::stat(index.c_str(), &st) != 0) {
        if (errno == ENOENT) return {};
        throw failure(index + ": " + std::strerror(errno));
    }
    if (!S_ISREG(st.st_mode)) throw failure(index + ": not a regular file");
    const std::string data = read_file(index);
    simdjson::dom::parser parser;
    std::vector<char> buf;
    std::map<std::string, run_info> by_id;
    std::size_t line_no = 0;
    for (std::size_t pos = 0; pos < data.size();) {
        ++line_no;
        const std::size_t nl = data.find('\n', pos);
        if (nl == std::string::npos) {
            notes.push_back(index + ":" + std::to_string(line_no) +
                            ": the last line is incomplete (being written, or its writer crashed): skipped");
            break;
        }
        const std::string_view line(data.data() + pos, nl - pos);
        pos = nl + 1;
        if (line.empty()) continue;
        simdjson::dom::element rec;
        std::string_view id;
        if (parse_line(parser, line, buf, rec) != simdjson::SUCCESS || !rec.is_object() ||
            rec["run_id"].get_string().get(id) != simdjson::SUCCESS || id.empty()) {
            notes.push_back(index + ":" + std::to_string(line_no) + ": not a run record: skipped");
            continue;
        }
        run_info& r = by_id[std::string(id)];
        r.run_id = id;
        const std::string status = str(rec, "status");
        if (r.job_name.empty()) r.job_name = str(rec, "job_name");
        if (r.start_time.empty()) r.start_time = str(rec, "start_time");
        if (!r.ended || status != "STARTED") r.status = status;
        if (status != "STARTED") {
            r.ended = true;
            r.end_time = str(rec, "end_time");
            double d;
            if (rec["duration_ms"].get_double().get(d) == simdjson::SUCCESS) r.duration_ms = d;
            r.failed_steps.clear();
            simdjson::dom::array failed;
            if (rec["failed_steps"].get_array().get(failed) == simdjson::SUCCESS)
                for (auto f : failed) {
                    std::string_view s;
                    if (f.get_string().get(s) == simdjson::SUCCESS) r.failed_steps.emplace_back(s);
                }
        }
        if (const long pid = integer(rec, "pid")) r.pid = pid;
        simdjson::dom::object tags;
        if (rec["tags"].get_object().get(tags) == simdjson::SUCCESS) r.tags_json = simdjson::minify(tags);
    }
    std::vector<run_info> runs;
    for (auto& [id, r] : by_id) {
        r.dir = storage + "/" + id;
        r.crashed = !r.ended && process_gone(r.pid);
        runs.push_back(std::move(r));
    }
    std::sort(runs.begin(), runs.end(), [](const run_info& a, const run_info& b) {
        return a.start_time != b.start_time ? a.start_time > b.start_time : a.run_id < b.run_id;
    });
    return runs;
}

const run_info& find_run(const std::vector<run_info>& runs, std::string_view ref) {
    if (ref.empty()) throw failure("an empty run id");
    if (runs.empty()) throw failure("no runs in this storage yet");
    if (ref == "latest") return runs.front();
    std::vector<const run_info*> found;
    for (const auto& r : runs) {
        if (r.run_id == ref) return r;
        if (r.run_id.compare(0, ref.size(), ref) == 0) found.push_back(&r);
    }
    if (found.empty()) throw failure("no run '" + std::string(ref) + "' (runlog-view runs lists them)");
    if (found.size() > 1) {
        std::string ids;
        for (std::size_t i = 0; i < found.size() && i < 5; ++i) ids += (i ? ", " : "") + found[i]->run_id;
        if (found.size() > 5) ids += ", ...";
        throw failure("run '" + std::string(ref) + "' is ambiguous: " + std::to_string(found.size()) + " runs start with it (" +
                      ids + ")");
    }
    return *found.front();
}

std::string events_path(const run_info& run) { return run.dir + "/events.jsonl"; }

events_read read_events(const std::string& path, std::uint64_t from, std::size_t first_line, bool keep_raw) {
    struct stat st{};
    if (::stat(path.c_str(), &st) != 0) throw failure(path + ": " + std::strerror(errno));
    if (!S_ISREG(st.st_mode)) throw failure(path + ": not a regular file");
    const std::string data = read_file(path, from);
    events_read out;
    out.end = from;
    simdjson::dom::parser parser;
    std::vector<char> buf;
    std::size_t line_no = first_line - 1;
    for (std::size_t pos = 0; pos < data.size();) {
        ++line_no;
        const std::size_t nl = data.find('\n', pos);
        if (nl == std::string::npos) {
            out.torn_tail = true;
            break;
        }
        const std::string_view line(data.data() + pos, nl - pos);
        pos = nl + 1;
        out.end = from + pos;
        if (line.empty()) continue;
        simdjson::dom::element rec;
        if (parse_line(parser, line, buf, rec) != simdjson::SUCCESS || !rec.is_object()) {
            out.bad_lines.push_back(line_no);
            continue;
        }
        event e;
        const auto t = parse_time(str(rec, "timestamp"));
        if (!t) {
            out.bad_lines.push_back(line_no);
            continue;
        }
        e.t_us = *t;
        e.sev = static_cast<int>(integer(rec, "severity_number"));
        e.lvl = str(rec, "severity_text");
        e.msg = str(rec, "body");
        e.logger = str(rec, "logger");
        e.type = str(rec, "event_type");
        e.step = str(rec, "step_key");
        e.job = str(rec, "job_name");
        e.pid = integer(rec, "process.pid");
        e.thread = integer(rec, "thread.id");
        simdjson::dom::object attrs;
        if (rec["attributes"].get_object().get(attrs) == simdjson::SUCCESS) e.fields = simdjson::minify(attrs);
        if (keep_raw) e.raw = line;
        out.events.push_back(std::move(e));
        out.ends.push_back(out.end);
    }
    return out;
}

bool safe_file_key(std::string_view key) {
    return !key.empty() && key != "." && key != ".." && key.find('/') == std::string_view::npos &&
           key.find('\0') == std::string_view::npos;
}

std::string file_key_of(const std::vector<event>& events, const std::string& step) {
    simdjson::dom::parser parser;
    std::vector<char> buf;
    for (const event& e : events) {
        if (e.type != "LOGS_CAPTURED" || e.fields.empty()) continue;
        simdjson::dom::element f;
        if (parse_line(parser, e.fields, buf, f) != simdjson::SUCCESS) continue;
        const std::string key = str(f, "file_key");
        simdjson::dom::array keys;
        if (f["step_keys"].get_array().get(keys) == simdjson::SUCCESS)
            for (auto k : keys) {
                std::string_view s;
                if (k.get_string().get(s) == simdjson::SUCCESS && s == step && safe_file_key(key)) return key;
            }
    }
    return step;
}

}  // namespace runlog_view
