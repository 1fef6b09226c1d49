// expect: OK
#include <runlog/runlog.hpp>

struct point {
  int x, y;
};
template <>
struct runlog::formatter<point> {
  void format(const point& p, runlog::buffer& out) const { runlog::format_to(out, "({}, {})", p.x, p.y); }
};
enum class color { red, green };

int main() {
  runlog::memory_buffer buf;
  const std::string str = "text";
  const std::string_view view = "view";
  const char* cstr = "cstr";
  int value = 42;
  runlog::format_to(buf, "plain text, no fields {{}}");
  runlog::format_to(buf, "{} {} {} {} {}", 1, -2LL, 3u, 4.5, 6.5f);
  runlog::format_to(buf, "{:d} {:x} {:#X} {:o} {:#b} {:c} {:+05}", 1, 2, 3, 4, 5, 65, 7);
  runlog::format_to(buf, "{} {:s} {:d}", true, false, true);
  runlog::format_to(buf, "{} {:c} {:x}", 'a', 'b', 'c');
  runlog::format_to(buf, "{:e} {:.3f} {:G} {:+010.2E} {:#g}", 1.0, 2.0, 3.0, 4.0, 5.0);
  runlog::format_to(buf, "{} {:s} {:.2} {:*^10} {}", str, view, cstr, "lit", "x");
  runlog::format_to(buf, "{} {:p} {:>20}", &value, static_cast<void*>(&value), nullptr);
  runlog::format_to(buf, "{} {:>10} {:*<8}", point{1, 2}, point{3, 4}, point{5, 6});
  runlog::format_to(buf, "{} {:x}", color::green, color::red);
  runlog::format_to(buf, "{1} {0} {1}", 1, 2);
  runlog::format_to(buf, runlog::runtime("{} {}"), 1, 2);
  const std::string s = runlog::format("{:>5}", value);
  return s.empty() ? 1 : 0;
}
