// The crash handler, tried as a program dies: tests/crash_probe.cpp logs 1000 records (async JSON file, buffered
// text file) inside a run and a step, then dies as told; these tests read what it left.
#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support.hpp"

using test_support::file_text;
using test_support::lines_of;
using test_support::wait_bounded;

namespace {

struct outcome {
    int status = 0;
    std::string err;  ///< what the probe wrote to stderr
    std::chrono::milliseconds took{};
    bool signaled(int sig) const { return WIFSIGNALED(status) && WTERMSIG(status) == sig; }
    bool exited(int code) const { return WIFEXITED(status) && WEXITSTATUS(status) == code; }
    std::string describe() const {
        if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
        if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
        return "status " + std::to_string(status);
    }
};

/// Starts the crash probe.
pid_t spawn_probe(const std::vector<std::string>& args, const std::string& err_path,
                  const std::vector<std::string>& extra_env = {}) {
    return test_support::spawn_program(RUNLOG_CRASH_PROBE, args, err_path, extra_env);
}

outcome run_probe(const std::string& death, const std::string& dir, std::vector<std::string> options = {},
                  const std::vector<std::string>& extra_env = {}) {
    std::vector<std::string> args{death, dir};
    for (auto& o : options) args.push_back(o);
    const std::string err_path = dir + "/stderr.txt";
    const auto start = std::chrono::steady_clock::now();
    const pid_t pid = spawn_probe(args, err_path, extra_env);
    outcome o;
    o.status = wait_bounded(pid);
    o.took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    o.err = file_text(err_path);
    return o;
}

/// How many of the probe's 1000 records a file holds, each once; fails on a record seen twice.
int records_in(const std::string& path) {
    std::set<int> seen;
    for (const auto& line : lines_of(file_text(path))) {
        const auto at = line.find("record ");
        if (at == std::string::npos || line.find(" of the probe") == std::string::npos) continue;
        const int n = std::atoi(line.c_str() + at + 7);
        INFO(path << ": " << line);
        CHECK(seen.insert(n).second);
    }
    return static_cast<int>(seen.size());
}

/// The one run directory under dir/storage.
std::string run_dir(const std::string& dir) {
    for (const auto& e : std::filesystem::directory_iterator(dir + "/storage"))
        if (e.is_directory()) return e.path().string();
    FAIL("no run directory under " << dir << "/storage");
    return {};
}

std::string last_line(const std::string& path) {
    const auto lines = lines_of(file_text(path));
    return lines.empty() ? std::string() : lines.back();
}

/// The probe with the handler, against the same death without it (RUNLOG_CRASH_HANDLER=0): the exit status
/// must be the same, and the handler's run must have kept every record and ended the run.
void check_death(const std::string& death, const std::string& end_event, const std::string& status,
                 const std::string& signal_field, std::vector<std::string> options = {}) {
    test_support::temp_dir with, without;
    const outcome base = run_probe(death, without.path, options, {"RUNLOG_CRASH_HANDLER=0"});
    const outcome o = run_probe(death, with.path, options);
    INFO("death " << death << ": " << o.describe() << " (without the handler: " << base.describe() << ")\n" << o.err);
    CHECK(o.status == base.status);  // core dumps, sanitizers and exit statuses stay as they were
    CHECK(base.err.find("runlog: the process received") == std::string::npos);
    CHECK(records_in(with.path + "/async.jsonl") == 1000);
    CHECK(records_in(with.path + "/file.log") == 1000);
    const std::string events = run_dir(with.path) + "/events.jsonl";
    const std::string end = last_line(events);
    CHECK(end.find("\"event_type\":\"" + end_event + "\"") != std::string::npos);
    if (!signal_field.empty()) CHECK(end.find("\"signal\":\"" + signal_field + "\"") != std::string::npos);
    const std::string text = file_text(events);
    CHECK(text.find("\"event_type\":\"STEP_FAILURE\",\"run_id\"") != std::string::npos);  // the open step failed
    const std::string index = last_line(with.path + "/storage/runs.jsonl");
    CHECK(index.find("\"status\":\"" + status + "\"") != std::string::npos);
    // Without the handler the run stays STARTED for ever.
    CHECK(last_line(without.path + "/storage/runs.jsonl").find("\"status\":\"STARTED\"") != std::string::npos);
}

}  // namespace

TEST_CASE("crash: each fatal signal keeps every record, fails the run and ends the process as before", "[crash]") {
    const auto [death, sig] = GENERATE(table<std::string, std::string>({{"segv", "SIGSEGV"},
                                                                        {"bus", "SIGBUS"},
                                                                        {"fpe", "SIGFPE"},
                                                                        {"ill", "SIGILL"},
                                                                        {"abort", "SIGABRT"},
                                                                        {"xfsz", "SIGXFSZ"}}));
    check_death(death, "RUN_FAILURE", "FAILURE", sig);
}

