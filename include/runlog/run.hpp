#pragma once
#include <atomic>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

#include "crash.hpp"
#include "default_logger.hpp"
#include "detail/build.hpp"
#include "detail/chrono.hpp"
#include "detail/level_enum.hpp"
#include "detail/step_end.hpp"
#include "event.hpp"
#include "events.hpp"
#include "fields.hpp"
#include "formatters/json.hpp"
#include "record.hpp"
#include "sinks/file.hpp"

namespace runlog {
inline namespace v0 {

namespace detail {
/// 64 random bits from the calling thread's generator (xoshiro256**, seeded once from the kernel's entropy).
RUNLOG_INLINE std::uint64_t random_u64() noexcept;
}  // namespace detail

/// A random RFC 4122 version 4 UUID in its 36-character text form.
RUNLOG_INLINE std::string make_run_id();

/// `$RUNLOG_HOME`, defaulting to `.runlog` in the working directory.
RUNLOG_INLINE std::string runlog_home();

/// `$RUNLOG_HOME/storage`: where runs keep their event logs.
RUNLOG_INLINE std::string default_base_dir();

/// A run's stored event log: every record of the run as one JSON line, written whole and at once.
class event_log final : public detail::record_tap {
public:
    /// Opens (appending) path, creating its directories; throws std::system_error naming it on failure.
    /// Opens path with options (by default unbuffered, every record written at once).
    RUNLOG_INLINE explicit event_log(const std::string& path,
                                     file_options options = {.buffer_size = 0, .flush_on = level::trace});
    /// Opens path's last component in the directory open at descriptor `directory` (see file_sink).
    RUNLOG_INLINE event_log(int directory, const std::string& path, file_options options);

    RUNLOG_INLINE void write(const record& r) noexcept override;
    /// Stops taking records (those of threads still inside a step of an ended run).
    void close() noexcept { closed_.store(true, std::memory_order_release); }

    const std::string& path() const noexcept { return sink_.path(); }
    /// Records written, and records lost (to formatting failures here or write failures in the sink).
    std::uint64_t written() const noexcept { return written_.load(std::memory_order_relaxed); }
    std::uint64_t lost() const noexcept { return dropped_.load(std::memory_order_relaxed) + sink_.lost_records(); }

private:
    json_formatter formatter_;
    file_sink sink_;
    std::atomic<bool> closed_{false};
    std::atomic<std::uint64_t> written_{0};
    std::atomic<std::uint64_t> dropped_{0};
};

/// Returns the time used for step and run durations; replaceable for tests.
using duration_clock_fn = std::chrono::steady_clock::time_point (*)() noexcept;

/// How a run is set up.
struct run_options {
    std::vector<std::pair<std::string, std::string>> tags{};  ///< kept in the runs index
    std::string run_id{};    ///< empty: a new UUID v4
    std::string base_dir{};  ///< empty: default_base_dir()
    bool store = true;                    ///< keep the event log and the runs index on disk
    /// Named by the ENGINE_EVENTs at the start and the end, in Dagster's words for "in_process" (`Executing steps
    /// in process (pid: N)`, `Finished steps in process (pid: N) in 1.2s`) and "multiprocess".
    std::string executor = "in_process";
    duration_clock_fn duration_clock = nullptr;  ///< null: std::chrono::steady_clock::now
    /// Permissions (before the umask) of the event log, the runs index and compute logs, and of the directories
    /// created for them: private by default, as they may hold anything a step prints.
    unsigned file_mode = 0600;
    unsigned directory_mode = 0700;
};

/// What a step's worker does before STEP_START, as Dagster's step workers do.
struct step_options {
    std::string_view worker{};     ///< non-empty: STEP_WORKER_STARTED `Executing step "x" in <worker>.` first
    std::string_view resources{};  ///< non-empty: RESOURCE_INIT_STARTED and RESOURCE_INIT_SUCCESS for these
};

class step;
class process_executor;

namespace detail {

/// A type-erased reference to a basic_logger, through which a run emits its events.
class logger_ref {
public:
    template <class L>
        requires(!std::is_same_v<std::remove_cv_t<L>, logger_ref>)
    explicit logger_ref(L& l) noexcept
        : self_(&l),
          stamp_([](const void* s, record& r, level lv, const source_location& loc) noexcept {
              static_cast<const L*>(s)->stamp(r, lv, loc);
          }),
          write_([](void* s, const record& r) noexcept { static_cast<L*>(s)->write_pipelines(r); }),
          flush_([](void* s) noexcept { static_cast<L*>(s)->flush(); }) {}

    void stamp(record& r, level l, const source_location& loc) const noexcept { stamp_(self_, r, l, loc); }
    void write(const record& r) const noexcept { write_(self_, r); }
    void flush() const noexcept { flush_(self_); }

private:
    void* self_;
    void (*stamp_)(const void*, record&, level, const source_location&) noexcept;
    void (*write_)(void*, const record&) noexcept;
    void (*flush_)(void*) noexcept;
};

/// The readable name of the exception type: `std::runtime_error`.
RUNLOG_INLINE std::string type_name(const std::type_info& t);
/// The readable name of e's dynamic type; without RTTI (-fno-rtti), of the exception being handled, or
/// `std::exception`.
RUNLOG_INLINE std::string type_name_of(const std::exception& e);


/// What a run's scopes share: its identity, where its events go, and its steps' outcomes.
struct run_state {
    std::string id;
    std::string job;
    std::string base_dir;
    std::vector<std::pair<std::string, std::string>> tags;
    logger_ref logger;
    std::unique_ptr<event_log> log;  ///< null when the run is not stored
    duration_clock_fn clock;
    unsigned file_mode = 0600, directory_mode = 0700;  ///< of the stored files and their directories
    std::string executor;                              ///< run_options::executor
    /// The base and run directories, held open and checked through these descriptors (see open_private_directory):
    /// the run's files are opened in them (openat), so no change of a path on the way can redirect a write.
    int base_fd = -1, run_fd = -1;
    /// The process that began the run: a child of fork() that did not exec leaves its runs and steps
    /// without ending them, so they end once, in this process.
    std::uint32_t owner_pid = process_id();
    /// In a process executor's step worker (a child of the owner): its pid. The steps it opens end in it.
    std::uint32_t worker_pid = 0;

    std::mutex mutex;
    bool closed = false;  ///< ended (by the run's scope, or by the crash handler)
    std::vector<std::string> failed_steps;
    std::vector<std::string> open_steps;

    // For an end the run's scope does not see (a crash, a stop signal, exit()).
    record::time_point start_time{};
    std::chrono::steady_clock::time_point started{};
    source_location opened_at{};  ///< where the run was opened
    crash::hook crash_hook, announce_hook;  ///< stored files first; the logger's pipelines at the announce stage
    struct crash_end {
        bool pending = false;
        bool canceled = false;
        double ms = 0;
        std::vector<std::string> open;
        std::vector<std::string> failed;
        std::vector<std::string_view> failed_keys;  ///< views of failed, for RUN_FAILURE
    } crash_end_state;

    explicit run_state(logger_ref l) : logger(l) {}
    run_state(const run_state&) = delete;
    run_state& operator=(const run_state&) = delete;
    RUNLOG_INLINE ~run_state();

    /// The process is ending with the run open: open steps fail, the run ends as RUN_FAILURE (RUN_CANCELED
    /// for SIGTERM, SIGINT and SIGHUP) in the event log and the runs index, and then through the logger.
    RUNLOG_INLINE static void end_on_crash(void* self, const crash::event& e) noexcept;

    std::chrono::steady_clock::time_point now() const noexcept {
        return clock ? clock() : std::chrono::steady_clock::now();
    }
    context ctx(std::string_view step = {}) const noexcept { return {id, job, step}; }

    /// Sends event e, in this run's context and step, to the logger's pipelines and the event log.
    template <class E>
    void emit(const E& e, std::string_view step, fields extra, const source_location& loc,
              record::time_point* stamped = nullptr) noexcept {
        const auto own = e.fields();
        emit_at(E::info.default_level, e, own, step, extra, loc, stamped);
    }
    template <class E, class Own>
    void emit_at(level l, const E& e, const Own& own, std::string_view step, fields extra,
                 const source_location& loc, record::time_point* stamped = nullptr) noexcept {
        record r;
        logger.stamp(r, l, loc);
        r.ctx = ctx(step);
        set_event(r, e, own, extra);
        if (stamped) *stamped = r.time;
        logger.write(r);
        if (log) log->write(r);
    }
};

/// Throws std::invalid_argument unless id can name a directory safely: 1 to 128 ASCII letters, digits,
/// '-', '_' and '.', and not "." or "..".
RUNLOG_INLINE void check_run_id(std::string_view id);

/// Appends one line of the runs index (`<base_dir>/runs.jsonl`) in a single write.
/// How the run's stored files are opened: unbuffered, never through a symbolic link, with the run's permissions.
inline file_options storage_file_options(const run_state& s) noexcept {
    return {.buffer_size = 0,
            .flush_on = level::trace,
            .follow_symlinks = false,
            .file_mode = s.file_mode,
            .directory_mode = s.directory_mode};
}

RUNLOG_INLINE void append_run_index(const run_state& s, std::string_view status, record::time_point start,
                                    const record::time_point* end, double duration_ms);

struct binding_frame;

/// Points the calling thread's context and event log at a run (and step) until released, keeping
/// alive what they refer to.
class thread_binding {
public:
    RUNLOG_INLINE thread_binding(context c, record_tap* log, std::shared_ptr<const void> keep, std::string_view what);
    thread_binding(const thread_binding&) = delete;
    thread_binding& operator=(const thread_binding&) = delete;
    /// Restores what the thread had before. Unless forced (a run's end, which also drops steps left open
    /// above it), only while this scope is still the thread's innermost: a step that outlives its run
    /// must not bring back the ended run's context. Released on another thread, it marks its frame
    /// abandoned, which the bound thread pops at its next record, and reports the mistake.
    RUNLOG_INLINE void release(bool force = false) noexcept;
    ~thread_binding() { release(); }

private:
    RUNLOG_INLINE bool on_stack() const noexcept;

    std::shared_ptr<binding_frame> frame_;
    std::string_view what_;
    std::uint64_t thread_;  ///< the kernel id of the thread it is bound to
    bool released_ = false;
};

}  // namespace detail

/// A run of a job: emits RUN_START and an ENGINE_EVENT, keeps every record of the run in
/// `<base_dir>/<run_id>/events.jsonl`, and at its end emits RUN_SUCCESS, or RUN_FAILURE when a step
/// failed, fail() was called or an exception is leaving its scope.
///
/// Records logged on the thread that opened the run carry its id and job; steps (runlog::step, or
/// execute()) may be opened on any thread. A run ends on the thread that opened it.
class run {
public:
    /// Opens a run whose events go through the default logger.
    RUNLOG_INLINE explicit run(std::string job, run_options options = {},
                               source_location loc = source_location::current());

    /// Opens a run whose events go through logger (it must outlive the run).
    template <class Logger>
        requires requires(Logger& l, record& r) { l.write_pipelines(r); }
    run(Logger& logger, std::string job, run_options options = {}, source_location loc = source_location::current())
        : run(detail::logger_ref(logger), std::move(job), std::move(options), loc) {}

    run(const run&) = delete;
    run& operator=(const run&) = delete;

    /// Ends the run: RUN_SUCCESS, or RUN_FAILURE at ERROR naming the failed steps.
    RUNLOG_INLINE ~run();

    const std::string& id() const noexcept { return state_->id; }
    const std::string& job() const noexcept { return state_->job; }
    /// `<base_dir>/<run_id>`: where the run's files are.
    RUNLOG_INLINE std::string dir() const;
    /// The event log's path, or empty when the run is not stored.
    RUNLOG_INLINE std::string events_path() const;
    /// The runs index, `<base_dir>/runs.jsonl`, or empty when the run is not stored.
    RUNLOG_INLINE std::string runs_index_path() const;
    const std::string& base_dir() const noexcept { return state_->base_dir; }
    /// The stored event log, or null when the run is not stored.
    const event_log* log() const noexcept { return state_->log.get(); }
    /// The permissions of the run's files (compute logs included) and directories (run_options).
    unsigned file_mode() const noexcept { return state_->file_mode; }
    unsigned directory_mode() const noexcept { return state_->directory_mode; }

    /// Makes the run end in RUN_FAILURE, with reason in its message and fields.
    RUNLOG_INLINE void fail(std::string_view reason = {});
    /// Whether the run will end in failure so far.
    RUNLOG_INLINE bool failed() const;

    /// Runs fn inside a step named key (fn may take the runlog::step&); an exception fails the step with
    /// its type and message and then propagates unchanged.
    /// The step's events carry the location of the execute call.
    template <class F>
    decltype(auto) execute(std::string key, F&& fn, source_location loc = source_location::current()) {
        return execute(std::move(key), step_options{}, std::forward<F>(fn), loc);
    }
    template <class F>
    decltype(auto) execute(std::string key, step_options options, F&& fn, source_location loc = source_location::current());

    /// Emits any event in the run's context (at its default level, or at l).
    template <event_type E>
    void event(const E& e, fields extra = {}, source_location loc = source_location::current()) {
        state_->emit(e, {}, extra, loc);
    }
    template <event_type E>
    void event(level l, const E& e, fields extra = {}, source_location loc = source_location::current()) {
        const auto own = e.fields();
        state_->emit_at(l, e, own, {}, extra, loc);
    }
    /// ENGINE_EVENT with a message of the engine's own.
    RUNLOG_INLINE void engine_event(std::string_view text, fields extra = {},
                                    source_location loc = source_location::current());
    /// STEP_WORKER_STARTING: `Launching subprocess for "x".`
    RUNLOG_INLINE void step_worker_starting(std::string_view step_key, std::string_view worker = "subprocess",
                                            source_location loc = source_location::current());

private:
    friend class step;
    friend class process_executor;

    RUNLOG_INLINE run(detail::logger_ref logger, std::string job, run_options options, source_location loc);
    RUNLOG_INLINE void end(std::string_view unwinding_reason) noexcept;

    std::shared_ptr<detail::run_state> state_;
    std::optional<detail::thread_binding> binding_;
    int exceptions_ = 0;
    source_location loc_{};  ///< where the run was opened: the location of its end events too
    bool failed_ = false;
    std::string reason_;
    std::chrono::steady_clock::time_point started_;
    record::time_point start_time_{};
};

/// A step of a run: emits STEP_START, makes every record logged on this thread carry the step's key,
/// and at its end emits STEP_SUCCESS with its duration, or STEP_FAILURE at ERROR when fail() was called
/// or an exception is leaving its scope. Open it on the thread that does the step's work.
class step {
public:
    RUNLOG_INLINE step(run& r, std::string key, step_options options = {},
                       source_location loc = source_location::current());
    step(const step&) = delete;
    step& operator=(const step&) = delete;
    RUNLOG_INLINE ~step();

    const std::string& key() const noexcept { return key_; }
    /// Its run's directory, `<base_dir>/<run_id>`.
    RUNLOG_INLINE std::string run_dir() const;
    /// The permissions of the run's files and directories (run_options).
    unsigned file_mode() const noexcept { return state_->file_mode; }
    unsigned directory_mode() const noexcept { return state_->directory_mode; }
    /// Makes the step end in STEP_FAILURE with the exception's type and message.
    RUNLOG_INLINE void fail(const std::exception& e);
    /// Makes the step end in STEP_FAILURE with this error type and message.
    RUNLOG_INLINE void fail(std::string_view error_type, std::string_view error_message);
    bool failed() const noexcept { return failed_; }

    /// Emits any event in the step's context (at its default level, or at l).
    template <event_type E>
    void event(const E& e, fields extra = {}, source_location loc = source_location::current()) {
        state_->emit(e, key_, extra, loc);
    }
    template <event_type E>
    void event(level l, const E& e, fields extra = {}, source_location loc = source_location::current()) {
        const auto own = e.fields();
        state_->emit_at(l, e, own, key_, extra, loc);
    }
    /// STEP_WORKER_STARTED: `Executing step "x" in subprocess.`
    RUNLOG_INLINE void worker_started(std::string_view worker = "subprocess",
                                      source_location loc = source_location::current());
    /// RESOURCE_INIT_STARTED: `Starting initialization of resources [io_manager].`
    RUNLOG_INLINE void resource_init_started(std::string_view resources = "io_manager",
                                             source_location loc = source_location::current());
    /// RESOURCE_INIT_SUCCESS: `Finished initialization of resources [io_manager].`
    RUNLOG_INLINE void resource_init_success(std::string_view resources = "io_manager", double duration_ms = 0,
                                             source_location loc = source_location::current());
    /// RESOURCE_INIT_FAILURE with the error's type and message.
    RUNLOG_INLINE void resource_init_failure(std::string_view resources, const std::exception& e,
                                             source_location loc = source_location::current());
    /// STEP_INPUT: `Got input "x" of type "T". (Type check passed).`
    RUNLOG_INLINE void input(std::string_view name, std::string_view type_name = "Any",
                             source_location loc = source_location::current());
    /// LOADED_INPUT: `Loaded input "x" using input manager "io_manager", from output "result" of step "y"`
    RUNLOG_INLINE void loaded_input(std::string_view name, std::string_view upstream_step = {},
                                    std::string_view upstream_output = "result",
                                    std::string_view manager_key = "io_manager",
                                    source_location loc = source_location::current());
    /// STEP_OUTPUT: `Yielded output "result" of type "Any". (Type check passed).`
    RUNLOG_INLINE void output(std::string_view name = "result", std::string_view type_name = "Any",
                              source_location loc = source_location::current());
    /// HANDLED_OUTPUT: `Handled output "result" using IO manager "io_manager"`
    RUNLOG_INLINE void handled_output(std::string_view name = "result", std::string_view manager_key = "io_manager",
                                      source_location loc = source_location::current());
    /// ASSET_MATERIALIZATION of asset_key, with metadata as fields.
    RUNLOG_INLINE void materialize(std::string_view asset_key, fields metadata = {}, std::string_view description = {},
                                   source_location loc = source_location::current());
    /// ASSET_OBSERVATION of asset_key, with metadata as fields.
    RUNLOG_INLINE void observe(std::string_view asset_key, fields metadata = {}, std::string_view description = {},
                               source_location loc = source_location::current());

private:
    RUNLOG_INLINE void fail_with(std::string_view type, std::string_view message);

    std::shared_ptr<detail::run_state> state_;
    /// What the thread's context refers to: the step's key and its run's id and job.
    struct held_key {
        std::shared_ptr<detail::run_state> run;
        std::string key;
    };
    std::shared_ptr<const held_key> key_holder_;  ///< shared with the thread's keepalive
    const std::string& key_;
    detail::thread_binding binding_;
    int exceptions_ = 0;
    source_location loc_{};  ///< where the step was opened: the location of its end event too
    bool failed_ = false;
    std::string error_type_;
    std::string error_message_;
    std::chrono::steady_clock::time_point started_;
};

template <class F>
decltype(auto) run::execute(std::string key, step_options options, F&& fn, source_location loc) {
    step s(*this, std::move(key), options, loc);
    try {
        if constexpr (std::is_invocable_v<F&, step&>)
            return std::forward<F>(fn)(s);
        else
            return std::forward<F>(fn)();
    } catch (const std::exception& e) {
        s.fail(e);
        throw;
    } catch (...) {
        s.fail("unknown", "a non-standard exception");
        throw;
    }
}

}  // namespace v0
}  // namespace runlog

