// runlog-view serve: the runs list, run pages, raw logs and live streams (server-sent events) over HTTP, read-only.
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include <pthread.h>
#include <sys/socket.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <httplib.h>
#include <simdjson.h>

#include "view.hpp"

namespace runlog_view {
namespace {

std::atomic<bool> stopping{false};

std::string html_escape(std::string_view s) {
    std::string out;
    for (const char c : valid_utf8(s)) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&#39;"; break;
            default: out += c;
        }
    }
    return out;
}

std::string url_escape(std::string_view s) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (const char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (std::isalnum(u) || c == '-' || c == '_' || c == '.' || c == '~') {
            out += c;
        } else {
            out += '%';
            out += hex[u >> 4];
            out += hex[u & 15];
        }
    }
    return out;
}

/// The run with exactly this id, from a fresh read of runs.jsonl.
std::optional<run_info> run_by_id(const std::string& storage, const std::string& id) {
    std::vector<std::string> notes;
    for (auto& r : read_runs(storage, notes))
        if (r.run_id == id) return r;
    return std::nullopt;
}

/// Whether path is a regular file inside dir (symlinks resolved).
bool inside(const std::string& dir, const std::string& path) {
    char real_dir[PATH_MAX], real_path[PATH_MAX];
    if (!::realpath(dir.c_str(), real_dir) || !::realpath(path.c_str(), real_path)) return false;
    const std::string d = std::string(real_dir) + "/";
    struct stat st{};
    return std::string(real_path).compare(0, d.size(), d) == 0 && ::stat(real_path, &st) == 0 && S_ISREG(st.st_mode);
}

std::string event_json(const event& e) {
    std::string out = "{\"t_us\":" + std::to_string(e.t_us) + ",\"sev\":" + std::to_string(e.sev) + ",\"lvl\":";
    json_string(out, e.lvl);
    out += ",\"step\":";
    json_string(out, e.step);
    out += ",\"type\":";
    json_string(out, e.type);
    out += ",\"logger\":";
    json_string(out, e.logger);
    out += ",\"msg\":";
    json_string(out, e.msg);
    out += ",\"fields\":";
    json_string(out, e.fields);
    out += '}';
    return out;
}

/// The length of s without a UTF-8 sequence cut at its end (which the next read completes).
std::size_t whole_utf8(std::string_view s) {
    std::size_t n = s.size();
    for (std::size_t back = 1; back <= 3 && back <= n; ++back) {
        const auto c = static_cast<unsigned char>(s[n - back]);
        if ((c & 0xC0) == 0x80) continue;  // a continuation byte: look further back
        const std::size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
        return need > back ? n - back : n;
    }
    return n;
}

/// Streams a run's news as server-sent events: new events, new compute-log bytes, the run's status, its end.
class run_stream {
public:
    run_stream(std::string storage, run_info run, std::size_t events_seen, std::map<std::string, std::uint64_t> offsets)
        : storage_(std::move(storage)), run_(std::move(run)), offsets_(std::move(offsets)) {
        // The byte offset after the records the page has (it counts records, as read_events does).
        const events_read before = read_events(events_path(run_));
        const std::size_t n = std::min(events_seen, before.events.size());
        if (n > 0) offset_ = before.ends[n - 1];
        status_ = run_.shown_status();
        // The compute logs the page's events name: from the offsets it sent, or from their start.
        for (std::size_t i = 0; i < before.events.size() && i < n; ++i)
            if (before.events[i].type == "LOGS_CAPTURED") known_keys(before.events[i]);
    }

