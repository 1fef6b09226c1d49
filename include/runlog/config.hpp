#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "configured.hpp"
#include "default_logger.hpp"
#include "detail/build.hpp"
#include "detail/chrono.hpp"
#include "detail/external.hpp"
#include "detail/level_enum.hpp"
#include "detail/registry.hpp"
#include "detail/shared_function.hpp"
#include "logger.hpp"
#include "syslog.hpp"

namespace runlog {
inline namespace v0 {

/// Where and why a config file is bad: `config.yaml:4:17: bad value for log level 'EROR': ...`.
struct config_problem {
    std::string file;
    int line = 0;    ///< 0 when the problem is the file as a whole (it cannot be read)
    int column = 0;
    std::string message;

    /// `file:line:column: message`, or `file: message` without a position.
    RUNLOG_INLINE std::string to_string() const;
};

/// Thrown by the throwing config API; what() is the problem's `file:line:column: message`.
class config_error : public std::runtime_error {
public:
    explicit config_error(config_problem p) : std::runtime_error(p.to_string()), problem_(std::move(p)) {}
    const config_problem& problem() const noexcept { return problem_; }

private:
    config_problem problem_;
};

/// One entry of a config file's `loggers:`, and the `config.log_level` it sets, if any.
struct logger_setting {
    std::string pipeline;
    std::optional<level> lvl;
    int line = 0;  ///< where the logger's name is
    int column = 0;
    int level_line = 0;  ///< where its log_level value is
    int level_column = 0;
    std::optional<backtrace_options> backtrace;  ///< `backtrace: N` (with backtrace_trigger, backtrace_level)
    int backtrace_line = 0;  ///< where its backtrace key is
    int backtrace_column = 0;
};

/// Where something is in a config file.
struct config_position {
    int line = 0;
    int column = 0;
};

/// One entry of `external_loggers:`: a bridge's name and the level it gets (see bridges/bridge.hpp).
struct external_logger_setting {
    std::string name;
    level lvl = level::info;
    config_position at, level_at;
};

/// One entry of `formatters:`: a name for a formatter of a type (`text`, `json`, `logfmt`) and its options.
struct formatter_setting {
    std::string name;
    std::string type;
    std::string pattern;          ///< text: the layout (empty: Dagster's full one)
    bool utc = false;             ///< text: UTC times
    bool source_location = true;  ///< json: code.filepath, code.lineno
    bool function_name = false;   ///< json: code.function too
    bool full_location = false;   ///< json: the whole path and signature
    config_position at, type_at, pattern_at;
};

/// One entry of `handlers:`: a pipeline that config.yaml adds to a logger's configured_pipelines slot.
struct handler_setting {
    std::string name;
    std::string type;       ///< stderr, stdout, file, rotating_file, syslog
    std::string formatter;  ///< a name under formatters:, or text, brief, json, logfmt (syslog: its own)
    std::optional<level> lvl;
    std::string path;                  ///< file, rotating_file
    std::uint64_t max_size = 0;        ///< rotating_file: bytes per file (0: no limit)
    std::uint64_t interval_seconds = 0;  ///< rotating_file: a new file each interval (0: never)
    std::size_t max_files = 5;         ///< rotating_file: old files kept
    syslog_options syslog;             ///< syslog: transport, address, facility, app_name, hostname, sd_id, ...
    std::optional<backtrace_options> backtrace;  ///< `backtrace: N`, backtrace_trigger, backtrace_level
    config_position at, formatter_at, path_at;  ///< path_at: the path, or a syslog handler's address
};

/// A parsed and checked config file: its loggers, in file order, and the handlers it declares.
struct config {
    std::string file;
    std::vector<logger_setting> loggers;
    std::vector<external_logger_setting> external_loggers;
    std::vector<formatter_setting> formatters;
    std::vector<handler_setting> handlers;
    bool has_handlers = false;          ///< the file has a `handlers:` key (an empty one removes them all)
    std::vector<std::string> warnings;  ///< e.g. a top-level key that looks like a misspelt `loggers`
};

/// The outcome of the non-throwing API: a problem, or success with warnings (each `file:line:column: ...`).
struct config_status {
    std::optional<config_problem> problem;
    std::vector<std::string> warnings;
    explicit operator bool() const noexcept { return !problem; }
};

namespace detail {

/// What the config code needs of a logger, without its type: its pipelines' names, a way to set one's
/// level, its compile-time floor, and its configured_pipelines slot (null without one).
struct logger_view {
    void* self;
    registry::names_fn names;
    bool (*set_level)(void* self, std::string_view pipeline, level l);
    level floor;
    configured_pipelines* (*slot)(void* self);
    void (*refresh)(void* self);  ///< re-reads the pipelines' levels into the gate
    void (*set_backtrace)(void* self, std::string_view pipeline, const backtrace_options& o);
};

template <class Logger>
struct slot_of;
template <level F, class... P>
struct slot_of<basic_logger<F, P...>> {
    /// The first configured_pipelines among the logger's pipelines, or null.
    static configured_pipelines* get(void* self) noexcept {
        auto& l = *static_cast<basic_logger<F, P...>*>(self);
        return find<0>(l);
    }
    template <std::size_t I>
    static configured_pipelines* find(basic_logger<F, P...>& l) noexcept {
        if constexpr (I == sizeof...(P)) {
            return nullptr;
        } else if constexpr (std::is_same_v<std::remove_cvref_t<decltype(l.template pipeline<I>())>, configured_pipelines>) {
            return &l.template pipeline<I>();
        } else {
            return find<I + 1>(l);
        }
    }
};

template <class Logger>
logger_view view_of(Logger& logger) noexcept {
    return {&logger, &logger_code<Logger>::names,
            [](void* self, std::string_view pipeline, level l) { return static_cast<Logger*>(self)->set_level(pipeline, l); },
            Logger::floor, &slot_of<Logger>::get, [](void* self) { static_cast<Logger*>(self)->refresh_levels(); },
            [](void* self, std::string_view pipeline, const backtrace_options& o) {
                static_cast<Logger*>(self)->set_backtrace(pipeline, o);
            }};
}

RUNLOG_INLINE std::vector<std::string> apply_config(const logger_view& logger, const config& c);
RUNLOG_INLINE config_status try_apply_config_file(const logger_view& logger, const std::string& path) noexcept;
RUNLOG_INLINE config_status try_apply_config(const logger_view& logger, std::string_view text, std::string file) noexcept;
RUNLOG_INLINE config_status configure_from_env(const logger_view& logger) noexcept;

}  // namespace detail

/// Parses config text; throws config_error naming `file:line:column` on any problem.
RUNLOG_INLINE config parse_config(std::string_view text, std::string file = "<config>");

/// Reads and parses a config file; throws config_error.
RUNLOG_INLINE config load_config(const std::string& path);

/// Checks every setting against logger, then applies them all: an unknown pipeline name changes nothing
/// and throws config_error listing the known ones. Returns warnings, e.g. for a level below the floor.
template <class Logger>
std::vector<std::string> apply_config(Logger& logger, const config& c) {
    return detail::apply_config(detail::view_of(logger), c);
}

/// Loads path and applies it to logger; throws config_error, and changes nothing when it does.
template <class Logger>
std::vector<std::string> apply_config_file(Logger& logger, const std::string& path) {
    return detail::apply_config(detail::view_of(logger), load_config(path));
}

/// The non-throwing form of apply_config_file: the problem comes back in the status.
template <class Logger>
config_status try_apply_config_file(Logger& logger, const std::string& path) noexcept {
    return detail::try_apply_config_file(detail::view_of(logger), path);
}

/// The non-throwing form for text.
template <class Logger>
config_status try_apply_config(Logger& logger, std::string_view text, std::string file = "<config>") noexcept {
    return detail::try_apply_config(detail::view_of(logger), text, std::move(file));
}

/// Applies the file named by RUNLOG_CONFIG, if set. A missing or bad file is reported once on stderr
/// and leaves the levels as they were; warnings are printed too. Returns what happened.
template <class Logger>
config_status configure_from_env(Logger& logger) noexcept {
    return detail::configure_from_env(detail::view_of(logger));
}

/// Applies RUNLOG_CONFIG to the default logger, as configure_from_env(runlog::default_logger()) does. The
/// compiled mode does this at the default logger's first use; a header-only program calls it once in main
/// (at most once is applied: later calls return the first outcome).
RUNLOG_INLINE config_status configure_from_env() noexcept;

/// Re-applies a config file to a logger whenever the file changes (polling its size, time and inode; a
/// change is applied once it has held for one poll). Each outcome, the first application's included, goes
/// to the report function, or by default problems and warnings to stderr; a bad edit is ignored and the
/// previous levels stay.
class config_watcher {
public:
    /// Receives each outcome of a reload (any callable taking `const config_status&`).
    using report_fn = detail::shared_function<void(const config_status&)>;

    /// Starts watching; the current file is applied first, synchronously, and its status kept in initial().
    template <class Logger>
    config_watcher(Logger& logger, std::string path, std::chrono::milliseconds interval = std::chrono::milliseconds(500),
                   report_fn report = {})
        : config_watcher(detail::view_of(logger), std::move(path), interval, std::move(report)) {}
    config_watcher(const config_watcher&) = delete;
    config_watcher& operator=(const config_watcher&) = delete;
    RUNLOG_INLINE ~config_watcher();

    /// Stops the polling thread (the destructor does this too).
    RUNLOG_INLINE void stop() noexcept;
    /// The status of the first application.
    RUNLOG_INLINE const config_status& initial() const noexcept;
    /// How many times the file has been re-read after a change.
    RUNLOG_INLINE std::uint64_t reloads() const noexcept;

private:
    RUNLOG_INLINE config_watcher(detail::logger_view logger, std::string path, std::chrono::milliseconds interval,
                                 report_fn report);

    struct state;  // the polling thread and what it shares
    std::unique_ptr<state> state_;
};

}  // namespace v0
}  // namespace runlog

