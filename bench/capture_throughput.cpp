// runlog_capture_bench: the cost of capturing a step's stdout (runlog::capture) against the same
// program writing straight to a file. Progress goes to stderr (outside the captures), the Markdown
// report to stdout. Options: --quick (64 MiB, 20,000 lines, 1 round), --mib N, --lines N, --rounds N.
// RUNLOG_BENCH_DIR picks the directory of the files (default /tmp).
#include <runlog/runlog.hpp>

#include "bench_util.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace {

using namespace bench;

struct config {
    std::uint64_t mib = 1024;
    std::uint64_t lines = 200'000;
    int rounds = 3;
    std::string dir = "/tmp";
};



void write_all(int fd, const char* p, std::size_t n) {
    while (n > 0) {
        const ssize_t w = ::write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            fail(std::string("write failed: ") + std::strerror(errno));
        }
        p += w;
        n -= static_cast<std::size_t>(w);
    }
}

std::uint64_t file_size(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) fail("cannot stat " + path);
    return static_cast<std::uint64_t>(st.st_size);
}

/// Points fd 1 at path for the scope, then back.
struct stdout_to {
    int saved;
    explicit stdout_to(const std::string& path) {
        std::fflush(stdout);
        saved = ::dup(1);
        const int f = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (f < 0) fail("cannot open " + path);
        ::dup2(f, 1);
        ::close(f);
    }
    ~stdout_to() {
        std::fflush(stdout);
        ::dup2(saved, 1);
        ::close(saved);
    }
};

/// Seconds to write `bytes` to fd 1 in 64 KiB writes, stdout pointing at a file.
double direct_seconds(const std::string& path, std::uint64_t bytes, const std::vector<char>& chunk) {
    const auto start = bench_clock::now();
    {
        stdout_to redirect(path);
        for (std::uint64_t done = 0; done < bytes; done += chunk.size()) write_all(1, chunk.data(), chunk.size());
    }
    const double s = std::chrono::duration<double>(bench_clock::now() - start).count();
    if (file_size(path) != bytes) fail("the direct file has the wrong size");
    ::unlink(path.c_str());
    return s;
}

/// Seconds to write `bytes` to fd 1 in 64 KiB writes through a capture, until its files are complete.
template <class Run>
double captured_seconds(Run& run, std::uint64_t bytes, const std::vector<char>& chunk) {
    std::string out;
    const auto start = bench_clock::now();
    {
        runlog::capture cap(run, {}, {.tee = false, .file_key = "bench"});
        out = cap.stdout_path();
        for (std::uint64_t done = 0; done < bytes; done += chunk.size()) write_all(1, chunk.data(), chunk.size());
    }
    const double s = std::chrono::duration<double>(bench_clock::now() - start).count();
    if (file_size(out) != bytes) fail("the compute log has the wrong size: bytes were lost");
    ::unlink(out.c_str());
    return s;
}

/// Per-line times (ns) of printf + fflush of one short line.
std::vector<double> line_times(std::uint64_t lines) {
    std::vector<double> ns;
    ns.reserve(lines);
    for (std::uint64_t i = 0; i < lines; ++i) {
        const auto t0 = bench_clock::now();
        std::printf("line %llu of the step's output\n", static_cast<unsigned long long>(i));
        std::fflush(stdout);
        ns.push_back(std::chrono::duration<double, std::nano>(bench_clock::now() - t0).count());
    }
    return ns;
}

double percentile(std::vector<double> v, double p) {
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}
double mean(const std::vector<double>& v) {
    double s = 0;
    for (double x : v) s += x;
    return s / static_cast<double>(v.size());
}

std::uint64_t positive(const char* opt, const char* text) {
    char* end = nullptr;
    const unsigned long long v = text ? std::strtoull(text, &end, 10) : 0;
    if (!text || *end || v == 0) fail(std::string(opt) + " needs a positive integer");
    return v;
}

}  // namespace

