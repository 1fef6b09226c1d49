#pragma once
/// runlog::syslog_formatter and runlog::syslog_sink: records as RFC 5424 messages for a syslog collector
/// (rsyslog, syslog-ng, journald's /dev/log) over UDP (RFC 5426), TCP with octet counting (RFC 6587) or the
/// local socket. An opt-in header (the umbrella includes it); a file that only logs never pays for it.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "detail/build.hpp"
#include "detail/level_enum.hpp"
#include "format/buffer.hpp"
#include "formatters/color.hpp"
#include "pipeline.hpp"
#include "record.hpp"
#include "sinks/sink.hpp"

namespace runlog {
inline namespace v0 {

/// How a syslog_sink reaches its collector.
enum class syslog_transport {
    local,  ///< a Unix datagram socket, /dev/log unless told otherwise
    udp,    ///< one message per datagram (RFC 5426): no delivery guarantee
    tcp,    ///< a stream of octet-counted frames (RFC 6587), reconnected when the collector restarts
};

/// Syslog facility numbers (RFC 5424, section 6.2.1).
namespace syslog_facility {
inline constexpr int kern = 0, user = 1, mail = 2, daemon = 3, auth = 4, syslog = 5, lpr = 6, news = 7, uucp = 8,
                     cron = 9, authpriv = 10, ftp = 11, local0 = 16, local1 = 17, local2 = 18, local3 = 19,
                     local4 = 20, local5 = 21, local6 = 22, local7 = 23;
}  // namespace syslog_facility

/// The facility a name means (`user`, `daemon`, `local0` ... `local7`, as syslog.conf spells them, in any
/// case) or a number 0-23 in decimal; -1 for anything else.
RUNLOG_INLINE int parse_syslog_facility(std::string_view name) noexcept;

/// The RFC 5424 severity of a level: debug (and below) 7, info 6, warning 4, error 3, critical (and above) 2;
/// a level between two of them takes the lower one's.
constexpr int syslog_severity(level l) noexcept {
    const int v = static_cast<int>(l);
    return v >= 50 ? 2 : v >= 40 ? 3 : v >= 30 ? 4 : v >= 20 ? 6 : 7;
}

/// What a syslog formatter and sink write and where.
struct syslog_options {
    syslog_transport transport = syslog_transport::local;
    /// udp and tcp: `host:port`, `host` (port 514) or `[IPv6 address]:port`, resolved when the sink is made;
    /// local: the socket's path, /dev/log when empty.
    std::string address{};
    int facility = syslog_facility::user;  ///< 0-23
    std::string app_name{};                ///< APP-NAME; empty: the program's name
    std::string hostname{};                ///< HOSTNAME; empty: this machine's name
    /// The SD-ID of the one structured-data element that holds the record's run id, job, step and fields.
    /// 32473 is the private enterprise number RFC 5612 reserves for documentation: a deployment should use
    /// its organisation's registered number (`name@<number>`).
    std::string sd_id = "runlog@32473";
    bool source_location = false;  ///< also code.filepath, code.lineno and code.function in the element
    /// The largest message, in bytes (at least 512; 0 picks 2048 over UDP, as RFC 5426 advises, and 8192
    /// over TCP and the local socket, rsyslog's default limit). In a longer record the text keeps at least
    /// half the room the header leaves, the fields that do not fit in the rest are left out, the text is cut
    /// to what remains, and the element says truncated="true"; the frame stays valid.
    std::size_t max_message = 0;
    /// Bytes of messages kept while the collector cannot take them (away, restarting, reading slowly); a
    /// record that does not fit is dropped and counted, and the collector is told how many when one fits again.
    std::size_t buffer_size = std::size_t{4} << 20;
    /// The first wait before connecting again after a failure; it doubles up to reconnect_max.
    std::chrono::milliseconds reconnect_min{100};
    std::chrono::milliseconds reconnect_max{2000};
    /// How long the sink's end (and the crash handler, within its own deadline) waits for a reachable
    /// collector to take what is buffered; what it has not taken then is lost, and counted.
    std::chrono::milliseconds flush_timeout{2000};
};

/// Formats records as RFC 5424 messages:
/// `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [runlog@32473 run_id="…" job="…" step="…" …] MSG`,
/// PRI from the facility and the level, TIMESTAMP in UTC with microseconds, PROCID the record's process,
/// MSGID its event type (`-` for a message), MSG the message as UTF-8 without a BOM (invalid bytes
/// replaced by U+FFFD, a leading U+FEFF left out). No newline: a syslog_sink sends each record as one message.
class syslog_formatter {
public:
    /// Throws std::invalid_argument naming the problem for a facility outside 0-23, an SD-ID that RFC 5424
    /// does not allow, or a max_message below 512.
    RUNLOG_INLINE explicit syslog_formatter(const syslog_options& options = {});

    bool uses_location() const noexcept { return source_location_; }
    color_mode colors() const noexcept { return color_mode::never; }
    /// The largest message it writes, in bytes.
    std::size_t max_message() const noexcept { return max_; }

    /// Appends one message (at most max_message() bytes).
    RUNLOG_INLINE void format(const record& r, buffer& out, bool color) const;

private:
    std::string host_app_;  ///< " HOSTNAME APP-NAME ", checked
    std::string sd_id_;
    int facility_;
    std::size_t max_;
    bool source_location_;
};

/// What a syslog_sink has done so far.
struct syslog_stats {
    std::uint64_t sent = 0;        ///< messages handed to the collector's socket
    /// Records lost: the buffer was full, the sink closed (or the process died) before the collector took
    /// them, or, over UDP, the kernel reported a datagram refused (nobody listened) or unsendable.
    std::uint64_t dropped = 0;
    std::uint64_t pending = 0;     ///< messages waiting for the collector now
    std::uint64_t connects = 0;    ///< successful connections (TCP, local), the first one included
    std::uint64_t truncated = 0;   ///< messages cut to max_message by the sink (not by syslog_formatter)
};

/// Sends each write() as one syslog message (a trailing newline is dropped, a message longer than
/// max_message cut at a character boundary) over the options' transport.
///
/// It never blocks the calling thread on the network: sockets are non-blocking, a message the collector
/// cannot take now waits in a bounded buffer, and the connection is retried with a doubling backoff on the
/// next write, on flush(), and every 100 ms from runlog's flush thread. Only wait_sent() and the sink's end
/// wait (the end for at most flush_timeout) for the collector to take the buffer. Use it through
/// runlog::async all the same: formatting and the system calls then happen on the backend thread. Copies
/// share one connection.
class syslog_sink {
public:
    static constexpr bool thread_safe = true;  ///< its state is locked inside; copies share it

    /// Resolves the address (a bad one throws std::invalid_argument naming it) and starts connecting.
    RUNLOG_INLINE explicit syslog_sink(syslog_options options = {});

    RUNLOG_INLINE void write(std::string_view message) noexcept;
    /// Sends what the collector takes now; never waits (an async backend calls it whenever it is idle).
    RUNLOG_INLINE void flush() noexcept;
    /// Waits up to timeout for the collector to take everything buffered (connecting when due); true when
    /// nothing waits any more.
    RUNLOG_INLINE bool wait_sent(std::chrono::milliseconds timeout) noexcept;
    bool is_terminal() const noexcept { return false; }

    RUNLOG_INLINE syslog_stats stats() const noexcept;
    /// The transport and address, e.g. `tcp 127.0.0.1:514`, as messages name it.
    RUNLOG_INLINE const std::string& destination() const noexcept;
    /// As other sinks: how many records were lost (the same as stats().dropped), and how many failures
    /// (lost connections and refused connects) there were.
    RUNLOG_INLINE std::uint64_t lost_records() const noexcept;
    RUNLOG_INLINE std::uint64_t failures() const noexcept;

private:
    struct state;
    std::shared_ptr<state> state_;
};

/// A pipeline of the two, named for config.yaml's `loggers:`.
using syslog_pipeline = pipeline<syslog_formatter, syslog_sink>;

/// A syslog formatter and sink made from one set of options, as a pipeline at level lvl (by default every
/// record: a run's events are DEBUG).
inline syslog_pipeline make_syslog_pipeline(std::string name, const syslog_options& options,
                                            level lvl = level::trace) {
    syslog_formatter formatter(options);
    return syslog_pipeline(std::move(name), std::move(formatter), syslog_sink(options), lvl);
}

namespace detail {
/// The facility names parse_syslog_facility takes: 0-11, then local0-local7 (16-23).
inline constexpr std::string_view syslog_facility_names[] = {
    "kern",   "user",   "mail",   "daemon", "auth",   "syslog", "lpr",    "news",   "uucp",   "cron",
    "authpriv", "ftp",  "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7"};
/// Why sd_id cannot be an RFC 5424 SD-ID, or empty.
RUNLOG_INLINE std::string syslog_sd_id_problem(std::string_view sd_id);
/// Why address cannot name a udp/tcp collector (`host:port`, `host`, `[v6]:port`), or empty; host and port
/// receive the parts.
RUNLOG_INLINE std::string syslog_address_problem(std::string_view address, std::string* host = nullptr,
                                                 std::string* port = nullptr);
}  // namespace detail

}  // namespace v0
}  // namespace runlog

