#pragma once
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>

#include "../record.hpp"

namespace runlog {
inline namespace v0 {
namespace detail {

struct async_header;
struct async_ring;
class tick_clock;

/// What a record is for: the async pipeline that will write it (its first base).
struct async_target {
    /// Rebuilds a record from the ring and writes it (the backend).
    void (*process)(async_target* self, const async_header& h, const async_ring& ring, const tick_clock& clock);
    void (*flush)(async_target* self);  ///< writes out the sink's buffer (the backend, when idle)
    /// Writes a record from the caller's thread, once what it queued before is written (no queue, no backend).
    void (*write_here)(async_target* self, const record& r) noexcept;
};

/// One record's bytes in a ring: this header (32 bytes), then what its kind and flags say:
/// kind 1 (a format call): async_call, [context], [location], fields, arguments;
/// kind 2 (a formatted message): async_message, [context], [location], fields, message bytes;
/// kind 3 (a record too big for the ring): a pointer to its kind 1 or 2 bytes on the heap, which the
/// backend frees once it has written it. Its timestamp is the record's, so the merge order holds.
struct async_header {
    std::uint32_t size;  ///< bytes including this header, a multiple of 8; kind 0 is padding to the ring's end
    std::uint8_t kind;   ///< 0 padding, 1 format call, 2 formatted message, 3 a big record on the heap
    std::uint8_t flags;  ///< has_context, has_location
    std::uint16_t nfields;
    std::int32_t lvl;
    std::uint32_t logger_len;
    std::uint64_t ticks;
    async_target* target;
};
static_assert(sizeof(async_header) == 32);
inline constexpr std::uint8_t has_context = 1;
inline constexpr std::uint8_t has_location = 2;
inline constexpr std::uint8_t to_backtrace = 4;  ///< below the pipeline's level: for its backtrace

/// After the header of a format call: the static format string, the logger's name and the decoder.
struct async_call {
    const char* fmt;
    const char* logger;
    void (*render)(const char* args, std::string_view fmt, buffer& out);
    std::uint32_t fmt_len;
    std::uint32_t pad;
};
static_assert(sizeof(async_call) == 32);

/// After the header of a formatted message.
struct async_message {
    const char* logger;
    const event_info* event;
    std::uint32_t message_len;
    std::uint32_t event_fields;  ///< how many of the fields are the event's own
};

/// Run id, job and step lengths; their bytes follow.
struct async_context {
    std::uint32_t len[3];
    std::uint32_t pad;
};

/// Stores v at p, whatever p's alignment.
template <class T>
inline void store_at(char* p, const T& v) noexcept {
    std::memcpy(p, &v, sizeof v);
}

/// Writes a record header at p in four 8-byte stores (the timestamp is stored apart, later): narrow
/// stores of the fields, or a header built on the stack and copied, cost several cycles more per record.
inline void store_header(char* p, std::uint32_t size, std::uint8_t kind, std::uint8_t flags, std::uint16_t nfields,
                         std::int32_t lvl, std::uint32_t logger_len, async_target* target) noexcept {
    static_assert(offsetof(async_header, size) == 0 && offsetof(async_header, kind) == 4 &&
                  offsetof(async_header, flags) == 5 && offsetof(async_header, nfields) == 6 &&
                  offsetof(async_header, lvl) == 8 && offsetof(async_header, logger_len) == 12 &&
                  offsetof(async_header, ticks) == 16 && offsetof(async_header, target) == 24);
    if constexpr (std::endian::native == std::endian::little) {
        store_at(p, std::uint64_t{size} | std::uint64_t{kind} << 32 | std::uint64_t{flags} << 40 |
                        std::uint64_t{nfields} << 48);
        store_at(p + 8, std::uint64_t{static_cast<std::uint32_t>(lvl)} | std::uint64_t{logger_len} << 32);
    } else {
        store_at(p, size);
        store_at(p + 4, kind);
        store_at(p + 5, flags);
        store_at(p + 6, nfields);
        store_at(p + 8, lvl);
        store_at(p + 12, logger_len);
    }
    store_at(p + 24, target);
}

/// A single-producer, single-consumer ring of variable-size records, owned by one logging thread.
struct async_ring {
    explicit async_ring(std::size_t bytes, std::uint64_t thread)
        : capacity(bytes),
          max_record(bytes / 2),
          mask(bytes - 1),
          data(new (std::align_val_t{64}) char[bytes]),
          thread_id(thread),
          pid(process_id()) {
        std::memset(data, 0, bytes);  // touch every page now, not on the logging path
    }
    ~async_ring() { operator delete[](data, std::align_val_t{64}); }
    async_ring(const async_ring&) = delete;
    async_ring& operator=(const async_ring&) = delete;

    // Producer side.
    /// Bytes ever committed (a multiple of 8); while a record is being written (from before its
    /// timestamp is read until it is committed) the start of that record plus 1, an odd value.
    alignas(64) std::atomic<std::uint64_t> tail{0};
    std::uint64_t head_cache = 0;
    // Consumer side.
    alignas(64) std::atomic<std::uint64_t> head{0};  ///< bytes ever consumed
    std::uint64_t seen_writing = 0;                   ///< the last odd tail the backend saw
    std::uint64_t writing_bound = 0;                  ///< a lower bound of the timestamp being written
    std::uint64_t last_check = 0;                     ///< when the backend last read `writing`
    // Shared, read-only after construction, or set once.
    alignas(64) std::atomic<bool> orphaned{false};  ///< its thread has exited
    const std::size_t capacity;
    const std::size_t max_record;  ///< larger records go to the heap, and the ring refers to them
    const std::size_t mask;
    char* const data;
    const std::uint64_t thread_id;
    const std::uint32_t pid;

    /// Room for n bytes (n a multiple of 8) when they fit before the ring's end and the producer's last
    /// view of the head says there is room, else null (reserve then pads, or re-reads the head). `end`
    /// is what commit takes.
    char* try_reserve(std::size_t n, std::uint64_t& end) noexcept {
        const std::uint64_t pos = tail.load(std::memory_order_relaxed);
        const std::size_t offset = static_cast<std::size_t>(pos & mask);
        if (offset + n > capacity || pos + n - head_cache > capacity) [[unlikely]]
            return nullptr;
        end = pos + n;
        return data + offset;
    }
    /// Room for n bytes, padding to the end first when they would not fit there; null when the ring is full.
    char* reserve(std::size_t n, std::uint64_t& end) noexcept {
        const std::uint64_t pos = tail.load(std::memory_order_relaxed);
        const std::size_t offset = static_cast<std::size_t>(pos & mask);
        const std::size_t pad = offset + n > capacity ? capacity - offset : 0;
        if (pos + pad + n - head_cache > capacity) {
            head_cache = head.load(std::memory_order_acquire);
            if (pos + pad + n - head_cache > capacity) return nullptr;
        }
        if (pad) {
            auto* h = reinterpret_cast<async_header*>(data + offset);
            h->size = static_cast<std::uint32_t>(pad);
            h->kind = 0;
        }
        end = pos + pad + n;
        return data + ((pos + pad) & mask);
    }
    /// Marks the record reserved at [start, end) as being written: the backend holds its merge back
    /// until commit. Called before the record's timestamp is read.
    void begin(std::uint64_t start) noexcept { tail.store(start | 1, std::memory_order_release); }
    /// Publishes the bytes up to end (from try_reserve or reserve).
    void commit(std::uint64_t end) noexcept { tail.store(end, std::memory_order_release); }
    /// The committed bytes, whether or not a record is being written.
    std::uint64_t committed() const noexcept { return tail.load(std::memory_order_acquire) & ~std::uint64_t{1}; }
};

}  // namespace detail
}  // namespace v0
}  // namespace runlog