#if RUNLOG_DEFINITIONS
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "detail/threads.hpp"
#include "detail/yaml.hpp"
#include "formatters/json.hpp"
#include "formatters/logfmt.hpp"
#include "formatters/text.hpp"
#include "level.hpp"
#include "sinks/console.hpp"
#include "sinks/file.hpp"
#include "sinks/rotating_file.hpp"
#include "sinks/sink.hpp"

namespace runlog {
inline namespace v0 {

RUNLOG_INLINE std::string config_problem::to_string() const {
    if (line == 0) return file + ": " + message;
    return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message;
}

namespace detail {

/// A level as config files write it: its name, or its number.
inline std::string level_text(level l) {
    const auto n = level_name(l);
    return n.empty() ? std::to_string(static_cast<int>(l)) : std::string(n);
}

/// Levenshtein distance, for "did you mean" suggestions.
inline std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diag = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t up = row[j];
            row[j] = std::min(std::min(row[j] + 1, row[j - 1] + 1), diag + (a[i - 1] == b[j - 1] ? 0 : 1));
            diag = up;
        }
    }
    return row[b.size()];
}

/// `; did you mean 'x'?` for the closest candidate within a few edits, or nothing.
inline std::string suggestion(std::string_view found, const std::vector<std::string_view>& candidates) {
    std::string_view best;
    std::size_t best_d = std::max<std::size_t>(2, found.size() / 3) + 1;
    for (auto c : candidates) {
        const std::size_t d = edit_distance(found, c);
        if (d < best_d) {
            best_d = d;
            best = c;
        }
    }
    return best.empty() ? std::string() : "; did you mean '" + std::string(best) + "'?";
}


inline std::string_view kind_name(const yaml::node& n) noexcept {
    switch (n.type) {
        case yaml::node::kind::null: return "nothing";
        case yaml::node::kind::scalar: return "a scalar";
        case yaml::node::kind::mapping: return "a mapping";
        case yaml::node::kind::sequence: return "a sequence";
    }
    return "something else";
}

/// Turns a parsed document into level settings, checking its shape.
class config_reader {
public:
    explicit config_reader(std::string file) : file_(std::move(file)) {}

