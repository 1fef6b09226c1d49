// expect: format_error_mixed_manual_and_automatic_indexing
#include <runlog/runlog.hpp>


int main() {
  auto s = runlog::format("{0} {}", 1, 2);
  (void)s;
}
