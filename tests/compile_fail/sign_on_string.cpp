// expect: format_error_invalid_spec_for_type
#include <runlog/runlog.hpp>

int main() {
  auto s = runlog::format("{:+}", "text");
  (void)s;
}
