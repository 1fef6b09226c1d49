// The compiled mode's one implementation unit (the runlog::compiled library): every non-template
// definition of runlog, the default logger and the common logger instantiations, compiled once.
#define RUNLOG_IMPLEMENTATION
#include <runlog/runlog.hpp>
