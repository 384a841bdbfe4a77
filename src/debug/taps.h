#pragma once
// defines: qinfer::Taps
//
// Named intermediates (conventions.md C10). Layers report tensors under stable names that follow the HF module path
// of the text model ("model.layers.3.linear_attn.out"), so a wrong layer can be found by diffing `qinfer logits
// --dump` against transformers' hidden states (tools/golden). A null Taps pointer costs one branch per tap; names are
// only built when a sink is attached.

#include <functional>
#include <string>
#include <vector>

#include "core/check.h"
#include "core/tensor.h"

namespace qinfer {

class Taps {
public:
    using Sink = std::function<void(const std::string& name, const Tensor& value)>;
    // Debugging and tests: may change the experts a sparse MoE block chose, given its f32 router logits [T, E] and
    // its choice (ids int32 [T*k], weights f32 [T*k]). Used to replay another backend's routing decisions on the
    // reference (tests/cuda: bf16 near-ties route differently on the GPU).
    using RouteHook = std::function<void(const std::string& prefix, const Tensor& router_logits,
                                         std::vector<int32_t>& experts, std::vector<float>& weights)>;
    explicit Taps(Sink sink, RouteHook route_hook = nullptr)
        : sink_(std::move(sink)), route_hook_(std::move(route_hook)) {}
    void emit(const std::string& name, const Tensor& value) const { sink_(name, value); }
    void route(const std::string& prefix, const Tensor& router_logits, std::vector<int32_t>& experts,
               std::vector<float>& weights) const {
        if (route_hook_) route_hook_(prefix, router_logits, experts, weights);
    }

private:
    Sink sink_;
    RouteHook route_hook_;
};

// Usage: QINFER_TAP(taps, t, "model.layers.", i, ".out"); the name is formatted only when taps != nullptr.
#define QINFER_TAP(taps, tensor, ...)                                       \
    do {                                                                    \
        if ((taps) != nullptr) (taps)->emit(::qinfer::str_cat(__VA_ARGS__), (tensor)); \
    } while (0)

}  // namespace qinfer
