#pragma once
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "detail/yaml.hpp"
#include "level.hpp"
#include "sinks/sink.hpp"

namespace runlog {
inline namespace v0 {

/// Where and why a config file is bad: `config.yaml:4:17: bad value for log level 'EROR': ...`.
struct config_problem {
    std::string file;
    int line = 0;    ///< 0 when the problem is the file as a whole (it cannot be read)
    int column = 0;
    std::string message;

    /// `file:line:column: message`, or `file: message` without a position.
    std::string to_string() const {
        if (line == 0) return file + ": " + message;
        return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message;
    }
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
};

/// A parsed and checked config file: its loggers, in file order.
struct config {
    std::string file;
    std::vector<logger_setting> loggers;
    std::vector<std::string> warnings;  ///< e.g. a top-level key that looks like a misspelt `loggers`
};

/// The outcome of the non-throwing API: a problem, or success with warnings (each `file:line:column: ...`).
struct config_status {
    std::optional<config_problem> problem;
    std::vector<std::string> warnings;
    explicit operator bool() const noexcept { return !problem; }
};

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
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
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
        for (const auto& k : root.keys)
            if (k.text != "loggers" && edit_distance(k.text, "loggers") <= 2)
                c.warnings.push_back(config_problem{file_, k.pos.line, k.pos.column,
                                                    "top-level key '" + shown(k.text) +
                                                        "' is ignored; did you mean 'loggers'?"}
                                         .to_string());
        const yaml::node* loggers = root.find("loggers");
        if (!loggers) return c;  // a run config may hold other things only
        if (loggers->type == yaml::node::kind::null) return c;
        if (loggers->type != yaml::node::kind::mapping)
            fail(loggers->pos, "'loggers' must be a mapping of logger names, found " + std::string(kind_name(*loggers)));
        for (std::size_t i = 0; i < loggers->keys.size(); ++i) {
            const yaml::node& name = loggers->keys[i];
            const yaml::node& body = loggers->values[i];
            const std::string where = "loggers." + name.text;
            c.loggers.push_back({name.text, std::nullopt, name.pos.line, name.pos.column, 0, 0});
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
            for (std::size_t k = 0; k < cfg->keys.size(); ++k)
                if (cfg->keys[k].text != "log_level" && cfg->keys[k].text != "name")  // name: Dagster's logger name
                    fail(cfg->keys[k].pos, "unknown key '" + shown(cfg->keys[k].text) + "' under '" + where +
                                               ".config': expected 'log_level' (or 'name')" +
                                               suggestion(cfg->keys[k].text, {"log_level"}));
            const yaml::node* lvl = cfg->find("log_level");
            if (!lvl) continue;
            const bool null_word = lvl->type == yaml::node::kind::scalar && !lvl->quoted &&
                                   (lvl->text == "~" || lvl->text == "null" || lvl->text == "Null" || lvl->text == "NULL");
            if (lvl->type == yaml::node::kind::null || null_word)
                fail(lvl->pos, "log level of '" + where + "' is empty: permissible values are " +
                                   std::string(permissible_levels));
            if (lvl->type != yaml::node::kind::scalar)
                fail(lvl->pos, "log level of '" + where + "' must be a scalar, found " + std::string(kind_name(*lvl)));
            if (!lvl->quoted && lvl->text.size() > 1 && lvl->text.find_first_not_of("+-") != std::string::npos &&
                lvl->text[lvl->text.find_first_not_of("+-")] == '0' &&
                lvl->text.find_first_not_of("+-0123456789") == std::string::npos &&
                lvl->text.find_first_not_of("+-") + 1 < lvl->text.size())
                fail(lvl->pos, "log level '" + shown(lvl->text) +
                                   "' has a leading zero (YAML 1.1 reads it as octal, 1.2 as decimal): write it without");
            const auto parsed = try_parse_level(lvl->text);
            if (!parsed)
                fail(lvl->pos, "bad value for log level '" + shown(lvl->text) + "': permissible values are " +
                                   std::string(permissible_levels));
            c.loggers.back().lvl = *parsed;
            c.loggers.back().level_line = lvl->pos.line;
            c.loggers.back().level_column = lvl->pos.column;
        }
        return c;
    }

