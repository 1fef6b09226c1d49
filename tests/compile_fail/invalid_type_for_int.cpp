// expect: format_error_invalid_type_for_integer
#include <runlog/runlog.hpp>


int main() {
  auto s = runlog::format("{:s}", 42);
  (void)s;
}
