#include "layers/weights.h"

#include <algorithm>

#include "core/check.h"
#include "core/dtype.h"
#include "kernels/cpu/linear.h"
#include "ops/linear.h"
#include "quant/fp8.h"
#include "quant/nvfp4.h"

namespace qinfer::layers {

void fake_quantize_input(Tensor& x, const LinearSegment& s) {
    switch (s.act) {
        case ActivationQuant::None:
            return;
        case ActivationQuant::Nvfp4:
            quant::nvfp4_fake_quantize_activation(x.span(), x.dim(0), x.dim(-1), s.input_scale);
            return;
        case ActivationQuant::Fp8:
            quant::fp8_fake_quantize_activation(x.span(), s.input_scale);
            return;
    }
}

void round_to_bf16(Tensor& t) {
    for (float& v : t.span()) v = round_bf16(v);
}

Linear::Linear(std::string name, const Tensor& weight, std::vector<LinearSegment> segments,
               const InputObserver* observer, bool bf16)
    : name_(std::move(name)), weight_(weight), segments_(std::move(segments)), observer_(observer), bf16_(bf16) {
    QINFER_CHECK(!(bf16_ && !segments_.empty()), name_,
                 ": the bf16 engine emulation and --activation-quant do not combine");
}

Tensor Linear::forward(const Tensor& x, Store store) const {
    Tensor rounded;  // the bf16 engine's input, when emulating one
    if (bf16_) {
        rounded = x;
        round_to_bf16(rounded);
    }
    const Tensor& in = bf16_ ? rounded : x;
    if (observer_ != nullptr && *observer_) [[unlikely]]
        (*observer_)(name_, 0, weight_.dim(0), in);
    if (segments_.empty()) {
        Tensor y = ops::linear(in, weight_);
        if (bf16_ && store == Store::Bf16) round_to_bf16(y);
        return y;
    }
    const int64_t T = x.dim(0), K = x.dim(1), N = weight_.dim(0);
    QINFER_CHECK(weight_.dim(1) == K, "linear: input width ", K, " does not match weight ", shape_str(weight_.shape()));
    Tensor y = ops::linear(x, weight_);  // f32 [T, N]: rows without a quantized input are final here
    Tensor part;                         // f32 [T, rows of one segment]
    for (const LinearSegment& s : segments_) {
        if (s.act == ActivationQuant::None) continue;
        Tensor xq = x;
        fake_quantize_input(xq, s);
        const int64_t rows = s.row_end - s.row_begin;
        part = Tensor({T, rows});
        kernels::cpu::linear_into(xq.data(), T, K, weight_.data() + s.row_begin * K, rows, part.data());
        for (int64_t t = 0; t < T; ++t) {
            std::copy(part.row(t), part.row(t) + rows, y.data() + t * N + s.row_begin);
        }
    }
    return y;
}

const Tensor& ModelWeights::tensor(const std::string& name) const {
    auto t = tied.find(name);
    const std::string& key = t == tied.end() ? name : t->second;
    auto it = tensors.find(key);
    QINFER_CHECK(it != tensors.end(), "internal: runtime parameter ", name, " was not loaded");
    return it->second;
}

const std::vector<LinearSegment>& ModelWeights::segments(const std::string& name) const {
    static const std::vector<LinearSegment> kNone;
    auto it = act_segments.find(name);
    return it == act_segments.end() ? kNone : it->second;
}

Linear ModelWeights::linear(const std::string& name) const {
    return Linear(name, tensor(name), segments(name), &observer, bf16_activations);
}

}  // namespace qinfer::layers
