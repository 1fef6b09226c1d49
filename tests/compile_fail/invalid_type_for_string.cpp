// expect: format_error_invalid_type_for_string
#include <runlog/runlog.hpp>


int main() {
  auto s = runlog::format("{:d}", "text");
  (void)s;
}
