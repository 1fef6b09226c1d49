// libFuzzer target: arbitrary bytes as a run-time format string.
// Build: clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude tests/fuzz/fuzz_format.cpp
#include <runlog/runlog.hpp>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

namespace {

struct point {
  int x;
  int y;
};

}  // namespace

template <>
struct runlog::formatter<point> {
  void format(const point& p, runlog::buffer& out) const { runlog::format_to(out, "({}, {})", p.x, p.y); }
};

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view fmt(reinterpret_cast<const char*>(data), size);
  static int target = 0;
  const std::string str("str\0ing", 7);
  const std::int64_t negative = INT64_MIN;
  const char* null_cstr = nullptr;
  const point pt{1, 2};
  const long double ld = 3.25L;
  // the store references its arguments, so none of them may be a temporary
  const auto store = runlog::make_format_args(42, negative, -1.5e-300, str, true, 'c',
                                              static_cast<const void*>(&target), null_cstr, pt,
                                              std::numeric_limits<double>::quiet_NaN(), ld, 1.5f, UINT64_MAX);
  runlog::memory_buffer buf;
  // all arguments, then a prefix chosen by the input so that "all arguments used" can succeed too
  for (const std::size_t count : {store.args.size(), size % (store.args.size() + 1)}) {
    buf.clear();
    try {
      runlog::vformat_to(buf, fmt, runlog::format_args(store.args.data(), count));
    } catch (const runlog::format_error&) {
    }
  }
  return 0;
}
