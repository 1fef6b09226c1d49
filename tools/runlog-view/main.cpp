// runlog-view: the command line. See `runlog-view --help`.
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <thread>

#include <sys/stat.h>
#include <unistd.h>

#include "view.hpp"

namespace runlog_view {
namespace {

constexpr const char* usage =
    "usage: runlog-view [--home DIR | --storage DIR] COMMAND ...\n"
    "  runs [--json]                          the runs, newest first\n"
    "  events RUN [FILTER...] [--follow] [--json]\n"
    "                                         a run's events; filters: step:KEY (* wildcard), type:EVENT_TYPE,\n"
    "                                         level:LEVEL (and above), query:TEXT, bare words (in the message)\n"
    "  logs RUN STEP [--stderr]               a step's captured stdout (or stderr), byte for byte\n"
    "  html RUN [-o FILE]                     a self-contained run page (default: run-<id>.html)\n"
    "  serve [--port N] [--bind ADDR]         the runs and live run pages over HTTP (127.0.0.1:3040)\n"
    "Options: --color auto|always|never (auto: on a terminal, unless NO_COLOR is set).\n"
    "RUN is a run id, a unique prefix of one, or 'latest'. Storage: DIR/storage, or $RUNLOG_HOME/storage\n"
    "(default .runlog/storage), as runlog writes it; --storage DIR reads a run_options{.base_dir} itself.\n";

struct usage_error : failure {
    using failure::failure;
};

std::string color_when = "auto";  ///< --color: auto, always or never

bool use_color() {
    if (color_when != "auto") return color_when == "always";
    const char* no_color = std::getenv("NO_COLOR");
    if (no_color && *no_color) return false;
    return ::isatty(1) == 1;
}

void note(const std::string& s) { std::fprintf(stderr, "runlog-view: note: %s\n", s.c_str()); }

/// Says once what was skipped in an event log.
void report_skipped(const std::string& path, const events_read& r, bool torn_is_news) {
    for (std::size_t i = 0; i < r.bad_lines.size() && i < 5; ++i)
        note(path + ":" + std::to_string(r.bad_lines[i]) + ": not a JSON record: skipped");
    if (r.bad_lines.size() > 5) note(path + ": " + std::to_string(r.bad_lines.size() - 5) + " more such lines skipped");
    if (r.torn_tail && torn_is_news)
        note(path + ": the last line is incomplete (the run is still writing it, or it crashed): skipped");
}

bool is_end(const event& e) { return e.type == "RUN_SUCCESS" || e.type == "RUN_FAILURE" || e.type == "RUN_CANCELED"; }

struct args {
    std::vector<std::string> positional;
    bool json = false, follow = false, stderr_log = false, help = false;
    std::optional<std::string> out, home, storage, bind;
    std::optional<int> port;
};

/// Where the runs are: --storage, else the home's storage directory.
std::string storage_of(const args& a) { return a.storage ? *a.storage : storage_dir(a.home); }

args parse_args(int argc, char** argv) {
    args a;
    auto value = [&](int& i, const std::string& name) -> std::string {
        const std::string arg = argv[i];
        if (arg.size() > name.size() && arg[name.size()] == '=') return arg.substr(name.size() + 1);
        if (i + 1 >= argc) throw usage_error(name + " needs a value");
        return argv[++i];
    };
    auto is = [](const std::string& arg, const std::string& name) {
        return arg == name || (arg.size() > name.size() && arg.compare(0, name.size() + 1, name + "=") == 0);
    };
    bool options_end = false;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (options_end || arg.empty() || arg[0] != '-' || arg == "-") {
            a.positional.push_back(arg);
        } else if (arg == "--") {
            options_end = true;
        } else if (arg == "--help" || arg == "-h") {
            a.help = true;
        } else if (arg == "--json") {
            a.json = true;
        } else if (arg == "--follow" || arg == "-f") {
            a.follow = true;
        } else if (arg == "--stderr") {
            a.stderr_log = true;
        } else if (arg == "--stdout") {
            a.stderr_log = false;
        } else if (is(arg, "--home")) {
            a.home = value(i, "--home");
        } else if (is(arg, "--storage")) {
            a.storage = value(i, "--storage");
            if (a.storage->empty()) throw usage_error("--storage: an empty directory name");
        } else if (is(arg, "--color")) {
            color_when = value(i, "--color");
            if (color_when != "auto" && color_when != "always" && color_when != "never")
                throw usage_error("--color " + color_when + ": expected auto, always or never");
        } else if (is(arg, "--bind")) {
            a.bind = value(i, "--bind");
        } else if (arg == "-o" || is(arg, "--output")) {
            a.out = value(i, arg == "-o" ? "-o" : "--output");
        } else if (is(arg, "--port")) {
            const std::string v = value(i, "--port");
            char* end = nullptr;
            errno = 0;
            const long p = std::strtol(v.c_str(), &end, 10);
            if (v.empty() || *end != '\0' || errno != 0 || p < 0 || p > 65535)
                throw usage_error("--port " + v + ": not a port number (0-65535)");
            a.port = static_cast<int>(p);
        } else {
            throw usage_error("unknown option " + arg);
        }
    }
    return a;
}

void expect_count(const args& a, std::size_t min, std::size_t max, const char* what) {
    if (a.positional.size() - 1 < min) throw usage_error(std::string(what) + ": missing arguments");
    if (a.positional.size() - 1 > max) throw usage_error(std::string(what) + ": unexpected argument '" + a.positional[max + 1] + "'");
}

int cmd_runs(const args& a) {
    expect_count(a, 0, 0, "runs");
    std::vector<std::string> notes;
    const auto runs = read_runs(storage_of(a), notes);
    for (const auto& n : notes) note(n);
    if (a.json) {
        for (const auto& r : runs) {
            const std::string out = run_json(r) + "\n";
            std::fputs(out.c_str(), stdout);
        }
        return 0;
    }
    if (runs.empty()) {
        std::puts("no runs yet");
        return 0;
    }
    std::vector<std::vector<std::string>> rows{{"RUN ID", "JOB", "STATUS", "START", "DURATION", "FAILED STEPS"}};
    for (const auto& r : runs) {
        const auto start = parse_time(r.start_time);
        std::string failed;
        for (std::size_t i = 0; i < r.failed_steps.size(); ++i) failed += (i ? ", " : "") + printable(r.failed_steps[i]);
        rows.push_back({printable(r.run_id), printable(r.job_name), r.shown_status(),
                        start ? show_time(*start, false) : printable(r.start_time),
                        r.duration_ms ? show_duration(*r.duration_ms) : "-", failed});
    }
    std::vector<std::size_t> width(rows[0].size(), 0);
    for (const auto& row : rows)
        for (std::size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
    const bool color = use_color();
    for (std::size_t r = 0; r < rows.size(); ++r) {
        std::string line;
        for (std::size_t c = 0; c < rows[r].size(); ++c) {
            std::string cell = rows[r][c];
            const bool last = c + 1 == rows[r].size();
            if (!last) cell.resize(width[c], ' ');
            if (color && r > 0 && c == 2) {
                const std::string& st = rows[r][c];
                const char* on = st == "SUCCESS" ? "\x1b[32m" : st == "STARTED" ? "\x1b[34m" : "\x1b[31m";
                cell = on + cell + "\x1b[0m";
            }
            line += cell;
            if (!last) line += "  ";
        }
        while (!line.empty() && line.back() == ' ') line.pop_back();
        std::puts(line.c_str());
    }
    return 0;
}

volatile std::sig_atomic_t interrupted = 0;

int cmd_events(const args& a) {
    if (a.positional.size() < 2) throw usage_error("events: missing the run (a run id, a prefix of one, or 'latest')");
    filter f;
    try {
        f = filter::parse({a.positional.begin() + 2, a.positional.end()});
    } catch (const failure& e) {
        throw usage_error(e.what());
    }
    const std::string storage = storage_of(a);
    std::vector<std::string> notes;
    auto runs = read_runs(storage, notes);
    for (const auto& n : notes) note(n);
    const run_info run = find_run(runs, a.positional[1]);
    const std::string path = events_path(run);
    const bool color = !a.json && use_color();
    auto print = [&](const std::vector<event>& events, bool& ended) {
        for (const event& e : events) {
            if (is_end(e)) ended = true;
            if (!f.matches(e)) continue;
            const std::string line = a.json ? e.raw : console_line(e, color);
            std::fwrite(line.data(), 1, line.size(), stdout);
            std::fputc('\n', stdout);
        }
        std::fflush(stdout);
    };
    events_read r = read_events(path, 0, 1, a.json);
    // A step or type token that nothing in the run has is likely a typo: say so (a --follow run may add it later).
    if (!a.follow) {
        for (const std::string& t : f.types)
            if (std::none_of(r.events.begin(), r.events.end(), [&](const event& e) { return e.type == t; }))
                note("no event of type " + printable(t) + " in this run");
        for (const std::string& p : f.steps)
            if (std::none_of(r.events.begin(), r.events.end(), [&](const event& e) { return wildcard_match(p, e.step); }))
                note("no step of this run matches '" + printable(p) + "'");
    }
    bool ended = false;
    print(r.events, ended);
    report_skipped(path, r, !a.follow);
    if (!a.follow) return 0;
    std::size_t line = 1 + r.events.size() + r.bad_lines.size();
    std::uint64_t offset = r.end;
    std::signal(SIGINT, [](int) { interrupted = 1; });
    bool torn = r.torn_tail;
    auto last_news = std::chrono::steady_clock::now();
    while (!ended && !interrupted) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        events_read more = read_events(path, offset, line, a.json);
        if (more.end != offset) last_news = std::chrono::steady_clock::now();
        offset = more.end;
        line += more.events.size() + more.bad_lines.size();
        print(more.events, ended);
        torn = more.torn_tail;
        report_skipped(path, more, false);
        if (!ended && std::chrono::steady_clock::now() - last_news > std::chrono::seconds(1)) {
            // No end event: the index may say the run ended, or that its process is gone.
            std::vector<std::string> ignored;
            for (const auto& x : read_runs(storage, ignored))
                if (x.run_id == run.run_id && (x.ended || x.crashed)) {
                    if (x.crashed)
                        note("run " + run.run_id + " has no end and its process (pid " + std::to_string(x.pid) +
                             ") is gone: crashed?");
                    ended = true;
                }
            last_news = std::chrono::steady_clock::now();
        }
    }
    if (torn) note(path + ": the last line is incomplete (the run is still writing it, or it crashed): skipped");
    return interrupted ? 130 : 0;
}

int cmd_logs(const args& a) {
    if (a.positional.size() < 3) throw usage_error("logs: expected RUN STEP");
    expect_count(a, 2, 2, "logs");
    std::vector<std::string> notes;
    const auto runs = read_runs(storage_of(a), notes);
    for (const auto& n : notes) note(n);
    const run_info& run = find_run(runs, a.positional[1]);
    const std::string& step = a.positional[2];
    const events_read r = read_events(events_path(run));
    const std::string key = file_key_of(r.events, step);
    if (!safe_file_key(key)) throw failure("step '" + printable(step) + "' cannot name a compute log");
    const std::string path = run.dir + "/compute_logs/" + key + (a.stderr_log ? ".err" : ".out");
    struct stat st{};
    if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
        bool known = false;
        for (const auto& e : r.events) known |= e.step == step;
        throw failure("run " + run.run_id + " has no " + (a.stderr_log ? "stderr" : "stdout") + " log for step '" + printable(step) + "'" +
                      (known ? " (its output was not captured)" : " (no such step in this run)"));
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) throw failure(path + ": cannot open: " + std::strerror(errno));
    char buf[65536];
    while (in.read(buf, sizeof buf) || in.gcount() > 0) {
        if (std::fwrite(buf, 1, static_cast<std::size_t>(in.gcount()), stdout) != static_cast<std::size_t>(in.gcount()))
            throw failure("cannot write to stdout");
    }
    return 0;
}