    config read(std::string_view text) {
        auto [doc, err] = yaml::parser(text).parse();
        if (err) fail(err->pos, err->message);
        const yaml::node& root = *doc;
        if (root.type == yaml::node::kind::null) fail(root.pos, "the file is empty: expected a mapping with a 'loggers' key");
        if (root.type != yaml::node::kind::mapping)
            fail(root.pos, "expected a mapping at the top level, found " + std::string(kind_name(root)));
        config c;
        c.file = file_;
        static constexpr std::string_view sections[] = {"loggers", "external_loggers", "formatters", "handlers"};
        for (const auto& k : root.keys) {
            bool known = false;
            for (auto section : sections) known = known || k.text == section;
            if (known) continue;
            for (auto section : sections)
                if (edit_distance(k.text, section) <= 2) {
                    c.warnings.push_back(config_problem{file_, k.pos.line, k.pos.column,
                                                        "top-level key '" + shown(k.text) + "' is ignored; did you mean '" +
                                                            std::string(section) + "'?"}
                                             .to_string());
                    break;
                }
        }
        read_external_loggers(root.find("external_loggers"), c);
        read_formatters(root.find("formatters"), c);
        read_handlers(root.find("handlers"), c);
        const yaml::node* loggers = root.find("loggers");
        if (!loggers) return c;  // a run config may hold other things only
        if (loggers->type == yaml::node::kind::null) return c;
        if (loggers->type != yaml::node::kind::mapping)
            fail(loggers->pos, "'loggers' must be a mapping of logger names, found " + std::string(kind_name(*loggers)));
        for (std::size_t i = 0; i < loggers->keys.size(); ++i) {
            const yaml::node& name = loggers->keys[i];
            const yaml::node& body = loggers->values[i];
            const std::string where = "loggers." + name.text;
            c.loggers.push_back({name.text, std::nullopt, name.pos.line, name.pos.column, 0, 0, std::nullopt, 0, 0});
            if (body.type == yaml::node::kind::null) continue;
            if (body.type != yaml::node::kind::mapping)
                fail(body.pos, "'" + where + "' must be a mapping with a 'config' key, found " + std::string(kind_name(body)));
            for (std::size_t k = 0; k < body.keys.size(); ++k)
                if (body.keys[k].text != "config")
                    fail(body.keys[k].pos, "unknown key '" + shown(body.keys[k].text) + "' under '" + where +
                                               "': expected 'config'" + suggestion(body.keys[k].text, {"config"}));
            const yaml::node* cfg = body.find("config");
            if (!cfg || cfg->type == yaml::node::kind::null) continue;
            if (cfg->type != yaml::node::kind::mapping)
                fail(cfg->pos, "'" + where + ".config' must be a mapping, found " + std::string(kind_name(*cfg)));
            check_keys(*cfg, where + ".config",  // name: Dagster's logger name
                       {"log_level", "backtrace", "backtrace_trigger", "backtrace_level", "name"},
                       "'log_level', 'backtrace', 'backtrace_trigger' or 'backtrace_level' (or 'name')");
            if (const yaml::node* b = cfg->find("backtrace")) {
                c.loggers.back().backtrace_line = b->pos.line;
                c.loggers.back().backtrace_column = b->pos.column;
            }
            c.loggers.back().backtrace = read_backtrace(*cfg, where + ".config");
            const yaml::node* lvl = cfg->find("log_level");
            if (!lvl) continue;
            const level parsed = read_level(*lvl, where);
            c.loggers.back().lvl = parsed;
            c.loggers.back().level_line = lvl->pos.line;
            c.loggers.back().level_column = lvl->pos.column;
        }
        return c;
    }

    [[noreturn]] void fail(yaml::position p, std::string message) const {
        throw config_error({file_, p.line, p.column, std::move(message)});
    }

private:
    static config_position at(const yaml::node& n) noexcept { return {n.pos.line, n.pos.column}; }

    /// A level value: a name (any case) or a number.
    level read_level(const yaml::node& lvl, const std::string& where) const {
        const bool null_word = lvl.type == yaml::node::kind::scalar && !lvl.quoted &&
                               (lvl.text == "~" || lvl.text == "null" || lvl.text == "Null" || lvl.text == "NULL");
        if (lvl.type == yaml::node::kind::null || null_word)
            fail(lvl.pos, "log level of '" + where + "' is empty: permissible values are " + std::string(permissible_levels));
        if (lvl.type != yaml::node::kind::scalar)
            fail(lvl.pos, "log level of '" + where + "' must be a scalar, found " + std::string(kind_name(lvl)));
        if (!lvl.quoted && lvl.text.size() > 1 && lvl.text.find_first_not_of("+-") != std::string::npos &&
            lvl.text[lvl.text.find_first_not_of("+-")] == '0' &&
            lvl.text.find_first_not_of("+-0123456789") == std::string::npos &&
            lvl.text.find_first_not_of("+-") + 1 < lvl.text.size())
            fail(lvl.pos, "log level '" + shown(lvl.text) +
                              "' has a leading zero (YAML 1.1 reads it as octal, 1.2 as decimal): write it without");
        const auto parsed = try_parse_level(lvl.text);
        if (!parsed)
            fail(lvl.pos, "bad value for log level '" + shown(lvl.text) + "': permissible values are " +
                              std::string(permissible_levels));
        return *parsed;
    }

    /// The backtrace keys of a pipeline's mapping: `backtrace: N` (records kept, 0 to turn it off),
    /// `backtrace_trigger: LEVEL` (ERROR unless given) and `backtrace_level: LEVEL` (the lowest kept; TRACE).
    std::optional<backtrace_options> read_backtrace(const yaml::node& body, const std::string& where) const {
        const yaml::node* n = body.find("backtrace");
        const yaml::node* trigger = body.find("backtrace_trigger");
        const yaml::node* lowest = body.find("backtrace_level");
        if (!n) {
            if (const yaml::node* alone = trigger ? trigger : lowest)
                fail(alone->pos, "'" + where + "." + (trigger ? "backtrace_trigger" : "backtrace_level") +
                                     "' needs 'backtrace: N' (how many records to keep) beside it");
            return std::nullopt;
        }
        const std::string what = "'" + where + ".backtrace'";
        const std::size_t digits = leading_digits(n->text);
        if (n->type == yaml::node::kind::scalar && n->quoted)
            fail(n->pos, what + " must be a number, found the quoted string '" + shown(n->text) + "': write it without quotes");
        if (n->type != yaml::node::kind::scalar || digits == 0 || digits != n->text.size() || digits > 7 ||
            std::stoull(n->text) > max_backtrace)
            fail(n->pos, what + " must be a whole number of records from 0 (none) to " + std::to_string(max_backtrace) +
                             ", found " + (n->type == yaml::node::kind::scalar ? "'" + shown(n->text) + "'"
                                                                               : std::string(kind_name(*n))));
        backtrace_options o;
        o.capacity = static_cast<std::size_t>(std::stoull(n->text));
        if (trigger) o.trigger = read_level(*trigger, where + ".backtrace_trigger");
        if (lowest) o.lowest = read_level(*lowest, where + ".backtrace_level");
        if (o.capacity > 0 && o.lowest >= o.trigger) {
            if (lowest)
                fail(lowest->pos, "'" + where + ".backtrace_level' (" + level_text(o.lowest) +
                                      ") must be below 'backtrace_trigger' (" + level_text(o.trigger) +
                                      (trigger ? ")" : ", the default)"));
            fail(trigger->pos, "'" + where + ".backtrace_trigger' (" + level_text(o.trigger) +
                                   ") must be above 'backtrace_level' (" + level_text(o.lowest) + ", the default)");
        }
        return o;
    }
    /// The most records a backtrace may keep from config.yaml (each slot holds one record's bytes).
    static constexpr std::uint64_t max_backtrace = 1000000;

