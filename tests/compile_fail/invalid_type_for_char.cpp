// expect: format_error_invalid_type_for_char
#include <runlog/runlog.hpp>

int main() {
  auto s = runlog::format("{:s}", 'c');
  (void)s;
}