int cmd_html(const args& a) {
    expect_count(a, 1, 1, "html");
    std::vector<std::string> notes;
    const auto runs = read_runs(storage_of(a), notes);
    for (const auto& n : notes) note(n);
    const run_info& run = find_run(runs, a.positional[1]);
    const events_read r = read_events(events_path(run));
    report_skipped(events_path(run), r, true);
    const std::string page = run_page(run, r.events);
    const std::string out = a.out ? *a.out : "run-" + run.run_id.substr(0, 8) + ".html";
    if (out == "-") {
        std::fwrite(page.data(), 1, page.size(), stdout);
        return 0;
    }
    // Written beside the target and renamed, so a reader never sees half a page.
    const std::string tmp = out + ".tmp" + std::to_string(::getpid());
    {
        std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
        if (!f) throw failure(out + ": cannot write: " + std::strerror(errno));
        f.write(page.data(), static_cast<std::streamsize>(page.size()));
        f.close();
        if (!f) {
            std::remove(tmp.c_str());
            throw failure(out + ": write failed: " + std::strerror(errno));
        }
    }
    if (std::rename(tmp.c_str(), out.c_str()) != 0) {
        const int err = errno;
        std::remove(tmp.c_str());
        throw failure(out + ": " + std::strerror(err));
    }
    std::fprintf(stderr, "wrote %s (%zu events, %zu bytes)\n", out.c_str(), r.events.size(), page.size());
    return 0;
}

}  // namespace
}  // namespace runlog_view

int main(int argc, char** argv) {
    using namespace runlog_view;
    try {
        const args a = parse_args(argc, argv);
        if (a.help) {
            std::fputs(usage, stdout);
            return 0;
        }
        if (a.positional.empty()) throw usage_error("missing a command");
        const std::string& cmd = a.positional[0];
        if (cmd == "help") {
            std::fputs(usage, stdout);
            return 0;
        }
        if (cmd == "runs") return cmd_runs(a);
        if (cmd == "events") return cmd_events(a);
        if (cmd == "logs") return cmd_logs(a);
        if (cmd == "html") return cmd_html(a);
        if (cmd == "serve") {
            expect_count(a, 0, 0, "serve");
            return serve(storage_of(a), a.bind.value_or("127.0.0.1"), a.port.value_or(3040));
        }
        throw usage_error("unknown command '" + printable(cmd) + "'");
    } catch (const usage_error& e) {
        std::fprintf(stderr, "runlog-view: %s (runlog-view --help lists the commands)\n", e.what());
        return 2;
    } catch (const failure& e) {
        std::fprintf(stderr, "runlog-view: %s\n", e.what());
        return 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "runlog-view: %s\n", e.what());
        return 1;
    }
}
