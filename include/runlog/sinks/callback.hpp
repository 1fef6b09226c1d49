#pragma once
#include <functional>
#include <memory>

#include "sink.hpp"

namespace runlog {
inline namespace v0 {

/// Hands each formatted record to a function; an exception from it goes to the error handler.
class callback_sink {
public:
    explicit callback_sink(std::function<void(std::string_view)> fn)
        : fn_(std::move(fn)), errors_(std::make_shared<detail::write_errors>()) {}

    void write(std::string_view bytes) noexcept {
        try {
            fn_(bytes);
        } catch (const std::exception& e) {
            errors_->report(std::string("log callback threw: ") + e.what(), 0, 1);
        } catch (...) {
            errors_->report("log callback threw", 0, 1);
        }
    }
    void flush() noexcept {}
    bool is_terminal() const noexcept { return false; }
    std::uint64_t failures() const noexcept { return errors_->failures(); }

private:
    std::function<void(std::string_view)> fn_;
    std::shared_ptr<detail::write_errors> errors_;
};

/// Discards everything.
struct null_sink {
    void write(std::string_view) noexcept {}
    void flush() noexcept {}
    bool is_terminal() const noexcept { return false; }
};

}  // namespace v0
}  // namespace runlog
