// expect: format_error_missing_argument
#include <runlog/runlog.hpp>


int main() {
  auto s = runlog::format("{} {}", 1);
  (void)s;
}
