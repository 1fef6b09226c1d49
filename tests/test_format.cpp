#include <runlog/runlog.hpp>

#include <catch2/catch.hpp>

#include <charconv>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>

namespace {

struct point {
  int x;
  int y;
};

enum plain_enum { plain_a = -3, plain_b = 7 };
enum class byte_enum : std::uint8_t { big = 200 };
enum class tone { info, warn };

}  // namespace

template <>
struct runlog::formatter<point> {
  void format(const point& p, runlog::buffer& out) const { runlog::format_to(out, "({}, {})", p.x, p.y); }
};

template <>
struct runlog::formatter<tone> {
  void format(const tone& l, runlog::buffer& out) const { out.append(l == tone::info ? "info" : "warn"); }
};

namespace {

using runlog::format;
using runlog::runtime;
using Catch::Matchers::Contains;

/// The message of the format_error thrown by formatting fmt at run time, or "<no error>".
template <class... A>
std::string runtime_error_of(std::string_view fmt, const A&... args) {
  runlog::memory_buffer buf;
  try {
    runlog::vformat_to(buf, fmt, runlog::make_format_args(args...));
  } catch (const runlog::format_error& e) {
    return e.what();
  }
  return "<no error>";
}

std::string hex_of(const void* p) {
  char tmp[32];
  const auto r = std::to_chars(tmp, tmp + sizeof tmp, reinterpret_cast<std::uintptr_t>(p), 16);
  return "0x" + std::string(tmp, r.ptr);
}

std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::uint_least32_t location_line(runlog::format_string<int> fmt) { return fmt.location().line(); }
std::string location_file(runlog::format_string<int> fmt) { return fmt.location().file_name(); }

template <class... Args>
std::uint_least32_t log_like(runlog::format_string<Args...> fmt, Args&&...) {
  return fmt.location().line();
}

bool points_inside(const runlog::memory_buffer& buf) {
  const auto* self = reinterpret_cast<const char*>(&buf);
  return buf.data() >= self && buf.data() < self + sizeof buf;
}

}  // namespace

TEST_CASE("literal text and brace escapes", "[format]") {
  CHECK(format("") == "");
  CHECK(format("hello world") == "hello world");
  CHECK(format("{{}}") == "{}");
  CHECK(format("a{{b}}c") == "a{b}c");
  CHECK(format("{{{}}}", 1) == "{1}");
  CHECK(format("}}{{") == "}{");
  CHECK(format("{}", 1) == "1");
  CHECK(format("x{}y{}z", 1, 2) == "x1y2z");
  CHECK(format("{:}", 5) == "5");
}

TEST_CASE("brace escapes at every position of a long literal", "[format]") {
  for (std::size_t k = 0; k < 40; ++k) {
    const std::string a(k, 'a');
    const std::string b(k % 11, 'b');
    const std::string fmt = a + "{{" + b + "}}" + a + "{}" + b;
    CHECK(format(runtime(fmt), k) == a + "{" + b + "}" + a + std::to_string(k) + b);
    CHECK_THAT(runtime_error_of(a + "}" + b, k), Contains("at offset " + std::to_string(k) + ": unmatched '}'"));
    CHECK_THAT(runtime_error_of(a + b + "{", k),
               Contains("at offset " + std::to_string(k + b.size()) + ": unmatched '{'"));
  }
}

TEST_CASE("manual argument indices", "[format]") {
  CHECK(format("{1} {0} {1}", 1, 2) == "2 1 2");
  CHECK(format("{0}{0}{0}", 'a') == "aaa");
  CHECK(format("{0:>3}|{0:<3}|", 7) == "  7|7  |");
  CHECK(format("{2}{1}{0}", "c", "b", "a") == "abc");
}

TEST_CASE("integer types", "[format]") {
  CHECK(format("{}", static_cast<signed char>(-5)) == "-5");
  CHECK(format("{}", static_cast<unsigned char>(200)) == "200");
  CHECK(format("{}", static_cast<short>(-32768)) == "-32768");
  CHECK(format("{}", static_cast<unsigned short>(65535)) == "65535");
  CHECK(format("{}", -2147483647 - 1) == "-2147483648");
  CHECK(format("{}", 4294967295u) == "4294967295");
  CHECK(format("{}", -1L) == "-1");
  CHECK(format("{}", 1UL) == "1");
  CHECK(format("{}", std::numeric_limits<std::int64_t>::min()) == "-9223372036854775808");
  CHECK(format("{}", std::numeric_limits<std::int64_t>::max()) == "9223372036854775807");
  CHECK(format("{}", std::numeric_limits<std::uint64_t>::max()) == "18446744073709551615");
  CHECK(format("{}", 0) == "0");
  int lvalue = 12;
  const int const_lvalue = 13;
  CHECK(format("{} {}", lvalue, const_lvalue) == "12 13");
}