TEST_CASE("crash: std::terminate names the uncaught exception in the run's failure", "[crash]") {
    test_support::temp_dir dir;
    check_death("terminate", "RUN_FAILURE", "FAILURE", "std::terminate");
    const outcome o = run_probe("terminate", dir.path);
    CHECK(o.signaled(SIGABRT));
    CHECK(o.err.find("std::terminate was called after an uncaught exception of type std::runtime_error: the probe's "
                     "uncaught exception") != std::string::npos);
    const std::string end = last_line(run_dir(dir.path) + "/events.jsonl");
    CHECK(end.find("std::runtime_error: the probe's uncaught exception") != std::string::npos);
    CHECK(o.err.find("runlog: stack of the thread that called std::terminate") != std::string::npos);
}

TEST_CASE("crash: a fatal signal prints its name, the fault address and the stack", "[crash]") {
    test_support::temp_dir dir;
    const outcome o = run_probe("segv", dir.path);
    INFO(o.err);
    CHECK(o.err.find("runlog: the process received SIGSEGV (segmentation fault) at address 0x10 in thread") !=
          std::string::npos);
    CHECK(o.err.find("runlog: stack of the thread that received the signal:") != std::string::npos);
    // The file's last records are the run's end, then the record naming the signal.
    const auto lines = lines_of(file_text(dir.path + "/file.log"));
    REQUIRE(lines.size() >= 3);
    CHECK(lines[lines.size() - 1].find("CRITICAL") != std::string::npos);
    CHECK(lines[lines.size() - 1].find("The process received SIGSEGV (segmentation fault).") != std::string::npos);
    CHECK(lines[lines.size() - 2].find("RUN_FAILURE") != std::string::npos);
}

TEST_CASE("crash: exit() and quick_exit() drain the queues and end the open run as failed", "[crash]") {
    check_death("exit", "RUN_FAILURE", "FAILURE", "");
    check_death("quick_exit", "RUN_FAILURE", "FAILURE", "");
    test_support::temp_dir dir;
    const outcome o = run_probe("quick_exit", dir.path);
    CHECK(o.exited(3));
    CHECK(last_line(run_dir(dir.path) + "/events.jsonl").find("The process exited while the run was open.") !=
          std::string::npos);
}

TEST_CASE("crash: SIGTERM, SIGINT and SIGHUP end the run as canceled, and the process by the signal", "[crash]") {
    check_death("term", "RUN_CANCELED", "CANCELED", "SIGTERM");
    check_death("int", "RUN_CANCELED", "CANCELED", "SIGINT");
    check_death("hup", "RUN_CANCELED", "CANCELED", "SIGHUP");
    test_support::temp_dir dir;
    CHECK(run_probe("term", dir.path).signaled(SIGTERM));
    CHECK(run_probe("hup", dir.path).signaled(SIGHUP));
}

TEST_CASE("crash: a program's own SIGINT handler is left alone", "[crash]") {
    test_support::temp_dir dir;
    const outcome o = run_probe("int", dir.path, {"user_int"});
    INFO(o.err);
    CHECK(o.exited(7));
    CHECK(o.err.find("the program's own SIGINT handler ran") != std::string::npos);
    CHECK(o.err.find("runlog: the process received SIGINT") == std::string::npos);
}

TEST_CASE("crash: a handler installed before runlog's still runs after it", "[crash]") {
    test_support::temp_dir dir;
    const outcome o = run_probe("segv", dir.path, {"chain"});
    INFO(o.err);
    const auto ours = o.err.find("runlog: the process received SIGSEGV");
    const auto theirs = o.err.find("probe: the handler installed before runlog ran");
    REQUIRE(ours != std::string::npos);
    REQUIRE(theirs != std::string::npos);
    CHECK(ours < theirs);
    CHECK(records_in(dir.path + "/async.jsonl") == 1000);
    CHECK(last_line(run_dir(dir.path) + "/events.jsonl").find("RUN_FAILURE") != std::string::npos);
}

TEST_CASE("crash: a crash on another thread is handled the same", "[crash]") {
    check_death("segv", "RUN_FAILURE", "FAILURE", "SIGSEGV", {"thread"});
    check_death("abort", "RUN_FAILURE", "FAILURE", "SIGABRT", {"thread"});
}

