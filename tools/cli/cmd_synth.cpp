#include <cstdio>
#include <iostream>

#include "args.h"
#include "commands.h"
#include "core/check.h"
#include "synth/presets.h"
#include "synth/synth.h"

namespace qinfer::cli {

namespace {

std::string joined(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
    return s;
}

std::string layout_names() {
    std::vector<std::string> v;
    for (synth::SynthLayout l : synth::all_synth_layouts()) v.emplace_back(synth::synth_layout_name(l));
    return joined(v);
}

}  // namespace

int cmd_synth(const std::vector<std::string>& argv) {
    Args args(
        "synth",
        "Writes a random-weight Hugging Face checkpoint folder with the exact config.json, tensor names, shapes\n"
        "and ModelOpt quantization layout of a released model: config.json, sharded model*.safetensors (+ index),\n"
        "hf_quant_config.json (quantized layouts), generation_config.json, README.md. Values are random but\n"
        "scaled like a real model, BF16, deterministic for --seed whatever --threads. Quantized layouts quantize\n"
        "those BF16 values for real with ModelOpt's formulas: `qinfer quantize` of the bf16 layout writes the\n"
        "same bytes, except input_scale (a constant here, not calibrated). The MTP head is written (BF16) when\n"
        "the config declares one; no tokenizer or vision tower.\n\n"
        "layouts:\n"
        "  bf16           unquantized (Qwen3.5 MoE experts fused 3-D, as HF releases them)\n"
        "  nvfp4-all      NVFP4 W4A4 on every Linear but lm_head (quantize --preset all-linear)\n"
        "  nvidia-nvfp4   NVFP4 W4A4 on routed experts only, as NVIDIA's Qwen3.5 releases (MoE presets)\n"
        "  qwen3.6-mixed  MIXED_PRECISION as the Qwen3.6 releases: W4A16_NVFP4 MLP/experts/lm_head, FP8\n"
        "                 attention and GDN in_proj_qkv/z/out_proj, BF16 in_proj_a/b\n"
        "  fp8            FP8 W8A8 per-tensor on every Linear but lm_head\n"
        "Quantized experts are written per expert, as ModelOpt exports them.",
        {},
        {{"preset", "NAME", "required: " + joined(synth::preset_names())},
         {"layout", "LAYOUT", "required: " + layout_names()},
         {"out", "DIR", "required: output folder (created; must be empty unless --force)"},
         {"seed", "N", "random seed (default 0)"},
         {"threads", "N", "worker threads (default: all cores; the output does not depend on it)"},
         {"layers", "N", "write only the first N layers (num_hidden_layers = N, layer_types cut to N)"},
         {"max-shard-size", "SIZE", "largest shard, e.g. 5GB (default), 500MB, 2GiB"},
         {"set", "KEY=VALUE...",
          "testing aid: replace an integer text-config field (e.g. vocab_size=512) to get the preset's "
          "structure at a smaller size; the written config states the value (repeatable)"},
         {"force", "", "write into a non-empty DIR, replacing its checkpoint files"}},
        argv);
    if (args.help_requested()) {
        std::cout << args.usage();
        return 0;
    }
    synth::SynthOptions o;
    o.preset = args.get("preset");
    o.layout = synth::parse_synth_layout(args.get("layout"));
    o.out = args.get("out");
    const int64_t seed = args.get_int("seed", 0);
    QINFER_CHECK(seed >= 0, "--seed must be >= 0, got ", seed);
    o.seed = static_cast<uint64_t>(seed);
    o.threads = static_cast<int>(args.get_int("threads", 0));
    o.layers = args.get_int("layers", 0);
    QINFER_CHECK(!args.has("layers") || o.layers >= 1, "--layers must be >= 1, got ", o.layers);
    if (args.has("max-shard-size"))
        o.max_shard_bytes = synth::parse_byte_size(args.get("max-shard-size"), "--max-shard-size");
    for (const std::string& s : args.get_all("set")) o.overrides.push_back(synth::parse_config_override(s));
    o.force = args.has("force");

    const synth::SynthReport r = synth::synth_checkpoint(o);
    std::cout << "wrote " << o.out.string() << ": " << o.preset << " " << synth::synth_layout_name(o.layout)
              << (r.quant_algo.empty() ? "" : " (" + r.quant_algo + ")") << ", seed " << o.seed << "\n";
    char line[160];
    std::snprintf(line, sizeof line, "%.3f B parameters, %zu tensors, %.2f GB in %zu shard(s), %.1f s on %d threads",
                  static_cast<double>(r.parameters) * 1e-9, r.tensors, static_cast<double>(r.bytes) * 1e-9, r.shards,
                  r.seconds, r.threads);
    std::cout << line << "\n";
    if (!r.modules.empty()) {
        std::cout << "linear modules:";
        for (const auto& [algo, n] : r.modules) std::cout << "  " << n << " " << algo;
        std::cout << "; exclude_modules: " << r.exclude_modules << " entries\n";
    }
    std::cout << "files: " << joined(r.files) << "\n";
    return 0;
}

}  // namespace qinfer::cli
