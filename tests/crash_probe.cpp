// A program that logs 1000 records into an async JSON pipeline and a buffered text file inside a run and a step,
// and then dies the way it is told; test_crash.cpp runs it and reads what it left.
//
//   crash_probe DEATH DIR [OPTION...]
//
// DEATH: backtrace_segv (a SIGSEGV after DEBUG records that only the backtraces hold), spam (4 threads log records of 450 bytes and 64 KiB into the event log of run "spam" and two JSON file
// sinks until killed), full_disk (see full_disk below), none, segv, bus, fpe, ill, abort, terminate, quick_exit, exit, term, int, hup, xfsz (a file size limit), sink_segv (a sink crashes
// while it holds its pipeline's lock), fork_child_segv (a forked child crashes; the parent's run goes on).
// OPTION: thread (the death happens on another thread), chain (a SIGSEGV/SIGABRT/SIGBUS/SIGFPE/SIGILL handler
// was installed before runlog's), user_int (the program handles SIGINT itself), limit_ms=N (time_limit).
#include <cerrno>
#include <cstdint>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>

#include <fcntl.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <runlog/runlog.hpp>

namespace {

void say(const char* text) { (void)!::write(2, text, std::strlen(text)); }

void chained_handler(int sig) {
    say("probe: the handler installed before runlog ran\n");
    ::signal(sig, SIG_DFL);
    ::raise(sig);
}

void user_int_handler(int) {
    say("probe: the program's own SIGINT handler ran\n");
    ::_exit(7);
}

/// A store to an unmapped page (not null, which UBSan would report first).
[[gnu::noinline]] void fault() { *reinterpret_cast<volatile int*>(std::uintptr_t{16}) = 1; }

/// A sink that crashes on a record containing "crash now", while its pipeline holds the sink's lock.
struct crashing_sink {
    void write(std::string_view line) {
        if (line.find("crash now") != std::string_view::npos) fault();
        (void)!::write(2, line.data(), 0);
    }
    void flush() {}
};

void die(const std::string& death, const std::string& dir) {
    if (death == "segv") {
        fault();
    } else if (death == "bus") {
        // A page of a file that was truncated away: touching it raises SIGBUS.
        const std::string path = dir + "/bus.bin";
        const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600);
        if (fd < 0 || ::ftruncate(fd, 8192) != 0) std::abort();
        auto* m = static_cast<volatile char*>(::mmap(nullptr, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
        if (m == MAP_FAILED || ::ftruncate(fd, 0) != 0) std::abort();
        m[4096] = 1;
    } else if (death == "fpe") {
#if defined(__x86_64__)
        // The CPU's own divide error (in C++ the division would be undefined, which UBSan reports first).
        unsigned zero = 0, lo = 1, hi = 0;
        asm volatile("divl %2" : "+a"(lo), "+d"(hi) : "r"(zero));
#else
        ::raise(SIGFPE);
#endif
    } else if (death == "ill") {
        __builtin_trap();
    } else if (death == "abort") {
        std::abort();
    } else if (death == "terminate") {
        throw std::runtime_error("the probe's uncaught exception");
    } else if (death == "quick_exit") {
        std::quick_exit(3);
    } else if (death == "exit") {
        std::exit(4);
    } else if (death == "term") {
        ::raise(SIGTERM);
    } else if (death == "int") {
        ::raise(SIGINT);
    } else if (death == "hup") {
        ::raise(SIGHUP);  // the terminal went away
    } else if (death == "xfsz") {
        // A file size limit reached by a file of the program's own (runlog's files stay below it).
        rlimit limit{};
        ::getrlimit(RLIMIT_FSIZE, &limit);
        limit.rlim_cur = 4 << 20;
        ::setrlimit(RLIMIT_FSIZE, &limit);
        const int fd = ::open((dir + "/big.bin").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        static char chunk[1 << 20];
        for (int i = 0; i < 8; ++i) (void)!::write(fd, chunk, sizeof chunk);
    }
}

/// A real full disk: a 2 MiB tmpfs, mounted in a mount namespace of the probe's own (so nothing outside sees
/// it), is filled by another file until two pages are left; 300 records of ~600 bytes go into the event log, an
/// async JSON file pipeline, a buffered JSON file and a rotating text file; the other file is deleted and 200 more
/// records follow. What the disk held is copied to DIR/out and the sinks' loss counts to DIR/counts.txt.
/// Exits 77 when the namespace or the mount is not allowed (not root, or a container without CAP_SYS_ADMIN).
int full_disk(const std::string& dir) {
    const std::string disk = dir + "/disk";
    ::mkdir(disk.c_str(), 0700);
    if (::unshare(CLONE_NEWNS) != 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
        ::mount("tmpfs", disk.c_str(), "tmpfs", 0, "size=2m,mode=0700") != 0) {
        say("probe: cannot mount a tmpfs here: ");
        say(std::strerror(errno));
        say("\n");
        return 77;
    }
    std::uint64_t lost_async = 0, lost_file = 0, lost_rotating = 0, lost_events = 0;
    {
        auto log = runlog::make_logger(
            "disk",
            runlog::async(runlog::pipeline("async", runlog::json_formatter{}, runlog::file_sink(disk + "/async.jsonl"))),
            runlog::pipeline("file", runlog::json_formatter{}, runlog::file_sink(disk + "/file.jsonl")),
            runlog::pipeline("rotating", runlog::text_formatter{},
                             runlog::rotating_file_sink(disk + "/rotating.log", {.max_size = 1 << 20})));
        runlog::run run(log, "full_disk", {.run_id = "full", .base_dir = disk + "/storage"});
        {
            runlog::step step(run, "fill");
            log.flush();  // what came before the disk filled is on it
            // Fill the disk with another file, then leave two pages free: the next writes stop part-way.
            const std::string filler = disk + "/filler";
            const int fd = ::open(filler.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
            if (fd < 0) return 3;
            const std::string page(4096, 'f');
            off_t size = 0;
            for (;;) {
                const ssize_t n = ::write(fd, page.data(), page.size());
                if (n <= 0) break;
                size += n;
            }
            if (::ftruncate(fd, size > 8192 ? size - 8192 : 0) != 0) return 3;
            ::close(fd);
            const std::string payload(500, 'p');
            for (int i = 0; i < 300; ++i) log.info("record {} of the probe {}", i, payload);
            log.flush();
            ::unlink(filler.c_str());  // space again
            for (int i = 300; i < 500; ++i) log.info("record {} of the probe {}", i, payload);
            log.flush();
            lost_async = log.pipeline<0>().dropped() + log.pipeline<0>().inner().sink().lost_records();
            lost_file = log.pipeline<1>().sink().lost_records();
            lost_rotating = log.pipeline<2>().sink().lost_records();
            lost_events = run.log()->lost();
        }
    }
    ::mkdir((dir + "/out").c_str(), 0700);
    for (const char* name : {"async.jsonl", "file.jsonl", "rotating.log", "storage/full/events.jsonl",
                             "storage/runs.jsonl"}) {
        std::string flat = name;
        for (char& c : flat)
            if (c == '/') c = '_';
        std::ifstream in(disk + "/" + name, std::ios::binary);
        std::ofstream out(dir + "/out/" + flat, std::ios::binary);
        out << in.rdbuf();
    }
    std::ofstream counts(dir + "/counts.txt");
    counts << lost_async << ' ' << lost_file << ' ' << lost_rotating << ' ' << lost_events << '\n';
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        say("usage: crash_probe DEATH DIR [thread] [chain] [user_int] [limit_ms=N]\n");
        return 2;
    }
    const std::string death = argv[1];
    const std::string dir = argv[2];
    if (death == "full_disk") return full_disk(dir);
    if (death == "backtrace_console_segv") {
        // Nothing but a synchronous console pipeline with a backtrace: turning it on installs the handler.
        auto log = runlog::make_logger("bt", runlog::pipeline("console", runlog::text_formatter("{level} {message}"),
                                                              runlog::stderr_sink{}, runlog::level::info)
                                                 .with_backtrace({.capacity = 2}));
        log.info("before");
        for (int i = 1; i <= 5; ++i) log.debug("debug {}", i);
        fault();
    }
    if (death == "backtrace_segv") {
        // Two pipelines at INFO with a backtrace of 8 (the async one's kept by the backend), 20 DEBUG records,
        // one INFO, then a crash: both files must end with the last 8 DEBUG records, marked, and the CRITICAL.
        auto log = runlog::make_logger(
            "bt",
            runlog::async(runlog::pipeline("async", runlog::json_formatter{}, runlog::file_sink(dir + "/bt_async.jsonl"),
                                           runlog::level::info))
                .with_backtrace({.capacity = 8}),
            runlog::pipeline("file", runlog::text_formatter("{level} {message} {fields}"),
                             runlog::file_sink(dir + "/bt_file.log"), runlog::level::info)
                .with_backtrace({.capacity = 8, .trigger = runlog::level::critical}));
        for (int i = 0; i < 20; ++i) log.debug("debug {} of the loop", i);
        log.info("the last info");
        fault();
    }
    if (death == "spam") {
        auto log = runlog::make_logger(
            "spam", runlog::async(runlog::pipeline("async", runlog::json_formatter{}, runlog::file_sink(dir + "/async.jsonl"))),
            runlog::pipeline("file", runlog::json_formatter{}, runlog::file_sink(dir + "/file.jsonl")));
        runlog::run run(log, "spam", {.run_id = "spam", .base_dir = dir + "/storage"});
        std::thread threads[4];
        for (int t = 0; t < 4; ++t)
            threads[t] = std::thread([&log, t] {
                const std::string small(400, 'x'), big(64 * 1024, 'y');
                for (unsigned i = 0;; ++i) log.info("{} {} {}", t, i, (i + static_cast<unsigned>(t)) % 3 ? small : big);
            });
        for (auto& t : threads) t.join();
    }
    bool on_thread = false;
    for (int i = 3; i < argc; ++i) {
        const std::string_view opt = argv[i];
        if (opt == "thread") on_thread = true;
        if (opt == "chain") {
            struct sigaction sa {};
            sa.sa_handler = &chained_handler;
            sigemptyset(&sa.sa_mask);
            for (int sig : {SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL}) ::sigaction(sig, &sa, nullptr);
        }
        if (opt == "user_int") ::signal(SIGINT, &user_int_handler);
        if (opt.starts_with("limit_ms="))
            runlog::install_crash_handler({.time_limit = std::chrono::milliseconds(std::atoi(argv[i] + 9))});
    }

    auto log = runlog::make_logger(
        "probe", runlog::async(runlog::pipeline("async", runlog::json_formatter{}, runlog::file_sink(dir + "/async.jsonl"))),
        runlog::pipeline("file", runlog::text_formatter{}, runlog::file_sink(dir + "/file.log")),
        runlog::pipeline("crashing", runlog::text_formatter{}, crashing_sink{}));
    runlog::run run(log, "crash_probe", {.base_dir = dir + "/storage"});
    runlog::step step(run, "doomed");
    for (int i = 0; i < 1000; ++i) log.info("record {} of the probe", i);

    if (death == "sink_segv") {
        log.info("crash now");
    } else if (death == "fork_child_segv") {
        const pid_t child = ::fork();
        if (child == 0) die("segv", dir);
        int status = 0;
        ::waitpid(child, &status, 0);
        // SIGSEGV; under ThreadSanitizer, which ends a child of a multi-threaded fork its own way, any failure.
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return 5;
        log.info("the parent goes on after its child's crash");
        return 0;
    } else if (on_thread) {
        std::thread([&] {
            log.info("the thread that dies");
            die(death, dir);
        }).join();
    } else {
        die(death, dir);
    }
    return 0;
}