    /// A section that must be a mapping of names (or absent, or empty); null when there is nothing in it.
    const yaml::node* section(const yaml::node* n, std::string_view name, std::string_view of_what) const {
        if (!n || n->type == yaml::node::kind::null) return nullptr;
        if (n->type != yaml::node::kind::mapping)
            fail(n->pos, "'" + std::string(name) + "' must be a mapping of " + std::string(of_what) + ", found " +
                             std::string(kind_name(*n)));
        return n;
    }

    /// An entry's body: a mapping whose keys are all among allowed.
    void check_keys(const yaml::node& body, const std::string& where, std::initializer_list<std::string_view> allowed,
                    const char* expected) const {
        if (body.type != yaml::node::kind::mapping)
            fail(body.pos, "'" + where + "' must be a mapping, found " + std::string(kind_name(body)));
        for (const auto& k : body.keys) {
            bool ok = false;
            for (auto a : allowed) ok = ok || k.text == a;
            if (!ok)
                fail(k.pos, "unknown key '" + shown(k.text) + "' under '" + where + "': expected " + expected +
                                suggestion(k.text, std::vector<std::string_view>(allowed)));
        }
    }

    /// A scalar string value (a mapping or sequence, or nothing, is refused).
    std::string text_of(const yaml::node& v, const std::string& what) const {
        if (v.type != yaml::node::kind::scalar || v.text.empty())
            fail(v.pos, what + " must be a non-empty string, found " +
                            std::string(v.type == yaml::node::kind::scalar ? "an empty one" : kind_name(v)));
        return v.text;
    }

    bool bool_of(const yaml::node& v, const std::string& what) const {
        if (v.type == yaml::node::kind::scalar && !v.quoted) {
            if (v.text == "true" || v.text == "True" || v.text == "TRUE") return true;
            if (v.text == "false" || v.text == "False" || v.text == "FALSE") return false;
        }
        fail(v.pos, what + " must be true or false");
    }

    /// How many decimal digits t starts with.
    static std::size_t leading_digits(const std::string& t) noexcept {
        const std::size_t end = t.find_first_not_of("0123456789");
        return end == std::string::npos ? t.size() : end;
    }

    /// A count or a size: digits, for sizes with a unit (K, M, G: powers of 1024; KB, MB, GB: of 1000; KiB ...).
    std::uint64_t size_of(const yaml::node& v, const std::string& what, bool units) const {
        const std::string& t = v.text;
        const std::size_t digits = leading_digits(t);
        if (v.type != yaml::node::kind::scalar || digits == 0 || digits > 15)
            fail(v.pos, what + " must be a whole number" + (units ? " of bytes, with an optional K, M or G" : "") +
                            ", found '" + shown(t) + "'");
        std::uint64_t n = std::stoull(t.substr(0, digits));
        std::string unit = t.substr(digits);
        if (!unit.empty() && unit.front() == ' ') unit.erase(0, 1);
        if (unit.empty()) return n;
        static constexpr struct {
            std::string_view name;
            std::uint64_t factor;
        } table[] = {{"K", 1024}, {"KiB", 1024}, {"KB", 1000},          {"M", 1024 * 1024}, {"MiB", 1024 * 1024},
                     {"MB", 1000 * 1000}, {"G", 1024ull * 1024 * 1024}, {"GiB", 1024ull * 1024 * 1024}, {"GB", 1000ull * 1000 * 1000}};
        if (units)
            for (const auto& u : table)
                if (unit == u.name) return n * u.factor;
        fail(v.pos, what + ": unknown unit '" + shown(unit) + "'" + (units ? " (K, M, G, KB, MB, GB, KiB, MiB, GiB)" : ""));
    }

    /// A duration in whole seconds: digits with an optional unit s, m, h or d.
    std::uint64_t seconds_of(const yaml::node& v, const std::string& what) const {
        const std::string& t = v.text;
        const std::size_t digits = leading_digits(t);
        const std::string unit = t.substr(digits);
        const std::uint64_t factor = unit.empty() || unit == "s" ? 1 : unit == "m" ? 60 : unit == "h" ? 3600 : unit == "d" ? 86400 : 0;
        if (v.type != yaml::node::kind::scalar || digits == 0 || digits > 12 || factor == 0)
            fail(v.pos, what + " must be a whole number of seconds, or of minutes, hours or days with m, h or d "
                               "(3600, 60m, 1h, 1d), found '" + shown(t) + "'");
        return std::stoull(t.substr(0, digits)) * factor;
    }

    void read_external_loggers(const yaml::node* n, config& c) const {
        n = section(n, "external_loggers", "bridge names");
        if (!n) return;
        for (std::size_t i = 0; i < n->keys.size(); ++i) {
            const yaml::node& name = n->keys[i];
            const yaml::node& body = n->values[i];
            const std::string where = "external_loggers." + name.text;
            if (body.type == yaml::node::kind::null) fail(body.pos, "'" + where + "' needs a 'log_level'");
            check_keys(body, where, {"log_level", "config"}, "'log_level'");
            const yaml::node* holder = &body;
            if (const yaml::node* cfg = body.find("config")) {  // the shape of loggers: entries, for symmetry
                check_keys(*cfg, where + ".config", {"log_level"}, "'log_level'");
                holder = cfg;
            }
            const yaml::node* lvl = holder->find("log_level");
            if (!lvl) fail(body.pos, "'" + where + "' needs a 'log_level'");
            c.external_loggers.push_back({name.text, read_level(*lvl, where), at(name), at(*lvl)});
        }
    }

