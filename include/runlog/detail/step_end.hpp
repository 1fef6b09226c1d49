#pragma once
/// What wants to know that a step is ending on the calling thread, while the step's context is still the
/// thread's: a stream bridge sends the thread's unfinished line then, so it keeps its step.
#include <atomic>
#include <mutex>
#include <vector>

namespace runlog {
inline namespace v0 {
namespace detail {

class step_end_listeners {
public:
    using fn = void (*)(void* self) noexcept;

    static step_end_listeners& instance() noexcept {
        static step_end_listeners* const l = new step_end_listeners;  // never destroyed: steps may end at exit
        return *l;
    }
    void add(fn f, void* self) {
        std::lock_guard lock(mutex_);
        list_.push_back({f, self});
        count_.store(list_.size(), std::memory_order_release);
    }
    void remove(void* self) noexcept {
        std::lock_guard lock(mutex_);
        std::erase_if(list_, [self](const entry& e) { return e.self == self; });
        count_.store(list_.size(), std::memory_order_release);
    }
    /// Tells every listener, on the calling thread; a listener is not removed while it is being told.
    void step_ending() noexcept {
        if (count_.load(std::memory_order_acquire) == 0) return;
        std::lock_guard lock(mutex_);
        for (const auto& e : list_) e.f(e.self);
    }

private:
    struct entry {
        fn f;
        void* self;
    };
    std::mutex mutex_;
    std::vector<entry> list_;
    std::atomic<std::size_t> count_{0};
};

}  // namespace detail
}  // namespace v0
}  // namespace runlog
