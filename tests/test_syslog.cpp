// runlog::syslog_formatter (RFC 5424 messages) and runlog::syslog_sink (UDP, TCP with octet counting, the local
// socket) against receivers owned by the test; check_rsyslog.py tries them with a real rsyslogd.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <runlog/runlog.hpp>

#include "support.hpp"
#include "syslog/rfc5424.hpp"

using runlog::level;
using test_support::temp_dir;

using test_rfc5424::message5424;
using test_rfc5424::parse5424;

namespace {

message5424 parsed(std::string_view s) {
    std::string why;
    auto m = parse5424(s, &why);
    INFO(why);
    REQUIRE(m);
    return *m;
}

runlog::syslog_options fixed_options() {
    runlog::syslog_options o;
    o.hostname = "build-7";
    o.app_name = "etl";
    return o;
}

const runlog::event_info step_start{"STEP_START", level::debug};

/// A socket of the test's own on 127.0.0.1 (port 0: the kernel picks one).
int bound_socket(int type, int& port) {
    const int fd = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
    if (type == SOCK_STREAM) REQUIRE(::listen(fd, 8) == 0);
    return fd;
}

bool readable(int fd, int ms) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, ms) > 0;
}

std::string receive_datagram(int fd) {
    if (!readable(fd, 5000)) return "<nothing within 5 s>";
    char buf[70000];
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    return n < 0 ? "<recv failed>" : std::string(buf, static_cast<std::size_t>(n));
}

/// Reads octet-counted frames (RFC 6587) from a stream until `count` have come or 5 s pass.
std::vector<std::string> receive_frames(int fd, std::size_t count) {
    std::vector<std::string> frames;
    std::string data;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (frames.size() < count && std::chrono::steady_clock::now() < deadline) {
        if (!readable(fd, 100)) continue;
        char buf[65536];
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        data.append(buf, static_cast<std::size_t>(n));
        for (;;) {
            const auto space = data.find(' ');
            if (space == std::string::npos) break;
            const std::size_t len = std::stoul(data.substr(0, space));
            if (data.size() < space + 1 + len) break;
            frames.push_back(data.substr(space + 1, len));
            data.erase(0, space + 1 + len);
        }
    }
    return frames;
}

int accept_within(int listener, int ms) {
    if (!readable(listener, ms)) return -1;
    return ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
}

/// Waits until pred() or 5 s.
template <class F>
bool eventually(F pred) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!pred()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return true;
}

/// Collects what the error handler is given, for the test's lifetime.
struct captured_problems {
    static inline std::mutex mutex;
    static inline std::vector<std::string> seen;
    runlog::error_handler previous;
    captured_problems() {
        std::lock_guard lock(mutex);
        seen.clear();
        previous = runlog::set_error_handler([](const runlog::sink_error& e) {
            std::lock_guard l(mutex);
            seen.emplace_back(e.message);
        });
    }
    ~captured_problems() { runlog::set_error_handler(previous); }
    bool any(std::string_view part) {
        std::lock_guard lock(mutex);
        for (const auto& s : seen)
            if (s.find(part) != std::string::npos) return true;
        return false;
    }
};

}  // namespace

