#pragma once
#include <cstddef>
#include <memory>
#include <type_traits>
#include <utility>

namespace runlog {
inline namespace v0 {
namespace detail {

template <class Signature>
class shared_function;

/// A copyable callable whose copies share one target (a std::function without <functional>, which
/// costs every file that includes it; runlog's callbacks are called rarely and copied rarely).
template <class R, class... Args>
class shared_function<R(Args...)> {
public:
    shared_function() noexcept = default;
    shared_function(std::nullptr_t) noexcept {}
    /// Holds f; an empty std::function or a null function pointer leaves this empty.
    template <class F>
        requires(std::is_invocable_r_v<R, std::decay_t<F>&, Args...> &&
                 !std::is_same_v<std::decay_t<F>, shared_function>)
    shared_function(F&& f) {
        using T = std::decay_t<F>;
        if constexpr (std::is_constructible_v<bool, const T&>)
            if (!static_cast<bool>(f)) return;
        target_ = std::make_shared<T>(std::forward<F>(f));
        call_ = [](void* t, Args... a) -> R { return (*static_cast<T*>(t))(std::forward<Args>(a)...); };
    }

    explicit operator bool() const noexcept { return call_ != nullptr; }
    /// Calls the target; it must not be empty.
    R operator()(Args... a) const { return call_(target_.get(), std::forward<Args>(a)...); }

private:
    std::shared_ptr<void> target_;
    R (*call_)(void*, Args...) = nullptr;
};

}  // namespace detail
}  // namespace v0
}  // namespace runlog