#if RUNLOG_DEFINITIONS
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "detail/escape.hpp"
#include "detail/fields.hpp"
#include "detail/flusher.hpp"
#include "detail/time.hpp"
#include "level.hpp"

namespace runlog {
inline namespace v0 {
namespace detail {

/// PRINTUSASCII (%d33-126), the characters of RFC 5424's header fields.
constexpr bool syslog_printable(char c) noexcept { return c >= 33 && c <= 126; }

/// s as a header field of at most max characters: other characters become '_', and empty is "-".
inline void append_syslog_header_field(std::string& out, std::string_view s, std::size_t max) {
    if (s.empty()) {
        out.push_back('-');
        return;
    }
    for (std::size_t i = 0; i < s.size() && i < max; ++i) out.push_back(syslog_printable(s[i]) ? s[i] : '_');
}

/// An SD-NAME (a parameter's name): at most 32 printable characters but '=', ' ', ']' and '"'; others
/// become '_', an empty name "_".
inline void append_syslog_param_name(buffer& out, std::string_view s) {
    if (s.empty()) out.push_back('_');
    for (std::size_t i = 0; i < s.size() && i < 32; ++i) {
        const char c = s[i];
        out.push_back(syslog_printable(c) && c != '=' && c != ']' && c != '"' ? c : '_');
    }
}

/// Calls f(piece) over s in order: its runs of valid UTF-8 as they are, and U+FFFD for each maximal invalid
/// subpart (as append_json_escaped replaces them).
template <class F>
void for_each_valid_utf8(std::string_view s, F&& f) {
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const auto* end = p + s.size();
    while (p < end) {
        const auto* run = p;
        int n = 1;
        while (run < end && (*run < 0x80 || (n = utf8_sequence_length(run, end)) > 0)) run += *run < 0x80 ? 1 : n;
        if (run > p) f(std::string_view(reinterpret_cast<const char*>(p), static_cast<std::size_t>(run - p)));
        if (run == end) break;
        f(replacement_character);
        p = run - n;  // n is the invalid subpart's length, negated
    }
}

/// A PARAM-VALUE's inside: '"', '\' and ']' escaped with a backslash, invalid UTF-8 replaced by U+FFFD.
inline void append_syslog_param_value(buffer& out, std::string_view s) {
    for_each_valid_utf8(s, [&](std::string_view piece) {
        for (char c : piece) {
            if (c == '"' || c == '\\' || c == ']') out.push_back('\\');
            out.push_back(c);
        }
    });
}

/// The UTF-8 of s with invalid sequences replaced by U+FFFD.
inline void append_valid_utf8(buffer& out, std::string_view s) {
    for_each_valid_utf8(s, [&](std::string_view piece) { out.append(piece); });
}

/// The size of s once append_valid_utf8 has replaced its invalid sequences.
inline std::size_t valid_utf8_size(std::string_view s) noexcept {
    std::size_t n = 0;
    for_each_valid_utf8(s, [&](std::string_view piece) { n += piece.size(); });
    return n;
}

/// How many of the first `limit` bytes of s to keep so that no UTF-8 sequence is cut in two.
inline std::size_t utf8_cut(std::string_view s, std::size_t limit) noexcept {
    if (limit >= s.size()) return s.size();
    std::size_t n = limit;
    // Back over continuation bytes to the start of the sequence that crosses the limit.
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
    return n;
}

/// Appends a field's value as the text of an SD parameter (lists joined by commas).
inline void append_syslog_field_value(buffer& out, const field_value& v) {
    switch (v.type()) {
        case field_value::kind::int_: append_number(out, v.as_int()); break;
        case field_value::kind::uint_: append_number(out, v.as_uint()); break;
        case field_value::kind::double_: {
            const double d = v.as_double();
            if (__builtin_isnan(d)) out.append(std::string_view("NaN"));
            else if (__builtin_isinf(d)) out.append(d > 0 ? std::string_view("Infinity") : std::string_view("-Infinity"));
            else append_number(out, d);
            break;
        }
        case field_value::kind::bool_: out.append(v.as_bool() ? std::string_view("true") : std::string_view("false")); break;
        case field_value::kind::string: append_syslog_param_value(out, v.as_string()); break;
        case field_value::kind::strings: {
            bool first = true;
            for (std::string_view s : v.as_strings()) {
                if (!first) out.push_back(',');
                first = false;
                append_syslog_param_value(out, s);
            }
            break;
        }
    }
}

RUNLOG_INLINE std::string syslog_sd_id_problem(std::string_view id) {
    if (id.empty()) return "the SD-ID is empty";
    if (id.size() > 32) return "the SD-ID \"" + std::string(id) + "\" is longer than 32 characters";
    for (char c : id)
        if (!syslog_printable(c) || c == '=' || c == ' ' || c == ']' || c == '"')
            return "the SD-ID \"" + std::string(id) +
                   "\" holds a character RFC 5424 does not allow in it (only printable ASCII but '=', ']' and '\"')";
    const auto at = id.find('@');
    if (at == std::string_view::npos)
        return "the SD-ID \"" + std::string(id) +
               "\" has no '@': only IANA-registered SD-IDs may, so write name@<enterprise number>";
    if (at == 0 || id.find('@', at + 1) != std::string_view::npos || at + 1 == id.size())
        return "the SD-ID \"" + std::string(id) + "\" must be name@<enterprise number>";
    for (char c : id.substr(at + 1))
        if ((c < '0' || c > '9') && c != '.')
            return "the SD-ID \"" + std::string(id) + "\" must end in an enterprise number (digits and dots) after '@'";
    return {};
}

RUNLOG_INLINE std::string syslog_address_problem(std::string_view a, std::string* host, std::string* port) {
    if (a.empty()) return "the address is empty: write host:port";
    std::string_view h = a, p = "514";
    if (a.front() == '[') {
        const auto close = a.find(']');
        if (close == std::string_view::npos) return "the address \"" + std::string(a) + "\" opens '[' and never closes it";
        h = a.substr(1, close - 1);
        const auto rest = a.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') return "the address \"" + std::string(a) + "\" has something other than :port after ']'";
            p = rest.substr(1);
        }
    } else if (const auto colon = a.rfind(':'); colon != std::string_view::npos) {
        if (a.find(':') != colon)
            return "the address \"" + std::string(a) + "\" looks like an IPv6 address: write it as [address]:port";
        h = a.substr(0, colon);
        p = a.substr(colon + 1);
    }
    if (h.empty()) return "the address \"" + std::string(a) + "\" has no host";
    for (char c : h)
        if (!syslog_printable(c)) return "the address \"" + std::string(a) + "\" holds a space or a control character";
    unsigned long value = 0;
    bool digits = !p.empty() && p.size() <= 5;
    for (char c : p) {
        if (c < '0' || c > '9') digits = false;
        else value = value * 10 + static_cast<unsigned long>(c - '0');
    }
    if (!digits || value == 0 || value > 65535)
        return "the address \"" + std::string(a) + "\" has no valid port (1-65535) after ':'";
    if (host) *host = std::string(h);
    if (port) *port = std::string(p);
    return {};
}

inline const std::string& program_short_name() {
    static const std::string name(::program_invocation_short_name ? ::program_invocation_short_name : "");  // glibc's
    return name;
}

/// The header's HOSTNAME and APP-NAME, with spaces around them.
inline std::string syslog_host_app(const syslog_options& o) {
    std::string host = o.hostname;
    if (host.empty()) {
        char name[256] = {};
        if (::gethostname(name, sizeof name - 1) == 0) host = name;
    }
    std::string out = " ";
    append_syslog_header_field(out, host, 255);
    out.push_back(' ');
    append_syslog_header_field(out, o.app_name.empty() ? program_short_name() : o.app_name, 48);
    out.push_back(' ');
    return out;
}

inline std::size_t syslog_max_message(const syslog_options& o) {
    if (o.max_message == 0) return o.transport == syslog_transport::udp ? 2048 : 8192;
    if (o.max_message < 512)
        throw std::invalid_argument("syslog max_message " + std::to_string(o.max_message) +
                                    " is below 512 bytes, too little for a message's header");
    return o.max_message;
}

/// `<PRI>1 TIMESTAMP HOST APP PROCID MSGID ` into out.
inline void append_syslog_header(buffer& out, int facility, int severity, record::time_point t,
                                 std::string_view host_app, std::uint32_t pid, std::string_view msgid) {
    out.push_back('<');
    append_number(out, facility * 8 + severity);
    out.append(std::string_view(">1 "));
    append_rfc3339(out, t);
    out.append(host_app);
    append_number(out, pid);
    out.push_back(' ');
    if (msgid.empty()) {
        out.push_back('-');
    } else {
        for (std::size_t i = 0; i < msgid.size() && i < 32; ++i)
            out.push_back(syslog_printable(msgid[i]) ? msgid[i] : '_');
    }
    out.push_back(' ');
}

}  // namespace detail

