#pragma once
// defines: qinfer::synth::SynthLayout, synth_layout_name, parse_synth_layout, SynthOptions, SynthReport,
//          synth_checkpoint
//
// `qinfer synth`: a random-weight Hugging Face checkpoint folder with the exact config, tensor names and ModelOpt
// layout of a released Qwen3.5-family model, for testing loaders, kernels and serving at real sizes without
// downloading anything. The folder holds:
//   config.json             the preset's (presets.h), with --layers / --set applied (synth_config.h) and, when
//                           quantized, "quantization_config" as ModelOpt writes it (quant/quantize_config.h)
//   hf_quant_config.json    quantized layouts only (the legacy ModelOpt file)
//   model*.safetensors      BF16 tensors / ModelOpt NVFP4 or FP8 tensors (synth_plan.h), sharded as transformers
//                           shards (sharded_writer.h), + model.safetensors.index.json when there are several
//   generation_config.json  the config's bos / eos / pad ids, as transformers derives it from a model config
//   README.md               says that the weights are random
// The MTP head is written (BF16, unquantized in every layout) when the config declares mtp_num_hidden_layers
// (synth_plan.h); the vision tower is not (the loader ignores model.visual.*), and there is no tokenizer.
// Layouts, each the (format, preset) of `qinfer quantize` (quant/quantize_plan.h), so names, scales and exclusion
// lists are exactly what quantizing a real checkpoint of this shape writes:
//   bf16           unquantized (Qwen3.5 MoE experts fused 3-D, as HF releases them)
//   nvfp4-all      NVFP4 W4A4 on every Linear but lm_head (all-linear)
//   nvidia-nvfp4   NVFP4 W4A4 on the routed experts only (NVIDIA's Qwen3.5 NVFP4 releases; MoE presets only)
//   qwen3.6-mixed  MIXED_PRECISION as the Qwen3.6 releases (W4A16_NVFP4 MLP / experts / lm_head, FP8 attention and
//                  GDN in_proj_qkv / in_proj_z / out_proj, BF16 in_proj_a / in_proj_b)
//   fp8            FP8 W8A8 per-tensor on every Linear but lm_head (all-linear)
// Values: synth/init.h, rounded to BF16. Quantized layouts quantize those BF16 values for real with ModelOpt's
// formulas (quant/nvfp4.h, quant/fp8.h), the weight scale shared over each scale group as `qinfer quantize` shares
// it, so `qinfer quantize` of the bf16 layout writes the same weights and weight scales; only input_scale differs:
// it is not calibrated, every unit gets the scale of a constant activation amax (kSynthInputAmax).
//
// Speed: values are generated, quantized and written in parallel chunks (OpenMP, dynamic schedule) straight into the
// pre-laid-out shard files, in two passes over the quantized weights (their group's amax first, because a unit's
// scales depend on the max over its group; then quantize + write). Memory stays at a few MB per thread.
// After writing, the folder is re-read with qinfer's loader planning (headers only) and every module must resolve to
// its planned format.

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "synth/sharded_writer.h"
#include "synth/synth_config.h"

namespace qinfer::synth {

// Activation amax behind every synthetic input_scale: input_scale = 32 / (6 · 448) for NVFP4 and 32 / 448 for FP8
// (ModelOpt's formulas, quantized_checkpoints.md §1.6). RMS-normalised inputs have |x| of a few units, so 32 leaves
// the headroom a calibrated scale would have, without saturating the E4M3 activation block scales.
inline constexpr float kSynthInputAmax = 32.0f;

enum class SynthLayout : uint8_t { Bf16, Nvfp4All, NvidiaNvfp4, Qwen36Mixed, Fp8 };
std::string_view synth_layout_name(SynthLayout l);  // "bf16" | "nvfp4-all" | "nvidia-nvfp4" | "qwen3.6-mixed" | "fp8"
SynthLayout parse_synth_layout(const std::string& s);  // throws listing the valid names
std::vector<SynthLayout> all_synth_layouts();

struct SynthOptions {
    std::string preset;
    SynthLayout layout = SynthLayout::Bf16;
    std::filesystem::path out;
    uint64_t seed = 0;
    int threads = 0;                        // 0 = OpenMP's default (all cores)
    int64_t layers = 0;                     // 0 = the preset's
    std::vector<ConfigOverride> overrides;  // --set (testing aid)
    uint64_t max_shard_bytes = kDefaultMaxShardBytes;
    bool force = false;    // write into a non-empty folder, replacing its checkpoint files
    bool progress = true;  // progress bars on stderr (drawn only on a terminal)
};

struct SynthReport {
    std::string quant_algo;                  // "" for bf16
    std::map<std::string, int64_t> modules;  // quantized layouts: algo ("unquantized") -> Linear modules
    size_t exclude_modules = 0;              // entries of the exclude list written
    int64_t parameters = 0;                  // values generated
    size_t tensors = 0;
    uint64_t bytes = 0;              // tensor data written
    size_t shards = 0;               // safetensors files written
    std::vector<std::string> files;  // the folder's files afterwards, sorted
    int threads = 0;                 // threads used
    double seconds = 0.0;            // wall time of the whole command
};

// Throws qinfer::Error (one line, naming the option / field / file) for an unknown preset, a layout that quantizes
// nothing of the preset, an invalid --layers / --set, an existing non-empty `out` without `force`, or an I/O error.
SynthReport synth_checkpoint(const SynthOptions& options);

}  // namespace qinfer::synth
