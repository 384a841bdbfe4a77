#pragma once
// defines: qinfer::quant::QuantizeOptions, QuantizeReport, quantize_checkpoint, quantize_producer_version,
//          verify_quantized_checkpoint
//
// `qinfer quantize`: an unquantized (BF16 / F16 / F32) Hugging Face checkpoint that qinfer loads -> a checkpoint in
// NVIDIA ModelOpt's HF export format (shared/docs/quantized_checkpoints.md §1.7 tensors, §2 configs), which qinfer,
// vLLM and SGLang load:
//   - NVFP4 module X:  X.weight U8 [N, K/2], X.weight_scale F8_E4M3 [N, K/16], X.weight_scale_2 F32 [],
//                      X.input_scale F32 [] (W4A4 only; W4A16_NVFP4 has none)
//   - FP8 module X:    X.weight F8_E4M3 [N, K], X.weight_scale F32 [], X.input_scale F32 []
//   - everything else: copied byte for byte, dtype and names unchanged (the input's prefix is kept); fused 3-D expert
//     tensors with a quantized expert are written per expert, as ModelOpt does
//   - config.json with "quantization_config" added, hf_quant_config.json, and every other file of the folder copied.
// Which modules, and which scales they share: quantize_plan.h. Weight scales by ModelOpt's formulas (nvfp4_quantize,
// fp8_quantize with the group's shared scale); input scales from calibration (calibrate.h). The exclude list is
// ModelOpt's prefix-wildcard summary (exclude_summary.h), checked against every quantized module before writing.
// One output file, model.safetensors; its metadata records the calibration ids.

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "quant/quantize_plan.h"

namespace qinfer::quant {

struct QuantizeOptions {
    QuantizeFormat format = QuantizeFormat::Nvfp4;
    std::optional<QuantizePreset> preset;       // default: qwen3.6-mixed for --format mixed, else all-linear
    std::vector<std::string> exclude;           // fnmatch globs over output module names
    std::optional<std::filesystem::path> calib_ids;  // default: default_calibration_ids (calibrate.h)
    bool force = false;                         // write into a non-empty out_dir, replacing its checkpoint files
    bool progress = true;                       // progress bars on stderr (drawn only on a terminal)
};

struct QuantizeReport {
    std::string quant_algo;                          // top-level quant_algo written
    QuantizePreset preset = QuantizePreset::AllLinear;
    std::map<std::string, int64_t> modules;          // algo ("unquantized" for none) -> number of Linear modules
    std::vector<std::string> exclude_modules;        // as written
    std::map<std::string, std::string> quantized_layers;  // MIXED_PRECISION only
    std::vector<int64_t> calibration_ids;            // empty when nothing needed an input_scale
    bool default_calibration_ids = false;
    std::vector<std::string> files;                  // the files in out_dir afterwards, sorted
};

// `producer.version` written to both configs.
std::string quantize_producer_version();

// Throws qinfer::Error (one line, naming the file / module / option) when in_dir is not an unquantized checkpoint
// qinfer loads, out_dir is in_dir or exists non-empty without `force`, the options do not fit, or a check fails.
QuantizeReport quantize_checkpoint(const std::filesystem::path& in_dir, const std::filesystem::path& out_dir,
                                   const QuantizeOptions& options);

// Re-reads a written folder with qinfer's own loader planning (config parser, resolver, coverage proof; headers
// only, no weight data) and checks that every unit of `plan` resolves to its planned format. Throws naming the first
// module that does not ("internal: ..."): a writer bug, never a user error.
void verify_quantized_checkpoint(const std::filesystem::path& dir, const models::WeightSpec& spec,
                                 const QuantPlan& plan);

}  // namespace qinfer::quant