    [[noreturn]] void fail(yaml::position p, std::string message) const {
        throw config_error({file_, p.line, p.column, std::move(message)});
    }

private:
    std::string file_;
};

/// Reads a whole file (at most yaml::max_input + 1 bytes, so a huge file is refused without reading it all).
inline std::string read_config_file(const std::string& path) {
    const int fd = open_file(path, O_RDONLY);
    if (fd < 0) throw config_error({path, 0, 0, std::string("cannot read the file: ") + std::strerror(errno)});
    struct stat st {};
    if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        ::close(fd);
        throw config_error({path, 0, 0, "cannot read the file: it is a directory"});
    }
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

}  // namespace detail

/// Parses config text; throws config_error naming `file:line:column` on any problem.
inline config parse_config(std::string_view text, std::string file = "<config>") {
    return detail::config_reader(std::move(file)).read(text);
}

/// Reads and parses a config file; throws config_error.
inline config load_config(const std::string& path) {
    return parse_config(detail::read_config_file(path), path);
}

/// Checks every setting against logger, then applies them all: an unknown pipeline name changes nothing
/// and throws config_error listing the known ones. Returns warnings, e.g. for a level below the floor.
template <class Logger>
std::vector<std::string> apply_config(Logger& logger, const config& c) {
    const auto names = logger.pipeline_names();
    const std::vector<std::string_view> known(names.begin(), names.end());
    std::vector<std::string> warnings = c.warnings;
    const auto others = detail::gate_registry::instance().other_pipeline_names(&logger);
    for (const auto& s : c.loggers) {
        if (std::find(known.begin(), known.end(), s.pipeline) == known.end()) {
            // A pipeline of another logger of the program (one config can serve them all): not this one's.
            if (std::find(others.begin(), others.end(), s.pipeline) != others.end()) continue;
            std::vector<std::string_view> all = known;
            for (const auto& o : others)
                if (std::find(all.begin(), all.end(), o) == all.end()) all.push_back(o);
            std::string list;
            for (auto n : all) list += (list.empty() ? "" : ", ") + std::string(n);
            throw config_error({c.file, s.line, s.column,
                                "unknown logger '" + detail::shown(s.pipeline) + "': this program's loggers are " + list +
                                    detail::suggestion(s.pipeline, all)});
        }
        if (s.lvl && *s.lvl < Logger::floor)
            warnings.push_back(config_problem{c.file, s.level_line, s.level_column,
                                              "log level " + detail::level_text(*s.lvl) + " for '" + s.pipeline +
                                                  "' is below the compile-time floor " + detail::level_text(Logger::floor) +
                                                  ": calls below " + detail::level_text(Logger::floor) +
                                                  " were compiled out and stay silent"}
                                   .to_string());
    }
    for (const auto& s : c.loggers)
        if (s.lvl && std::find(known.begin(), known.end(), s.pipeline) != known.end()) logger.set_level(s.pipeline, *s.lvl);
    return warnings;
}

/// Loads path and applies it to logger; throws config_error, and changes nothing when it does.
template <class Logger>
std::vector<std::string> apply_config_file(Logger& logger, const std::string& path) {
    return apply_config(logger, load_config(path));
}

/// The non-throwing form of apply_config_file: the problem comes back in the status.
template <class Logger>
config_status try_apply_config_file(Logger& logger, const std::string& path) noexcept {
    config_status st;
    try {
        st.warnings = apply_config_file(logger, path);
    } catch (const config_error& e) {
        st.problem = e.problem();
    } catch (const std::exception& e) {
        st.problem = config_problem{path, 0, 0, e.what()};
    }
    return st;
}