#if RUNLOG_DEFINITIONS
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <stdexcept>
#include <system_error>

#include <cxxabi.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "detail/escape.hpp"
#include "detail/registry.hpp"
#include "detail/time.hpp"
#include "format.hpp"
#include "pipeline.hpp"

namespace runlog {
inline namespace v0 {

RUNLOG_INLINE std::uint64_t detail::random_u64() noexcept {
    struct generator {
        std::uint64_t s[4];
        generator() noexcept {
            // The kernel's entropy; should it fail, a mix of the clock, the pid and an address.
            if (::getentropy(s, sizeof s) != 0) {
                std::uint64_t x = static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^
                                  (static_cast<std::uint64_t>(::getpid()) << 32) ^
                                  static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(this));
                for (auto& w : s) {  // splitmix64
                    x += 0x9E3779B97F4A7C15ULL;
                    std::uint64_t z = x;
                    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
                    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
                    w = z ^ (z >> 31);
                }
            }
            if ((s[0] | s[1] | s[2] | s[3]) == 0) s[0] = 1;  // the one state xoshiro cannot leave
        }
        static std::uint64_t rotl(std::uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }
        std::uint64_t next() noexcept {  // xoshiro256** (Blackman and Vigna)
            const std::uint64_t result = rotl(s[1] * 5, 7) * 9;
            const std::uint64_t t = s[1] << 17;
            s[2] ^= s[0];
            s[3] ^= s[1];
            s[1] ^= s[2];
            s[0] ^= s[3];
            s[2] ^= t;
            s[3] = rotl(s[3], 45);
            return result;
        }
    };
    thread_local generator gen;
    return gen.next();
}

RUNLOG_INLINE std::string make_run_id() {
    std::uint64_t hi = detail::random_u64(), lo = detail::random_u64();
    hi = (hi & 0xFFFFFFFFFFFF0FFFULL) | 0x0000000000004000ULL;  // version 4
    lo = (lo & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;  // variant 10xx
    constexpr char hex[] = "0123456789abcdef";
    std::string s;
    s.reserve(36);
    for (int i = 60; i >= 0; i -= 4) {
        if (i == 28 || i == 12) s.push_back('-');
        s.push_back(hex[(hi >> i) & 15]);
    }
    for (int i = 60; i >= 0; i -= 4) {
        if (i == 44 || i == 60) s.push_back('-');
        s.push_back(hex[(lo >> i) & 15]);
    }
    return s;
}

RUNLOG_INLINE std::string runlog_home() {
    const char* home = std::getenv("RUNLOG_HOME");
    return home && *home ? home : ".runlog";
}

RUNLOG_INLINE std::string default_base_dir() { return runlog_home() + "/storage"; }

RUNLOG_INLINE event_log::event_log(const std::string& path, file_options options) : sink_(path, options) {}
namespace detail {
RUNLOG_INLINE run_state::~run_state() {
    for (int fd : {base_fd, run_fd})
        if (fd >= 0) ::close(fd);
}
}  // namespace detail
RUNLOG_INLINE event_log::event_log(int directory, const std::string& path, file_options options)
    : sink_(directory, path, options) {}

RUNLOG_INLINE void event_log::write(const record& r) noexcept {
    if (closed_.load(std::memory_order_acquire)) return;
    try {
        basic_memory_buffer<1024> line;
        formatter_.format(r, line, false);
        sink_.write(line.view(), r.lvl);
        written_.fetch_add(1, std::memory_order_relaxed);
    } catch (...) {
        dropped_.fetch_add(1, std::memory_order_relaxed);
        detail::pipeline_errors().report("the event log \"" + sink_.path() + "\" dropped a record", 0, 1);
    }
}

namespace detail {

RUNLOG_INLINE std::string type_name(const std::type_info& t) {
    int status = 0;
    std::unique_ptr<char, void (*)(void*)> name(abi::__cxa_demangle(t.name(), nullptr, nullptr, &status), std::free);
    std::string text = status == 0 && name ? std::string(name.get()) : std::string(t.name());
    // runlog's own types read as users write them: `runlog::capture_error`, not the versioned inline namespace.
    for (std::size_t at; (at = text.find("runlog::v0::")) != std::string::npos;) text.erase(at + 8, 4);
    return text;
}

RUNLOG_INLINE std::string type_name_of(const std::exception& e) {
#if defined(__cpp_rtti) || defined(__GXX_RTTI)
    return type_name(typeid(e));
#else
    (void)e;
    const std::type_info* t = abi::__cxa_current_exception_type();
    return t ? type_name(*t) : std::string("std::exception");
#endif
}

RUNLOG_INLINE void check_run_id(std::string_view id) {
    bool ok = !id.empty() && id.size() <= 128 && id != "." && id != "..";
    for (char c : id)
        ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                    c == '_' || c == '.');
    if (ok) return;
    memory_buffer shown;
    append_json_escaped(shown, id.substr(0, 200));
    throw std::invalid_argument("run id \"" + shown.str() +
                                "\" cannot name the run's directory: use 1 to 128 ASCII letters, digits, '-', '_' "
                                "and '.', other than \".\" and \"..\"");
}

RUNLOG_INLINE void append_run_index(const run_state& s, std::string_view status, record::time_point start,
                                    const record::time_point* end, double duration_ms) {
    memory_buffer b;
    using namespace std::string_view_literals;
    b.append(R"({"run_id":)"sv);
    append_json_string(b, s.id);
    b.append(R"(,"job_name":)"sv);
    append_json_string(b, s.job);
    b.append(R"(,"status":)"sv);
    append_json_string(b, status);
    b.append(R"(,"start_time":")"sv);
    append_rfc3339(b, start);
    b.push_back('"');
    if (end) {
        b.append(R"(,"end_time":")"sv);
        append_rfc3339(b, *end);
        b.append(R"(","duration_ms":)"sv);
        format_to(b, "{}", duration_ms);
        b.append(R"(,"failed_steps":[)"sv);
        for (std::size_t i = 0; i < s.failed_steps.size(); ++i) {
            if (i) b.push_back(',');
            append_json_string(b, s.failed_steps[i]);
        }
        b.push_back(']');
    }
    b.append(R"(,"pid":)"sv);
    format_to(b, "{}", process_id());
    b.append(R"(,"events":)"sv);
    append_json_string(b, s.log ? std::string_view(s.log->path()) : std::string_view());
    b.append(R"(,"tags":{)"sv);
    for (std::size_t i = 0; i < s.tags.size(); ++i) {
        if (i) b.push_back(',');
        append_json_string(b, s.tags[i].first);
        b.push_back(':');
        append_json_string(b, s.tags[i].second);
    }
    b.append("}}\n"sv);
    file_sink index(s.base_fd, s.base_dir + "/runs.jsonl", storage_file_options(s));
    index.write(b.view());
}

/// One run or step scope bound to a thread: what it replaced, and what its context refers to.
struct binding_frame {
    context saved_ctx;                    ///< the thread's context before the scope
    record_tap* saved_log = nullptr;      ///< the thread's event log before the scope
    std::shared_ptr<binding_frame> below;  ///< the frame that was on top before
    std::shared_ptr<const void> keep;     ///< keeps the strings of the scope's context alive
    std::atomic<bool> abandoned{false};   ///< ended on another thread: the thread pops it at its next record
};

/// The calling thread's innermost run or step scope, or null.
inline std::shared_ptr<binding_frame>& thread_frame() noexcept {
    thread_local std::shared_ptr<binding_frame> frame;
    return frame;
}

/// Restores what scopes ended on other threads had replaced on this one.
inline void pop_abandoned_frames() noexcept;

/// Makes frame the calling thread's innermost scope, and tells the log calls' watch.
inline void set_thread_frame(std::shared_ptr<binding_frame> frame) noexcept {
    thread_scope_watch() = frame ? scope_watch{&frame->abandoned, &pop_abandoned_frames} : scope_watch{};
    thread_frame() = std::move(frame);
}

inline void pop_abandoned_frames() noexcept {
    auto& top = thread_frame();
    while (top && top->abandoned.load(std::memory_order_acquire)) {
        thread_context() = top->saved_ctx;
        thread_event_log() = top->saved_log;
        auto below = std::move(top->below);
        set_thread_frame(std::move(below));
    }
}

RUNLOG_INLINE thread_binding::thread_binding(context c, record_tap* log, std::shared_ptr<const void> keep,
                                             std::string_view what)
    : frame_(std::make_shared<binding_frame>()), what_(what), thread_(thread_id()) {
    (void)current_context();  // first drop scopes that ended elsewhere
    frame_->saved_ctx = thread_context();
    frame_->saved_log = thread_event_log();
    frame_->below = std::move(thread_frame());
    frame_->keep = std::move(keep);
    set_thread_frame(frame_);
    thread_context() = c;
    thread_event_log() = log;
}

RUNLOG_INLINE void thread_binding::release(bool force) noexcept {
    if (released_) return;
    released_ = true;
    if (thread_id() != thread_) {
        frame_->abandoned.store(true, std::memory_order_release);
        try {
            report_problem(std::string(what_) + " ended on another thread than the one that opened it");
        } catch (...) {
        }
        return;
    }
    (void)current_context();
    auto& top = thread_frame();
    if (top != frame_ && !(force && on_stack())) return;
    thread_context() = frame_->saved_ctx;
    thread_event_log() = frame_->saved_log;
    set_thread_frame(std::move(frame_->below));
}

RUNLOG_INLINE bool thread_binding::on_stack() const noexcept {
    for (auto* f = thread_frame().get(); f; f = f->below.get())
        if (f == frame_.get()) return true;
    return false;
}

}  // namespace detail

RUNLOG_INLINE void detail::run_state::end_on_crash(void* self, const crash::event& e) noexcept {
    auto& s = *static_cast<run_state*>(self);
    if (process_id() != s.owner_pid || !s.log) return;  // a forked child's copy: the parent's run
    auto& c = s.crash_end_state;
    if (e.stage == crash::announce && !c.pending) return;
    try {
        if (e.stage == crash::runs) {
            // The crashed thread may hold the run's lock: past a short wait, the run ends without its steps.
            if (crash::try_lock_until(s.mutex, crash::deadline_within(e, 200))) {
                const bool closed = s.closed;
                s.closed = true;
                try {
                    if (!closed) {
                        c.open.swap(s.open_steps);
                        for (const auto& k : c.open) s.failed_steps.push_back(k);
                        if (e.kind != crash::ending::canceled) {
                            c.failed = s.failed_steps;
                            c.failed_keys.assign(c.failed.begin(), c.failed.end());
                        }
                    }
                } catch (...) {
                }
                s.mutex.unlock();
                if (closed) return;
            }
            c.pending = true;
            c.canceled = e.kind == crash::ending::canceled;
            c.ms = std::chrono::duration<double, std::milli>(s.now() - s.started).count();
        }
        const std::string_view error_type = c.canceled                         ? "runlog::canceled"
                                            : e.kind == crash::ending::exiting ? "runlog::process_exited"
                                                                               : "runlog::fatal_signal";
        const std::string_view signal = e.signal ? std::string_view(e.name) : std::string_view();
        // The extra fields outlive the records that point at them.
        const std::initializer_list<field> with_signal = {{"signal", signal}};
        const std::initializer_list<field> canceled_fields = {{"signal", signal}, {"duration_ms", c.ms}};
        const std::initializer_list<field> extra = signal.empty() ? std::initializer_list<field>{} : with_signal;
        // Stage runs: the stored files (event log, then runs index). Stage announce: the logger's pipelines,
        // whose sinks the crashed thread is likelier to have been using.
        const bool to_log = e.stage == crash::runs;
        for (const auto& k : c.open) {
            const events::step_failure f{
                .error_type = error_type, .error_message = e.reason, .duration_ms = c.ms, .step_key = k};
            const auto own = f.fields();
            record r;
            s.logger.stamp(r, f.info.default_level, s.opened_at);
            r.ctx = s.ctx(k);
            set_event(r, f, own, extra);
            if (to_log)
                s.log->write(r);
            else
                s.logger.write(r);
        }
        record r;
        s.logger.stamp(r, level::error, s.opened_at);
        r.ctx = s.ctx();
        const events::run_canceled canceled{};
        const events::run_failure failure{
            .failed_steps = string_list(c.failed_keys), .reason = e.reason, .duration_ms = c.ms};
        const auto own_c = canceled.fields();
        const auto own_f = failure.fields();
        if (c.canceled)
            set_event(r, canceled, own_c, canceled_fields);
        else
            set_event(r, failure, own_f, extra);
        if (!to_log) {
            s.logger.write(r);
            c.pending = false;
            return;
        }
        s.log->write(r);
        s.log->close();
        append_run_index(s, c.canceled ? "CANCELED" : "FAILURE", s.start_time, &r.time, c.ms);
    } catch (...) {
        crash::line l;
        (l << "runlog: could not record the end of run " << s.id << " (out of memory)\n").write_to(2);
    }
}

RUNLOG_INLINE run::run(std::string job, run_options options, source_location loc)
    : run(detail::logger_ref(default_logger()), std::move(job), std::move(options), loc) {}

RUNLOG_INLINE run::run(detail::logger_ref logger, std::string job, run_options options, source_location loc)
    : state_(std::make_shared<detail::run_state>(logger)) {
    auto& s = *state_;
    s.id = options.run_id.empty() ? make_run_id() : std::move(options.run_id);
    detail::check_run_id(s.id);
    s.job = std::move(job);
    s.base_dir = options.base_dir.empty() ? default_base_dir() : std::move(options.base_dir);
    // Absolute, so that runs.jsonl, the events and the compute logs name their files from anywhere.
    if (!s.base_dir.empty() && s.base_dir.front() != '/') {
        char cwd[4096];
        if (::getcwd(cwd, sizeof cwd)) s.base_dir = std::string(cwd) + "/" + s.base_dir;
    }
    s.tags = std::move(options.tags);
    s.clock = options.duration_clock;
    s.file_mode = options.file_mode;
    s.directory_mode = options.directory_mode;
    if (options.store) {
        // The storage must be this user's alone: in a shared directory another user could otherwise put
        // symbolic links where the run's files go, and have the run write into their targets.
        const std::string run_dir = s.base_dir + "/" + s.id;
        const auto mode = static_cast<mode_t>(s.directory_mode);
        // The base directory is checked before anything is made in it: a link there gets no run directory.
        struct stat base {};
        if (::lstat(s.base_dir.c_str(), &base) != 0)
            if (int err = detail::create_parent_directories(s.base_dir + "/runs.jsonl", mode))
                throw std::system_error(err, std::generic_category(), "cannot create the run directory \"" + run_dir + "\"");
        std::string problem;
        s.base_fd = detail::open_private_directory(AT_FDCWD, s.base_dir, s.base_dir, &problem);
        if (s.base_fd >= 0) {
            if (::mkdirat(s.base_fd, s.id.c_str(), mode) != 0 && errno != EEXIST)
                throw std::system_error(errno, std::generic_category(), "cannot create the run directory \"" + run_dir + "\"");
            s.run_fd = detail::open_private_directory(s.base_fd, s.id, run_dir, &problem);
        }
        if (s.run_fd < 0)
            throw std::system_error(std::make_error_code(std::errc::permission_denied), "unsafe run storage: " + problem);
        // The runs index is opened at each line; refuse a link there now, before the run has begun.
        struct stat index {};
        if (::fstatat(s.base_fd, "runs.jsonl", &index, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(index.st_mode))
            throw std::system_error(std::make_error_code(std::errc::too_many_symbolic_link_levels),
                                    "cannot open log file \"" + s.base_dir + "/runs.jsonl\": it is a symbolic link (refused)");
        s.log = std::make_unique<event_log>(s.run_fd, run_dir + "/events.jsonl", detail::storage_file_options(s));
        detail::registry::run_opened();
    }
    binding_.emplace(s.ctx(), s.log.get(), state_, "runlog: a run");
    exceptions_ = std::uncaught_exceptions();
    loc_ = loc;
    started_ = s.now();
    s.emit(events::run_start{}, {}, {{"pid", process_id()}}, loc, &start_time_);
    s.start_time = start_time_;
    s.started = started_;
    s.opened_at = loc;
    if (s.log) {
        detail::append_run_index(s, "STARTED", start_time_, nullptr, 0);
        // Whatever ends the process now, the run's last lines say how it ended.
        detail::crash::add(s.crash_hook, &detail::run_state::end_on_crash, &s, detail::crash::runs);
        detail::crash::add(s.announce_hook, &detail::run_state::end_on_crash, &s, detail::crash::announce);
        detail::crash::install_default();
    }
    s.executor = std::move(options.executor);
    const std::string pid = std::to_string(process_id());
    const std::string text = s.executor == "in_process"     ? "Executing steps in process (pid: " + pid + ")"
                             : s.executor == "multiprocess" ? "Executing steps using multiprocess executor: parent process (pid: " + pid + ")"
                                                            : "Executing steps using " + s.executor + " executor (pid: " + pid + ")";
    s.emit(events::engine_event{.text = text}, {}, {{"executor", s.executor}, {"pid", process_id()}}, loc);
}

RUNLOG_INLINE run::~run() {
    end(std::uncaught_exceptions() > exceptions_ ? "An exception left the run's scope." : "");
}

RUNLOG_INLINE void run::fail(std::string_view reason) {
    std::lock_guard lock(state_->mutex);
    failed_ = true;
    if (!reason.empty()) reason_ = reason;
}

RUNLOG_INLINE bool run::failed() const {
    std::lock_guard lock(state_->mutex);
    return failed_ || !state_->failed_steps.empty();
}

RUNLOG_INLINE void run::engine_event(std::string_view text, fields extra, source_location loc) {
    state_->emit(events::engine_event{.text = text}, {}, extra, loc);
}

RUNLOG_INLINE void run::step_worker_starting(std::string_view step_key, std::string_view worker,
                                             source_location loc) {
    state_->emit(events::step_worker_starting{.step_key = step_key, .worker = worker}, step_key, {}, loc);
}

RUNLOG_INLINE void run::end(std::string_view unwinding_reason) noexcept {
    auto& s = *state_;
    detail::crash::remove(s.crash_hook);
    detail::crash::remove(s.announce_hook);
    bool ended_already = false;
    {
        std::lock_guard lock(s.mutex);
        ended_already = s.closed;  // by the crash handler, at exit()
    }
    if (ended_already) {
        if (s.log) detail::registry::run_closed();
        binding_->release(true);
        return;
    }
    if (process_id() != s.owner_pid) {  // a forked child leaving the scope: the parent ends the run
        {
            std::lock_guard lock(s.mutex);
            s.closed = true;
        }
        if (s.log) detail::registry::run_closed();
        binding_->release(true);
        return;
    }
    std::vector<std::string> left_open;
    bool failed = false;
    std::string reason;
    {
        std::lock_guard lock(s.mutex);
        s.closed = true;
        failed = failed_;
        left_open.swap(s.open_steps);
        try {
            // An exception that failed a step needs no second mention.
            if (!reason_.empty())
                reason = reason_;
            else if (s.failed_steps.empty() && left_open.empty())
                reason = std::string(unwinding_reason);
            for (const auto& k : left_open) s.failed_steps.push_back(k);
        } catch (...) {
            failed = true;  // out of memory: still end in failure, with less detail
        }
    }
    const auto now = s.now();
    const double ms = std::chrono::duration<double, std::milli>(now - started_).count();
    for (const auto& k : left_open)
        s.emit(events::step_failure{.error_type = "runlog::step_left_open",
                                    .error_message = "the step was still open when the run ended",
                                    .duration_ms = ms,
                                    .step_key = k},
               k, {}, loc_);
    record::time_point end_time{};
    std::string status;
    try {
        // The executor's closing words, as Dagster's: `Finished steps in process (pid: N) in 4.38s`.
        basic_memory_buffer<128> took;
        detail::format_duration(took, ms);
        const std::string pid = std::to_string(process_id());
        const std::string text =
            s.executor == "in_process" ? "Finished steps in process (pid: " + pid + ") in " + std::string(took.view())
            : s.executor == "multiprocess"
                ? "Multiprocess executor: parent process exiting after " + std::string(took.view()) + " (pid: " + pid + ")"
                : s.executor + " executor: finished after " + std::string(took.view()) + " (pid: " + pid + ")";
        s.emit(events::engine_event{.text = text}, {}, {{"executor", s.executor}, {"pid", process_id()}}, loc_);
        const bool failure = failed || !s.failed_steps.empty() || !unwinding_reason.empty();
        if (failure) {
            const std::vector<std::string_view> steps(s.failed_steps.begin(), s.failed_steps.end());
            s.emit(events::run_failure{.failed_steps = string_list(steps), .reason = reason, .duration_ms = ms}, {}, {}, loc_,
                   &end_time);
            status = "FAILURE";
        } else {
            s.emit(events::run_success{.duration_ms = ms}, {}, {}, loc_, &end_time);
            status = "SUCCESS";
        }
        if (s.log) detail::append_run_index(s, status, start_time_, &end_time, ms);
    } catch (const std::exception& e) {
        detail::pipeline_errors().report("could not record the end of run " + s.id + ": " + e.what(), 0, 0);
    } catch (...) {
        detail::pipeline_errors().report("could not record the end of run " + s.id, 0, 0);
    }
    if (s.log) {
        s.log->close();
        detail::registry::run_closed();
    }
    s.logger.flush();
    binding_->release(true);
}

RUNLOG_INLINE step::step(run& r, std::string key, step_options options, source_location loc)
    : state_(r.state_),
      key_holder_(std::make_shared<const held_key>(held_key{state_, std::move(key)})),
      key_(key_holder_->key),
      binding_(state_->ctx(key_), state_->log.get(), key_holder_, "runlog: a step") {
    bool already_open = false;
    {
        std::lock_guard lock(state_->mutex);
        for (const auto& k : state_->open_steps) already_open = already_open || k == key_;
        state_->open_steps.push_back(key_);
    }
    // Two steps open at once under one key cannot be told apart in the event log; a step run again after the
    // first ended (a retry) can, by time.
    if (already_open)
        detail::report_problem("run " + state_->id + ": step \"" + key_ +
                               "\" was opened while a step of the same key is open; their events share the key");
    exceptions_ = std::uncaught_exceptions();
    loc_ = loc;
    started_ = state_->now();
    if (!options.worker.empty()) worker_started(options.worker, loc);
    if (!options.resources.empty()) {
        const auto init = state_->now();
        resource_init_started(options.resources, loc);
        resource_init_success(options.resources, std::chrono::duration<double, std::milli>(state_->now() - init).count(),
                              loc);
    }
    state_->emit(events::step_start{}, key_, {}, loc);
}

RUNLOG_INLINE step::~step() {
    if (!failed_ && std::uncaught_exceptions() > exceptions_) fail_with("unknown", "an exception left the step's scope");
    detail::step_end_listeners::instance().step_ending();  // a bridge's unfinished line of this thread, in the step
    auto& s = *state_;
    bool report = false;
    {
        std::lock_guard lock(s.mutex);
        if (!s.closed) {
            report = true;
            for (auto it = s.open_steps.begin(); it != s.open_steps.end(); ++it)
                if (*it == key_) {
                    s.open_steps.erase(it);
                    break;
                }
            if (failed_) s.failed_steps.push_back(key_);
        }
    }
    // A forked child: the step ends in the parent only, unless this child is a step worker running its step.
    if (report && process_id() != s.owner_pid && process_id() != s.worker_pid) {
        std::lock_guard lock(s.mutex);
        s.open_steps.push_back(key_);  // this copy of the run still sees it open, as the parent does
        report = false;
    }
    if (report) {
        const double ms = std::chrono::duration<double, std::milli>(s.now() - started_).count();
        if (failed_)
            s.emit(events::step_failure{.error_type = error_type_, .error_message = error_message_, .duration_ms = ms},
                   key_, {}, loc_);
        else
            s.emit(events::step_success{.duration_ms = ms}, key_, {}, loc_);
        s.logger.flush();
    }
    binding_.release();
}

RUNLOG_INLINE std::string run::dir() const { return state_->base_dir + "/" + state_->id; }

RUNLOG_INLINE std::string run::events_path() const { return state_->log ? state_->log->path() : std::string(); }

RUNLOG_INLINE std::string run::runs_index_path() const {
    return state_->log ? state_->base_dir + "/runs.jsonl" : std::string();
}

RUNLOG_INLINE std::string step::run_dir() const { return state_->base_dir + "/" + state_->id; }

RUNLOG_INLINE void step::fail(const std::exception& e) { fail_with(detail::type_name_of(e), e.what()); }

RUNLOG_INLINE void step::fail(std::string_view error_type, std::string_view error_message) {
    fail_with(error_type, error_message);
}

RUNLOG_INLINE void step::fail_with(std::string_view type, std::string_view message) {
    failed_ = true;
    error_type_ = type;
    error_message_ = message;
}

RUNLOG_INLINE void step::worker_started(std::string_view worker, source_location loc) {
    event(events::step_worker_started{.worker = worker}, {}, loc);
}

RUNLOG_INLINE void step::resource_init_started(std::string_view resources, source_location loc) {
    event(events::resource_init_started{.resources = resources}, {}, loc);
}

RUNLOG_INLINE void step::resource_init_success(std::string_view resources, double duration_ms, source_location loc) {
    event(events::resource_init_success{.resources = resources, .duration_ms = duration_ms}, {}, loc);
}

RUNLOG_INLINE void step::resource_init_failure(std::string_view resources, const std::exception& e,
                                               source_location loc) {
    const std::string type = detail::type_name_of(e);
    event(events::resource_init_failure{.resources = resources, .error_type = type, .error_message = e.what()}, {},
          loc);
}

RUNLOG_INLINE void step::input(std::string_view name, std::string_view type_name, source_location loc) {
    event(events::step_input{.input_name = name, .type_name = type_name}, {}, loc);
}

RUNLOG_INLINE void step::loaded_input(std::string_view name, std::string_view upstream_step,
                                      std::string_view upstream_output, std::string_view manager_key,
                                      source_location loc) {
    event(events::loaded_input{.input_name = name,
                               .manager_key = manager_key,
                               .upstream_output = upstream_output,
                               .upstream_step = upstream_step},
          {}, loc);
}

RUNLOG_INLINE void step::output(std::string_view name, std::string_view type_name, source_location loc) {
    event(events::step_output{.output_name = name, .type_name = type_name}, {}, loc);
}

RUNLOG_INLINE void step::handled_output(std::string_view name, std::string_view manager_key, source_location loc) {
    event(events::handled_output{.output_name = name, .manager_key = manager_key}, {}, loc);
}

RUNLOG_INLINE void step::materialize(std::string_view asset_key, fields metadata, std::string_view description,
                                     source_location loc) {
    event(events::asset_materialization{.asset_key = asset_key, .description = description}, metadata, loc);
}

RUNLOG_INLINE void step::observe(std::string_view asset_key, fields metadata, std::string_view description,
                                 source_location loc) {
    event(events::asset_observation{.asset_key = asset_key, .description = description}, metadata, loc);
}

}  // namespace v0
}  // namespace runlog
#endif
