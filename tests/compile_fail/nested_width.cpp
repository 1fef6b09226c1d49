// expect: format_error_nested_replacement_field_not_supported
#include <runlog/runlog.hpp>

int main() {
  auto s = runlog::format("{:{}}", 1, 2);
  (void)s;
}