TEST_CASE("integer presentation types", "[format]") {
  CHECK(format("{:d}", 42) == "42");
  CHECK(format("{:x}", 255) == "ff");
  CHECK(format("{:X}", 255) == "FF");
  CHECK(format("{:#x}", 255) == "0xff");
  CHECK(format("{:#X}", 255) == "0XFF");
  CHECK(format("{:o}", 8) == "10");
  CHECK(format("{:#o}", 8) == "010");
  CHECK(format("{:#o}", 0) == "0");
  CHECK(format("{:b}", 5) == "101");
  CHECK(format("{:#b}", 5) == "0b101");
  CHECK(format("{:#B}", 5) == "0B101");
  CHECK(format("{:c}", 65) == "A");
  CHECK(format("{:>3c}", 66) == "  B");
  CHECK(format("{:x}", -255) == "-ff");
  CHECK(format("{:#x}", -255) == "-0xff");
  CHECK(format("{:x}", std::numeric_limits<std::int64_t>::min()) == "-8000000000000000");
  CHECK(format("{:#b}", std::numeric_limits<std::int64_t>::min()) == "-0b1" + std::string(63, '0'));
  CHECK(format("{:x}", std::numeric_limits<std::uint64_t>::max()) == "ffffffffffffffff");
  CHECK(format("{:b}", std::numeric_limits<std::uint64_t>::max()) == std::string(64, '1'));
  CHECK(format("{:o}", std::numeric_limits<std::uint64_t>::max()) == "1777777777777777777777");
  CHECK(format("{:#d}", 5) == "5");
}

TEST_CASE("integer sign, fill, align, width and zero padding", "[format]") {
  CHECK(format("{:+}", 5) == "+5");
  CHECK(format("{:+}", -5) == "-5");
  CHECK(format("{:-}", 5) == "5");
  CHECK(format("{: }", 5) == " 5");
  CHECK(format("{: }", -5) == "-5");
  CHECK(format("{:+}", 5u) == "+5");
  CHECK(format("{:6}", 42) == "    42");
  CHECK(format("{:<6}", 42) == "42    ");
  CHECK(format("{:>6}", 42) == "    42");
  CHECK(format("{:^6}", 42) == "  42  ");
  CHECK(format("{:^7}", 42) == "  42   ");
  CHECK(format("{:*>6}", 42) == "****42");
  CHECK(format("{:-<6}", -42) == "-42---");
  CHECK(format("{:1}", 12345) == "12345");
  CHECK(format("{:05}", 42) == "00042");
  CHECK(format("{:05}", -42) == "-0042");
  CHECK(format("{:+05}", 42) == "+0042");
  CHECK(format("{:#06x}", 255) == "0x00ff");
  CHECK(format("{:+#010b}", 5) == "+0b0000101");
  CHECK(format("{:<05}", 3) == "3    ");  // an explicit alignment disables zero padding
  CHECK(format("{:0}", 5) == "5");
  CHECK(format("{:*^+9x}", 255) == "***+ff***");
  CHECK(format("{:020}", std::numeric_limits<std::int64_t>::min()) == "-9223372036854775808");
  CHECK(format("{:021}", std::numeric_limits<std::int64_t>::min()) == "-09223372036854775808");
}

TEST_CASE("bool", "[format]") {
  CHECK(format("{}", true) == "true");
  CHECK(format("{}", false) == "false");
  CHECK(format("{:s}", false) == "false");
  CHECK(format("{:d}", true) == "1");
  CHECK(format("{:x}", false) == "0");
  CHECK(format("{:#b}", true) == "0b1");
  CHECK(format("{:>6}", true) == "  true");
  CHECK(format("{:6}", true) == "true  ");
  CHECK(format("{:^7s}", false) == " false ");
  CHECK(format("{:03d}", true) == "001");
}

