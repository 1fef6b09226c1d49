// expect: format_error_invalid_type_for_floating_point
#include <runlog/runlog.hpp>

int main() {
  auto s = runlog::format("{:d}", 1.5);
  (void)s;
}
