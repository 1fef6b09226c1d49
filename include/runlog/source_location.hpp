#pragma once
#include <cstdint>
#if __has_include(<source_location>)
#include <source_location>
#endif

namespace runlog {
inline namespace v0 {

#if defined(__cpp_lib_source_location)
/// Caller location carried by format strings (std::source_location when the standard library has it).
using source_location = std::source_location;
#else
/// Fallback for toolchains without std::source_location (e.g. clang 14 with libstdc++ 12); same members.
class source_location {
public:
  /// Location of the call site (via default arguments, like std::source_location::current()).
  static constexpr source_location current(const char* file = __builtin_FILE(),
                                           const char* function = __builtin_FUNCTION(),
                                           std::uint_least32_t line = __builtin_LINE(),
#if defined(__has_builtin) && __has_builtin(__builtin_COLUMN)
                                           std::uint_least32_t column = __builtin_COLUMN()
#else
                                           std::uint_least32_t column = 0
#endif
                                               ) noexcept {
    source_location loc;
    loc.file_ = file;
    loc.function_ = function;
    loc.line_ = line;
    loc.column_ = column;
    return loc;
  }
  /// An empty location.
  constexpr source_location() noexcept = default;
  /// Source file name.
  constexpr const char* file_name() const noexcept { return file_; }
  /// Enclosing function name.
  constexpr const char* function_name() const noexcept { return function_; }
  /// Line number (1-based).
  constexpr std::uint_least32_t line() const noexcept { return line_; }
  /// Column number (0 when unknown).
  constexpr std::uint_least32_t column() const noexcept { return column_; }

private:
  const char* file_ = "";
  const char* function_ = "";
  std::uint_least32_t line_ = 0;
  std::uint_least32_t column_ = 0;
};
#endif

}  // namespace v0
}  // namespace runlog