    void read_formatters(const yaml::node* n, config& c) const {
        n = section(n, "formatters", "formatter names");
        if (!n) return;
        for (std::size_t i = 0; i < n->keys.size(); ++i) {
            const yaml::node& name = n->keys[i];
            const yaml::node& body = n->values[i];
            const std::string where = "formatters." + name.text;
            if (body.type == yaml::node::kind::null) fail(body.pos, "'" + where + "' needs a 'type' (text, json or logfmt)");
            check_keys(body, where, {"type", "pattern", "utc", "source_location", "function_name", "full_location"},
                       "'type', 'pattern', 'utc', 'source_location', 'function_name' or 'full_location'");
            if (name.text == "text" || name.text == "brief" || name.text == "json" || name.text == "logfmt")
                fail(name.pos, "'" + where + "': " + name.text +
                                   " is a built-in formatter's name (text, brief, json, logfmt); choose another");
            formatter_setting f;
            f.name = name.text;
            f.at = at(name);
            const yaml::node* type = body.find("type");
            if (!type) fail(body.pos, "'" + where + "' needs a 'type' (text, json or logfmt)");
            f.type = text_of(*type, "'" + where + ".type'");
            f.type_at = at(*type);
            if (f.type != "text" && f.type != "json" && f.type != "logfmt")
                fail(type->pos, "unknown formatter type '" + shown(f.type) + "': expected text, json or logfmt" +
                                    suggestion(f.type, {"text", "json", "logfmt"}));
            if (const yaml::node* p = body.find("pattern")) {
                if (f.type != "text") fail(p->pos, "'pattern' is for text formatters; '" + where + "' is " + f.type);
                f.pattern = text_of(*p, "'" + where + ".pattern'");
                f.pattern_at = at(*p);
                try {
                    (void)text_formatter(f.pattern);
                } catch (const std::exception& e) {
                    fail(p->pos, "bad pattern for '" + where + "': " + e.what());
                }
            }
            if (const yaml::node* u = body.find("utc")) {
                if (f.type != "text") fail(u->pos, "'utc' is for text formatters; '" + where + "' is " + f.type);
                f.utc = bool_of(*u, "'" + where + ".utc'");
            }
            if (const yaml::node* sl = body.find("source_location")) {
                if (f.type != "json") fail(sl->pos, "'source_location' is for json formatters; '" + where + "' is " + f.type);
                f.source_location = bool_of(*sl, "'" + where + ".source_location'");
            }
            for (auto [key, flag] : {std::pair{"function_name", &f.function_name}, std::pair{"full_location", &f.full_location}})
                if (const yaml::node* v = body.find(key)) {
                    if (f.type != "json")
                        fail(v->pos, "'" + std::string(key) + "' is for json formatters; '" + where + "' is " + f.type);
                    *flag = bool_of(*v, "'" + where + "." + key + "'");
                }
            c.formatters.push_back(std::move(f));
        }
    }

    void read_handlers(const yaml::node* n, config& c) const {
        c.has_handlers = n != nullptr;
        n = section(n, "handlers", "handler names");
        if (!n) return;
        for (std::size_t i = 0; i < n->keys.size(); ++i) {
            const yaml::node& name = n->keys[i];
            const yaml::node& body = n->values[i];
            const std::string where = "handlers." + name.text;
            if (body.type == yaml::node::kind::null)
                fail(body.pos, "'" + where + "' needs a 'type' (stderr, stdout, file, rotating_file or syslog)");
            check_keys(body, where,
                       {"type", "level", "formatter", "path", "max_size", "interval", "max_files", "transport", "address",
                        "facility", "app_name", "hostname", "sd_id", "max_message", "buffer_size", "source_location",
                        "backtrace", "backtrace_trigger", "backtrace_level"},
                       "'type', 'level', 'formatter', 'path', 'max_size', 'interval', 'max_files', 'backtrace', "
                       "'backtrace_trigger', 'backtrace_level', or for syslog "
                       "'transport', 'address', 'facility', 'app_name', 'hostname', 'sd_id', 'max_message', "
                       "'buffer_size', 'source_location'");
            handler_setting h;
            h.name = name.text;
            h.at = at(name);
            const yaml::node* type = body.find("type");
            if (!type) fail(body.pos, "'" + where + "' needs a 'type' (stderr, stdout, file, rotating_file or syslog)");
            h.type = text_of(*type, "'" + where + ".type'");
            if (h.type != "stderr" && h.type != "stdout" && h.type != "file" && h.type != "rotating_file" && h.type != "syslog")
                fail(type->pos, "unknown handler type '" + shown(h.type) + "': expected stderr, stdout, file, rotating_file or syslog" +
                                    suggestion(h.type, {"stderr", "stdout", "file", "rotating_file", "syslog"}));
            const bool to_file = h.type == "file" || h.type == "rotating_file";
            if (const yaml::node* l = body.find("level")) h.lvl = read_level(*l, where);
            h.backtrace = read_backtrace(body, where);
            h.formatter = to_file ? "json" : "text";
            read_syslog_keys(body, name, where, h);
            if (const yaml::node* f = body.find("formatter")) {
                if (h.type == "syslog")
                    fail(f->pos, "'formatter' does not apply to syslog handlers: they write RFC 5424 messages of their own");
                h.formatter = text_of(*f, "'" + where + ".formatter'");
                h.formatter_at = at(*f);
                bool known = h.formatter == "text" || h.formatter == "brief" || h.formatter == "json" || h.formatter == "logfmt";
                std::vector<std::string_view> names = {"text", "brief", "json", "logfmt"};
                for (const auto& fs : c.formatters) {
                    known = known || fs.name == h.formatter;
                    names.push_back(fs.name);
                }
                if (!known)
                    fail(f->pos, "unknown formatter '" + shown(h.formatter) +
                                     "': define it under 'formatters:' or use text, brief, json or logfmt" +
                                     suggestion(h.formatter, names));
            }
            if (const yaml::node* p = body.find("path")) {
                if (!to_file) fail(p->pos, "'path' is for file and rotating_file handlers; '" + where + "' is " + h.type);
                h.path = text_of(*p, "'" + where + ".path'");
                h.path_at = at(*p);
            } else if (to_file) {
                fail(name.pos, "'" + where + "' is a " + h.type + " handler and needs a 'path'");
            }
            for (const char* key : {"max_size", "interval", "max_files"})
                if (const yaml::node* v = body.find(key)) {
                    if (h.type != "rotating_file")
                        fail(v->pos, "'" + std::string(key) + "' is for rotating_file handlers; '" + where + "' is " + h.type);
                    const std::string what = "'" + where + "." + key + "'";
                    if (std::string_view(key) == "max_size") h.max_size = size_of(*v, what, true);
                    else if (std::string_view(key) == "interval") h.interval_seconds = seconds_of(*v, what);
                    else h.max_files = static_cast<std::size_t>(size_of(*v, what, false));
                }
            for (const auto& other : c.handlers)
                if (to_file && !other.path.empty() && other.path == h.path)
                    fail(h.path_at.line ? body.find("path")->pos : name.pos,
                         "handlers '" + other.name + "' and '" + h.name + "' both write to \"" + shown(h.path) +
                             "\": give each file one handler");
            c.handlers.push_back(std::move(h));
        }
    }

