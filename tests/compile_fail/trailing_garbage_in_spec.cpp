// expect: format_error_invalid_format_spec
#include <runlog/runlog.hpp>

int main() {
  auto s = runlog::format("{:5d5}", 1);
  (void)s;
}