RUNLOG_INLINE int parse_syslog_facility(std::string_view name) noexcept {
    const auto& names = detail::syslog_facility_names;
    if (name.empty()) return -1;
    if (name.size() <= 2 && name.find_first_not_of("0123456789") == std::string_view::npos) {
        const int v = name.size() == 1 ? name[0] - '0' : (name[0] - '0') * 10 + (name[1] - '0');
        return v <= 23 && (name.size() == 1 || name[0] != '0') ? v : -1;
    }
    std::string lower(name);
    for (auto& c : lower) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    for (int i = 0; i < 12; ++i)
        if (lower == names[i]) return i;
    for (int i = 12; i < 20; ++i)
        if (lower == names[i]) return 16 + (i - 12);
    return -1;
}

RUNLOG_INLINE syslog_formatter::syslog_formatter(const syslog_options& o)
    : host_app_(detail::syslog_host_app(o)),
      sd_id_(o.sd_id),
      facility_(o.facility),
      max_(detail::syslog_max_message(o)),
      source_location_(o.source_location) {
    if (o.facility < 0 || o.facility > 23)
        throw std::invalid_argument("syslog facility " + std::to_string(o.facility) + " is not one of 0-23");
    if (auto problem = detail::syslog_sd_id_problem(sd_id_); !problem.empty()) throw std::invalid_argument(problem);
}

