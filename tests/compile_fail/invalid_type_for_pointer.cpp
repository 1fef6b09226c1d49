// expect: format_error_invalid_type_for_pointer
#include <runlog/runlog.hpp>

int main() {
  int x = 0;
  auto s = runlog::format("{:x}", &x);
  (void)s;
}
