#pragma once
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string_view>
#include <type_traits>
#include <utility>

#include "../detail/build.hpp"
#include "../detail/shared_function.hpp"
#include "sink.hpp"

namespace runlog {
inline namespace v0 {

/// Hands each formatted record to a function; an exception from it goes to the error handler.
class callback_sink {
public:
    /// Calls fn(std::string_view) for each record; copies of the sink share fn. An empty function (a null
    /// pointer, an empty std::function) throws std::invalid_argument.
    template <class F>
        requires(std::is_invocable_v<std::decay_t<F>&, std::string_view> &&
                 !std::is_same_v<std::decay_t<F>, callback_sink>)
    explicit callback_sink(F&& fn) : fn_(std::forward<F>(fn)), errors_(std::make_shared<detail::write_errors>()) {
        if (!fn_) throw std::invalid_argument("runlog::callback_sink: the callback is empty");
    }

    RUNLOG_INLINE void write(std::string_view bytes) noexcept;
    void flush() noexcept {}
    bool is_terminal() const noexcept { return false; }
    std::uint64_t failures() const noexcept { return errors_->failures(); }

private:
    detail::shared_function<void(std::string_view)> fn_;
    std::shared_ptr<detail::write_errors> errors_;
};

/// Discards everything.
struct null_sink {
    static constexpr bool thread_safe = true;
    void write(std::string_view) noexcept {}
    void flush() noexcept {}
    bool is_terminal() const noexcept { return false; }
};

}  // namespace v0
}  // namespace runlog

#if RUNLOG_DEFINITIONS
#include <exception>
#include <string>

namespace runlog {
inline namespace v0 {

RUNLOG_INLINE void callback_sink::write(std::string_view bytes) noexcept {
    try {
        fn_(bytes);
    } catch (const std::exception& e) {
        errors_->report(std::string("log callback threw: ") + e.what(), 0, 1);
    } catch (...) {
        errors_->report("log callback threw", 0, 1);
    }
}

}  // namespace v0
}  // namespace runlog
#endif
