#pragma once
#include <cstddef>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>

namespace runlog {
inline namespace v0 {

/// Growable contiguous char buffer that formatting writes into.
class buffer {
public:
  buffer(const buffer&) = delete;
  buffer& operator=(const buffer&) = delete;

  /// Pointer to the first byte.
  char* data() noexcept { return ptr_; }
  /// Pointer to the first byte.
  const char* data() const noexcept { return ptr_; }
  /// Number of bytes written.
  std::size_t size() const noexcept { return size_; }
  /// Number of bytes that fit without growing.
  std::size_t capacity() const noexcept { return capacity_; }
  /// Iterator to the first byte.
  char* begin() noexcept { return ptr_; }
  /// Iterator past the last byte.
  char* end() noexcept { return ptr_ + size_; }
  /// Iterator to the first byte.
  const char* begin() const noexcept { return ptr_; }
  /// Iterator past the last byte.
  const char* end() const noexcept { return ptr_ + size_; }
  /// Sets the size to zero, keeping the capacity.
  void clear() noexcept { size_ = 0; }

  /// Appends one byte.
  void push_back(char c) {
    if (size_ == capacity_) grow(size_ + 1);
    ptr_[size_++] = c;
  }
  /// Appends the bytes of s (embedded NULs included).
  void append(std::string_view s) { append(s.data(), s.data() + s.size()); }
  /// Appends the bytes [first, last).
  void append(const char* first, const char* last) {
    const auto n = static_cast<std::size_t>(last - first);
    if (n == 0) return;
    if (capacity_ - size_ < n) grow(size_ + n);
    std::memcpy(ptr_ + size_, first, n);
    size_ += n;
  }
  /// Sets the size to n, growing if needed; new bytes are unspecified.
  void resize(std::size_t n) {
    if (n > capacity_) grow(n);
    size_ = n;
  }
  /// Ensures a capacity of at least n.
  void reserve(std::size_t n) {
    if (n > capacity_) grow(n);
  }
  /// The written bytes.
  std::string_view view() const noexcept { return std::string_view(ptr_, size_); }

protected:
  /// Starts empty over the given storage.
  buffer(char* data, std::size_t capacity) noexcept : ptr_(data), size_(0), capacity_(capacity) {}
  /// Must make capacity() >= min_capacity (keeping the content) or throw; called only when capacity is short.
  virtual void grow(std::size_t min_capacity) = 0;
  /// Replaces the storage pointer and capacity; the size is kept.
  void set(char* data, std::size_t capacity) noexcept {
    ptr_ = data;
    capacity_ = capacity;
  }
  ~buffer() = default;

private:
  char* ptr_;
  std::size_t size_;
  std::size_t capacity_;
};

/// Buffer with N bytes inline; grows on the heap beyond that. Movable, not copyable.
template <std::size_t N = 256>
class basic_memory_buffer final : public buffer {
  static_assert(N > 0, "basic_memory_buffer needs a non-empty inline buffer");

public:
  /// An empty buffer using the inline storage.
  basic_memory_buffer() noexcept : buffer(store_, N) {}
  /// Takes over other's content; other is left empty.
  basic_memory_buffer(basic_memory_buffer&& other) noexcept : buffer(store_, N) { take(other); }
  /// Takes over other's content; other is left empty.
  basic_memory_buffer& operator=(basic_memory_buffer&& other) noexcept {
    if (this != &other) {
      release();
      set(store_, N);
      clear();
      take(other);
    }
    return *this;
  }
  ~basic_memory_buffer() { release(); }

  /// A copy of the content as a std::string.
  std::string str() const { return std::string(data(), size()); }

private:
  void grow(std::size_t min_capacity) override {
    const std::size_t old = capacity();
    std::size_t cap = old <= std::numeric_limits<std::size_t>::max() / 2 ? old * 2 : min_capacity;
    if (cap < min_capacity) cap = min_capacity;
    char* fresh = new char[cap];
    if (size() != 0) std::memcpy(fresh, data(), size());
    release();
    set(fresh, cap);
  }
  void release() noexcept {
    if (data() != store_) delete[] data();
  }
  void take(basic_memory_buffer& other) noexcept {
    const std::size_t n = other.size();
    if (other.data() == other.store_) {
      if (n != 0) std::memcpy(store_, other.store_, n);
    } else {
      set(other.data(), other.capacity());
      other.set(other.store_, N);
    }
    resize(n);  // never grows: capacity is at least n here
    other.clear();
  }

  char store_[N];
};

/// A memory buffer with 256 inline bytes.
using memory_buffer = basic_memory_buffer<256>;

}  // namespace v0
}  // namespace runlog