TEST_CASE("syslog: a record becomes one RFC 5424 message", "[syslog]") {
    const runlog::syslog_formatter f(fixed_options());
    runlog::record r;
    test_support::fill_fixed(r);
    r.event = &step_start;
    const runlog::field fields[] = {{"rows", 265}, {"table", "zones"}, {"ratio", 0.5}, {"ok", true}};
    r.fields = fields;
    r.set_message("Started execution of step \"taxi_zones_file\".");
    const std::string out = test_support::render(f, r);
    CHECK(out ==
          "<15>1 2026-11-24T12:40:05.123456Z build-7 etl 86387 STEP_START [runlog@32473 "
          "run_id=\"5f2a9b1c-0d3e-4f5a-8b6c-7d8e9f0a1b2c\" job=\"__ASSET_JOB_0\" step=\"taxi_zones_file\" level=\"DEBUG\" "
          "logger=\"runlog\" thread=\"86390\" rows=\"265\" table=\"zones\" ratio=\"0.5\" ok=\"true\"] "
          "Started execution of step \"taxi_zones_file\".");
    const auto m = parsed(out);
    CHECK(m.sd_id == "runlog@32473");
    CHECK(m.param("step") == "taxi_zones_file");

    // A user message outside a run: MSGID "-", no context parameters; an empty message leaves MSG out.
    runlog::record plain;
    plain.time = test_support::fixed_time();
    plain.lvl = level::info;
    plain.pid = 12;
    plain.set_message("");
    CHECK(test_support::render(f, plain) ==
          "<14>1 2026-11-24T12:40:05.123456Z build-7 etl 12 - [runlog@32473 level=\"INFO\" logger=\"runlog\"]");
    // The source location on request, and a facility of one's choice.
    auto o = fixed_options();
    o.source_location = true;
    o.facility = runlog::syslog_facility::local3;
    const runlog::syslog_formatter with_location(o);
    runlog::record located;
    test_support::fill_fixed(located, level::error);
    located.location = std::source_location::current();
    located.set_message("boom");
    const auto lm = parsed(test_support::render(with_location, located));
    CHECK(lm.pri == 19 * 8 + 3);
    CHECK(lm.param("code.lineno") == std::to_string(located.location.line()));
    CHECK(lm.param("code.filepath") == located.location.file_name());
}

TEST_CASE("syslog: PRI from the facility and the level", "[syslog]") {
    const std::pair<level, int> severities[] = {{level::trace, 7},   {level::debug, 7}, {level::info, 6},
                                                {level::warning, 4}, {level::error, 3}, {level::critical, 2},
                                                {level(25), 6},      {level(60), 2},    {level(-3), 7}};
    for (auto [l, severity] : severities) {
        CHECK(runlog::syslog_severity(l) == severity);
        for (int facility : {0, 1, 16, 23}) {
            auto o = fixed_options();
            o.facility = facility;
            runlog::record r;
            test_support::fill_fixed(r, l);
            r.set_message("x");
            CHECK(parsed(test_support::render(runlog::syslog_formatter(o), r)).pri == facility * 8 + severity);
        }
    }
    CHECK(runlog::parse_syslog_facility("user") == 1);
    CHECK(runlog::parse_syslog_facility("LOCAL7") == 23);
    CHECK(runlog::parse_syslog_facility("authpriv") == 10);
    CHECK(runlog::parse_syslog_facility("23") == 23);
    CHECK(runlog::parse_syslog_facility("0") == 0);
    CHECK(runlog::parse_syslog_facility("24") == -1);
    CHECK(runlog::parse_syslog_facility("01") == -1);
    CHECK(runlog::parse_syslog_facility("local8") == -1);
    CHECK(runlog::parse_syslog_facility("") == -1);
}

TEST_CASE("syslog: values are escaped, names and header fields kept within RFC 5424's limits", "[syslog]") {
    auto o = fixed_options();
    o.hostname = "my host " + std::string(300, 'h');
    o.app_name = std::string(60, 'a');
    const runlog::syslog_formatter f(o);
    const runlog::event_info long_event{"A_VERY_LONG_EVENT_TYPE_NAME_OF_FORTY_CHARS", level::info};
    runlog::record r;
    test_support::fill_fixed(r);
    r.event = &long_event;
    const std::string hostile = "quote \" backslash \\ bracket ] open [ equals = newline \n tab \t é 東京 🚀";
    const std::string invalid = "bad \xff\xfe byte \xc3";
    const runlog::field fields[] = {{"hostile", hostile},
                                    {"invalid", invalid},
                                    {"name with spaces=and]\"quotes\"", 1},
                                    {"a_name_that_is_longer_than_thirty_two_characters", 2},
                                    {"", 3},
                                    {"ключ", 4}};
    r.fields = fields;
    r.set_message("\xEF\xBB\xBFmessage with a BOM-like start and \xff an invalid byte");
    const std::string out = test_support::render(f, r);
    const auto m = parsed(out);
    CHECK(m.hostname == "my_host_" + std::string(247, 'h'));
    CHECK(m.app_name == std::string(48, 'a'));
    CHECK(m.msgid == "A_VERY_LONG_EVENT_TYPE_NAME_OF_F");
    CHECK(m.param("hostile") == hostile);
    CHECK(m.param("invalid") == "bad \xEF\xBF\xBD\xEF\xBF\xBD byte \xEF\xBF\xBD");
    CHECK(m.param("name_with_spaces_and__quotes_") == "1");
    CHECK(m.param("a_name_that_is_longer_than_thirt") == "2");
    CHECK(m.param("_") == "3");
    CHECK(m.param("________") == "4");  // each byte of the Cyrillic name
    REQUIRE(m.msg);
    // A leading U+FEFF would read as RFC 5424's BOM: left out. The invalid byte is replaced.
    CHECK(*m.msg == "message with a BOM-like start and \xEF\xBF\xBD an invalid byte");
    CHECK(out.find('\n') == out.find("newline") + 8);  // the value's own newline, and none at the end
    CHECK(out.back() != '\n');
}