TEST_CASE("crash: a crash inside a sink that holds its lock ends within the time limit", "[crash]") {
#if defined(__SANITIZE_THREAD__)
    // ThreadSanitizer holds SIGALRM back until the thread leaves the lock it waits for, which it never does.
    WARN("skipped under ThreadSanitizer, which defers the watchdog's SIGALRM while the handler waits for a lock");
    return;
#endif
    test_support::temp_dir with, without;
    const outcome base = run_probe("sink_segv", without.path, {}, {"RUNLOG_CRASH_HANDLER=0"});
    const outcome o = run_probe("sink_segv", with.path, {"limit_ms=1000"});
    INFO(o.describe() << " in " << o.took.count() << " ms\n" << o.err);
    CHECK(o.status == base.status);
    CHECK(o.took < std::chrono::seconds(15));
    // What did not need that lock was done: the queues, the buffered file, the run's end.
    CHECK(records_in(with.path + "/async.jsonl") == 1000);
    CHECK(records_in(with.path + "/file.log") == 1000);
    CHECK(last_line(run_dir(with.path) + "/events.jsonl").find("RUN_FAILURE") != std::string::npos);
    CHECK(last_line(with.path + "/storage/runs.jsonl").find("\"status\":\"FAILURE\"") != std::string::npos);
}

TEST_CASE("crash: a forked child's crash does not end its parent's run", "[crash][fork]") {
    test_support::temp_dir dir;
    const outcome o = run_probe("fork_child_segv", dir.path);
    INFO(o.describe() << "\n" << o.err);
    CHECK(o.exited(0));
    const std::string events = file_text(run_dir(dir.path) + "/events.jsonl");
    CHECK(events.find("RUN_FAILURE") == std::string::npos);
    CHECK(last_line(run_dir(dir.path) + "/events.jsonl").find("RUN_SUCCESS") != std::string::npos);
    const auto index = lines_of(file_text(dir.path + "/storage/runs.jsonl"));
    REQUIRE(index.size() == 2);
    CHECK(index[1].find("\"status\":\"SUCCESS\"") != std::string::npos);
}

TEST_CASE("crash: RUNLOG_CRASH_HANDLER=0 leaves the signals alone", "[crash]") {
    test_support::temp_dir dir;
    const outcome o = run_probe("segv", dir.path, {}, {"RUNLOG_CRASH_HANDLER=0"});
    CHECK(o.err.find("runlog:") == std::string::npos);
    CHECK(last_line(dir.path + "/storage/runs.jsonl").find("\"status\":\"STARTED\"") != std::string::npos);
}

namespace {
/// Every line is a whole JSON record, or a fragment cut by a kill and ended by the next opening: never a
/// record glued onto a fragment. Returns the fragments; a last line without its newline counts as one.
int check_whole_lines(const std::string& path) {
    const std::string text = file_text(path);
    int fragments = 0;
    const auto lines = lines_of(text);
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const std::string& line = lines[i];
        INFO(path << " line " << i + 1 << " of " << lines.size() << ": " << line.substr(0, 200));
        REQUIRE(line.rfind("{\"timestamp\":", 0) == 0);
        std::size_t starts = 0;
        for (auto at = line.find("{\"timestamp\":"); at != std::string::npos; at = line.find("{\"timestamp\":", at + 1))
            ++starts;
        CHECK(starts == 1);
        const bool whole = line.back() == '}' && (i + 1 < lines.size() || text.back() == '\n');
        if (!whole) ++fragments;
    }
    return fragments;
}
}  // namespace

TEST_CASE("crash: kill -9 at random moments never glues a record onto a torn line", "[crash][kill]") {
    test_support::temp_dir dir;
    std::mt19937 rng(std::random_device{}());
    const int trials = 50;
    for (int trial = 0; trial < trials; ++trial) {
        const pid_t pid = spawn_probe({"spam", dir.path}, dir.path + "/stderr.txt");
        std::this_thread::sleep_for(std::chrono::milliseconds(10 + rng() % 60));
        ::kill(pid, SIGKILL);
        int status = 0;
        ::waitpid(pid, &status, 0);
        REQUIRE(WIFSIGNALED(status));
    }
    // Each kill may leave one fragment per file (ended by the next run's opening); none has a record glued on.
    for (const std::string file : {"/async.jsonl", "/file.jsonl", "/storage/spam/events.jsonl"}) {
        const int fragments = check_whole_lines(dir.path + file);
        CHECK(fragments <= trials);
    }
}