TEST_CASE("char", "[format]") {
  CHECK(format("{}", 'a') == "a");
  CHECK(format("{:c}", 'b') == "b");
  CHECK(format("{:d}", 'a') == "97");
  CHECK(format("{:x}", 'a') == "61");
  CHECK(format("{:#X}", 'z') == "0X7A");
  CHECK(format("{:x}", '\xff') == "ff");
  CHECK(format("{:3}", 'a') == "a  ");
  CHECK(format("{:>3}", 'a') == "  a");
  CHECK(format("{:^3}", 'a') == " a ");
  CHECK(format("{:+d}", 'a') == "+97");
  std::string nul = format("{}", '\0');
  CHECK(nul == std::string(1, '\0'));
}

TEST_CASE("floating point: shortest round trip", "[format]") {
  CHECK(format("{}", 0.1) == "0.1");
  CHECK(format("{}", 1.0) == "1");
  CHECK(format("{}", -0.0) == "-0");
  CHECK(format("{}", 1e300) == "1e+300");
  CHECK(format("{}", 123456.789) == "123456.789");
  CHECK(format("{}", 5e-324) == "5e-324");
  CHECK(format("{}", std::numeric_limits<double>::max()) == "1.7976931348623157e+308");
  CHECK(format("{}", 0.1f) == "0.1");
  CHECK(format("{}", 1.5f) == "1.5");
  CHECK(format("{}", 1.5L) == "1.5");
  CHECK(format("{}", 0.1L) == "0.1");

  std::uint64_t state = 12345;
  for (int i = 0; i < 4000; ++i) {
    const std::uint64_t bits = splitmix64(state);
    double value = 0;
    if (i % 2 == 0) {
      std::memcpy(&value, &bits, sizeof value);
      if (value != value || value - value != 0) continue;  // skip NaN and infinities
    } else {
      // "ordinary" magnitudes: random mantissa times a small power of ten
      value = static_cast<double>(bits >> 11) / static_cast<double>(std::uint64_t{1} << 53) * 1e6;
      if (i % 3 == 0) value = -value;
    }
    const std::string text = format("{}", value);
    double back = 0;
    const auto r = std::from_chars(text.data(), text.data() + text.size(), back);
    INFO(text);
    REQUIRE(r.ec == std::errc{});
    REQUIRE(r.ptr == text.data() + text.size());
    REQUIRE(std::memcmp(&back, &value, sizeof value) == 0);
  }
  for (int i = 0; i < 2000; ++i) {
    const auto bits = static_cast<std::uint32_t>(splitmix64(state));
    float value = 0;
    std::memcpy(&value, &bits, sizeof value);
    if (value != value || value - value != 0) continue;
    const std::string text = format("{}", value);
    float back = 0;
    const auto r = std::from_chars(text.data(), text.data() + text.size(), back);
    INFO(text);
    REQUIRE(r.ec == std::errc{});
    REQUIRE(std::memcmp(&back, &value, sizeof value) == 0);
  }
}

TEST_CASE("floating point: presentation types and precision", "[format]") {
  CHECK(format("{:e}", 1234.5) == "1.234500e+03");
  CHECK(format("{:E}", 1234.5) == "1.234500E+03");
  CHECK(format("{:.2e}", 1234.5) == "1.23e+03");
  CHECK(format("{:f}", 1234.5) == "1234.500000");
  CHECK(format("{:F}", 1234.5) == "1234.500000");
  CHECK(format("{:.2f}", 3.14159) == "3.14");
  CHECK(format("{:.0f}", 2.75) == "3");
  CHECK(format("{:g}", 1e-5) == "1e-05");
  CHECK(format("{:G}", 1e-5) == "1E-05");
  CHECK(format("{:g}", 123456789.0) == "1.23457e+08");
  CHECK(format("{:g}", 0.5) == "0.5");
  CHECK(format("{:.3}", 3.14159) == "3.14");
  CHECK(format("{:.3g}", 3.14159) == "3.14");
  CHECK(format("{:.2f}", 1.5f) == "1.50");
  CHECK(format("{:.3f}", 1.5L) == "1.500");
  CHECK(format("{:e}", 0.0) == "0.000000e+00");
  CHECK(format("{:.100f}", 1.0) == "1." + std::string(100, '0'));
  CHECK(format("{:.65535f}", 1.0).size() == 65537);
  const std::string big = format("{:f}", 1e308);
  CHECK(big.size() == 309 + 7);
  CHECK(big.substr(0, 5) == "10000");
  const std::string huge = format("{:.2f}", std::numeric_limits<long double>::max());
  CHECK(huge.size() == 4933 + 3);
  CHECK(huge.substr(0, 10) == "1189731495");
}

