#pragma once
// defines: qinfer::tok::FunctionRef — a non-owning reference to a callable
//
// The encode pipeline hands every piece to the next stage through a callback instead of building lists, so that
// a piece is BPE-encoded while it is still in cache. std::function would allocate and copy; this is two pointers
// and only lives as long as the call it is passed to.

#include <memory>
#include <type_traits>
#include <utility>

namespace qinfer::tok {

template <class Sig>
class FunctionRef;

template <class R, class... Args>
class FunctionRef<R(Args...)> {
public:
    template <class F, class = std::enable_if_t<!std::is_same_v<std::remove_cvref_t<F>, FunctionRef>>>
    FunctionRef(F&& f) noexcept  // NOLINT(google-explicit-constructor): used like a function parameter
        : obj_(const_cast<void*>(static_cast<const void*>(std::addressof(f)))), call_([](void* obj, Args... args) -> R {
              return (*static_cast<std::remove_reference_t<F>*>(obj))(std::forward<Args>(args)...);
          }) {}

    R operator()(Args... args) const { return call_(obj_, std::forward<Args>(args)...); }

private:
    void* obj_;
    R (*call_)(void*, Args...);
};

}  // namespace qinfer::tok
