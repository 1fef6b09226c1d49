// A second file that logs, through log.hpp alone.
#include <runlog/log.hpp>

int other() {
    runlog::warning("hello from the consumer's second file: {}", 7);
    return 7;
}