RUNLOG_INLINE void syslog_formatter::format(const record& r, buffer& out, bool /*color*/) const {
    using namespace std::string_view_literals;
    const std::size_t limit = out.size() + max_;
    detail::append_syslog_header(out, facility_, syslog_severity(r.lvl), r.time, host_app_,
                                 r.pid != 0 ? r.pid : process_id(), r.event ? r.event->name : std::string_view{});
    // MSG: the message as valid UTF-8. A leading U+FEFF (a file's byte order mark, say) is left out: at the
    // start of MSG, receivers take it for the BOM by which RFC 5424 marks a message as UTF-8.
    std::string_view message = r.message();
    while (message.substr(0, 3) == "\xEF\xBB\xBF") message.remove_prefix(3);
    const std::size_t msg_size = message.empty() ? 0 : 1 + detail::valid_utf8_size(message);
    // Within the limit, the message is sure of half the room the header leaves (all it needs when it needs
    // less); the element takes what it can of the rest, one parameter at a time (one that does not fit is
    // taken back out and skipped, so that a huge field costs itself and not the ones after it), and the
    // message then gets what is left. When anything is left out, the element says so: truncated="true".
    static constexpr std::string_view marker = " truncated=\"true\"";
    const std::size_t element = out.size();
    const std::size_t element_end = limit - std::min(msg_size, (limit - element) / 2);
    bool cut = false;
    out.push_back('[');
    out.append(sd_id_);
    auto param = [&](std::string_view name, auto&& value) {
        const std::size_t before = out.size();
        out.push_back(' ');
        detail::append_syslog_param_name(out, name);
        out.append("=\""sv);
        value();
        out.push_back('"');
        if (out.size() + marker.size() + 1 > element_end) {
            out.resize(before);
            cut = true;
        }
    };
    auto text = [&](std::string_view name, std::string_view v) {
        if (!v.empty()) param(name, [&] { detail::append_syslog_param_value(out, v); });
    };
    text("run_id"sv, r.ctx.run_id);
    text("job"sv, r.ctx.job);
    text("step"sv, r.ctx.step);
    if (auto n = level_name(r.lvl); !n.empty()) text("level"sv, n);
    else param("level"sv, [&] { detail::append_number(out, static_cast<int>(r.lvl)); });
    text("logger"sv, r.logger_name);
    if (r.thread != 0) param("thread"sv, [&] { detail::append_number(out, r.thread); });
    detail::for_each_field(r, [&](const field& f) { param(f.key, [&] { detail::append_syslog_field_value(out, f.value); }); });
    if (source_location_ && r.location.line() != 0) {
        text("code.filepath"sv, r.location.file_name());
        param("code.lineno"sv, [&] { detail::append_number(out, r.location.line()); });
        text("code.function"sv, r.location.function_name());
    }
    if (msg_size > limit - out.size() - 1) cut = true;  // the text will not fit whole
    if (cut && out.size() + marker.size() + 1 <= limit) out.append(marker);
    if (out.size() + 1 <= limit) {
        out.push_back(']');
    } else {  // not even the empty element fits (a header near the limit): no structured data
        out.resize(element);
        out.push_back('-');
    }
    if (msg_size == 0 || out.size() + 2 > limit) return;
    const std::size_t msg = out.size();
    out.push_back(' ');
    detail::append_valid_utf8(out, message);
    if (out.size() > limit) {  // cut at a character boundary
        const std::string_view written(out.data() + msg + 1, out.size() - msg - 1);
        out.resize(msg + 1 + detail::utf8_cut(written, limit - msg - 1));
    }
}

