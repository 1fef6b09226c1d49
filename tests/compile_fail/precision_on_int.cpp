// expect: format_error_precision_not_allowed
#include <runlog/runlog.hpp>


int main() {
  auto s = runlog::format("{:.2}", 42);
  (void)s;
}
