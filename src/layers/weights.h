#pragma once
// defines: qinfer::layers::ActivationQuant, LinearSegment, Linear, ModelWeights
//
// The CPU reference holds every weight in fp32 (quantized formats are dequantized exactly at load: weight-only, W4A16
// semantics). What a real W4A4 / W8A8 kernel additionally does to a layer's *input* is emulated on request
// (`--activation-quant`): each checkpoint shard that carries an input_scale becomes a LinearSegment (its row range of
// the runtime weight), and Linear::forward quantizes the input with that shard's scheme before multiplying its rows.
// Shards of one fused module may differ (mixed shards run as separate GEMMs, each in its own format); the segments
// say so exactly.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace qinfer::layers {

enum class ActivationQuant : uint8_t {
    None,   // weight-only (W4A16 / BF16): the input stays as it is
    Nvfp4,  // W4A4 NVFP4: static input_scale + dynamic 16-element E4M3 block scales, E2M1 elements
    Fp8,    // W8A8 FP8: static per-tensor input_scale, E4M3 elements
};

// Rows [row_begin, row_end) of a runtime weight (flattened to 2-D: stacked experts count e*rows + r) whose checkpoint
// shard quantizes its input.
struct LinearSegment {
    int64_t row_begin = 0;
    int64_t row_end = 0;
    ActivationQuant act = ActivationQuant::None;
    float input_scale = 1.0f;
};

// Applies x (in place, f32 [T, K]) the activation quantization of a segment.
void fake_quantize_input(Tensor& x, const LinearSegment& s);

class Linear {
public:
    // weight: f32 [N, K]; segments: the row ranges whose input is quantized (empty = plain fp32 GEMM).
    Linear(const Tensor& weight, std::vector<LinearSegment> segments) : weight_(weight), segments_(std::move(segments)) {}
    Tensor forward(const Tensor& x) const;  // f32 [T, K] -> [T, N]
    const Tensor& weight() const { return weight_; }

private:
    const Tensor& weight_;
    std::vector<LinearSegment> segments_;
};

struct ModelWeights {
    std::map<std::string, Tensor> tensors;                           // fp32 runtime parameters by runtime name
    std::map<std::string, std::string> tied;                         // tied runtime name -> the parameter it shares
    std::map<std::string, std::vector<LinearSegment>> act_segments;  // only when activation quantization is emulated

    const Tensor& tensor(const std::string& name) const;  // throws naming the parameter if absent
    Linear linear(const std::string& name) const;
    const std::vector<LinearSegment>& segments(const std::string& name) const;  // empty when none
};

}  // namespace qinfer::layers