TEST_CASE("full disk: a real tmpfs filled and freed holds whole lines only, and every missing record is counted",
          "[crash][full_disk]") {
    test_support::temp_dir dir;
    const outcome o = run_probe("full_disk", dir.path);
    if (o.exited(77)) {
        WARN("skipped: " << o.err);  // not root, or no CAP_SYS_ADMIN: the RLIMIT_FSIZE tests cover the same code
        return;
    }
    INFO(o.describe() << "\n" << o.err);
    REQUIRE(o.exited(0));
    long lost_async = 0, lost_file = 0, lost_rotating = 0, lost_events = 0;
    std::istringstream(file_text(dir.path + "/counts.txt")) >> lost_async >> lost_file >> lost_rotating >> lost_events;
    // The disk was full: something was lost, and said so.
    CHECK(lost_async + lost_file + lost_rotating + lost_events > 0);
    CHECK(o.err.find("No space left on device") != std::string::npos);
    const std::string out = dir.path + "/out/";
    for (const std::string file : {"async.jsonl", "file.jsonl", "storage_full_events.jsonl"}) {
        INFO(file);
        CHECK(check_whole_lines(out + file) == 0);  // no fragment at all: a stopped write took its part back
    }
    // Each of the 500 records is in the file once, or counted as lost.
    CHECK(records_in(out + "async.jsonl") + lost_async == 500);
    CHECK(records_in(out + "file.jsonl") + lost_file == 500);
    // The text file: each record line ends with its whole payload; the other lines are the run's six events, all
    // written while there was space.
    const std::string payload(500, 'p');
    int events_in_text = 0;
    for (const auto& line : lines_of(file_text(out + "rotating.log"))) {
        INFO(line.substr(0, 200));
        if (line.find(" of the probe ") != std::string::npos) {
            CHECK(line.ends_with(" of the probe " + payload));
        } else {
            ++events_in_text;
            const bool an_event = line.find(" - RUN_START - ") != std::string::npos ||
                                  line.find(" - ENGINE_EVENT - ") != std::string::npos ||
                                  line.find(" - STEP_START - ") != std::string::npos ||
                                  line.find(" - STEP_SUCCESS - ") != std::string::npos ||
                                  line.find(" - RUN_SUCCESS - ") != std::string::npos;
            CHECK(an_event);
        }
    }
    CHECK(events_in_text == 6);
    CHECK(records_in(out + "rotating.log") + lost_rotating == 500);
    // The event log lost only user records (the run's events came before and after), and ended the run.
    const std::string events = out + "storage_full_events.jsonl";
    CHECK(records_in(events) + lost_events == 500);
    CHECK(last_line(events).find("\"event_type\":\"RUN_SUCCESS\"") != std::string::npos);
    CHECK(last_line(out + "storage_runs.jsonl").find("\"status\":\"SUCCESS\"") != std::string::npos);
}

TEST_CASE("crash: a fatal signal writes out every pipeline's backtrace before the record that names it", "[crash][backtrace]") {
    test_support::temp_dir dir;
    const outcome o = run_probe("backtrace_segv", dir.path);
    INFO(o.describe() << "\n" << o.err);
    CHECK(o.status != 0);  // killed by the signal (a sanitizer's exit code under one)
    for (const std::string file : {"bt_file.log", "bt_async.jsonl"}) {
        const auto lines = lines_of(file_text(dir.path + "/" + file));
        INFO(file << ":\n" << file_text(dir.path + "/" + file));
        REQUIRE(lines.size() == 12);  // the INFO, the first line, 8 records, the last line, the CRITICAL
        CHECK(lines[0].find("the last info") != std::string::npos);
        CHECK(lines[1].find("Backtrace of pipeline") != std::string::npos);
        CHECK(lines[1].find("at SIGSEGV") != std::string::npos);
        for (int i = 0; i < 8; ++i) {
            const std::string& l = lines[static_cast<std::size_t>(i) + 2];
            CHECK(l.find("debug " + std::to_string(12 + i) + " of the loop") != std::string::npos);
            CHECK((l.find("backtrace=true") != std::string::npos || l.find("\"backtrace\":true") != std::string::npos));
        }
        CHECK(lines[10].find("End of the backtrace") != std::string::npos);
        CHECK(lines[11].find("CRITICAL") != std::string::npos);
        CHECK(lines[11].find("SIGSEGV") != std::string::npos);
    }
}

TEST_CASE("crash: a synchronous console pipeline's backtrace alone is enough to write it out at a crash", "[crash][backtrace]") {
    test_support::temp_dir dir;
    const outcome o = run_probe("backtrace_console_segv", dir.path);
    INFO(o.describe() << "\n" << o.err);
    CHECK(o.status != 0);
    const auto at = [&](const std::string& text) { return o.err.find(text); };
    CHECK(at("INFO before") != std::string::npos);
    CHECK(at("at SIGSEGV") != std::string::npos);
    CHECK(at("DEBUG debug 4") > at("at SIGSEGV"));
    CHECK(at("DEBUG debug 5") > at("DEBUG debug 4"));
    CHECK(at("DEBUG debug 3") == std::string::npos);
    CHECK(at("CRITICAL") > at("DEBUG debug 5"));
    CHECK(at("CRITICAL") != std::string::npos);
}

