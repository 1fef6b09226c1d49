// expect: format_error_unused_argument
#include <runlog/runlog.hpp>


int main() {
  auto s = runlog::format("{}", 1, 2);
  (void)s;
}