TEST_CASE("floating point: sign, alternate form, fill and zero padding", "[format]") {
  CHECK(format("{:+}", 1.5) == "+1.5");
  CHECK(format("{: }", 1.5) == " 1.5");
  CHECK(format("{:-}", 1.5) == "1.5");
  CHECK(format("{:+}", -1.5) == "-1.5");
  CHECK(format("{:08.2f}", -3.14159) == "-0003.14");
  CHECK(format("{:+08.2f}", 3.14159) == "+0003.14");
  CHECK(format("{:08}", 1.5) == "000001.5");
  CHECK(format("{:^10.1f}", 2.5) == "   2.5    ");
  CHECK(format("{:*<8}", 0.5) == "0.5*****");
  CHECK(format("{:>8}", -0.5) == "    -0.5");
  CHECK(format("{:#}", 1.0) == "1.");
  CHECK(format("{:#.0f}", 2.0) == "2.");
  CHECK(format("{:#.0e}", 1.0) == "1.e+00");
  CHECK(format("{:#}", 1e300) == "1.e+300");
  CHECK(format("{:#}", 1.5) == "1.5");
  CHECK(format("{:010.3e}", -1.5) == "-1.500e+00");
  CHECK(format("{:011.3e}", -1.5) == "-01.500e+00");
}

TEST_CASE("floating point: inf and nan", "[format]") {
  constexpr double inf = std::numeric_limits<double>::infinity();
  constexpr double nan = std::numeric_limits<double>::quiet_NaN();
  CHECK(format("{}", inf) == "inf");
  CHECK(format("{}", -inf) == "-inf");
  CHECK(format("{}", nan) == "nan");
  CHECK(format("{:f}", inf) == "inf");
  CHECK(format("{:F}", inf) == "INF");
  CHECK(format("{:E}", -inf) == "-INF");
  CHECK(format("{:G}", nan) == "NAN");
  CHECK(format("{:e}", nan) == "nan");
  CHECK(format("{:+}", inf) == "+inf");
  CHECK(format("{:05}", inf) == "  inf");  // zero padding does not apply to non-finite values
  CHECK(format("{:<6}", -inf) == "-inf  ");
  CHECK(format("{:#}", inf) == "inf");
  CHECK(format("{}", std::numeric_limits<float>::infinity()) == "inf");
  CHECK(format("{:.2f}", -std::numeric_limits<long double>::infinity()) == "-inf");
}

TEST_CASE("strings", "[format]") {
  const std::string str = "string";
  const std::string_view view = "view";
  const char* cstr = "cstr";
  char mutable_chars[] = "mutable";
  char* mutable_ptr = mutable_chars;
  CHECK(format("{}", str) == "string");
  CHECK(format("{}", view) == "view");
  CHECK(format("{}", cstr) == "cstr");
  CHECK(format("{}", mutable_ptr) == "mutable");
  CHECK(format("{}", mutable_chars) == "mutable");
  CHECK(format("{}", "literal") == "literal");
  CHECK(format("{:s}", str) == "string");
  CHECK(format("{}", std::string()) == "");
  CHECK(format("{:.3}", "abcdef") == "abc");
  CHECK(format("{:.0}", "abcdef") == "");
  CHECK(format("{:.10}", "abc") == "abc");
  CHECK(format("{:>8.3}", str) == "     str");
  CHECK(format("{:6}", "ab") == "ab    ");
  CHECK(format("{:<6}", "ab") == "ab    ");
  CHECK(format("{:>6}", "ab") == "    ab");
  CHECK(format("{:^6}", "ab") == "  ab  ");
  CHECK(format("{:*^7}", "ab") == "**ab***");
  CHECK(format("{:1}", "abc") == "abc");
  // a char array is a C string bounded by its size
  const char unterminated[3] = {'a', 'b', 'c'};
  CHECK(format("{}", unterminated) == "abc");
  const char early_nul[8] = "ab";
  CHECK(format("[{}]", early_nul) == "[ab]");
}

