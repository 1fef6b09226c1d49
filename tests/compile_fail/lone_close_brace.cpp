// expect: format_error_unmatched_close_brace
#include <runlog/runlog.hpp>


int main() {
  auto s = runlog::format("value {} }", 1);
  (void)s;
}
