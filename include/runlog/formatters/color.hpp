#pragma once

namespace runlog {
inline namespace v0 {

/// When a formatter may colour its output.
enum class color_mode { automatic, always, never };

}  // namespace v0
}  // namespace runlog
