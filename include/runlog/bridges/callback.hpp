#pragma once
/// runlog::callback_bridge: a C or C++ library's log callback as a source of records.
#include <atomic>
#include <string>
#include <string_view>

#include "bridge.hpp"

namespace runlog {
inline namespace v0 {

/// Turns a library's log callback into records. The library's numeric code picks the level (through the
/// map given, or info for every code) and travels as the field `code`; the message is the record's. Plug
/// it into a hook shaped as SQLite's, `void(void* user_data, int code, const char* message)`, with entry()
/// and user_data(); into one without user data, `void(int code, const char* message)`, with global_entry()
/// after make_global(); or call log_code() (or log(level, text)) from an adapter of your own for other shapes.
/// The hook must be removed from the library before the bridge ends.
class callback_bridge : public external_logger {
public:
    /// Maps the library's code to a level.
    using level_map = level (*)(int code);

    template <class Logger>
    callback_bridge(Logger& logger, std::string name, level_map map = nullptr)
        : external_logger(logger, std::move(name)), map_(map) {}
    callback_bridge(const callback_bridge&) = delete;
    callback_bridge& operator=(const callback_bridge&) = delete;
    ~callback_bridge() {
        callback_bridge* me = this;
        global_slot().compare_exchange_strong(me, nullptr);
    }

    /// A message with the library's code; a trailing newline is dropped, a null message reads "(null)".
    void log_code(int code, const char* message) noexcept {
        std::string_view text = message ? std::string_view(message) : std::string_view("(null)");
        if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
        const level l = map_ ? map_(code) : level::info;
        const field extra[] = {{"code", code}};
        send({.lvl = l, .text = text, .extra = extra});
    }

    /// The entry point for hooks that pass user data back: give the library user_data() with it.
    static void entry(void* user_data, int code, const char* message) noexcept {
        if (user_data) static_cast<callback_bridge*>(user_data)->log_code(code, message);
    }
    void* user_data() noexcept { return this; }

    /// The entry point for hooks without user data: messages go to the bridge made global last.
    static void global_entry(int code, const char* message) noexcept {
        if (auto* b = global_slot().load(std::memory_order_acquire)) b->log_code(code, message);
    }
    /// Makes this bridge the one global_entry() sends to (one per process; it stops being so when it ends).
    void make_global() noexcept { global_slot().store(this, std::memory_order_release); }

private:
    static std::atomic<callback_bridge*>& global_slot() noexcept {
        static std::atomic<callback_bridge*> slot{nullptr};
        return slot;
    }
    level_map map_;
};

}  // namespace v0
}  // namespace runlog