TEST_CASE("syslog: a record longer than max_message loses fields that do not fit, then the end of its text",
          "[syslog]") {
    auto o = fixed_options();
    o.max_message = 600;
    const runlog::syslog_formatter f(o);
    runlog::record r;
    test_support::fill_fixed(r, level::info);
    const std::string huge(2000, 'v');
    const runlog::field fields[] = {{"before", "kept"}, {"huge", huge}, {"after", "kept too"}};
    r.fields = fields;
    std::string text;
    for (int i = 0; i < 100; ++i) text += "ü€";  // 5 bytes a pair: a cut lands inside a character
    r.set_message(text);
    const std::string out = test_support::render(f, r);
    CHECK(out.size() <= 600);
    const auto m = parsed(out);
    CHECK(m.param("run_id") == "5f2a9b1c-0d3e-4f5a-8b6c-7d8e9f0a1b2c");
    CHECK(m.param("before") == "kept");
    CHECK(m.param("huge") == "<absent>");
    CHECK(m.param("after") == "kept too");
    CHECK(m.param("truncated") == "true");
    REQUIRE(m.msg);
    CHECK(!m.msg->empty());
    CHECK(text.rfind(*m.msg, 0) == 0);  // a prefix, cut between characters
    CHECK(out.size() > 590);            // and no more than a character short of the limit

    // Many small fields: the text keeps its room (at least half of what the header leaves), fields give way.
    std::vector<std::string> names;
    for (int i = 0; i < 300; ++i) names.push_back("key_number_" + std::to_string(i));
    std::vector<runlog::field> many;
    for (int i = 0; i < 300; ++i) many.push_back({names[static_cast<std::size_t>(i)], i});
    runlog::record crowded;
    test_support::fill_fixed(crowded, level::info);
    crowded.fields = many;
    crowded.set_message("many fields");
    auto udp_sized = fixed_options();
    udp_sized.max_message = 2048;
    const std::string crowded_out = test_support::render(runlog::syslog_formatter(udp_sized), crowded);
    const auto cm = parsed(crowded_out);
    CHECK(crowded_out.size() <= 2048);
    CHECK(cm.msg == "many fields");
    CHECK(cm.param("key_number_0") == "0");
    CHECK(cm.param("key_number_299") == "<absent>");
    CHECK(cm.param("truncated") == "true");
    // Nothing left out: no marker.
    runlog::record small;
    test_support::fill_fixed(small, level::info);
    small.set_message("short");
    CHECK(parsed(test_support::render(f, small)).param("truncated") == "<absent>");

    // Many hostile records at many limits: every message is valid and within its limit.
    std::mt19937 rng(20261201);
    auto random_bytes = [&](std::size_t max) {
        std::string s(rng() % (max + 1), '\0');
        static constexpr std::string_view special = "\"\\]\n[= \xff\xc3\xa9";
        for (auto& c : s) c = rng() % 4 == 0 ? special[rng() % special.size()] : static_cast<char>(rng() % 256);
        return s;
    };
    for (int i = 0; i < 3000; ++i) {
        auto oi = fixed_options();
        oi.max_message = 512 + rng() % 3000;
        oi.hostname = random_bytes(300);
        oi.app_name = random_bytes(60);
        const runlog::syslog_formatter fi(oi);
        runlog::record ri;
        test_support::fill_fixed(ri, level(static_cast<int>(rng() % 70) - 5));
        const std::string run = random_bytes(200), k1 = random_bytes(40), v1 = random_bytes(2000), k2 = random_bytes(8),
                          v2 = random_bytes(100), msg = random_bytes(4000);
        ri.ctx.run_id = run;
        const runlog::field fi_fields[] = {{k1, v1}, {k2, v2}, {"n", static_cast<std::int64_t>(rng())}};
        ri.fields = fi_fields;
        ri.set_message(msg);
        const std::string o_i = test_support::render(fi, ri);
        INFO("case " << i << ", limit " << oi.max_message);
        CHECK(o_i.size() <= oi.max_message);
        std::string why;
        if (!parse5424(o_i, &why)) FAIL(why);
    }
}

