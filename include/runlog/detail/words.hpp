#pragma once
/// Eight bytes at a time: tests that tell whether a word holds a byte a scanner must stop at, so that the
/// plain runs of a string are skipped without a branch per byte (escapers, the format-string scanner).
#include <cstdint>
#include <cstring>

namespace runlog {
inline namespace v0 {
namespace detail {

inline std::uint64_t load_word(const char* p) noexcept {
    std::uint64_t w;
    std::memcpy(&w, p, sizeof w);
    return w;
}
inline std::uint64_t load_word(const unsigned char* p) noexcept { return load_word(reinterpret_cast<const char*>(p)); }
inline constexpr std::uint64_t word_ones = 0x0101010101010101ULL;
inline constexpr std::uint64_t word_highs = 0x8080808080808080ULL;
/// Whether some byte of w is zero (exact for the word as a whole; borrows only follow a true zero).
constexpr bool word_has_zero(std::uint64_t w) noexcept { return ((w - word_ones) & ~w & word_highs) != 0; }
/// Whether some byte of w equals b.
constexpr bool word_has(std::uint64_t w, unsigned char b) noexcept { return word_has_zero(w ^ (word_ones * b)); }
/// Whether some byte of w is below n (n <= 128); a byte of 0x80 or more never counts.
constexpr bool word_has_below(std::uint64_t w, unsigned char n) noexcept {
    return ((w - word_ones * n) & ~w & word_highs) != 0;
}

}  // namespace detail
}  // namespace v0
}  // namespace runlog
