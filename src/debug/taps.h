#pragma once
// defines: qinfer::Taps
//
// Named intermediates (conventions.md C10). Layers report tensors under stable names that follow the HF module path
// of the text model ("model.layers.3.linear_attn.out"), so a wrong layer can be found by diffing `qinfer logits
// --dump` against transformers' hidden states (tools/golden). A null Taps pointer costs one branch per tap; names are
// only built when a sink is attached.

#include <functional>
#include <string>

#include "core/check.h"
#include "core/tensor.h"

namespace qinfer {

class Taps {
public:
    using Sink = std::function<void(const std::string& name, const Tensor& value)>;
    explicit Taps(Sink sink) : sink_(std::move(sink)) {}
    void emit(const std::string& name, const Tensor& value) const { sink_(name, value); }

private:
    Sink sink_;
};

// Usage: QINFER_TAP(taps, t, "model.layers.", i, ".out"); the name is formatted only when taps != nullptr.
#define QINFER_TAP(taps, tensor, ...)                                       \
    do {                                                                    \
        if ((taps) != nullptr) (taps)->emit(::qinfer::str_cat(__VA_ARGS__), (tensor)); \
    } while (0)

}  // namespace qinfer