int main(int argc, char** argv) {
    config cfg;
    if (const char* d = std::getenv("RUNLOG_BENCH_DIR"); d && *d) cfg.dir = d;
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        const char* next = i + 1 < argc ? argv[i + 1] : nullptr;
        if (a == "--quick") {
            cfg.mib = 64;
            cfg.lines = 20'000;
            cfg.rounds = 1;
        } else if (a == "--mib") {
            cfg.mib = positive("--mib", next), ++i;
        } else if (a == "--lines") {
            cfg.lines = positive("--lines", next), ++i;
        } else if (a == "--rounds") {
            cfg.rounds = static_cast<int>(std::min<std::uint64_t>(positive("--rounds", next), 100)), ++i;
        } else {
            fail("unknown argument \"" + std::string(a) + "\" (--quick, --mib N, --lines N, --rounds N)");
        }
    }
    auto log = runlog::make_logger(
        runlog::pipeline("console", runlog::text_formatter::brief(), runlog::null_sink{}, runlog::level::info));
    runlog::run_options options;
    options.base_dir = cfg.dir + "/runlog_capture_bench";
    options.store = false;
    runlog::run run(log, "capture_bench", options);

    const std::uint64_t bytes = cfg.mib << 20;
    std::vector<char> chunk(1 << 16);
    for (std::size_t i = 0; i < chunk.size(); ++i) chunk[i] = static_cast<char>(i % 251);
    const std::string direct_path = cfg.dir + "/runlog_capture_bench_direct.out";
    std::vector<double> direct, captured;
    for (int r = 0; r < cfg.rounds; ++r) {
        std::fprintf(stderr, "round %d/%d\n", r + 1, cfg.rounds);
        direct.push_back(direct_seconds(direct_path, bytes, chunk));
        captured.push_back(captured_seconds(run, bytes, chunk));
        std::fprintf(stderr, "  direct %.3f s, captured %.3f s\n", direct.back(), captured.back());
    }

    std::vector<double> file_lines, pipe_lines;
    {
        stdout_to redirect(direct_path);
        file_lines = line_times(cfg.lines);
    }
    ::unlink(direct_path.c_str());
    {
        runlog::capture cap(run, {}, {.tee = false, .file_key = "lines"});
        pipe_lines = line_times(cfg.lines);
    }

    std::error_code ec;
    std::filesystem::remove_all(run.dir(), ec);  // the compute logs of the line test and the .complete markers

    const double mb = static_cast<double>(bytes) / 1e6;
    const double d = median(direct), c = median(captured);
    std::printf("## runlog_capture_bench\n\n");
    std::printf("### Throughput: %llu MiB to stdout in 64 KiB writes, median of %d round%s\n\n",
                static_cast<unsigned long long>(cfg.mib), cfg.rounds, cfg.rounds == 1 ? "" : "s");
    std::printf("| stdout goes to | seconds | MB/s | vs direct |\n|---|---:|---:|---:|\n");
    std::printf("| a file (direct) | %.3f | %.0f | 1.00× |\n", d, mb / d);
    std::printf("| runlog::capture (pipe, reader thread, file) | %.3f | %.0f | %.2f× |\n", c, mb / c, d / c);
    std::printf("\n### One `printf` line + `fflush`, %llu lines\n\n", static_cast<unsigned long long>(cfg.lines));
    std::printf("| stdout goes to | mean ns | p50 ns | p99 ns |\n|---|---:|---:|---:|\n");
    std::printf("| a file | %.0f | %.0f | %.0f |\n", mean(file_lines), percentile(file_lines, 0.5),
                percentile(file_lines, 0.99));
    std::printf("| runlog::capture | %.0f | %.0f | %.0f |\n", mean(pipe_lines), percentile(pipe_lines, 0.5),
                percentile(pipe_lines, 0.99));
    std::printf("\nAdded latency of a captured line: %.0f ns (mean), %.0f ns (p50).\n",
                mean(pipe_lines) - mean(file_lines), percentile(pipe_lines, 0.5) - percentile(file_lines, 0.5));
    std::printf("\n### Method\n\nEach round writes the same bytes to fd 1 twice: with fd 1 pointing at a file, and "
                "inside a runlog::capture (tee off) whose reader thread drains the pipe into the compute log; each is "
                "timed until its file is complete (the capture's end included) and its size checked. Lines are timed "
                "one by one with steady_clock around printf + fflush. Files in %s.\n",
                cfg.dir.c_str());
}