/// The non-throwing form for text.
template <class Logger>
config_status try_apply_config(Logger& logger, std::string_view text, std::string file = "<config>") noexcept {
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

namespace detail {
/// Prints one line to stderr in a single write.
inline void print_config_line(const std::string& line) noexcept {
    try {
        (void)write_all(STDERR_FILENO, "runlog: " + line + "\n");
    } catch (...) {
    }
}
}  // namespace detail

/// Applies the file named by RUNLOG_CONFIG, if set. A missing or bad file is reported once on stderr
/// and leaves the levels as they were; warnings are printed too. Returns what happened.
template <class Logger>
config_status configure_from_env(Logger& logger) noexcept {
    const char* path = std::getenv("RUNLOG_CONFIG");
    if (path == nullptr || *path == '\0') return {};
    auto st = try_apply_config_file(logger, path);
    if (st.problem) detail::print_config_line(st.problem->to_string() + " (the log levels are unchanged)");
    for (const auto& w : st.warnings) detail::print_config_line("warning: " + w);
    return st;
}

/// Re-applies a config file to a logger whenever the file changes (polling its size, time and inode; a
/// change is applied once it has held for one poll). Each outcome, the first application's included, goes
/// to the report function, or by default problems and warnings to stderr; a bad edit is ignored and the
/// previous levels stay.
class config_watcher {
public:
    /// Receives each outcome of a reload.
    using report_fn = std::function<void(const config_status&)>;

    /// Starts watching; the current file is applied first, synchronously, and its status kept in initial().
    template <class Logger>
    config_watcher(Logger& logger, std::string path, std::chrono::milliseconds interval = std::chrono::milliseconds(500),
                   report_fn report = {})
        : path_(std::move(path)), interval_(interval), report_(std::move(report)) {
        apply_ = [&logger](const std::string& p) { return try_apply_config_file(logger, p); };
        stamp_ = pending_ = current_stamp();
        initial_ = apply_(path_);
        deliver(initial_);
        thread_ = std::thread([this] { loop(); });
    }
    config_watcher(const config_watcher&) = delete;
    config_watcher& operator=(const config_watcher&) = delete;
    ~config_watcher() { stop(); }

    /// Stops the polling thread (the destructor does this too).
    void stop() noexcept {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        wake_.notify_all();
        if (thread_.joinable()) thread_.join();
    }
    /// The status of the first application.
    const config_status& initial() const noexcept { return initial_; }
    /// How many times the file has been re-read after a change.
    std::uint64_t reloads() const noexcept { return reloads_.load(); }

private:
    struct file_stamp {
        bool exists = false;
        long long mtime_ns = 0, size = 0, inode = 0;
        bool operator==(const file_stamp&) const = default;
    };

    file_stamp current_stamp() const noexcept {
        struct stat st {};
        if (::stat(path_.c_str(), &st) != 0) return {};
        return {true, static_cast<long long>(st.st_mtim.tv_sec) * 1'000'000'000LL + st.st_mtim.tv_nsec,
                static_cast<long long>(st.st_size), static_cast<long long>(st.st_ino)};
    }

    void loop() {
        std::unique_lock lock(mutex_);
        while (!stopping_) {
            wake_.wait_for(lock, interval_, [this] { return stopping_; });
            if (stopping_) break;
            const file_stamp now = current_stamp();
            if (now == stamp_) continue;
            // Apply a change once it has held still for one poll: an editor writing in place passes
            // through an empty or half-written file.
            if (!(now == pending_)) {
                pending_ = now;
                continue;
            }
            stamp_ = now;
            lock.unlock();
            config_status st = apply_(path_);
            reloads_.fetch_add(1);
            deliver(st);
            lock.lock();
        }
    }

    void deliver(const config_status& st) noexcept {
        if (report_) {
            try {
                report_(st);
            } catch (...) {
            }
            return;
        }
        if (st.problem) detail::print_config_line(st.problem->to_string() + " (keeping the previous log levels)");
        for (const auto& w : st.warnings) detail::print_config_line("warning: " + w);
    }

    std::string path_;
    std::chrono::milliseconds interval_;
    report_fn report_;
    std::function<config_status(const std::string&)> apply_;
    config_status initial_;
    file_stamp stamp_;
    file_stamp pending_;
    std::atomic<std::uint64_t> reloads_{0};
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace v0
}  // namespace runlog