    /// Writes what is new; false once the run has ended and everything was sent (or the client left).
    bool pump(httplib::DataSink& sink) {
        if (stopping) return false;
        behind_ = false;
        std::string chunk;
        const events_read r = read_events(events_path(run_), offset_, line_);
        offset_ = r.end;
        line_ += r.events.size() + r.bad_lines.size();
        bool run_ended = false;
        for (std::size_t i = 0; i < r.events.size(); i += 500) {
            std::string msg = "{\"events\":[";
            for (std::size_t k = i; k < r.events.size() && k < i + 500; ++k) {
                if (k > i) msg += ',';
                msg += event_json(r.events[k]);
            }
            msg += "]}";
            chunk += "event: events\ndata: " + msg + "\n\n";
        }
        for (const event& e : r.events) {
            if (e.type == "RUN_SUCCESS" || e.type == "RUN_FAILURE" || e.type == "RUN_CANCELED") run_ended = true;
            if (e.type == "LOGS_CAPTURED") known_keys(e);
        }
        for (auto& [name, off] : offsets_) {
            const auto dot = name.rfind('.');
            const std::string key = name.substr(0, dot);
            const std::string stream = name.substr(dot + 1);
            const std::string path = run_.dir + "/compute_logs/" + name;
            std::ifstream in(path, std::ios::binary);
            if (!in) continue;
            in.seekg(static_cast<std::streamoff>(off));
            std::string bytes(1024 * 1024, '\0');
            in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
            bytes.resize(static_cast<std::size_t>(in.gcount()));
            bytes.resize(whole_utf8(bytes));
            if (bytes.empty()) continue;
            std::string msg = "{\"key\":";
            json_string(msg, key);
            msg += ",\"stream\":\"" + stream + "\",\"offset\":" + std::to_string(off) +
                   ",\"end\":" + std::to_string(off + bytes.size()) + ",\"text\":";
            json_string(msg, bytes);
            msg += '}';
            chunk += "event: log\ndata: " + msg + "\n\n";
            off += bytes.size();
            if (bytes.size() >= 1024 * 1024 - 3) behind_ = true;
        }
        const auto now = run_by_id(storage_, run_.run_id);
        ended_ = ended_ || run_ended || (now && (now->ended || now->crashed));
        const bool ended = ended_;
        if (now && now->shown_status() != status_) {
            status_ = now->shown_status();
            chunk += "event: run\ndata: " + run_json(*now) + "\n\n";
        }
        if (chunk.empty()) {
            if (++idle_ % 60 == 0) chunk = ": keep-alive\n\n";
        } else {
            idle_ = 0;
        }
        if (!chunk.empty() && !sink.write(chunk.data(), chunk.size())) return false;
        if (ended && r.events.empty() && !more_logs()) {
            const std::string end = "event: end\ndata: {}\n\n";
            sink.write(end.data(), end.size());
            return false;
        }
        return true;
    }

private:
    void known_keys(const event& e) {
        simdjson::dom::parser parser;
        simdjson::padded_string p(e.fields);
        simdjson::dom::element f;
        std::string_view key;
        if (parser.parse(p).get(f) != simdjson::SUCCESS || f["file_key"].get_string().get(key) != simdjson::SUCCESS) return;
        if (!safe_file_key(key)) return;
        offsets_.try_emplace(std::string(key) + ".out", 0);
        offsets_.try_emplace(std::string(key) + ".err", 0);
    }
    bool more_logs() const {
        for (const auto& [name, off] : offsets_) {
            struct stat st{};
            if (::stat((run_.dir + "/compute_logs/" + name).c_str(), &st) == 0 && static_cast<std::uint64_t>(st.st_size) > off)
                return true;
        }
        return false;
    }
    std::string storage_;
    run_info run_;
    std::map<std::string, std::uint64_t> offsets_;  ///< "<file_key>.out" -> bytes sent
    std::uint64_t offset_ = 0;
    std::size_t line_ = 1;
    std::string status_;
    unsigned idle_ = 0;
    bool ended_ = false;  ///< an end event was sent, or the index says the run ended

public:
    bool behind_ = false;  ///< the last pump left bytes to send: pump again at once
};

