// expect: format_error_invalid_argument_index
#include <runlog/runlog.hpp>

int main() {
  auto s = runlog::format("{x}", 1);
  (void)s;
}
