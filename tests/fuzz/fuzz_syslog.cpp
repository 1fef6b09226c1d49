// libFuzzer target for runlog::syslog_formatter: whatever the record holds (hostile host and app names, run
// ids, field names and values, messages, event names) and whatever the size limit, the message is a valid
// RFC 5424 message (tests/syslog/rfc5424.hpp's strict reader) no longer than the limit.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include <runlog/runlog.hpp>

#include "../syslog/rfc5424.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 3) return 0;
    // Two bytes choose the limit (512 to 4607 bytes) and one the level; the rest, split at NUL bytes, fills the
    // record's strings in turn.
    runlog::syslog_options o;
    o.max_message = 512 + ((static_cast<std::size_t>(data[0]) << 8 | data[1]) % 4096);
    const auto lvl = static_cast<runlog::level>(static_cast<int>(data[2]) - 60);
    std::vector<std::string> parts(9);
    std::size_t n = 0;
    for (std::size_t i = 3; i < size; ++i) {
        if (data[i] == 0 && n + 1 < parts.size()) ++n;
        else parts[n].push_back(static_cast<char>(data[i]));
    }
    o.hostname = parts[0];
    o.app_name = parts[1];
    o.source_location = !parts[8].empty();
    const runlog::syslog_formatter f(o);
    const runlog::event_info event{parts[2], lvl};
    runlog::record r;
    r.time = runlog::record::time_point(std::chrono::seconds(1795524005));
    r.lvl = lvl;
    if (!parts[2].empty()) r.event = &event;
    r.ctx = {parts[3], "job", parts[4]};
    r.pid = 1;
    r.thread = 2;
    const std::string_view items[] = {parts[6], parts[7]};
    const runlog::field fs[] = {{parts[5], parts[6]}, {parts[7], 42}, {"list", runlog::string_list(items)}, {"d", -0.25}};
    r.fields = fs;
    r.set_message(parts[8]);
    runlog::memory_buffer out;
    f.format(r, out, false);
    std::string why;
    if (!test_rfc5424::parse5424(out.view(), &why) || out.size() > o.max_message) {
        std::fprintf(stderr, "invalid message (%zu bytes, limit %zu): %s\n", out.size(), o.max_message, why.c_str());
        std::abort();
    }
    return 0;
}