    /// A syslog handler's keys (and the refusal of them on other handlers).
    void read_syslog_keys(const yaml::node& body, const yaml::node& name, const std::string& where, handler_setting& h) const {
        const bool syslog = h.type == "syslog";
        for (const char* key : {"transport", "address", "facility", "app_name", "hostname", "sd_id", "max_message",
                                "buffer_size", "source_location"})
            if (const yaml::node* v = body.find(key); v && !syslog)
                fail(v->pos, "'" + std::string(key) + "' is for syslog handlers; '" + where + "' is " + h.type);
        if (!syslog) return;
        h.formatter = "syslog";
        syslog_options& o = h.syslog;
        std::string transport = "local";
        if (const yaml::node* t = body.find("transport")) {
            transport = text_of(*t, "'" + where + ".transport'");
            if (transport != "udp" && transport != "tcp" && transport != "local")
                fail(t->pos, "unknown syslog transport '" + shown(transport) + "': expected udp, tcp or local" +
                                 suggestion(transport, {"udp", "tcp", "local"}));
        }
        o.transport = transport == "udp" ? syslog_transport::udp : transport == "tcp" ? syslog_transport::tcp
                                                                                      : syslog_transport::local;
        if (const yaml::node* a = body.find("address")) {
            o.address = text_of(*a, "'" + where + ".address'");
            h.path_at = at(*a);
            if (o.transport == syslog_transport::local) {
                if (o.address.size() >= 108)
                    fail(a->pos, "the socket path of '" + where + "' is longer than 107 bytes, which a Unix socket cannot have");
            } else if (auto problem = syslog_address_problem(o.address); !problem.empty()) {
                fail(a->pos, "bad address for '" + where + "': " + problem);
            }
        } else if (o.transport != syslog_transport::local) {
            fail(name.pos, "'" + where + "' sends over " + transport + " and needs an 'address' (host:port)");
        }
        if (const yaml::node* f = body.find("facility")) {
            const std::string text = text_of(*f, "'" + where + ".facility'");
            o.facility = parse_syslog_facility(text);
            if (o.facility < 0)
                fail(f->pos, "unknown syslog facility '" + shown(text) +
                                 "': expected kern, user, mail, daemon, auth, syslog, lpr, news, uucp, cron, authpriv, "
                                 "ftp, local0 to local7, or a number 0-23" +
                                 suggestion(text, std::vector<std::string_view>(std::begin(syslog_facility_names),
                                                                                std::end(syslog_facility_names))));
        }
        auto header_field = [&](const char* key, std::string& out, std::size_t max) {
            const yaml::node* v = body.find(key);
            if (!v) return;
            out = text_of(*v, "'" + where + "." + key + "'");
            if (out.size() > max)
                fail(v->pos, "'" + where + "." + key + "' is longer than the " + std::to_string(max) +
                                 " characters RFC 5424 allows");
            for (char ch : out)
                if (ch < 33 || ch > 126)
                    fail(v->pos, "'" + where + "." + key + "' holds '" + shown(std::string(1, ch)) +
                                     "': RFC 5424 allows only printable ASCII without spaces there");
        };
        header_field("app_name", o.app_name, 48);
        header_field("hostname", o.hostname, 255);
        if (const yaml::node* v = body.find("sd_id")) {
            o.sd_id = text_of(*v, "'" + where + ".sd_id'");
            if (auto problem = syslog_sd_id_problem(o.sd_id); !problem.empty())
                fail(v->pos, "bad sd_id for '" + where + "': " + problem);
        }
        if (const yaml::node* v = body.find("max_message")) {
            const std::uint64_t n = size_of(*v, "'" + where + ".max_message'", true);
            const std::uint64_t most = o.transport == syslog_transport::udp ? 65507 : 16u << 20;
            if (n < 512 || n > most)
                fail(v->pos, "'" + where + ".max_message' must be between 512 bytes and " + std::to_string(most) +
                                 (o.transport == syslog_transport::udp ? " (the largest UDP datagram)" : "") +
                                 ", found '" + shown(v->text) + "'");
            o.max_message = static_cast<std::size_t>(n);
        }
        if (const yaml::node* v = body.find("buffer_size"))
            o.buffer_size = static_cast<std::size_t>(size_of(*v, "'" + where + ".buffer_size'", true));
        if (const yaml::node* v = body.find("source_location"))
            o.source_location = bool_of(*v, "'" + where + ".source_location'");
    }

    std::string file_;
};

/// Reads a whole file (at most yaml::max_input + 1 bytes, so a huge file is refused without reading it all).
inline std::string read_config_file(const std::string& path) {
    // Non-blocking, so that a FIFO without a writer (or a device) cannot hang the open; then only a regular
    // file is read.
    const int fd = open_file(path, O_RDONLY | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) throw config_error({path, 0, 0, std::string("cannot read the file: ") + std::strerror(errno)});
    struct stat st {};
    const char* kind = nullptr;
    if (::fstat(fd, &st) != 0) {
        const int err = errno;
        ::close(fd);
        throw config_error({path, 0, 0, std::string("cannot read the file: ") + std::strerror(err)});
    }
    if (S_ISDIR(st.st_mode)) kind = "a directory";
    else if (S_ISFIFO(st.st_mode)) kind = "a FIFO";
    else if (S_ISSOCK(st.st_mode)) kind = "a socket";
    else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) kind = "a device";
    else if (!S_ISREG(st.st_mode)) kind = "of another kind";
    if (kind != nullptr) {
        ::close(fd);
        throw config_error({path, 0, 0, std::string("not a regular file: it is ") + kind});
    }
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    std::string data;
    char chunk[8192];
    for (;;) {
        const ssize_t n = ::read(fd, chunk, sizeof chunk);
        if (n < 0) {
            if (errno == EINTR) continue;
            const int err = errno;
            ::close(fd);
            throw config_error({path, 0, 0, std::string("cannot read the file: ") + std::strerror(err)});
        }
        if (n == 0) break;
        data.append(chunk, static_cast<std::size_t>(n));
        if (data.size() > yaml::max_input) break;
    }
    ::close(fd);
    return data;
}

/// Prints one line to stderr in a single write.
inline void print_config_line(const std::string& line) noexcept {
    try {
        (void)write_all(STDERR_FILENO, "runlog: " + line + "\n");
    } catch (...) {
    }
}

/// Whether names holds name.
template <class Names>
bool contains(const Names& names, std::string_view name) noexcept {
    for (const auto& n : names)
        if (n == name) return true;
    return false;
}

/// A handler made of p, with the backtrace h asks for.
template <class Formatter, class Sink>
std::unique_ptr<configured_handler> handler_of(pipeline<Formatter, Sink> p, const handler_setting& h) {
    using handler = pipeline_handler<Formatter, Sink>;
    if (h.backtrace) return std::make_unique<handler>(std::move(p).with_backtrace(*h.backtrace));
    return std::make_unique<handler>(std::move(p));
}

