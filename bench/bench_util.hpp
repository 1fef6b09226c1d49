// Helpers shared by the benchmarks: timing, medians, checking output files, describing the machine.
#pragma once
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

namespace bench {

using bench_clock = std::chrono::steady_clock;

inline double seconds_since(bench_clock::time_point start) {
    return std::chrono::duration<double>(bench_clock::now() - start).count();
}

inline double median(std::vector<double> v) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    const std::size_t m = v.size() / 2;
    return v.size() % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

[[noreturn]] inline void fail(const std::string& why) {
    std::fprintf(stderr, "runlog bench: %s\n", why.c_str());
    std::exit(1);
}

/// Checks that path holds exactly `lines` lines and that the last one is message number lines - 1;
/// returns the file's size in bytes.
inline std::uint64_t verify_file(const std::string& path, std::uint64_t lines) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) fail("cannot open " + path + ": " + std::strerror(errno));
    std::vector<char> chunk(1 << 20);
    std::uint64_t count = 0, size = 0;
    std::string tail;
    for (;;) {
        const ssize_t got = ::read(fd, chunk.data(), chunk.size());
        if (got < 0) fail("cannot read " + path + ": " + std::strerror(errno));
        if (got == 0) break;
        const auto n = static_cast<std::size_t>(got);
        count += static_cast<std::uint64_t>(std::count(chunk.data(), chunk.data() + n, '\n'));
        size += n;
        tail.append(chunk.data(), n);
        if (tail.size() > 8192) tail.erase(0, tail.size() - 4096);
    }
    ::close(fd);
    if (count != lines)
        fail(path + " has " + std::to_string(count) + " lines, expected " + std::to_string(lines));
    if (lines > 0) {
        const std::string last = "iteration " + std::to_string(lines - 1) + " value ";
        const auto start = tail.rfind('\n', tail.size() - 2);
        if (tail.find(last, start == std::string::npos ? 0 : start) == std::string::npos)
            fail(path + ": the last line does not contain \"" + last + "\"");
    }
    return size;
}

inline void remove_file(const std::string& path) {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) fail("cannot remove " + path + ": " + std::strerror(errno));
}

inline std::string cpu_model() {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("model name", 0) == 0) {
            if (auto colon = line.find(':'); colon != std::string::npos) {
                auto v = line.substr(colon + 1);
                v.erase(0, v.find_first_not_of(" \t"));
                return v;
            }
        }
    }
    return "unknown";
}

inline std::string load_average() {
    std::ifstream in("/proc/loadavg");
    std::string one, five, fifteen;
    if (!(in >> one >> five >> fifteen)) return "unknown";
    return one + " " + five + " " + fifteen;
}

/// "1,234,567" for readability in the report.
inline std::string grouped(std::uint64_t v) {
    std::string s = std::to_string(v);
    for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<std::size_t>(i), ",");
    return s;
}

inline std::string fixed(double v, int decimals) {
    char b[64];
    std::snprintf(b, sizeof b, "%.*f", decimals, v);
    return b;
}

}  // namespace bench
