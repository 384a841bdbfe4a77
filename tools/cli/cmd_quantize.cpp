#include <iostream>

#include "args.h"
#include "commands.h"
#include "quant/calibrate.h"
#include "quant/quantize.h"

namespace qinfer::cli {

int cmd_quantize(const std::vector<std::string>& argv) {
    Args args("quantize",
              "Quantizes an unquantized (BF16/F16/F32) checkpoint folder that qinfer loads and writes it to OUT_DIR in\n"
              "NVIDIA ModelOpt's HF export format: model.safetensors (NVFP4: U8 weight + F8_E4M3 weight_scale + F32\n"
              "weight_scale_2 [+ input_scale]; FP8: F8_E4M3 weight + F32 weight_scale + input_scale; everything else\n"
              "copied unchanged; fused 3-D experts written per expert), config.json with quantization_config, and\n"
              "hf_quant_config.json. Scales follow ModelOpt: Linears fed the same input share weight_scale_2 and\n"
              "input_scale; input scales come from calibrating on token ids through the CPU forward.\n\n"
              "presets:\n"
              "  all-linear      every Linear except lm_head (default for nvfp4, w4a16_nvfp4, fp8)\n"
              "  nvidia-qwen3.5  routed experts only, as NVIDIA's Qwen3.5 NVFP4 releases\n"
              "  qwen3.6-mixed   MIXED_PRECISION as the Qwen3.6 releases (needs --format mixed, its default):\n"
              "                  W4A16_NVFP4 MLP/experts and lm_head, FP8 attention and GDN in_proj_qkv/z/out_proj\n"
              "Routers, shared_expert_gate, norms, conv, A_log, embeddings, the vision tower and MTP stay unquantized.",
              {"IN_DIR", "OUT_DIR"},
              {{"format", "FORMAT",
                "required: nvfp4 (W4A4 NVFP4, with input_scale) | w4a16_nvfp4 (weight-only NVFP4) | fp8 (W8A8 "
                "per-tensor) | mixed (the qwen3.6-mixed preset)"},
               {"preset", "NAME", "nvidia-qwen3.5 | all-linear | qwen3.6-mixed (see above)"},
               {"exclude", "GLOB...", "keep modules matching this fnmatch glob unquantized (repeatable; `*` crosses dots)"},
               {"calib-ids", "FILE",
                "calibration token ids, comma- or whitespace-separated (default: " +
                    std::to_string(quant::kCalibrationLength) + " ids from splitmix64(seed " +
                    std::to_string(quant::kCalibrationSeed) + ") % vocab)"},
               {"force", "", "write into a non-empty OUT_DIR, replacing its checkpoint files"}},
              argv);
    if (args.help_requested()) {
        std::cout << args.usage();
        return 0;
    }
    quant::QuantizeOptions options;
    options.format = quant::parse_quantize_format(args.get("format"));
    if (args.has("preset")) options.preset = quant::parse_quantize_preset(args.get("preset"));
    options.exclude = args.get_all("exclude");
    if (args.has("calib-ids")) options.calib_ids = args.get("calib-ids");
    options.force = args.has("force");
    const quant::QuantizeReport r = quant::quantize_checkpoint(args.positional(0), args.positional(1), options);

    std::cout << "quantized " << args.positional(0) << " -> " << args.positional(1) << ": " << r.quant_algo
              << " (preset " << quant::quantize_preset_name(r.preset) << ")\n";
    std::cout << "linear modules:";
    for (const auto& [algo, n] : r.modules) std::cout << "  " << n << " " << algo;
    std::cout << "\n";
    if (!r.calibration_ids.empty()) {
        std::cout << "calibration: " << r.calibration_ids.size() << " ids"
                  << (r.default_calibration_ids ? " (default sequence)" : "") << "\n";
    }
    if (!r.quantized_layers.empty()) std::cout << "quantized_layers: " << r.quantized_layers.size() << " entries\n";
    std::cout << "exclude_modules (" << r.exclude_modules.size() << "):";
    for (const auto& e : r.exclude_modules) std::cout << " " << e;
    std::cout << "\nwrote:";
    for (const auto& f : r.files) std::cout << " " << f;
    std::cout << "\n";
    return 0;
}

}  // namespace qinfer::cli
