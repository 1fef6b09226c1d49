// Steps on several threads of one run: every record logged inside a step, on any thread and by any
// logger, carries the run id, the job and that step's key, and lands once in the run's event log.
//
//   parallel_steps [RECORDS_PER_STEP]    (default 1000; 4 steps on 4 threads)
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include <runlog/runlog.hpp>

int main(int argc, char** argv) {
    const int per_step = argc > 1 ? std::atoi(argv[1]) : 1000;
    if (per_step <= 0) {
        std::fprintf(stderr, "usage: %s [RECORDS_PER_STEP > 0]\n", argv[0]);
        return 2;
    }
    auto log = runlog::make_logger(
        runlog::pipeline("console", runlog::text_formatter::brief(), runlog::stderr_sink{}, runlog::level::info));

    runlog::run run(log, "parallel_job");
    std::vector<std::thread> workers;
    for (int t = 0; t < 4; ++t) {
        workers.emplace_back([&, t] {
            run.execute("partition_" + std::to_string(t), [&](runlog::step& s) {
                long sum = 0;
                for (int i = 0; i < per_step; ++i) {
                    sum += i;
                    log.debug({{"partition", t}, {"item", i}}, "processed item {} of partition {}", i, t);
                }
                log.info({{"items", per_step}, {"sum", sum}}, "partition {} done", t);
                s.materialize("partition_" + std::to_string(t), {{"items", per_step}});
            });
        });
    }
    for (auto& w : workers) w.join();
    std::fprintf(stderr, "Event log: %s\n", run.events_path().c_str());
}