/// One handler of config.yaml: its formatter (a name under formatters:, or a built-in one) and sink.
template <class Sink>
std::unique_ptr<configured_handler> make_handler(const config& c, const handler_setting& h, Sink sink) {
    const level l = h.lvl.value_or(lowest_level);
    auto with = [&](auto formatter) -> std::unique_ptr<configured_handler> {
        using F = decltype(formatter);
        return handler_of(pipeline<F, Sink>(h.name, std::move(formatter), std::move(sink), l), h);
    };
    for (const auto& f : c.formatters) {
        if (f.name != h.formatter) continue;
        if (f.type == "json")
            return with(json_formatter({.source_location = f.source_location,
                                        .function_name = f.function_name,
                                        .full_location = f.full_location}));
        if (f.type == "logfmt") return with(logfmt_formatter{});
        return with(f.pattern.empty() ? text_formatter(text_options{.utc = f.utc}) : text_formatter(f.pattern, {.utc = f.utc}));
    }
    if (h.formatter == "brief") return with(text_formatter::brief());
    if (h.formatter == "json") return with(json_formatter{});
    if (h.formatter == "logfmt") return with(logfmt_formatter{});
    return with(text_formatter{});
}

/// Builds every handler of c (opening their files) or throws config_error at the first that cannot be built;
/// what was built is closed again then.
inline std::shared_ptr<const handler_set> build_handlers(const config& c) {
    auto set = std::make_shared<handler_set>();
    // The log files this attempt creates: a file refused as a whole leaves none behind.
    std::vector<std::string> created;
    struct undo_created {
        std::shared_ptr<handler_set>& set;
        std::vector<std::string>& created;
        bool done = false;
        ~undo_created() {
            if (done) return;
            set.reset();  // the handlers close their files first
            for (const auto& p : created) ::unlink(p.c_str());
        }
    } undo{set, created};
    for (const auto& h : c.handlers) {
        struct stat before {};
        if ((h.type == "file" || h.type == "rotating_file") && ::lstat(h.path.c_str(), &before) != 0)
            created.push_back(h.path);
        try {
            if (h.type == "stderr") {
                set->handlers.push_back(make_handler(c, h, stderr_sink{}));
            } else if (h.type == "stdout") {
                set->handlers.push_back(make_handler(c, h, stdout_sink{}));
            } else if (h.type == "file") {
                set->handlers.push_back(make_handler(c, h, file_sink(h.path)));
            } else if (h.type == "syslog") {
                set->handlers.push_back(handler_of(
                    syslog_pipeline(h.name, syslog_formatter(h.syslog), syslog_sink(h.syslog), h.lvl.value_or(lowest_level)),
                    h));
            } else {
                rotating_options o;
                o.max_size = h.max_size;
                o.interval = std::chrono::seconds(static_cast<std::int64_t>(h.interval_seconds));
                o.max_files = h.max_files;
                set->handlers.push_back(make_handler(c, h, rotating_file_sink(h.path, o)));
            }
        } catch (const config_error&) {
            throw;
        } catch (const std::exception& e) {
            const config_position p = h.path_at.line ? h.path_at : h.at;
            throw config_error({c.file, p.line, p.column, "handler '" + h.name + "': " + e.what()});
        }
    }
    undo.done = true;
    return set;
}

/// The names bridges take by default.
inline constexpr std::string_view standard_external_names[] = {"iostream", "iostream.clog", "iostream.cerr",
                                                                "iostream.cout", "spdlog", "glog"};

/// Why a name under `external_loggers:` cannot be meant, or empty. A name no bridge has yet may be one the
/// program makes later (it gets the level then), unless it differs from a known name (a standard one or a
/// bridge's) only in case, or is a near miss of one that is not its prefix (`spdlog.db` may be a bridge of
/// its own; `iostream.clgo` is a misspelling).
inline std::string external_name_problem(std::string_view name) {
    std::vector<std::string> made = external_loggers().names();
    std::vector<std::string_view> known(std::begin(standard_external_names), std::end(standard_external_names));
    for (const auto& n : made)
        if (!contains(known, n)) known.push_back(n);
    if (contains(known, name)) return {};
    auto lower = [](std::string_view v) {
        std::string out(v);
        for (auto& ch : out) ch = static_cast<char>(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
        return out;
    };
    std::vector<std::string_view> near;
    for (auto k : known) {
        if (lower(k) == lower(name))
            return "unknown external logger '" + shown(name) + "': names are case-sensitive; did you mean '" +
                   std::string(k) + "'?";
        const bool family = name.size() > k.size() && name.substr(0, k.size()) == k && name[k.size()] == '.';
        if (!family) near.push_back(k);
    }
    const std::string hint = suggestion(name, near);
    if (hint.empty()) return {};
    std::string list;
    for (auto k : known) list += (list.empty() ? "" : ", ") + std::string(k);
    return "unknown external logger '" + shown(name) + "': the known ones are " + list + hint +
           " (a bridge of another name is accepted if it is made before the file is applied)";
}

RUNLOG_INLINE std::vector<std::string> apply_config(const logger_view& logger, const config& c) {
    const std::vector<std::string> names = registry::names_of(logger.names, logger.self);
    const std::vector<std::string_view> known(names.begin(), names.end());
    std::vector<std::string> warnings = c.warnings;
    const auto others = registry::other_pipeline_names(logger.self);
    for (const auto& s : c.loggers) {
        if (!contains(known, s.pipeline)) {
            // A pipeline of another logger of the program (one config can serve them all): not this one's.
            if (contains(others, s.pipeline)) continue;
            std::vector<std::string_view> all = known;
            for (const auto& o : others)
                if (!contains(all, o)) all.push_back(o);
            std::string list;
            for (auto n : all) list += (list.empty() ? "" : ", ") + std::string(n);
            throw config_error({c.file, s.line, s.column,
                                "unknown logger '" + shown(s.pipeline) + "': this program's loggers are " + list +
                                    suggestion(s.pipeline, all)});
        }
        if (s.lvl && s.backtrace && s.backtrace->capacity > 0 && s.backtrace->lowest >= *s.lvl)
            warnings.push_back(config_problem{c.file, s.backtrace_line, s.backtrace_column,
                                              "the backtrace of '" + s.pipeline + "' keeps nothing: its lowest level " +
                                                  level_text(s.backtrace->lowest) + " is not below the log level " +
                                                  level_text(*s.lvl)}
                                   .to_string());
        if (s.lvl && *s.lvl < logger.floor)
            warnings.push_back(config_problem{c.file, s.level_line, s.level_column,
                                              "log level " + level_text(*s.lvl) + " for '" + s.pipeline +
                                                  "' is below the compile-time floor " + level_text(logger.floor) +
                                                  ": calls below " + level_text(logger.floor) +
                                                  " were compiled out and stay silent"}
                                   .to_string());
    }
    for (const auto& e : c.external_loggers)
        if (auto problem = external_name_problem(e.name); !problem.empty())
            throw config_error({c.file, e.at.line, e.at.column, std::move(problem)});
    configured_pipelines* slot = logger.slot ? logger.slot(logger.self) : nullptr;
    for (const auto& s : c.loggers)
        if (s.backtrace && slot && s.pipeline == slot->name())
            throw config_error({c.file, s.backtrace_line, s.backtrace_column,
                                "'" + s.pipeline + "' is the slot of the handlers config.yaml declares and keeps no "
                                "backtrace itself: give one to a handler (handlers: NAME: backtrace: 64)"});
    // Everything is checked, and every handler built, before anything changes.
    std::shared_ptr<const handler_set> handlers;
    if (c.has_handlers && slot) {
        handlers = build_handlers(c);
    } else if (!c.handlers.empty()) {
        warnings.push_back(config_problem{c.file, c.handlers.front().at.line, c.handlers.front().at.column,
                                          "handlers are ignored for a logger without a configured_pipelines slot "
                                          "(the default logger has one)"}
                               .to_string());
    }
    for (const auto& s : c.loggers)
        if (s.lvl && contains(known, s.pipeline)) logger.set_level(logger.self, s.pipeline, *s.lvl);
    for (const auto& s : c.loggers)
        if (s.backtrace && contains(known, s.pipeline)) logger.set_backtrace(logger.self, s.pipeline, *s.backtrace);
    for (const auto& e : c.external_loggers) external_loggers().set_level(e.name, e.lvl);
    if (handlers) {
        slot->replace(std::move(handlers));
        logger.refresh(logger.self);
    }
    return warnings;
}


RUNLOG_INLINE config_status try_apply_config_file(const logger_view& logger, const std::string& path) noexcept {
    config_status st;
    try {
        st.warnings = apply_config(logger, load_config(path));
    } catch (const config_error& e) {
        st.problem = e.problem();
    } catch (const std::exception& e) {
        st.problem = config_problem{path, 0, 0, e.what()};
    }
    return st;
}

RUNLOG_INLINE config_status try_apply_config(const logger_view& logger, std::string_view text, std::string file) noexcept {
    config_status st;
    try {
        st.warnings = apply_config(logger, parse_config(text, file));
    } catch (const config_error& e) {
        st.problem = e.problem();
    } catch (const std::exception& e) {
        st.problem = config_problem{file, 0, 0, e.what()};
    }
    return st;
}

RUNLOG_INLINE config_status configure_from_env(const logger_view& logger) noexcept {
    const char* path = std::getenv("RUNLOG_CONFIG");
    if (path == nullptr || *path == '\0') return {};
    auto st = try_apply_config_file(logger, path);
    if (st.problem) print_config_line(st.problem->to_string() + " (the log levels are unchanged)");
    for (const auto& w : st.warnings) print_config_line("warning: " + w);
    return st;
}

/// The outcome of applying RUNLOG_CONFIG to the default logger, kept so that it is applied once.
inline config_status& default_config_status() noexcept {
    static config_status status;
    return status;
}

RUNLOG_INLINE void configure_default_logger(default_logger_type& logger) noexcept {
    default_config_status() = configure_from_env(view_of(logger));
}

}  // namespace detail

