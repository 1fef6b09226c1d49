#pragma once
/// What every bridge shares: runlog::external_logger, a named way into a logger for messages that other
/// logging systems produce (iostreams, C callbacks, spdlog, glog).
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#if __has_include("../record.hpp")  // include/: only what it uses
#include "../detail/external.hpp"
#include "../fields.hpp"
#include "../record.hpp"
#else  // single_include/: the single header holds them
#include "../runlog.hpp"
#endif

namespace runlog {
inline namespace v0 {

/// One message from another logging system, as a bridge hands it over.
struct external_message {
    level lvl = level::info;
    std::string_view text;
    std::string_view logger_name{};  ///< empty: the bridge's name
    const char* file = nullptr;      ///< where the message was logged, when the other system says
    std::uint32_t line = 0;
    const char* function = nullptr;
    std::uint64_t thread = 0;  ///< 0: the calling thread
    record::time_point time{};  ///< the epoch: now
    std::span<const field> extra{};
};

/// A named entry into a logger for another logging system's messages. Each message becomes one record with
/// the calling thread's run and step (so it reaches the run's events.jsonl and runlog-view under its step),
/// the bridge's name as its logger name (`iostream.clog`, `sqlite`, ...) unless the message names its own,
/// and the other system's source location as the fields `code.filepath`, `code.lineno` and `code.function`.
///
/// A bridge has a level of its own (trace by default) below which its messages are dropped before they
/// reach the logger; config.yaml sets it by the bridge's name under `external_loggers:`. The logger must
/// outlive the bridge. Bridges are neither copied nor moved (they are listed by address).
class external_logger {
public:
    template <class Logger>
        requires requires(Logger& l, record& r, level lv) {
            l.write(r);
            l.should_log(lv);
        }
    external_logger(Logger& logger, std::string name, level lvl = level::trace)
        : self_(&logger),
          should_([](const void* s, level l) noexcept { return static_cast<const Logger*>(s)->should_log(l); }),
          stamp_([](const void* s, record& r, level l) noexcept {
              static_cast<const Logger*>(s)->stamp(r, l, source_location{});
          }),
          write_([](void* s, const record& r) noexcept { static_cast<Logger*>(s)->write(r); }),
          entry_(std::move(name), lvl) {
        detail::external_loggers().add(&entry_);
    }
    external_logger(const external_logger&) = delete;
    external_logger& operator=(const external_logger&) = delete;
    ~external_logger() { detail::external_loggers().remove(&entry_); }

    const std::string& name() const noexcept { return entry_.name; }
    level get_level() const noexcept { return static_cast<level>(entry_.level_value.load(std::memory_order_relaxed)); }
    void set_level(level l) noexcept { entry_.level_value.store(static_cast<int>(l), std::memory_order_relaxed); }
    /// Whether a message at l would be kept: the bridge's level, then the logger's.
    bool should_log(level l) const noexcept { return l >= get_level() && should_(self_, l); }

    /// Sends a message at l with the bridge's name.
    void log(level l, std::string_view text) noexcept { send({.lvl = l, .text = text}); }

    /// Sends a message as one record (a message that should_log rejects is dropped).
    void send(const external_message& m) noexcept {
        if (!should_log(m.lvl)) return;
        record r;
        stamp_(self_, r, m.lvl);
        r.logger_name = m.logger_name.empty() ? std::string_view(entry_.name) : m.logger_name;
        if (m.thread) r.thread = m.thread;
        if (m.time != record::time_point{}) r.time = m.time;
        r.set_message(m.text);
        const std::uint32_t line = m.line;
        const field where[3] = {{"code.filepath", std::string_view(m.file ? m.file : "")},
                                {"code.lineno", line},
                                {"code.function", std::string_view(m.function ? m.function : "")}};
        const std::size_t n_where = !m.file || !*m.file ? 0 : m.function && *m.function ? 3 : 2;
        std::vector<field> both;
        if (n_where == 0) {
            r.fields = m.extra;
        } else if (m.extra.empty()) {
            r.fields = std::span<const field>(where, n_where);
        } else {
            try {
                both.assign(where, where + n_where);
                both.insert(both.end(), m.extra.begin(), m.extra.end());
                r.fields = both;
            } catch (...) {
                r.fields = m.extra;
            }
        }
        write_(self_, r);
    }

private:
    void* self_;
    bool (*should_)(const void*, level) noexcept;
    void (*stamp_)(const void*, record&, level) noexcept;
    void (*write_)(void*, const record&) noexcept;
    detail::external_entry entry_;
};

}  // namespace v0
}  // namespace runlog