TEST_CASE("syslog: options RFC 5424 does not allow are refused with the reason", "[syslog]") {
    auto refused = [](auto change, std::string_view why) {
        auto o = fixed_options();
        change(o);
        try {
            runlog::syslog_formatter f(o);
            FAIL("accepted");
        } catch (const std::invalid_argument& e) {
            CHECK_THAT(e.what(), Catch::Contains(std::string(why)));
        }
    };
    refused([](auto& o) { o.sd_id = "runlog"; }, "has no '@': only IANA-registered SD-IDs may");
    refused([](auto& o) { o.sd_id = "run log@1"; }, "holds a character RFC 5424 does not allow");
    refused([](auto& o) { o.sd_id = "runlog@abc"; }, "must end in an enterprise number");
    refused([](auto& o) { o.sd_id = std::string(30, 'x') + "@123"; }, "longer than 32 characters");
    refused([](auto& o) { o.sd_id = ""; }, "the SD-ID is empty");
    refused([](auto& o) { o.facility = 24; }, "syslog facility 24 is not one of 0-23");
    refused([](auto& o) { o.max_message = 100; }, "below 512 bytes");
    for (std::string id : {"runlog@32473", "x@1.2.3", "timeQuality@1"}) {
        auto o = fixed_options();
        o.sd_id = id;
        CHECK_NOTHROW(runlog::syslog_formatter(o));
    }

    using runlog::detail::syslog_address_problem;
    std::string host, port;
    CHECK(syslog_address_problem("collector.example:6514", &host, &port).empty());
    CHECK((host == "collector.example" && port == "6514"));
    CHECK(syslog_address_problem("collector", &host, &port).empty());
    CHECK(port == "514");
    CHECK(syslog_address_problem("[::1]:1514", &host, &port).empty());
    CHECK((host == "::1" && port == "1514"));
    CHECK_THAT(syslog_address_problem("::1"), Catch::Contains("write it as [address]:port"));
    CHECK_THAT(syslog_address_problem("host:0"), Catch::Contains("no valid port"));
    CHECK_THAT(syslog_address_problem("host:65536"), Catch::Contains("no valid port"));
    CHECK_THAT(syslog_address_problem("host:"), Catch::Contains("no valid port"));
    CHECK_THAT(syslog_address_problem(":514"), Catch::Contains("has no host"));
    CHECK_THAT(syslog_address_problem("[::1"), Catch::Contains("never closes"));
    CHECK_THAT(syslog_address_problem(""), Catch::Contains("empty"));
    runlog::syslog_options bad;
    bad.transport = runlog::syslog_transport::tcp;
    bad.address = "no-such-host.invalid:514";
    CHECK_THROWS_WITH(runlog::syslog_sink(bad), Catch::Contains("cannot resolve \"no-such-host.invalid\""));
    bad.transport = runlog::syslog_transport::local;
    bad.address = "/tmp/" + std::string(200, 's');
    CHECK_THROWS_WITH(runlog::syslog_sink(bad), Catch::Contains("is longer than 107 bytes"));
}

TEST_CASE("syslog: UDP sends one datagram per record, cut to max_message", "[syslog][udp]") {
    int port = 0;
    const int receiver = bound_socket(SOCK_DGRAM, port);
    auto o = fixed_options();
    o.transport = runlog::syslog_transport::udp;
    o.address = "127.0.0.1:" + std::to_string(port);
    auto log = runlog::make_logger("udp", runlog::async(runlog::make_syslog_pipeline("syslog", o, level::debug)));
    log.info({{"n", 1}}, "first");
    log.debug("second\nwith a newline");
    log.error("{}", std::string(5000, 'z'));
    log.flush();
    const auto a = parsed(receive_datagram(receiver));
    const auto b = parsed(receive_datagram(receiver));
    const std::string c_raw = receive_datagram(receiver);
    const auto c = parsed(c_raw);
    CHECK((a.msg == "first" && a.param("n") == "1" && a.pri == 14));
    CHECK((b.msg == "second\nwith a newline" && b.pri == 15));
    CHECK(c_raw.size() <= 2048);
    CHECK((c.pri == 11 && c.msg->find_first_not_of('z') == std::string::npos && c.msg->size() > 1900));
    ::close(receiver);
}