RUNLOG_INLINE config parse_config(std::string_view text, std::string file) {
    return detail::config_reader(std::move(file)).read(text);
}

RUNLOG_INLINE config load_config(const std::string& path) {
    return parse_config(detail::read_config_file(path), path);
}

RUNLOG_INLINE config_status configure_from_env() noexcept {
    static const bool applied = [] {
        detail::default_config_requested = true;
        auto& logger = default_logger();
#if RUNLOG_HEADER_ONLY
        detail::configure_default_logger(logger);  // the compiled mode did this as it built the logger
#else
        (void)logger;
#endif
        return true;
    }();
    (void)applied;
    return detail::default_config_status();
}

struct config_watcher::state {
    struct file_stamp {
        bool exists = false;
        long long mtime_ns = 0, size = 0, inode = 0;
        bool operator==(const file_stamp&) const = default;
    };

    detail::logger_view logger;
    std::string path;
    std::chrono::milliseconds interval;
    report_fn report;
    config_status initial;
    file_stamp stamp;
    file_stamp pending;
    std::atomic<std::uint64_t> reloads{0};
    std::mutex mutex;
    detail::native_condition wake;
    bool stopping = false;
    detail::native_thread thread;

    file_stamp current_stamp() const noexcept {
        struct stat st {};
        if (::stat(path.c_str(), &st) != 0) return {};
        return {true, static_cast<long long>(st.st_mtim.tv_sec) * 1'000'000'000LL + st.st_mtim.tv_nsec,
                static_cast<long long>(st.st_size), static_cast<long long>(st.st_ino)};
    }

    void loop() {
        std::unique_lock lock(mutex);
        while (!stopping) {
            wake.wait_for(lock, interval, [this] { return stopping; });
            if (stopping) break;
            const file_stamp now = current_stamp();
            if (now == stamp) continue;
            // Apply a change once it has held still for one poll: an editor writing in place passes
            // through an empty or half-written file.
            if (!(now == pending)) {
                pending = now;
                continue;
            }
            stamp = now;
            lock.unlock();
            config_status st = detail::try_apply_config_file(logger, path);
            reloads.fetch_add(1);
            deliver(st);
            lock.lock();
        }
    }

    void deliver(const config_status& st) noexcept {
        if (report) {
            try {
                report(st);
            } catch (...) {
            }
            return;
        }
        if (st.problem) detail::print_config_line(st.problem->to_string() + " (keeping the previous log levels)");
        for (const auto& w : st.warnings) detail::print_config_line("warning: " + w);
    }
};

RUNLOG_INLINE config_watcher::config_watcher(detail::logger_view logger, std::string path,
                                             std::chrono::milliseconds interval, report_fn report)
    : state_(std::make_unique<state>()) {
    state& s = *state_;
    s.logger = logger;
    s.path = std::move(path);
    s.interval = interval;
    s.report = std::move(report);
    s.stamp = s.pending = s.current_stamp();
    s.initial = detail::try_apply_config_file(s.logger, s.path);
    s.deliver(s.initial);
    s.thread.start([](void* self) { static_cast<state*>(self)->loop(); }, &s);
}

RUNLOG_INLINE config_watcher::~config_watcher() { stop(); }

RUNLOG_INLINE void config_watcher::stop() noexcept {
    {
        std::lock_guard lock(state_->mutex);
        state_->stopping = true;
    }
    state_->wake.notify_all();
    if (state_->thread.joinable()) state_->thread.join();
}

RUNLOG_INLINE const config_status& config_watcher::initial() const noexcept { return state_->initial; }
RUNLOG_INLINE std::uint64_t config_watcher::reloads() const noexcept { return state_->reloads.load(); }

}  // namespace v0
}  // namespace runlog
#endif