TEST_CASE("strings: UTF-8 width, precision and fill", "[format]") {
  const std::string_view s = "\xc3\xa4"
                             "b";  // "äb": 2 code points, 3 bytes
  CHECK(format("{:>5}", s) == "   \xc3\xa4"
                              "b");
  CHECK(format("{:.1}", s) == "\xc3\xa4");
  CHECK(format("{:\xc3\xa9^5}", "x") == "\xc3\xa9\xc3\xa9x\xc3\xa9\xc3\xa9");
  CHECK(format("{:\xe2\x82\xac>4}", 7) == "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac"
                                           "7");
  CHECK(format("{:\xf0\x9f\x99\x82<3}", 'a') == "a\xf0\x9f\x99\x82\xf0\x9f\x99\x82");
}

TEST_CASE("null C string", "[format]") {
  const char* null_str = nullptr;
  CHECK(format("{}", null_str) == "(null)");
  CHECK(format("{:>8}", null_str) == "  (null)");
  CHECK(format("{:.3}", null_str) == "(nu");
  char* null_mutable = nullptr;
  CHECK(format("{:s}", null_mutable) == "(null)");
}

TEST_CASE("embedded NUL bytes", "[format]") {
  const std::string_view with_nul("a\0b", 3);
  const std::string out = format("[{}]", with_nul);
  CHECK(out == std::string("[a\0b]", 5));
  CHECK(format("{:>5}", with_nul) == std::string("  a\0b", 5));
  const std::string runtime_fmt("x\0{}\0y", 6);
  CHECK(format(runtime(runtime_fmt), 1) == std::string("x\0" "1\0y", 5));
}

TEST_CASE("large strings grow the buffer", "[format]") {
  const std::string mb(std::size_t{1} << 20, 'x');
  const std::string out = format("<{}>{}", mb, 1);
  REQUIRE(out.size() == mb.size() + 3);
  CHECK(out.front() == '<');
  CHECK(out.substr(out.size() - 2) == ">1");
  CHECK(out.compare(1, mb.size(), mb) == 0);
  const std::string big_fmt = mb + "{}";
  CHECK(format(runtime(big_fmt), 2).size() == mb.size() + 1);
  CHECK(format("{:65535}", 1).size() == 65535);
}

TEST_CASE("pointers", "[format]") {
  int value = 0;
  int* p = &value;
  const int* cp = &value;
  void* vp = &value;
  const void* cvp = &value;
  const std::string expected = hex_of(&value);
  CHECK(format("{}", p) == expected);
  CHECK(format("{}", cp) == expected);
  CHECK(format("{}", vp) == expected);
  CHECK(format("{:p}", cvp) == expected);
  CHECK(format("{}", nullptr) == "0x0");
  CHECK(format("{:>5}", nullptr) == "  0x0");
  CHECK(format("{:<5}", nullptr) == "0x0  ");
  CHECK(format("{:*^7p}", nullptr) == "**0x0**");
  int* null_int = nullptr;
  CHECK(format("{}", null_int) == "0x0");
  const char* text = "text";
  CHECK(format("{}", static_cast<const void*>(text)) == hex_of(text));
  CHECK(format("{}", reinterpret_cast<void*>(std::uintptr_t{0xdeadbeef})) == "0xdeadbeef");
}

TEST_CASE("enums format as their underlying integer", "[format]") {
  CHECK(format("{}", plain_a) == "-3");
  CHECK(format("{}", plain_b) == "7");
  CHECK(format("{}", byte_enum::big) == "200");
  CHECK(format("{:x}", byte_enum::big) == "c8");
  CHECK(format("{:#06x}", byte_enum::big) == "0x00c8");
  CHECK(format("{:>4}", plain_b) == "   7");
  CHECK(format("{:+}", plain_b) == "+7");
}

TEST_CASE("user-defined formatter", "[format]") {
  CHECK(format("{}", point{1, 2}) == "(1, 2)");
  CHECK(format("{:>10}", point{1, 2}) == "    (1, 2)");
  CHECK(format("{:10}", point{1, 2}) == "(1, 2)    ");
  CHECK(format("{:*^10}", point{-1, 2}) == "*(-1, 2)**");
  CHECK(format("{:3}", point{10, 20}) == "(10, 20)");
  CHECK(format("{0} {0:>7}", point{0, 0}) == "(0, 0)  (0, 0)");
  // a formatter specialization takes precedence over the enum's integer value
  CHECK(format("{} {:>5}", tone::warn, tone::info) == "warn  info");
  const point p{3, 4};
  CHECK(format("{}", p) == "(3, 4)");
}

