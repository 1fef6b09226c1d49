// expect: format_error_missing_precision_digits
#include <runlog/runlog.hpp>

int main() {
  auto s = runlog::format("{:.f}", 1.0);
  (void)s;
}
