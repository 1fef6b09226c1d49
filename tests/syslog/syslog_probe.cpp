// A program that sends records to a syslog collector through runlog::syslog_sink, driven line by line on stdin
// by check_rsyslog.py (which runs a real rsyslogd). Every record it sends also goes, as a JSON line, to a
// mirror file, which the script compares with what the collector received.
//
//   syslog_probe TRANSPORT ADDRESS MIRROR [BUFFER_BYTES|-] [crash]
//   With `crash`: logs 200 messages (fields seq 0-199) and aborts without a flush, for test_syslog.cpp.
//   Otherwise, on stdin, one command per line:
//     run TAG N        a stored run (under MIRROR's directory) with one step that logs N messages, each with
//                      the fields tag, seq and hostile strings; prints `ok RUN_ID`
//     msgs TAG N       N messages outside a run, fields tag and seq; prints `ok`
//     big TAG          one message of 20000 bytes (longer than any frame limit); prints `ok`
//     flush            log.flush(), then up to 3 s for the collector to take what waits; prints `ok`
//     drain            log.flush() only (the async queue reaches the sink, which does not wait); prints `ok`
//     stats            prints `sent S dropped D pending P connects C`
//     quit
// The syslog pipeline is async (as the README advises); the mirror is a synchronous file pipeline.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>

#include <runlog/runlog.hpp>

namespace {

runlog::syslog_transport transport_of(const std::string& name) {
    if (name == "udp") return runlog::syslog_transport::udp;
    if (name == "tcp") return runlog::syslog_transport::tcp;
    return runlog::syslog_transport::local;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 4) {
        std::fprintf(stderr, "usage: syslog_probe TRANSPORT ADDRESS MIRROR [BUFFER_BYTES|-] [crash]\n");
        return 2;
    }
    runlog::syslog_options o;
    o.transport = transport_of(argv[1]);
    o.address = argv[2];
    o.app_name = "syslog_probe";
    o.reconnect_min = std::chrono::milliseconds(20);
    o.reconnect_max = std::chrono::milliseconds(200);
    o.flush_timeout = std::chrono::milliseconds(3000);
    if (argc > 4 && std::strcmp(argv[4], "-") != 0) o.buffer_size = std::stoul(argv[4]);
    const std::string mirror = argv[3];
    const std::string dir = mirror.substr(0, mirror.rfind('/'));

    runlog::syslog_sink sink(o);  // a copy of the pipeline's: they share the connection and its counters
    auto log = runlog::make_logger(
        "probe",
        runlog::async(runlog::syslog_pipeline("syslog", runlog::syslog_formatter(o), sink, runlog::level::trace)),
        runlog::pipeline("mirror", runlog::json_formatter({.source_location = false}), runlog::file_sink(mirror),
                         runlog::level::trace));

    // Values a collector must get back as they were: the characters RFC 5424 escapes, a newline, a tab,
    // characters outside ASCII, an invalid byte (which becomes U+FFFD on both sides).
    const std::string quotes = "say \"hi\" and \\o/ ] [x=1]";
    const std::string lines = "line one\nline two\ttabbed";
    const std::string unicode = "Grüße, 東京, emoji 🚀";
    const std::string invalid = std::string("bad \xff byte");
    const std::string_view list_items[] = {"a,b", "c]"};

    if (argc > 5 && std::strcmp(argv[5], "crash") == 0) {
        for (int i = 0; i < 200; ++i) log.info({{"seq", i}}, "before the crash {}", i);
        std::abort();  // runlog's crash handler drains the queue and the sink sends what it holds
    }

    std::string command;
    while (std::cin >> command) {
        if (command == "run") {
            std::string tag;
            int n = 0;
            std::cin >> tag >> n;
            runlog::run run(log, "syslog_job_" + tag, {.base_dir = dir + "/storage"});
            run.execute("step \"one\"", [&](runlog::step& s) {
                for (int i = 0; i < n; ++i)
                    log.info({{"tag", tag}, {"seq", i}, {"quotes", quotes}, {"lines", lines}, {"unicode", unicode},
                              {"invalid", invalid}, {"ratio", 0.5}, {"ok", true}, {"list", runlog::string_list(list_items)},
                              {"weird key=]\"", "named"}},
                             "message {} of {}: {}", i, tag, i % 2 ? lines : quotes);
                s.materialize("table_" + tag, {{"rows", n}});
            });
            std::cout << "ok " << run.id() << std::endl;
        } else if (command == "msgs") {
            std::string tag;
            int n = 0;
            std::cin >> tag >> n;
            for (int i = 0; i < n; ++i) log.warning({{"tag", tag}, {"seq", i}}, "plain {} {}", tag, i);
            std::cout << "ok" << std::endl;
        } else if (command == "big") {
            std::string tag;
            std::cin >> tag;
            log.error({{"tag", tag}, {"seq", 0}}, "{}", std::string(19990, 'x') + "ü end");
            std::cout << "ok" << std::endl;
        } else if (command == "flush") {
            log.flush();
            (void)sink.wait_sent(std::chrono::milliseconds(3000));
            std::cout << "ok" << std::endl;
        } else if (command == "drain") {
            log.flush();
            std::cout << "ok" << std::endl;
        } else if (command == "stats") {
            const auto s = sink.stats();
            std::cout << "sent " << s.sent << " dropped " << s.dropped << " pending " << s.pending << " connects "
                      << s.connects << std::endl;
        } else if (command == "quit") {
            break;
        } else {
            std::cout << "unknown command " << command << std::endl;
        }
    }
    log.flush();
    return 0;
}
