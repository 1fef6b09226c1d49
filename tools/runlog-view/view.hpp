// runlog-view: reads what runlog stores (runs.jsonl, each run's events.jsonl, its compute logs) and shows it in a
// terminal, as a self-contained HTML page, or live over HTTP. Read-only: nothing here writes to the storage.
#pragma once
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace runlog_view {

/// A problem the user must hear about: printed as one line, exit status 1.
struct failure : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// One run as runs.jsonl tells it (its start line, updated by its end line).
struct run_info {
    std::string run_id, job_name, status, start_time, end_time;
    std::optional<double> duration_ms;
    std::vector<std::string> failed_steps;
    long pid = 0;
    std::string tags_json = "{}";  ///< the tags object, minified JSON
    bool ended = false;            ///< an end line was read
    bool crashed = false;          ///< no end line and its process is gone
    std::string dir;               ///< <storage>/<run_id>

    /// The status to show: STARTED, SUCCESS, FAILURE, CANCELED, or "crashed?".
    std::string shown_status() const { return crashed ? "crashed?" : status; }
};

/// One record of a run's event log.
struct event {
    std::int64_t t_us = 0;  ///< epoch microseconds
    int sev = 0;            ///< OpenTelemetry severity number
    std::string lvl, step, type, logger, msg, job;
    std::string fields;  ///< the attributes object, minified JSON ("" when none)
    std::string raw;     ///< the line as written (kept only when asked)
    long pid = 0, thread = 0;
};

/// Events read from a file from some byte offset on.
struct events_read {
    std::vector<event> events;
    std::uint64_t end = 0;       ///< offset after the last complete line read
    std::vector<std::uint64_t> ends;  ///< per event: the offset after its line
    bool torn_tail = false;      ///< the file ends in a line without its newline (skipped)
    std::vector<std::size_t> bad_lines;  ///< 1-based numbers of complete lines that are not a record (skipped)
};

/// The storage directory: `--home DIR` or $RUNLOG_HOME (default .runlog), plus /storage, as the library uses it.
std::string storage_dir(const std::optional<std::string>& home);
/// Every run of runs.jsonl, newest first. Notes about skipped lines go to `notes`.
std::vector<run_info> read_runs(const std::string& storage, std::vector<std::string>& notes);
/// The run `ref` names: a run id, a unique prefix of one, or "latest".
const run_info& find_run(const std::vector<run_info>& runs, std::string_view ref);
/// The records of an events.jsonl from byte `from` on (first_line: the number of the line at `from`).
events_read read_events(const std::string& path, std::uint64_t from = 0, std::size_t first_line = 1, bool keep_raw = false);
/// The events.jsonl of a run.
std::string events_path(const run_info& run);
/// Epoch microseconds of an RFC 3339 UTC timestamp ("2026-11-30T19:49:01.916854Z"), or nullopt.
std::optional<std::int64_t> parse_time(std::string_view s);
/// "2026-11-30 19:49:01.916 +0000"
std::string show_time(std::int64_t t_us, bool millis = true);
/// "262ms", "4.38s", "2m03s", "1h02m"
std::string show_duration(double ms);
/// The compute-log files of a step: its file key, found from LOGS_CAPTURED events (or the step key itself).
std::string file_key_of(const std::vector<event>& events, const std::string& step);
/// Whether a file key can name a file in compute_logs/ (no '/', not . or .., not empty).
bool safe_file_key(std::string_view key);

/// Dagster's filter tokens: step:KEY (with *), type:EVENT_TYPE, level:LEVEL (and above), query:TEXT, bare words.
struct filter {
    std::vector<std::string> steps, types, words;
    int min_sev = 0;
    static filter parse(const std::vector<std::string>& tokens);
    bool matches(const event& e) const;
};
/// The severity number a level name starts at (TRACE 1, DEBUG 5, INFO 9, WARNING 13, ERROR 17, CRITICAL 21), or 0.
int level_floor(std::string_view name);
/// Whether `text` matches `pattern`, where '*' stands for any run of characters.
bool wildcard_match(std::string_view pattern, std::string_view text);

/// A run as one JSON object (`runs --json`, the API and the live stream): the index's start and end lines merged.
std::string run_json(const run_info& r);
/// s with control characters shown as escapes (\n, \t, \xNN): safe to print on a terminal.
std::string printable(std::string_view s);
/// One event in the console layout (coloured when asked): time - logger - LEVEL - job - pid - step - TYPE - message.
std::string console_line(const event& e, bool color);

/// Appends s to out as a JSON string; with html_safe, '<', '>', '&', U+2028 and U+2029 become \u escapes.
void json_string(std::string& out, std::string_view s, bool html_safe = false);
/// s with invalid UTF-8 replaced by U+FFFD.
std::string valid_utf8(std::string_view s);

/// The run page's data (page/DATA.md) as JSON safe to embed in HTML.
std::string run_data(const run_info& run, const std::vector<event>& events, const std::string& stream = "",
                     const std::string& logs_url = "");
/// The run page: the embedded template with the run's data. `stream` non-empty makes it live (served), and
/// `logs_url` is then where the whole raw logs are (`<logs_url><file_key>.out`).
std::string run_page(const run_info& run, const std::vector<event>& events, const std::string& stream = "",
                     const std::string& logs_url = "");
/// The page template (page/run.html, compiled in).
std::string_view page_template();

/// Serves the runs list, run pages and their live streams until SIGINT or SIGTERM.
int serve(const std::string& storage, const std::string& bind, int port);

}  // namespace runlog_view
