// expect: format_error_invalid_spec_for_custom_type
#include <runlog/runlog.hpp>

struct point {
  int x, y;
};
template <>
struct runlog::formatter<point> {
  void format(const point& p, runlog::buffer& out) const { runlog::format_to(out, "({}, {})", p.x, p.y); }
};

int main() {
  auto s = runlog::format("{:>10.3}", point{1, 2});
  (void)s;
}
