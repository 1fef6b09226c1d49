// expect: format_error_missing_argument
#include <runlog/runlog.hpp>

int main() { runlog::info("{} {}", 1); }