// ---------------------------------------------------------------------------------------------------------
// The sink.

struct syslog_sink::state {
    syslog_options options;
    std::string destination;
    std::size_t max_message = 0;
    bool stream = false;  // tcp: octet-counted frames on a stream
    // Where to send: the resolved address (udp, tcp) or the socket's path (local).
    sockaddr_storage address{};
    socklen_t address_len = 0;
    int family = AF_UNSPEC;
    std::string host_app;  // for the notice of dropped records

    std::mutex mutex;
    int fd = -1;
    bool connecting = false;                     // a TCP connect in progress
    std::uint32_t owner_pid = 0;                 // the process whose socket and queue these are
    std::deque<std::string> queue;               // messages (framed for tcp) not yet sent
    std::size_t queued_bytes = 0;
    std::size_t front_sent = 0;                  // bytes of queue.front() already on the stream
    std::chrono::steady_clock::time_point next_attempt{};
    std::chrono::milliseconds backoff{0};
    bool outage_reported = false;                // the current outage's first failure was reported
    std::uint64_t dropped_unannounced = 0;       // dropped since the collector was last told
    std::uint64_t sent = 0, dropped = 0, connects = 0, failures = 0, truncated = 0;
    bool dying = false;  // the crash handler sends what it can: no reports, no allocation
    std::chrono::steady_clock::time_point udp_reported{};  // when UDP's losses were last reported

