// expect: format_error_invalid_type_for_bool
#include <runlog/runlog.hpp>

int main() {
  auto s = runlog::format("{:f}", true);
  (void)s;
}
