// expect: specialize runlog::formatter<T>
#include <runlog/runlog.hpp>

struct opaque {
  int value = 0;
};

int main() {
  auto s = runlog::format("{}", opaque{});
  (void)s;
}
