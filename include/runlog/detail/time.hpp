#pragma once
/// Calendar time for the formatters; included by their definitions.
#include <cstdint>
#include <ctime>
#include <string_view>

#include "../format/buffer.hpp"
#include "chrono.hpp"

namespace runlog {
inline namespace v0 {
namespace detail {

/// A calendar date and time of day.
struct civil_time {
    std::int64_t year;
    unsigned month, day, hour, minute, second;
};

/// Converts seconds since the epoch (UTC) to a civil date and time, proleptic Gregorian.
constexpr civil_time civil_from_seconds(std::int64_t secs) noexcept {
    std::int64_t days = secs / 86400;
    std::int64_t rem = secs % 86400;
    if (rem < 0) {
        rem += 86400;
        --days;
    }
    // Days since 0000-03-01, so that the leap day ends each 4-year cycle.
    const std::int64_t z = days + 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const auto doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    const unsigned d = doy - (153 * mp + 2) / 5 + 1;
    const unsigned m = mp < 10 ? mp + 3 : mp - 9;
    const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2 ? 1 : 0);
    const auto r = static_cast<unsigned>(rem);
    return {y, m, d, r / 3600, r / 60 % 60, r % 60};
}

inline void put2(char* p, unsigned v) noexcept {
    p[0] = static_cast<char>('0' + v / 10 % 10);
    p[1] = static_cast<char>('0' + v % 10);
}

/// Per-thread cache of the second's date, time and UTC offset text, refreshed when the second changes.
class second_cache {
public:
    explicit second_cache(bool utc) noexcept : utc_(utc) {}

    /// Makes the texts describe the second that contains t.
    void update(std::int64_t secs) noexcept {
        if (secs == secs_) return;
        secs_ = secs;
        long offset = 0;
        civil_time c{};
        if (utc_) {
            c = civil_from_seconds(secs);
        } else {
            std::tm tm{};
            auto t = static_cast<std::time_t>(secs);
            if (::localtime_r(&t, &tm) != nullptr) {
                offset = tm.tm_gmtoff;
                c = civil_from_seconds(secs + offset);
            } else {
                c = civil_from_seconds(secs);
            }
        }
        auto y = c.year < 0 ? 0 : (c.year > 9999 ? 9999 : static_cast<unsigned>(c.year));
        put2(date_, y / 100);
        put2(date_ + 2, y % 100);
        date_[4] = '-';
        put2(date_ + 5, c.month);
        date_[7] = '-';
        put2(date_ + 8, c.day);
        put2(time_, c.hour);
        time_[2] = ':';
        put2(time_ + 3, c.minute);
        time_[5] = ':';
        put2(time_ + 6, c.second);
        tz_[0] = offset < 0 ? '-' : '+';
        auto a = static_cast<unsigned>(offset < 0 ? -offset : offset);
        put2(tz_ + 1, a / 3600);
        put2(tz_ + 3, a / 60 % 60);
    }
    std::string_view date() const noexcept { return {date_, 10}; }
    std::string_view time() const noexcept { return {time_, 8}; }
    std::string_view tz() const noexcept { return {tz_, 5}; }

private:
    bool utc_;
    std::int64_t secs_ = INT64_MIN;
    char date_[10]{};
    char time_[8]{};
    char tz_[5]{};
};

/// Splits a time point into whole seconds (floor) and the microseconds within that second.
inline void split_time(std::chrono::system_clock::time_point t, std::int64_t& secs, unsigned& micros) noexcept {
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
    secs = us / 1'000'000;
    auto rem = us % 1'000'000;
    if (rem < 0) {
        rem += 1'000'000;
        --secs;
    }
    micros = static_cast<unsigned>(rem);
}

/// Appends `n` decimal digits of v, zero-padded.
inline void append_digits(buffer& out, unsigned v, int n) {
    char tmp[10]{};  // initialised only to quiet -Wmaybe-uninitialized; n <= 10
    for (int i = n - 1; i >= 0; --i) {
        tmp[i] = static_cast<char>('0' + v % 10);
        v /= 10;
    }
    out.append(tmp, tmp + n);
}

/// Appends an RFC 3339 UTC timestamp with microseconds: 2026-11-24T12:40:05.123456Z.
inline void append_rfc3339(buffer& out, std::chrono::system_clock::time_point t) {
    thread_local second_cache cache(true);
    std::int64_t secs;
    unsigned micros;
    split_time(t, secs, micros);
    cache.update(secs);
    out.append(cache.date());
    out.push_back('T');
    out.append(cache.time());
    out.push_back('.');
    append_digits(out, micros, 6);
    out.push_back('Z');
}

}  // namespace detail
}  // namespace v0
}  // namespace runlog
