// expect: format_error_argument_index_out_of_range
#include <runlog/runlog.hpp>


int main() {
  auto s = runlog::format("{0} {2}", 1, 2);
  (void)s;
}