TEST_CASE("mixed arguments and runtime format strings agree", "[format]") {
  const std::string expected = "iteration 42 value 2.5 name alice";
  CHECK(format("iteration {} value {} name {}", std::uint64_t{42}, 2.5, "alice") == expected);
  CHECK(format(runtime("iteration {} value {} name {}"), std::uint64_t{42}, 2.5, "alice") == expected);
  runlog::memory_buffer buf;
  runlog::format_to(buf, "a{}", 1);
  runlog::format_to(buf, "b{}", 2);  // format_to appends
  CHECK(buf.view() == "a1b2");
  runlog::vformat_to(buf, "{}", runlog::make_format_args(std::string("c")));
  CHECK(buf.str() == "a1b2c");
  runlog::vformat_to(buf, "-", runlog::make_format_args());
  CHECK(buf.view() == "a1b2c-");
  runlog::vformat_to(buf, "!", runlog::format_args());
  CHECK(buf.view() == "a1b2c-!");
}

TEST_CASE("format arguments", "[format]") {
  STATIC_REQUIRE(std::is_trivially_copyable_v<runlog::format_arg>);
  STATIC_REQUIRE(sizeof(runlog::format_arg) <= 24);
  const auto empty_store = runlog::make_format_args();
  const runlog::format_args empty = empty_store;
  CHECK(empty.size() == 0);
  CHECK(empty.get(0).type() == runlog::detail::arg_type::none);
  const int i = 1;
  const double d = 2;
  const auto store = runlog::make_format_args(i, d, "s");
  const runlog::format_args args = store;
  CHECK(args.size() == 3);
  CHECK(args.get(0).type() == runlog::detail::arg_type::int_);
  CHECK(args.get(1).type() == runlog::detail::arg_type::double_);
  CHECK(args.get(2).type() == runlog::detail::arg_type::string);
  CHECK(args.get(3).type() == runlog::detail::arg_type::none);
}