TEST_CASE("syslog: UDP datagrams that nobody takes are counted as dropped and reported", "[syslog][udp]") {
    int port = 0;
    ::close(bound_socket(SOCK_DGRAM, port));  // a port nobody listens at: each datagram comes back refused
    captured_problems problems;
    auto o = fixed_options();
    o.transport = runlog::syslog_transport::udp;
    o.address = "127.0.0.1:" + std::to_string(port);
    runlog::syslog_sink sink(o);
    for (int i = 0; i < 20; ++i) {
        sink.write("<14>1 - - - - - - refused " + std::to_string(i));
        std::this_thread::sleep_for(std::chrono::milliseconds(2));  // the ICMP error comes back meanwhile
    }
    const auto s = sink.stats();
    INFO("sent " << s.sent << ", dropped " << s.dropped);
    CHECK(s.dropped >= 15);  // each refusal the kernel reported (the last datagram's comes after the last send)
    CHECK(s.pending == 0);   // UDP never waits
    CHECK(problems.any("nobody listens: datagrams are refused and lost"));
}

TEST_CASE("syslog: TCP frames are octet-counted, and records wait while the collector restarts", "[syslog][tcp]") {
    int port = 0;
    int listener = bound_socket(SOCK_STREAM, port);
    auto o = fixed_options();
    o.transport = runlog::syslog_transport::tcp;
    o.address = "127.0.0.1:" + std::to_string(port);
    o.reconnect_min = std::chrono::milliseconds(5);
    o.reconnect_max = std::chrono::milliseconds(50);
    runlog::syslog_sink sink(o);
    auto log = runlog::make_logger("tcp", runlog::syslog_pipeline("syslog", runlog::syslog_formatter(o), sink, level::info));
    for (int i = 0; i < 200; ++i) log.info({{"seq", i}}, "record {}\nsecond line ] \"quoted\"", i);
    int conn = accept_within(listener, 5000);
    REQUIRE(conn >= 0);
    log.flush();
    auto frames = receive_frames(conn, 200);
    REQUIRE(frames.size() == 200);
    for (int i = 0; i < 200; ++i) {
        const auto m = parsed(frames[static_cast<std::size_t>(i)]);
        CHECK(m.param("seq") == std::to_string(i));
        CHECK(m.msg == "record " + std::to_string(i) + "\nsecond line ] \"quoted\"");
    }

    // The collector goes away: what is logged meanwhile waits, and arrives, in order, once it is back.
    captured_problems problems;
    ::close(conn);
    ::close(listener);
    REQUIRE(eventually([&] {  // the sink has seen the connection end (its flush thread looks every 100 ms)
        log.info("probe");
        return sink.stats().pending > 0;
    }));
    for (int i = 0; i < 50; ++i) log.warning({{"seq", i}}, "while away {}", i);
    const auto waiting = sink.stats();
    CHECK(waiting.pending >= 50);
    CHECK(waiting.dropped == 0);
    listener = bound_socket(SOCK_STREAM, port);  // the same port, as a restarted collector
    conn = accept_within(listener, 5000);
    REQUIRE(conn >= 0);
    frames = receive_frames(conn, waiting.pending);
    REQUIRE(frames.size() == waiting.pending);
    std::vector<std::string> away;
    for (const auto& f : frames)
        if (auto m = parsed(f); m.msg->rfind("while away", 0) == 0) away.push_back(m.param("seq"));
    REQUIRE(away.size() == 50);
    for (int i = 0; i < 50; ++i) CHECK(away[static_cast<std::size_t>(i)] == std::to_string(i));
    CHECK(eventually([&] { return sink.stats().pending == 0; }));
    CHECK(sink.stats().connects == 2);
    CHECK(problems.any("the collector closed the connection; records wait"));
    CHECK(problems.any("the collector is reachable again"));
    ::close(conn);
    ::close(listener);
}

