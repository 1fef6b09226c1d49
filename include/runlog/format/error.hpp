#pragma once
#include <stdexcept>

namespace runlog {
inline namespace v0 {

/// Thrown for a bad format string given at run time (runtime()) and by vformat_to.
class format_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

}  // namespace v0
}  // namespace runlog
