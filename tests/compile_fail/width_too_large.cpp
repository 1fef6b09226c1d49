// expect: format_error_number_too_large
#include <runlog/runlog.hpp>

int main() {
  auto s = runlog::format("{:99999999}", 1);
  (void)s;
}