TEST_CASE("syslog: a collector that stops reading never holds up the callers", "[syslog][tcp]") {
    int port = 0;
    const int listener = bound_socket(SOCK_STREAM, port);
    auto o = fixed_options();
    o.transport = runlog::syslog_transport::tcp;
    o.address = "127.0.0.1:" + std::to_string(port);
    o.buffer_size = 256 * 1024;
    o.flush_timeout = std::chrono::seconds(10);  // what the end waits; flush() and the callers never do
    runlog::syslog_sink sink(o);
    auto log = runlog::make_logger("stalled", runlog::async(runlog::syslog_pipeline("syslog", runlog::syslog_formatter(o), sink)));
    const int conn = accept_within(listener, 5000);  // accepted, and never read: the socket buffers fill
    REQUIRE(conn >= 0);
    captured_problems problems;
    const std::string text(2000, 'p');
    auto slowest = std::chrono::steady_clock::duration::zero();
    const auto begin = std::chrono::steady_clock::now();
    for (int i = 0; i < 3000; ++i) {
        const auto t = std::chrono::steady_clock::now();
        log.info({{"seq", i}}, "{}", text);
        slowest = std::max(slowest, std::chrono::steady_clock::now() - t);
    }
    log.flush();  // the queue reaches the sink, which takes what it can and does not wait for the collector
    const auto took = std::chrono::steady_clock::now() - begin;
    const auto st = sink.stats();
    INFO("slowest call " << std::chrono::duration_cast<std::chrono::milliseconds>(slowest).count() << " ms, all "
                         << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms; sent "
                         << st.sent << ", pending " << st.pending << ", dropped " << st.dropped);
    CHECK(took < std::chrono::seconds(5));  // not a speed bound: waiting for the collector would take 10 s or more
    CHECK(st.dropped > 0);
    CHECK(st.sent + st.pending + st.dropped >= 3000);
    CHECK(problems.any("records are dropped and counted"));
    ::close(conn);
    ::close(listener);
}

TEST_CASE("syslog: a full buffer drops records, counts them, and tells the collector", "[syslog][tcp]") {
    int port = 0;
    int listener = bound_socket(SOCK_STREAM, port);
    const int unused = port;
    ::close(listener);  // nobody listens: every connect is refused
    captured_problems problems;
    auto o = fixed_options();
    o.transport = runlog::syslog_transport::tcp;
    o.address = "127.0.0.1:" + std::to_string(unused);
    o.buffer_size = 2000;
    o.reconnect_min = std::chrono::milliseconds(5);
    o.reconnect_max = std::chrono::milliseconds(20);
    o.flush_timeout = std::chrono::milliseconds(100);
    runlog::syslog_sink sink(o);
    runlog::syslog_formatter f(o);
    for (int i = 0; i < 100; ++i) {
        runlog::record r;
        test_support::fill_fixed(r, level::info);
        const std::string text = "record " + std::to_string(i);
        r.set_message(text);
        sink.write(test_support::render(f, r));
    }
    const auto s = sink.stats();
    CHECK(s.pending > 0);
    CHECK(s.dropped > 0);
    CHECK(s.pending + s.dropped == 100);
    CHECK(sink.lost_records() == s.dropped);
    CHECK(problems.any("records are dropped and counted"));
    port = unused;
    listener = bound_socket(SOCK_STREAM, port);
    const int conn = accept_within(listener, 5000);
    REQUIRE(conn >= 0);
    auto frames = receive_frames(conn, s.pending);
    CHECK(frames.size() == s.pending);
    // Once there is room again, the next record is preceded by the count of the ones that were dropped.
    runlog::record r;
    test_support::fill_fixed(r, level::info);
    r.set_message("after");
    sink.write(test_support::render(f, r));
    sink.flush();
    frames = receive_frames(conn, 2);
    REQUIRE(frames.size() == 2);
    const auto notice = parsed(frames[0]);
    CHECK(notice.msgid == "RUNLOG_DROPPED");
    CHECK(notice.param("dropped") == std::to_string(s.dropped));
    CHECK(parsed(frames[1]).msg == "after");
    ::close(conn);
    ::close(listener);
}

