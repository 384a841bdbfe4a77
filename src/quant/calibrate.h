#pragma once
// defines: qinfer::quant::kCalibrationSeed, kCalibrationLength, default_calibration_ids, read_calibration_ids,
//          calibrate_input_amax
//
// Static activation scales for `qinfer quantize` (W4A4 NVFP4 input_scale = amax/(6·448), FP8 input_scale = amax/448;
// shared/docs/quantized_checkpoints.md §1.6): the max |x| each GEMM input reaches while the unquantized model runs
// the calibration ids through the CPU reference forward, in one prefill. The inputs are seen through the model's
// InputObserver (layers/weights.h); routed experts report only the tokens routed to them.

#include <cstdint>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <vector>

namespace qinfer {
class Model;
}

namespace qinfer::quant {

inline constexpr uint64_t kCalibrationSeed = 20250601;  // seed of the default calibration ids
inline constexpr int64_t kCalibrationLength = 64;      // number of default calibration ids

// The default calibration ids: kCalibrationLength values of the splitmix64 stream seeded with kCalibrationSeed, each
// taken modulo vocab_size. Deterministic on every platform; random ids exercise every embedding row about equally,
// which is what a tiny-model test needs (real checkpoints should be calibrated on real text with --calib-ids).
std::vector<int64_t> default_calibration_ids(int64_t vocab_size);

// Token ids from a text file, separated by commas and/or whitespace. An element that is not a non-negative integer
// below vocab_size, an empty element between commas, or a file with no ids is an error naming the file and the token.
std::vector<int64_t> read_calibration_ids(const std::filesystem::path& file, int64_t vocab_size);

// Runs ids through `model` in one prefill and returns, per runtime parameter that received an input (the observer's
// name: "layers.0.self_attn.qkv_proj.weight", "layers.0.mlp.experts.gate_up_proj"), max |x| over everything it saw.
// The observer is removed again before returning. A non-finite input is an error naming the parameter.
std::map<std::string, float> calibrate_input_amax(Model& model, std::span<const int64_t> ids);

}  // namespace qinfer::quant
