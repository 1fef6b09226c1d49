// The smallest program: the ready-made logger, nothing to set up.
#include "runlog/runlog.hpp"

int main() { runlog::info("hello {}", 42); }