    explicit state(syslog_options o) : options(std::move(o)) {
        max_message = detail::syslog_max_message(options);
        host_app = detail::syslog_host_app(options);
        stream = options.transport == syslog_transport::tcp;
        if (options.reconnect_min.count() <= 0) options.reconnect_min = std::chrono::milliseconds(1);
        if (options.reconnect_max < options.reconnect_min) options.reconnect_max = options.reconnect_min;
        if (options.transport == syslog_transport::local) {
            const std::string path = options.address.empty() ? "/dev/log" : options.address;
            destination = "local " + path;
            sockaddr_un un{};
            if (path.size() >= sizeof un.sun_path)
                throw std::invalid_argument("syslog socket path \"" + path + "\" is longer than " +
                                            std::to_string(sizeof un.sun_path - 1) + " bytes");
            un.sun_family = AF_UNIX;
            std::memcpy(un.sun_path, path.data(), path.size());
            std::memcpy(&address, &un, sizeof un);
            address_len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1);
            family = AF_UNIX;
        } else {
            destination = std::string(options.transport == syslog_transport::udp ? "udp " : "tcp ") + options.address;
            std::string host, port;
            if (auto problem = detail::syslog_address_problem(options.address, &host, &port); !problem.empty())
                throw std::invalid_argument("syslog " + problem);
            addrinfo hints{};
            hints.ai_family = AF_UNSPEC;
            hints.ai_socktype = stream ? SOCK_STREAM : SOCK_DGRAM;
            addrinfo* found = nullptr;
            const int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &found);
            if (rc != 0 || found == nullptr)
                throw std::invalid_argument("syslog address \"" + options.address + "\": cannot resolve \"" + host +
                                            "\": " + (rc == EAI_SYSTEM ? std::strerror(errno) : ::gai_strerror(rc)));
            std::memcpy(&address, found->ai_addr, found->ai_addrlen);
            address_len = found->ai_addrlen;
            family = found->ai_family;
            ::freeaddrinfo(found);
        }
    }

    ~state() {
        // The last copy is gone: give a reachable collector flush_timeout to take the rest; what is left is lost.
        if (!queue.empty() && owner_pid == process_id()) flush(std::chrono::steady_clock::now() + options.flush_timeout);
        if (!queue.empty()) {
            dropped += queue.size();
            const std::size_t lost = queue.size();
            report([&] { return "the collector did not take " + std::to_string(lost) + " record(s) before the sink closed: lost"; },
                   0, lost);
        }
        close_socket();
    }

    /// Hands "syslog sink (destination): what()" to the error handler; nothing while the process dies (no
    /// allocation in a signal handler).
    template <class What>
    void report(What&& what, int err, std::uint64_t lost) noexcept {
        if (dying) return;
        try {
            std::string m = "syslog sink (" + destination + "): " + std::string(what());
            if (err != 0) {
                m += ": ";
                m += std::strerror(err);
            }
            detail::report_problem(m, lost);
        } catch (...) {
        }
    }

    void close_socket() noexcept {
        if (fd >= 0) ::close(fd);
        fd = -1;
        connecting = false;
        front_sent = 0;  // a frame cut by the lost connection is sent again whole
    }

    /// After fork() in the child: the socket and the queue are the parent's (it sends them); start afresh.
    void check_fork() noexcept {
        const std::uint32_t me = process_id();
        if (owner_pid == me) return;
        close_socket();  // this process's copy only: the parent's connection goes on
        queue.clear();
        queued_bytes = 0;
        owner_pid = me;
        next_attempt = {};
    }

    void failed(std::string_view what, int err) noexcept {
        ++failures;
        backoff = backoff.count() == 0 ? options.reconnect_min : std::min(backoff * 2, options.reconnect_max);
        next_attempt = std::chrono::steady_clock::now() + backoff;
        if (!outage_reported) {
            outage_reported = true;
            report([&] {
                return std::string(what) + "; records wait (up to " + std::to_string(options.buffer_size) +
                       " bytes) and the sink reconnects";
            }, err, 0);
        }
    }

    void recovered() noexcept {
        backoff = std::chrono::milliseconds(0);
        if (outage_reported) {
            outage_reported = false;
            report([] { return "the collector is reachable again"; }, 0, 0);
        }
    }

    /// Opens the socket and starts connecting; false (with the outage recorded) when it failed at once.
    bool open() noexcept {
        const int type = (stream ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC | SOCK_NONBLOCK;
        fd = detail::high_fd(::socket(family, type, 0));
        if (fd < 0) {
            const int err = errno;
            failed("cannot open a socket", err);
            return false;
        }
        owner_pid = process_id();
        if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), address_len) == 0) {
            ++connects;
            recovered();
            return true;
        }
        const int err = errno;
        if (err == EINPROGRESS && stream) {
            connecting = true;
            return true;
        }
        close_socket();
        failed("cannot connect", err);
        return false;
    }

    /// Whether the collector closed or reset the TCP connection: then *how says which.
    bool peer_closed(const char** how) noexcept {
        pollfd p{fd, POLLIN | POLLRDHUP, 0};
        if (::poll(&p, 1, 0) <= 0 || p.revents == 0) return false;
        char scratch[512];  // a collector never sends, so anything readable is its end
        for (;;) {
            const ssize_t n = ::recv(fd, scratch, sizeof scratch, MSG_DONTWAIT);
            if (n > 0) continue;
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && !(p.revents & (POLLRDHUP | POLLHUP | POLLERR)))
                return false;
            // A reset means it closed with records unread: those are lost, uncounted (TCP syslog has no
            // acknowledgements).
            *how = n < 0 && errno == ECONNRESET
                       ? "the collector reset the connection (the records it had not read yet are lost: TCP syslog "
                         "has no acknowledgements)"
                       : "the collector closed the connection";
            return true;
        }
    }

    /// Sends what it can now, without blocking; connects first when due.
    void pump() noexcept {
        check_fork();
        if (fd < 0) {
            if (queue.empty() || std::chrono::steady_clock::now() < next_attempt) return;
            if (!open()) return;
        }
        if (connecting) {
            pollfd p{fd, POLLOUT, 0};
            if (::poll(&p, 1, 0) <= 0) return;
            int err = 0;
            socklen_t len = sizeof err;
            ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
            if (err != 0) {
                close_socket();
                failed("cannot connect", err);
                return;
            }
            connecting = false;
            ++connects;
            recovered();
        }
        if (stream ? send_stream() : send_datagrams()) return;
        // The connection broke: try again at once (a restarted collector), then back off.
        close_socket();
        if (!queue.empty() && open() && !connecting) (void)(stream ? send_stream() : send_datagrams());
    }

    /// Sends queued frames on the stream; false when the connection broke.
    bool send_stream() noexcept {
        if (const char* how = nullptr; peer_closed(&how)) {
            failed(how, 0);
            next_attempt = {};
            return false;
        }
        while (!queue.empty()) {
            iovec parts[64];
            int n = 0;
            for (auto it = queue.begin(); it != queue.end() && n < 64; ++it, ++n) {
                const std::size_t skip = n == 0 ? front_sent : 0;
                parts[n].iov_base = const_cast<char*>(it->data() + skip);
                parts[n].iov_len = it->size() - skip;
            }
            msghdr m{};
            m.msg_iov = parts;
            m.msg_iovlen = static_cast<std::size_t>(n);
            const ssize_t w = ::sendmsg(fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (w < 0) {
                if (errno == EINTR) continue;
                if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
                failed("sending failed", errno);
                next_attempt = {};
                return false;
            }
            std::size_t left = static_cast<std::size_t>(w);
            while (left > 0) {
                const std::size_t rest = queue.front().size() - front_sent;
                if (left < rest) {
                    front_sent += left;
                    break;
                }
                left -= rest;
                pop_front();
            }
        }
        return true;
    }

    /// Sends queued datagrams; false when the local socket's reader is gone.
    bool send_datagrams() noexcept {
        bool retried = false;
        while (!queue.empty()) {
            const std::string& d = queue.front();
            if (::send(fd, d.data(), d.size(), MSG_NOSIGNAL | MSG_DONTWAIT) >= 0) {
                pop_front();
                retried = false;
                continue;
            }
            const int err = errno;
            if (err == EINTR) continue;
            if (err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS) return true;  // its queue is full: later
            if (err == EMSGSIZE) {
                ++dropped;
                report([&] { return "the socket refused a message of " + std::to_string(d.size()) + " bytes as too long (lower max_message)"; },
                       err, 1);
                pop_front();
                continue;
            }
            if (options.transport == syslog_transport::udp) {
                // ECONNREFUSED: an earlier datagram came back refused (ICMP port unreachable: nobody listens
                // there), and it was lost; this one did not go out, so it is tried once more. Any other error
                // loses this one: UDP cannot wait for a collector.
                ++dropped;
                ++failures;
                const bool refused = err == ECONNREFUSED;
                const auto now = std::chrono::steady_clock::now();
                if (udp_reported == std::chrono::steady_clock::time_point{} || now - udp_reported > std::chrono::seconds(10)) {
                    udp_reported = now;
                    report([&] {
                        return std::string(refused ? "nobody listens: datagrams are refused and lost"
                                                   : "a datagram could not be sent and is lost") +
                               " (" + std::to_string(dropped) +
                               " so far, told at most every 10 s; UDP cannot wait for a collector, tcp can)";
                    }, err, 1);
                }
                if (refused && !retried) {
                    retried = true;
                    continue;
                }
                pop_front();
                --sent;  // pop_front counted it, but it never went out
                retried = false;
                continue;
            }
            failed("sending failed", err);  // ECONNREFUSED, ENOENT, ENOTCONN: the socket's reader is gone
            return false;
        }
        return true;
    }

    void pop_front() noexcept {
        queued_bytes -= queue.front().size();
        queue.pop_front();
        front_sent = 0;
        ++sent;
    }

    /// A message as it goes on the wire (octet-counted over TCP).
    std::string frame(std::string_view message) {
        std::string f;
        if (stream) {
            f = std::to_string(message.size());
            f.push_back(' ');
        }
        f.append(message);
        return f;
    }

    void enqueue(std::string_view message) {
        if (!message.empty() && message.back() == '\n') message.remove_suffix(1);
        if (message.size() > max_message) {
            message = message.substr(0, detail::utf8_cut(message, max_message));
            ++truncated;
        }
        const std::size_t size = message.size() + (stream ? 8 : 0);
        if (dropped_unannounced > 0 && queued_bytes + size + 256 <= options.buffer_size) {
            // There is room again: the collector hears how many records it missed, where they were missed.
            basic_memory_buffer<256> notice;
            detail::append_syslog_header(notice, options.facility, 4, std::chrono::system_clock::now(), host_app,
                                         process_id(), "RUNLOG_DROPPED");
            notice.append(std::string_view("["));
            notice.append(options.sd_id);
            notice.append(std::string_view(" dropped=\""));
            detail::append_number(notice, dropped_unannounced);
            notice.append(std::string_view("\"] runlog: "));
            detail::append_number(notice, dropped_unannounced);
            notice.append(std::string_view(" record(s) dropped here: the collector could not take them in time"));
            queue.push_back(frame(notice.view()));
            queued_bytes += queue.back().size();
            dropped_unannounced = 0;
        }
        if (queued_bytes + size > options.buffer_size) {
            ++dropped;
            if (dropped_unannounced++ == 0)
                report([&] {
                    return "the collector cannot take records and the buffer (" + std::to_string(options.buffer_size) +
                           " bytes) is full: records are dropped and counted";
                }, 0, 1);
            return;
        }
        queue.push_back(frame(message));
        queued_bytes += queue.back().size();
    }

    /// pump(), then wait for a reachable collector to take the queue, until the deadline.
    void flush(std::chrono::steady_clock::time_point deadline) noexcept {
        pump();
        while (!queue.empty() && fd >= 0) {
            const auto now = std::chrono::steady_clock::now();
            if (now >= deadline) return;
            const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count();
            pollfd p{fd, POLLOUT, 0};
            const int r = ::poll(&p, 1, static_cast<int>(std::min<long long>(wait + 1, 100)));
            if (r < 0 && errno != EINTR) return;
            pump();
        }
    }
};