std::string runs_page(const std::vector<run_info>& runs) {
    std::string out =
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>runs · runlog</title><style>"
        "body{font:14px system-ui,sans-serif;margin:24px;color:#1d2433}table{border-collapse:collapse}"
        "td,th{padding:6px 12px;border-bottom:1px solid #e3e6ec;text-align:left}th{color:#5b6478;font-weight:600}"
        ".SUCCESS{color:#17803d}.FAILURE,.crashed\\?{color:#c0262d}.STARTED{color:#2756c4}code{font-size:13px}"
        "</style></head><body><h1>Runs</h1><table><thead><tr><th>Run</th><th>Job</th><th>Status</th><th>Start</th>"
        "<th>Duration</th><th>Failed steps</th></tr></thead><tbody>";
    for (const auto& r : runs) {
        const auto start = parse_time(r.start_time);
        std::string failed;
        for (std::size_t i = 0; i < r.failed_steps.size(); ++i) failed += (i ? ", " : "") + r.failed_steps[i];
        out += "<tr><td><a href=\"/runs/" + url_escape(r.run_id) + "\"><code>" + html_escape(r.run_id) + "</code></a></td><td>" +
               html_escape(r.job_name) + "</td><td class=\"" + html_escape(r.shown_status()) + "\">" +
               html_escape(r.shown_status()) + "</td><td>" + html_escape(start ? show_time(*start, false) : r.start_time) +
               "</td><td>" + (r.duration_ms ? show_duration(*r.duration_ms) : "-") + "</td><td>" + html_escape(failed) +
               "</td></tr>";
    }
    out += "</tbody></table></body></html>";
    return out;
}

}  // namespace

