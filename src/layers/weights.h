#pragma once
// defines: qinfer::layers::ActivationQuant, LinearSegment, InputObserver, Linear, ModelWeights
//
// The CPU reference holds every weight in fp32 (quantized formats are dequantized exactly at load: weight-only, W4A16
// semantics). What a real W4A4 / W8A8 kernel additionally does to a layer's *input* is emulated on request
// (`--activation-quant`): each checkpoint shard that carries an input_scale becomes a LinearSegment (its row range of
// the runtime weight), and Linear::forward quantizes the input with that shard's scheme before multiplying its rows.
// Shards of one fused module may differ (mixed shards run as separate GEMMs, each in its own format); the segments
// say so exactly.
//
// A bf16-activation engine (the CUDA backend) is emulated on request too (LoadOptions::bf16_activations, tests only):
// every GEMM input is rounded to bf16, and so is every GEMM output that such an engine keeps as a bf16 activation
// (Linear::forward with Store::Bf16: the projections feeding attention, GDN and SiLU·mul; not the residual-stream
// outputs, which it accumulates in f32). Comparing a bf16 engine with this reference does not depend on how well
// conditioned the model is at each token: both see the same rounded operands, so a head whose output nearly cancels
// (tests/cuda/test_model_gpu.cpp) does not amplify rounding noise into a mismatch.
//
// Calibration (`qinfer quantize`, quant/calibrate.h) needs the input of every GEMM: ModelWeights::observer, when set,
// is called by Linear::forward and by the routed-expert path of SparseMoe. Unset, it costs one branch per GEMM.

#include <cstdint>
#include <functional>
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

// Sees the input of a GEMM before it runs: the runtime parameter's name as in ModelWeights
// ("layers.0.self_attn.qkv_proj.weight", "lm_head.weight"), the rows [row_begin, row_end) of that weight (flattened to
// 2-D: stacked experts count e*rows + r) the input is multiplied with, and the input f32 [T, K] as the layer holds it
// (before any --activation-quant emulation). A Linear reports all its rows once per forward call. Routed experts
// report once per (token, selected expert): gate_up_proj rows [e*2I, (e+1)*2I) with that token's x [1, H], then
// down_proj rows [e*H, (e+1)*H) with its silu(gate)*up [1, I]. Called on the forward's thread, in forward order.
using InputObserver =
    std::function<void(const std::string& param, int64_t row_begin, int64_t row_end, const Tensor& input)>;

// Applies x (in place, f32 [T, K]) the activation quantization of a segment.
void fake_quantize_input(Tensor& x, const LinearSegment& s);

// Rounds every element of t to the nearest bf16 (ties to even), in place.
void round_to_bf16(Tensor& t);

// How a GEMM's result is kept by the bf16 engine the reference may emulate (see the file comment).
enum class Store : uint8_t {
    F32,   // accumulated into the f32 residual stream, or an f32 result (router logits)
    Bf16,  // a bf16 activation: rounded when emulating
};

class Linear {
public:
    // name: the runtime parameter (for the observer); weight: f32 [N, K]; segments: the row ranges whose input is
    // quantized (empty = plain fp32 GEMM); observer: called with every input when it points at a non-empty function.
    // bf16: emulate a bf16-activation engine (round the input; and the output where `store` says so).
    // (bf16 with segments is refused: the emulations do not combine.)
    Linear(std::string name, const Tensor& weight, std::vector<LinearSegment> segments,
           const InputObserver* observer = nullptr, bool bf16 = false);
    Tensor forward(const Tensor& x, Store store = Store::F32) const;  // f32 [T, K] -> [T, N]
    const Tensor& weight() const { return weight_; }
    const std::string& name() const { return name_; }
    bool emulates_bf16() const { return bf16_; }

private:
    std::string name_;
    const Tensor& weight_;
    std::vector<LinearSegment> segments_;
    const InputObserver* observer_;  // ModelWeights::observer; checked (not copied) at each call, so it can be set late
    bool bf16_;
};

struct ModelWeights {
    std::map<std::string, Tensor> tensors;                           // fp32 runtime parameters by runtime name
    std::map<std::string, std::string> tied;                         // tied runtime name -> the parameter it shares
    std::map<std::string, std::vector<LinearSegment>> act_segments;  // only when activation quantization is emulated
    InputObserver observer;                                          // empty unless calibrating (see InputObserver)
    bool bf16_activations = false;                                   // emulate a bf16-activation engine (tests)

    const Tensor& tensor(const std::string& name) const;  // throws naming the parameter if absent
    Linear linear(const std::string& name) const;  // observed through `observer`
    const std::vector<LinearSegment>& segments(const std::string& name) const;  // empty when none
};

}  // namespace qinfer::layers