RUNLOG_INLINE syslog_sink::syslog_sink(syslog_options options) : state_(std::make_shared<state>(std::move(options))) {
    {
        std::lock_guard lock(state_->mutex);
        state_->owner_pid = process_id();
        (void)state_->open();
    }
    auto& flusher = detail::periodic_flusher::instance();
    flusher.add(
        state_,
        [](void* target) noexcept {
            auto& s = *static_cast<state*>(target);
            std::lock_guard lock(s.mutex);
            s.pump();
        },
        std::chrono::milliseconds(100),
        [](void* target, std::int64_t deadline_ns) noexcept {
            auto& s = *static_cast<state*>(target);
            if (!detail::crash::try_lock_until(s.mutex, deadline_ns)) return;
            // What a reachable collector takes by the deadline (a process executor's step ends this way too).
            s.dying = true;
            s.flush(std::chrono::steady_clock::time_point(std::chrono::nanoseconds(deadline_ns)));
            s.dying = false;
            s.mutex.unlock();
        },
        [](void* target, bool before) noexcept {
            auto& s = *static_cast<state*>(target);
            if (before) s.mutex.lock();
            else s.mutex.unlock();
        });
}

RUNLOG_INLINE void syslog_sink::write(std::string_view message) noexcept {
    std::lock_guard lock(state_->mutex);
    try {
        state_->check_fork();
        state_->enqueue(message);
    } catch (...) {
        ++state_->dropped;
        state_->report([] { return "could not queue a record"; }, ENOMEM, 1);
        return;
    }
    state_->pump();
}

RUNLOG_INLINE void syslog_sink::flush() noexcept {
    std::lock_guard lock(state_->mutex);
    state_->pump();
}

RUNLOG_INLINE bool syslog_sink::wait_sent(std::chrono::milliseconds timeout) noexcept {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        {
            std::lock_guard lock(state_->mutex);
            state_->flush(std::min(deadline, std::chrono::steady_clock::now() + std::chrono::milliseconds(50)));
            if (state_->queue.empty()) return true;
        }
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));  // the lock is free meanwhile
    }
}

RUNLOG_INLINE syslog_stats syslog_sink::stats() const noexcept {
    std::lock_guard lock(state_->mutex);
    return {state_->sent, state_->dropped, state_->queue.size(), state_->connects, state_->truncated};
}

RUNLOG_INLINE const std::string& syslog_sink::destination() const noexcept { return state_->destination; }

RUNLOG_INLINE std::uint64_t syslog_sink::lost_records() const noexcept { return stats().dropped; }

RUNLOG_INLINE std::uint64_t syslog_sink::failures() const noexcept {
    std::lock_guard lock(state_->mutex);
    return state_->failures;
}

}  // namespace v0
}  // namespace runlog
#endif
