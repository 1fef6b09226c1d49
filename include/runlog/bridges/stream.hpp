#pragma once
/// runlog::stream_bridge: what a program writes to a std::ostream (std::clog, std::cerr, std::cout or any
/// other) becomes records, a line each.
#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <iostream>
#include <mutex>
#include <streambuf>
#include <string>
#include <string_view>
#include <vector>

#include "bridge.hpp"
#if __has_include("../sinks/sink.hpp")
#include "../detail/step_end.hpp"
#include "../sinks/sink.hpp"
#endif

namespace runlog {
inline namespace v0 {

/// How a stream bridge makes records.
struct stream_bridge_options {
    level lvl = level::info;           ///< the level of every line
    std::string name{};                ///< the records' logger name; empty: iostream.clog, iostream.cerr, iostream.cout or iostream
    std::size_t max_line = 64 * 1024;  ///< a line longer than this is cut into records of this size
};

/// Redirects a std::ostream into a logger while alive: each complete line a thread writes becomes one record
/// with that thread's run and step, at the bridge's level, named as the options say. A thread's partial line
/// waits for its newline (threads never mix within a line), and is sent as a line when the thread's step
/// ends or, outside steps, at the bridge's end; the stream then gets back its original buffer and state
/// (also when the end comes from an exception unwinding). Bridges on one stream may end in any order: one
/// ending under another hands its original buffer to the one above.
class stream_bridge : public external_logger {
public:
    template <class Logger>
    stream_bridge(std::ostream& stream, Logger& logger, stream_bridge_options options = {})
        : external_logger(logger, options.name.empty() ? default_name(stream) : options.name),
          stream_(stream),
          lvl_(options.lvl),
          max_line_(options.max_line ? options.max_line : 1),
          buf_(this) {
        std::lock_guard chain(chain_mutex());
        active().push_back(this);
        try {
            detail::step_end_listeners::instance().add(&on_step_end, this);
        } catch (...) {
            active().pop_back();
            throw;
        }
        saved_state_ = stream.rdstate();
        original_.store(stream.rdbuf(&buf_), std::memory_order_release);  // also clears the state
    }
    stream_bridge(const stream_bridge&) = delete;
    stream_bridge& operator=(const stream_bridge&) = delete;
    ~stream_bridge() { end(); }

    /// Sends the partial lines as lines and gives the stream its buffer and state back; later calls do nothing.
    void end() noexcept {
        detail::step_end_listeners::instance().remove(this);
        {
            std::lock_guard lock(mutex_);
            if (ended_) return;
            ended_ = true;
            for (auto& p : pending_)
                if (!p.text.empty()) send_line(p.text);
            pending_.clear();
        }
        std::lock_guard chain(chain_mutex());
        std::erase(active(), this);
        if (stream_.rdbuf() == &buf_) {
            stream_.rdbuf(original_.load(std::memory_order_acquire));
            stream_.clear(saved_state_);
            return;
        }
        // Ending under a bridge begun later on the same stream: that one restores what this one found.
        for (stream_bridge* above : active())
            if (&above->stream_ == &stream_ && above->original_.load(std::memory_order_acquire) == &buf_) {
                above->original_.store(original_.load(std::memory_order_acquire), std::memory_order_release);
                above->saved_state_ = saved_state_;
                return;
            }
        detail::report_problem("stream_bridge \"" + name() +
                               "\": the stream's buffer was replaced while the bridge was active; left as it is");
    }

    /// The stream's own buffer, where its bytes went before the bridge.
    std::streambuf* original() const noexcept { return original_.load(std::memory_order_acquire); }

private:
    /// The bridges alive in the process, in the order they began, and the lock of their streams' buffers.
    static std::mutex& chain_mutex() noexcept {
        static std::mutex m;
        return m;
    }
    static std::vector<stream_bridge*>& active() noexcept {
        static std::vector<stream_bridge*> list;
        return list;
    }

    /// The calling thread's step is ending: its unfinished line is sent now, in the step.
    static void on_step_end(void* self) noexcept {
        auto& b = *static_cast<stream_bridge*>(self);
        std::lock_guard lock(b.mutex_);
        if (b.ended_) return;
        const std::uint64_t me = thread_id();
        for (auto& p : b.pending_)
            if (p.thread == me && !p.text.empty()) {
                b.send_line(p.text);
                p.text.clear();
            }
        std::erase_if(b.pending_, [](const partial& p) { return p.text.empty(); });
    }

    static std::string default_name(const std::ostream& s) {
        if (&s == &std::clog) return "iostream.clog";
        if (&s == &std::cerr) return "iostream.cerr";
        if (&s == &std::cout) return "iostream.cout";
        return "iostream";
    }

    /// A thread's line so far.
    struct partial {
        std::uint64_t thread;
        std::string text;
    };

    class buffer final : public std::streambuf {
    public:
        explicit buffer(stream_bridge* owner) : owner_(owner) {}

    protected:
        int_type overflow(int_type c) override {
            if (traits_type::eq_int_type(c, traits_type::eof())) return traits_type::not_eof(c);
            const char ch = traits_type::to_char_type(c);
            return owner_->take({&ch, 1}) ? c : traits_type::eof();
        }
        std::streamsize xsputn(const char* s, std::streamsize n) override {
            return owner_->take({s, static_cast<std::size_t>(n)}) ? n : 0;
        }

    private:
        stream_bridge* owner_;
    };

    /// True while this thread is inside the bridge: a sink that writes to the bridged stream goes to the original.
    static bool& inside() noexcept {
        thread_local bool flag = false;
        return flag;
    }

    bool take(std::string_view bytes) noexcept {
        if (inside()) {
            std::streambuf* const to = original_.load(std::memory_order_acquire);
            return to && to->sputn(bytes.data(), static_cast<std::streamsize>(bytes.size())) ==
                             static_cast<std::streamsize>(bytes.size());
        }
        inside() = true;
        try {
            std::lock_guard lock(mutex_);
            const std::uint64_t me = thread_id();
            partial* mine = nullptr;
            for (auto& p : pending_)
                if (p.thread == me) mine = &p;
            while (!bytes.empty()) {
                const std::size_t nl = bytes.find('\n');
                const std::string_view piece = bytes.substr(0, nl);
                const std::size_t held = mine ? mine->text.size() : 0;
                if (nl != std::string_view::npos && held == 0 && piece.size() <= max_line_) {
                    send_line(piece);  // a whole line in one write: no copy
                } else {
                    if (!mine) mine = &pending_.emplace_back(partial{me, {}});
                    const std::size_t room = max_line_ - mine->text.size();
                    if (piece.size() > room) {
                        mine->text.append(piece.substr(0, room));
                        send_line(mine->text);
                        mine->text.clear();
                        bytes.remove_prefix(room);
                        continue;
                    }
                    mine->text.append(piece);
                    if (nl != std::string_view::npos) {
                        send_line(mine->text);
                        mine->text.clear();
                    }
                }
                bytes.remove_prefix(nl == std::string_view::npos ? bytes.size() : nl + 1);
            }
            if (mine && mine->text.empty())  // a thread that ended its line holds nothing
                std::erase_if(pending_, [](const partial& p) { return p.text.empty(); });
        } catch (...) {
            inside() = false;
            return false;
        }
        inside() = false;
        return true;
    }

    void send_line(std::string_view line) noexcept {
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);  // a CRLF line
        log(lvl_, line);
    }

    std::ostream& stream_;
    level lvl_;
    std::size_t max_line_;
    buffer buf_;
    std::atomic<std::streambuf*> original_{nullptr};
    std::ios_base::iostate saved_state_{};
    std::mutex mutex_;
    std::vector<partial> pending_;
    bool ended_ = false;
};

}  // namespace v0
}  // namespace runlog