TEST_CASE("runtime format string errors", "[format]") {
  const int i = 1;
  const std::string s = "s";
  const point p{1, 2};
  int value = 0;
  const void* ptr = &value;
  CHECK(runtime_error_of("{:q}", 1) == "format string \"{:q}\" at offset 2: invalid type 'q' for an integer");
  CHECK_THAT(runtime_error_of("abc {", i), Contains("at offset 4: unmatched '{'"));
  CHECK_THAT(runtime_error_of("{0", i), Contains("at offset 0: unmatched '{'"));
  CHECK_THAT(runtime_error_of("{:>5", i), Contains("at offset 0: unmatched '{'"));
  CHECK_THAT(runtime_error_of("{} }", i), Contains("at offset 3: unmatched '}'"));
  CHECK_THAT(runtime_error_of("}"), Contains("at offset 0: unmatched '}'"));
  CHECK_THAT(runtime_error_of("{:}<5}", i), Contains("at offset 5: unmatched '}'"));
  CHECK_THAT(runtime_error_of("{} {}", i), Contains("at offset 3: no argument for replacement field #1"));
  CHECK_THAT(runtime_error_of("{}", i, i), Contains("at offset 2: argument 1 is not used (2 argument(s) given)"));
  CHECK_THAT(runtime_error_of("{1}", i, i), Contains("at offset 3: argument 0 is not used"));
  CHECK_THAT(runtime_error_of("text", i), Contains("at offset 4: argument 0 is not used"));
  CHECK_THAT(runtime_error_of("{0} {}", i, i), Contains("at offset 4: cannot mix automatic"));
  CHECK_THAT(runtime_error_of("{} {0}", i, i), Contains("at offset 3: cannot mix automatic"));
  CHECK_THAT(runtime_error_of("{5}", i), Contains("at offset 1: argument index 5 out of range"));
  CHECK_THAT(runtime_error_of("{x}", i), Contains("at offset 1: invalid argument index 'x'"));
  CHECK_THAT(runtime_error_of("{0x}", i), Contains("at offset 2: invalid argument index 'x'"));
  CHECK_THAT(runtime_error_of("{:.2}", i), Contains("at offset 2: precision is not allowed for an integer"));
  CHECK_THAT(runtime_error_of("{:.2}", ptr), Contains("at offset 2: precision is not allowed for a pointer"));
  CHECK_THAT(runtime_error_of("{:.2}", true), Contains("precision is not allowed for a bool"));
  CHECK_THAT(runtime_error_of("{:d}", s), Contains("at offset 2: invalid type 'd' for a string"));
  CHECK_THAT(runtime_error_of("{:f}", true), Contains("at offset 2: invalid type 'f' for a bool"));
  CHECK_THAT(runtime_error_of("{:s}", 'c'), Contains("at offset 2: invalid type 's' for a char"));
  CHECK_THAT(runtime_error_of("{:d}", 1.5), Contains("at offset 2: invalid type 'd' for a floating-point number"));
  CHECK_THAT(runtime_error_of("{:x}", ptr), Contains("at offset 2: invalid type 'x' for a pointer"));
  CHECK_THAT(runtime_error_of("{:+}", s), Contains("at offset 2: '+' is not allowed for a string"));
  CHECK_THAT(runtime_error_of("{:#}", true), Contains("at offset 2: '#' is not allowed for a bool"));
  CHECK_THAT(runtime_error_of("{:05c}", 65), Contains("at offset 2: '0' is not allowed for an integer"));
  CHECK_THAT(runtime_error_of("{:>10.2}", p), Contains("at offset 5: invalid spec '.' for a user-defined type"));
  CHECK_THAT(runtime_error_of("{:x}", p), Contains("at offset 2: invalid spec 'x' for a user-defined type"));
  CHECK_THAT(runtime_error_of("{:{}}", i, i), Contains("at offset 2: nested replacement fields"));
  CHECK_THAT(runtime_error_of("{:.{}}", 1.5, i), Contains("at offset 3: nested replacement fields"));
  CHECK_THAT(runtime_error_of("{:99999999}", i), Contains("at offset 2: number too large"));
  CHECK_THAT(runtime_error_of("{:65536}", i), Contains("at offset 2: number too large"));
  CHECK_THAT(runtime_error_of("{99999999}", i), Contains("at offset 1: number too large"));
  CHECK_THAT(runtime_error_of("{:5d5}", i), Contains("at offset 4: unexpected '5' in format spec"));
  CHECK_THAT(runtime_error_of("{:.f}", 1.5), Contains("at offset 3: missing precision digits"));
  CHECK_THAT(runtime_error_of("\x01{", i), Contains("format string \"\\x01{\" at offset 1"));
  CHECK_THAT(runtime_error_of("\"{\\", i), Contains("format string \"\\\"{\\\\\" at offset 2: invalid argument index"));
  CHECK_THAT(runtime_error_of(std::string(200, 'a') + "}"), Contains("...\" at offset 200"));
  CHECK_THAT(runtime_error_of("{:\xff}", i), Contains("invalid type '\\xff'"));
  const runlog::format_arg empty[1];
  runlog::memory_buffer buf;
  CHECK_THROWS_WITH(runlog::vformat_to(buf, "{}", runlog::format_args(empty, 1)), Contains("argument 0 has no value"));

  CHECK_THROWS_AS(format(runtime("{:q}"), 1), runlog::format_error);
  CHECK_THROWS_AS(format(runtime("{}")), runlog::format_error);
  CHECK(runtime_error_of("{:{<5}", i) != "<no error>");
  CHECK(runtime_error_of("{{}}") == "<no error>");
}

TEST_CASE("source location of the caller", "[format]") {
  // the call and __LINE__ are on the same line on purpose
  const std::uint_least32_t expected = __LINE__, got = location_line("{}");
  CHECK(got == expected);
  CHECK_THAT(location_file("{}"), Contains("test_format.cpp"));
  const std::uint_least32_t expected2 = __LINE__, got2 = log_like("{} {}", 1, 2.0);
  CHECK(got2 == expected2);
  const int lvalue = 3;
  const std::uint_least32_t expected3 = __LINE__, got3 = log_like(runtime("{}"), lvalue);
  CHECK(got3 == expected3);
}