TEST_CASE("syslog: the local socket, and a reader that goes away and comes back", "[syslog][local]") {
    temp_dir dir;
    const std::string path = dir.path + "/log";
    auto make_reader = [&] {
        const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        std::snprintf(a.sun_path, sizeof a.sun_path, "%s", path.c_str());
        ::unlink(path.c_str());
        REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        return fd;
    };
    int reader = make_reader();
    auto o = fixed_options();
    o.transport = runlog::syslog_transport::local;
    o.address = path;
    o.reconnect_min = std::chrono::milliseconds(5);
    o.reconnect_max = std::chrono::milliseconds(20);
    runlog::syslog_sink sink(o);
    auto log = runlog::make_logger("local", runlog::syslog_pipeline("syslog", runlog::syslog_formatter(o), sink, level::info));
    log.info({{"k", "v"}}, "over the local socket");
    auto m = parsed(receive_datagram(reader));
    CHECK((m.msg == "over the local socket" && m.param("k") == "v"));
    captured_problems problems;
    ::close(reader);
    log.info("while the reader is gone");
    CHECK(sink.stats().pending == 1);
    reader = make_reader();
    log.flush();
    CHECK(eventually([&] { return sink.stats().pending == 0; }));
    CHECK(parsed(receive_datagram(reader)).msg == "while the reader is gone");
    CHECK(problems.any("records wait"));
    ::close(reader);
}

TEST_CASE("syslog: a forked child sends over a connection of its own, never the parent's queue", "[syslog][tcp]") {
    int port = 0;
    const int listener = bound_socket(SOCK_STREAM, port);
    auto o = fixed_options();
    o.transport = runlog::syslog_transport::tcp;
    o.address = "127.0.0.1:" + std::to_string(port);
    runlog::syslog_sink sink(o);
    runlog::syslog_formatter f(o);
    auto send = [&](const char* text) {
        runlog::record r;
        test_support::fill_fixed(r, level::info);
        r.set_message(text);
        sink.write(test_support::render(f, r));
    };
    send("parent before the fork");
    const int first = accept_within(listener, 5000);
    REQUIRE(first >= 0);
    REQUIRE(receive_frames(first, 1).size() == 1);
    const pid_t child = ::fork();
    if (child == 0) {
        send("from the child");
        (void)sink.wait_sent(std::chrono::seconds(5));
        ::_exit(0);
    }
    REQUIRE(child > 0);
    const int second = accept_within(listener, 5000);
    REQUIRE(second >= 0);
    const auto from_child = receive_frames(second, 1);
    REQUIRE(from_child.size() == 1);
    CHECK(parsed(from_child[0]).msg == "from the child");
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    CHECK(WIFEXITED(status));
    send("parent after the fork");
    const auto from_parent = receive_frames(first, 1);
    REQUIRE(from_parent.size() == 1);
    CHECK(parsed(from_parent[0]).msg == "parent after the fork");
    char extra[64];
    CHECK(::recv(second, extra, sizeof extra, 0) == 0);  // the child's connection ended with nothing more on it
    ::close(first);
    ::close(second);
    ::close(listener);
}

TEST_CASE("syslog: records accepted before a crash reach the collector", "[syslog][tcp][crash]") {
    int port = 0;
    const int listener = bound_socket(SOCK_STREAM, port);
    temp_dir dir;
    const pid_t pid = test_support::spawn_program(RUNLOG_SYSLOG_PROBE,
                                                  {"tcp", "127.0.0.1:" + std::to_string(port), dir.path + "/mirror.jsonl",
                                                   "-", "crash"},
                                                  dir.path + "/stderr");
    const int conn = accept_within(listener, 10000);
    REQUIRE(conn >= 0);
    const auto frames = receive_frames(conn, 201);
    const int status = test_support::wait_bounded(pid);
    CHECK((WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT));
    INFO(test_support::file_text(dir.path + "/stderr"));
    REQUIRE(frames.size() == 201);
    for (int i = 0; i < 200; ++i) CHECK(parsed(frames[static_cast<std::size_t>(i)]).param("seq") == std::to_string(i));
    // The crash handler's own record comes last.
    const auto last = parsed(frames[200]);
    CHECK((last.pri == 8 + 2 && last.param("signal") == "SIGABRT" && last.msg == "The process received SIGABRT (aborted)."));
    ::close(conn);
    ::close(listener);
}