int serve(const std::string& storage, const std::string& bind, int port) {
    {
        std::vector<std::string> notes;
        (void)read_runs(storage, notes);  // the storage must be there
    }
    // SIGINT and SIGTERM are taken by one thread that stops the server; the others never see them.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

    httplib::Server server;
    // Only SO_REUSEADDR: httplib also sets SO_REUSEPORT, which lets a second server share the port silently.
    server.set_socket_options([](socket_t sock) {
        const int yes = 1;
        ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    });
    server.set_payload_max_length(64 * 1024);
    server.set_read_timeout(10, 0);
    server.set_keep_alive_max_count(100);
    server.new_task_queue = [] { return new httplib::ThreadPool(16); };

    auto not_found = [](httplib::Response& res) {
        res.status = 404;
        res.set_content("not found\n", "text/plain; charset=utf-8");
    };
    server.Get("/", [&](const httplib::Request&, httplib::Response& res) {
        std::vector<std::string> notes;
        res.set_content(runs_page(read_runs(storage, notes)), "text/html; charset=utf-8");
    });
    server.Get("/api/runs", [&](const httplib::Request&, httplib::Response& res) {
        std::vector<std::string> notes;
        std::string out = "[";
        for (const auto& r : read_runs(storage, notes)) {
            if (out.size() > 1) out += ',';
            out += run_json(r);
        }
        out += "]";
        res.set_content(out, "application/json");
    });
    server.Get(R"(/runs/([^/]+))", [&](const httplib::Request& req, httplib::Response& res) {
        const auto run = run_by_id(storage, req.matches[1]);
        if (!run) return not_found(res);
        res.set_header("Cache-Control", "no-store");
        const events_read events = read_events(events_path(*run));
        res.set_content(run_page(*run, events.events, "/api/runs/" + url_escape(run->run_id) + "/stream",
                                 "/runs/" + url_escape(run->run_id) + "/logs/"),
                        "text/html; charset=utf-8");
    });
    server.Get(R"(/runs/([^/]+)/logs/([^/]+))", [&](const httplib::Request& req, httplib::Response& res) {
        const auto run = run_by_id(storage, req.matches[1]);
        const std::string name = req.matches[2];
        const bool ok_name = name.size() > 4 && (name.ends_with(".out") || name.ends_with(".err")) &&
                             safe_file_key(name.substr(0, name.size() - 4));
        if (!run || !ok_name || !inside(storage, run->dir + "/compute_logs/" + name)) return not_found(res);
        std::ifstream in(run->dir + "/compute_logs/" + name, std::ios::binary);
        std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        res.set_header("Content-Disposition", "attachment; filename=\"" + url_escape(name) + "\"");
        res.set_content(bytes, "text/plain; charset=utf-8");
    });
    server.Get(R"(/api/runs/([^/]+)/stream)", [&](const httplib::Request& req, httplib::Response& res) {
        const auto run = run_by_id(storage, req.matches[1]);
        if (!run) return not_found(res);
        std::size_t seen = 0;
        if (req.has_param("events")) {
            const std::string v = req.get_param_value("events");
            char* end = nullptr;
            const unsigned long long n = std::strtoull(v.c_str(), &end, 10);
            if (!v.empty() && *end == '\0') seen = static_cast<std::size_t>(n);
        }
        std::map<std::string, std::uint64_t> offsets;
        if (req.has_param("offsets")) {
            simdjson::dom::parser parser;
            simdjson::padded_string p(req.get_param_value("offsets"));
            simdjson::dom::object o;
            if (parser.parse(p).get(o) == simdjson::SUCCESS)
                for (auto [key, streams] : o) {
                    if (!safe_file_key(key)) continue;
                    for (const char* s : {"out", "err"}) {
                        std::uint64_t n = 0;
                        if (streams[s].get_uint64().get(n) != simdjson::SUCCESS) n = 0;
                        offsets[std::string(key) + "." + s] = n;
                    }
                }
        }
        auto stream = std::make_shared<run_stream>(storage, *run, seen, std::move(offsets));
        res.set_header("Cache-Control", "no-store");
        res.set_chunked_content_provider("text/event-stream", [stream](std::size_t, httplib::DataSink& sink) {
            const bool more = stream->pump(sink);
            if (!more) {
                sink.done();
                return true;
            }
            if (!stream->behind_) std::this_thread::sleep_for(std::chrono::milliseconds(250));
            return true;
        });
    });
    server.set_error_handler([](const httplib::Request&, httplib::Response& res) {
        if (res.body.empty()) res.set_content(std::to_string(res.status) + "\n", "text/plain; charset=utf-8");
    });
    server.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
        res.status = 500;
        std::string why = "error";
        try {
            std::rethrow_exception(ep);
        } catch (const std::exception& e) {
            why = e.what();
        } catch (...) {
        }
        res.set_content(why + "\n", "text/plain; charset=utf-8");
    });

    int bound = port;
    if (port == 0) {
        bound = server.bind_to_any_port(bind);
        if (bound < 0) throw failure("cannot listen on " + bind + ": " + std::strerror(errno));
    } else if (!server.bind_to_port(bind, port)) {
        const int err = errno;
        throw failure("cannot listen on " + bind + ":" + std::to_string(port) + ": " + std::strerror(err) +
                      (err == EADDRINUSE ? " (another server there? try --port N)"
                                         : " (--bind takes a local IP address, e.g. 127.0.0.1 or 0.0.0.0)"));
    }
    std::printf("serving http://%s:%d/ (storage: %s); stop with Ctrl-C\n", bind.c_str(), bound, storage.c_str());
    std::fflush(stdout);
    std::atomic<bool> listening_ended{false};
    std::thread waiter([&] {
        for (;;) {
            const timespec tick{0, 200'000'000};
            const int sig = sigtimedwait(&stop_signals, nullptr, &tick);
            if (sig == SIGINT || sig == SIGTERM || stopping) break;
        }
        stopping = true;
        // stop() does nothing until the server runs: a signal that comes right after the start is not lost.
        while (!listening_ended) {
            server.stop();
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    });
    const bool ok = server.listen_after_bind();
    listening_ended = true;
    stopping = true;
    waiter.join();
    std::puts("stopped");
    return ok ? 0 : 1;
}

}  // namespace runlog_view