TEST_CASE("buffer: inline storage, growth and moves", "[format]") {
  runlog::memory_buffer buf;
  CHECK(buf.size() == 0);
  CHECK(buf.capacity() == 256);
  runlog::format_to(buf, "short message {} {}", 42, 2.5);
  CHECK(buf.view() == "short message 42 2.5");
  CHECK(points_inside(buf));  // no heap allocation for a short message
  CHECK(buf.capacity() == 256);

  const std::string ten_kb(10 * 1024, 'k');
  runlog::format_to(buf, "{}", ten_kb);
  CHECK(buf.capacity() >= 10 * 1024 + 20);
  CHECK(!points_inside(buf));
  CHECK(buf.view().substr(0, 5) == "short");

  runlog::memory_buffer moved(std::move(buf));
  CHECK(moved.size() == 20 + ten_kb.size());
  CHECK(buf.size() == 0);
  CHECK(points_inside(buf));
  runlog::format_to(buf, "again");
  CHECK(buf.view() == "again");

  runlog::memory_buffer small;
  small.append(std::string_view("inline"));
  runlog::memory_buffer moved_small(std::move(small));
  CHECK(moved_small.view() == "inline");
  CHECK(points_inside(moved_small));
  moved_small = std::move(moved);
  CHECK(moved_small.size() == 20 + ten_kb.size());
  moved = std::move(buf);
  CHECK(moved.view() == "again");
  CHECK(points_inside(moved));
}

TEST_CASE("buffer: operations", "[format]") {
  runlog::basic_memory_buffer<4> buf;
  buf.push_back('a');
  buf.append(std::string_view("bcdef"));
  const char raw[] = "ghi";
  buf.append(raw, raw + 3);
  CHECK(buf.view() == "abcdefghi");
  CHECK(std::string(buf.begin(), buf.end()) == "abcdefghi");
  buf.resize(3);
  CHECK(buf.view() == "abc");
  buf.reserve(1000);
  CHECK(buf.capacity() >= 1000);
  CHECK(buf.view() == "abc");
  buf.resize(2000);
  CHECK(buf.size() == 2000);
  CHECK(std::string_view(buf.data(), 3) == "abc");
  buf.clear();
  CHECK(buf.size() == 0);
  buf.append(std::string_view());
  CHECK(buf.size() == 0);
  const runlog::basic_memory_buffer<4>& cref = buf;
  CHECK(cref.begin() == cref.end());
  CHECK(cref.data() == buf.data());
  for (int i = 0; i < 1000; ++i) runlog::format_to(buf, "{}", i % 10);
  CHECK(buf.size() == 1000);
  CHECK(buf.view().substr(0, 12) == "012345678901");
}

TEST_CASE("floating point: the short-decimal path writes what std::to_chars writes", "[format][floats]") {
  // Doubles with few decimals skip to_chars (runlog/format/floats.hpp); the text must be the same, which
  // includes to_chars' choice of the exponent form (1e+06, 1e-04) on a shorter length.
  auto same = [](double v) {
    char want[64];
    const auto r = std::to_chars(want, want + sizeof want, v);
    const std::string text = format("{}", v);
    INFO(std::string_view(want, static_cast<std::size_t>(r.ptr - want)) << " vs " << text);
    REQUIRE(text == std::string_view(want, static_cast<std::size_t>(r.ptr - want)));
  };
  for (double v : {0.5, 1234.5, 1.0, 42.0, 100000.0, 120000.0, 1000000.0, 10000.0, 0.0001, 0.001, 0.0625, 19.99,
                   0.30000000000000004, 9.995, 1.005, 549755813887.5, 549755813888.5, 1e15, 1125899906842623.0,
                   -0.25, -1e6, 0.1 + 0.2, 1e-5, 123456789.0625})
    same(v);
  std::uint64_t state = 777;
  for (int i = 0; i < 200000; ++i) {
    const std::uint64_t bits = splitmix64(state);
    const double whole = static_cast<double>(bits % (std::uint64_t{1} << (bits % 45)));
    double v = whole;
    for (int d = static_cast<int>((bits >> 50) % 6); d > 0; --d) v /= 10;  // 0 to 5 decimals, usually inexact
    same((bits >> 60) & 1 ? -v : v);
    same(static_cast<double>(i) * 0.5);
    same(static_cast<double>(i) / 16.0);
  }
}
