// defines: quantize_checkpoint (quantize.h): plan -> calibrate -> quantize -> summarise excludes -> write -> re-read

#include "quant/quantize.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <set>
#include <span>

#include <nlohmann/json.hpp>

#include "core/check.h"
#include "core/progress.h"
#include "io/hf_config.h"
#include "io/safetensors.h"
#include "models/model.h"
#include "models/registry.h"
#include "quant/calibrate.h"
#include "quant/fp8.h"
#include "quant/nvfp4.h"
#include "quant/quant_config.h"
#include "quant/quantize_config.h"

namespace qinfer::quant {

namespace fs = std::filesystem;

std::string quantize_producer_version() { return std::string("qinfer-") + QINFER_VERSION; }

namespace {

constexpr float kNvfp4InputDenom = kE2m1Max * kE4m3Max;  // input_scale = amax / (6 · 448), §1.6

// Files of an output folder that a previous checkpoint may have left and that --force replaces.
bool is_checkpoint_file(const fs::path& p) {
    const std::string n = p.filename().string();
    return p.extension() == ".safetensors" || n == "model.safetensors.index.json" || n == "config.json" ||
           n == "hf_quant_config.json";
}

void check_dirs(const fs::path& in, const fs::path& out, bool force) {
    QINFER_CHECK(fs::is_directory(in), "IN_DIR ", in.string(), " is not a directory");
    if (!fs::exists(out)) return;
    QINFER_CHECK(fs::is_directory(out), "OUT_DIR ", out.string(), " exists and is not a directory");
    QINFER_CHECK(!fs::equivalent(in, out), "OUT_DIR ", out.string(), " is IN_DIR; write the quantized checkpoint elsewhere");
    QINFER_CHECK(force || fs::is_empty(out), "OUT_DIR ", out.string(),
                 " exists and is not empty (use --force to replace its checkpoint files)");
}

void prepare_out_dir(const fs::path& out) {
    fs::create_directories(out);
    for (const auto& e : fs::directory_iterator(out)) {
        if (e.is_regular_file() && is_checkpoint_file(e.path())) fs::remove(e.path());
    }
}

std::vector<std::byte> to_bytes(const void* p, size_t n) {
    std::vector<std::byte> v(n);
    if (n > 0) std::memcpy(v.data(), p, n);
    return v;
}

TensorToWrite scalar_f32(const std::string& name, float v) { return {name, DType::F32, {}, to_bytes(&v, sizeof v)}; }

// The unit's weight in fp32 (its slice of the source tensor).
std::vector<float> unit_weights(const QuantUnit& u) {
    const TensorInfo& t = *u.source->tensor;
    const size_t n = static_cast<size_t>(u.n * u.k);
    const size_t offset = static_cast<size_t>(u.src_offset) * dtype_size(t.dtype);
    QINFER_CHECK(offset + n * dtype_size(t.dtype) <= t.bytes.size(), "internal: ", u.module, " overruns ", t.name);
    std::vector<float> w(n);
    convert_to_f32(t.dtype, t.bytes.data() + offset, n, w.data());
    return w;
}

// A routed expert's slice of a fused tensor, kept in its dtype (an unquantized expert next to quantized ones).
TensorToWrite raw_slice(const QuantUnit& u) {
    const TensorInfo& t = *u.source->tensor;
    const size_t es = dtype_size(t.dtype);
    return {u.module + ".weight", t.dtype, {u.n, u.k},
            to_bytes(t.bytes.data() + static_cast<size_t>(u.src_offset) * es, static_cast<size_t>(u.n * u.k) * es)};
}

// Per weight group, the shared weight_scale_2 (NVFP4) or weight_scale (FP8): the max over the group (§7.1).
std::vector<float> weight_group_scales(const QuantPlan& plan, ProgressBar& bar) {
    std::vector<float> scales(plan.weight_groups.size(), 0.0f);
    for (size_t g = 0; g < plan.weight_groups.size(); ++g) {
        for (size_t i : plan.weight_groups[g]) {
            const QuantUnit& u = plan.units[i];
            const std::vector<float> w = unit_weights(u);
            const float s = u.algo == "FP8" ? fp8_weight_scale(w) : nvfp4_weight_scale_2(w);
            scales[g] = std::max(scales[g], s);
            bar.advance(static_cast<uint64_t>(u.n * u.k) * dtype_size(u.source->tensor->dtype));
        }
    }
    return scales;
}

// Per input group, the calibrated input_scale. amax 0 (an input that was all zeros) is replaced by the format's
// maxbound, as ModelOpt's export_amax does for weights, so that no loader divides by a zero scale.
std::vector<float> input_group_scales(const QuantPlan& plan, const std::map<std::string, float>& amax) {
    std::vector<float> scales(plan.input_groups.size(), 0.0f);
    std::vector<std::string> algo(plan.input_groups.size());
    for (const QuantUnit& u : plan.units) {
        if (u.input_group >= 0) algo[static_cast<size_t>(u.input_group)] = u.algo;
    }
    for (size_t g = 0; g < plan.input_groups.size(); ++g) {
        bool seen = false;
        float m = 0.0f;
        for (const std::string& p : plan.input_groups[g]) {
            auto it = amax.find(p);
            if (it == amax.end()) continue;
            seen = true;
            m = std::max(m, it->second);
        }
        QINFER_CHECK(seen, "calibration: no input reached ", plan.input_groups[g].front(),
                     " (no calibration token was routed there); use more --calib-ids");
        const bool fp8 = algo[g] == "FP8";
        if (m == 0.0f) m = fp8 ? kE4m3Max : kE2m1Max;
        scales[g] = fp8 ? m / kE4m3Max : m / kNvfp4InputDenom;
    }
    return scales;
}

std::vector<TensorToWrite> quantize_unit(const QuantUnit& u, float weight_scale, std::optional<float> input_scale) {
    const std::vector<float> w = unit_weights(u);
    std::vector<TensorToWrite> out;
    std::optional<Fp8Weight> fp8;
    std::optional<Nvfp4Weight> fp4;
    if (u.algo == "FP8") {
        fp8 = fp8_quantize(w, u.n, u.k, weight_scale);
    } else {
        QINFER_CHECK(u.k % kNvfp4BlockSize == 0, u.module, ": K = ", u.k, " is not a multiple of the NVFP4 block size ",
                     kNvfp4BlockSize, "; --exclude it");
        fp4 = nvfp4_quantize(w, u.n, u.k, weight_scale);
    }
    QINFER_CHECK(input_scale.has_value() == (u.input_group >= 0), "internal: ", u.module, " input_scale mismatch");
    for (const UnitTensor& t : unit_tensors(u)) {
        switch (t.role) {
            case UnitTensorRole::Weight:
                out.push_back({t.name, t.dtype, t.shape,
                               fp8 ? to_bytes(fp8->values.data(), fp8->values.size())
                                   : to_bytes(fp4->packed.data(), fp4->packed.size())});
                break;
            case UnitTensorRole::BlockScales:
                out.push_back({t.name, t.dtype, t.shape, to_bytes(fp4->block_scales.data(), fp4->block_scales.size())});
                break;
            case UnitTensorRole::GlobalScale:
                out.push_back(scalar_f32(t.name, fp4->weight_scale_2));
                break;
            case UnitTensorRole::WeightScale:
                out.push_back(scalar_f32(t.name, fp8->scale));
                break;
            case UnitTensorRole::InputScale:
                out.push_back(scalar_f32(t.name, *input_scale));
                break;
        }
    }
    return out;
}

std::string join_ids(const std::vector<int64_t>& ids) {
    std::string s;
    for (size_t i = 0; i < ids.size(); ++i) {
        if (i > 0) s += ',';
        s += std::to_string(ids[i]);
    }
    return s;
}

nlohmann::ordered_json read_ordered_json(const fs::path& p) {
    std::ifstream f(p);
    QINFER_CHECK(f.good(), "cannot open ", p.string());
    try {
        return nlohmann::ordered_json::parse(f);
    } catch (const nlohmann::json::exception& e) {
        QINFER_FAIL(p.string(), ": invalid JSON (", e.what(), ")");
    }
}

void write_text_file(const fs::path& p, const std::string& text) {
    std::ofstream f(p, std::ios::trunc);
    QINFER_CHECK(f.good(), "cannot create ", p.string());
    f << text;
    QINFER_CHECK(f.good(), "cannot write ", p.string());
}

// Every tensor of the output, by name (so written sorted): quantized modules, per-expert slices of split fused
// tensors, and every other input tensor byte for byte.
std::map<std::string, TensorToWrite> output_tensors(const QuantPlan& plan, const TensorTable& table,
                                                    const std::vector<float>& input_scales, bool progress) {
    uint64_t total = 0;
    for (const QuantUnit& u : plan.units) {
        if (!u.algo.empty()) total += 2 * static_cast<uint64_t>(u.n * u.k) * dtype_size(u.source->tensor->dtype);
    }
    std::map<std::string, TensorToWrite> tensors;
    {
        ProgressBar bar("quantizing", progress ? total : 0);
        const std::vector<float> weight_scales = weight_group_scales(plan, bar);
        for (const QuantUnit& u : plan.units) {
            if (u.algo.empty()) {
                if (u.split) tensors.emplace(u.module + ".weight", raw_slice(u));
                continue;
            }
            std::optional<float> in;
            if (u.input_group >= 0) in = input_scales.at(static_cast<size_t>(u.input_group));
            for (TensorToWrite& t : quantize_unit(u, weight_scales.at(static_cast<size_t>(u.weight_group)), in)) {
                const std::string name = t.name;
                tensors.emplace(name, std::move(t));
            }
            bar.advance(static_cast<uint64_t>(u.n * u.k) * dtype_size(u.source->tensor->dtype));
        }
    }
    std::set<std::string> replaced(plan.split_tensors.begin(), plan.split_tensors.end());
    for (const QuantUnit& u : plan.units) {
        if (!u.algo.empty() && !u.split) replaced.insert(u.source->tensor->name);
    }
    for (const auto& [name, info] : table.all()) {
        if (replaced.contains(name)) continue;
        QINFER_CHECK(!tensors.contains(name), "internal: tensor ", name, " written twice");
        tensors.emplace(name, TensorToWrite{name, info->dtype, info->shape, to_bytes(info->bytes.data(), info->bytes.size())});
    }
    return tensors;
}

// Copies every other file of the input folder (generation_config.json, tokenizer files, ...): all regular files but
// the checkpoint's own safetensors files, its index and config.json (written anew).
void copy_other_files(const fs::path& in, const fs::path& out, const TensorTable& table) {
    std::set<std::string> skip{"model.safetensors.index.json", "config.json"};
    for (const fs::path& f : table.files()) skip.insert(f.filename().string());
    for (const auto& e : fs::directory_iterator(in)) {
        const std::string n = e.path().filename().string();
        if (e.is_regular_file() && !skip.contains(n)) fs::copy_file(e.path(), out / n, fs::copy_options::overwrite_existing);
    }
}

// The format qinfer's resolver must read back for a unit: the algorithm as a scheme.
bool decision_matches(const QuantUnit& u, const quant::Decision& d) {
    const QuantScheme& s = d.scheme;
    if (u.algo.empty()) return !is_quantized(s.format);
    if (u.algo == "FP8") return s.format == WeightFormat::FP8 && s.activations_quantized;
    return s.format == WeightFormat::NVFP4 && s.activations_quantized == (u.algo == "NVFP4");
}

}  // namespace

void verify_quantized_checkpoint(const fs::path& out, const models::WeightSpec& spec, const QuantPlan& plan) {
    const TensorTable table = open_checkpoint(out);
    const models::WeightPlan wp = models::plan_weights(spec, table, load_quant_config(out));
    std::map<std::string, const quant::Decision*> decided;
    for (const auto& [name, records] : wp.shards) {
        for (const models::ShardRecord& r : records) decided[r.module] = &r.decision;
    }
    for (const QuantUnit& u : plan.units) {
        auto it = decided.find(u.module);
        QINFER_CHECK(it != decided.end(), "internal: the written checkpoint has no module ", u.module);
        QINFER_CHECK(decision_matches(u, *it->second), "internal: the written checkpoint reads back ", u.module, " as ",
                     scheme_str(it->second->scheme), " (", it->second->reason, "), planned ",
                     u.algo.empty() ? "unquantized" : u.algo);
    }
}

QuantizeReport quantize_checkpoint(const fs::path& in_dir, const fs::path& out_dir, const QuantizeOptions& options) {
    check_dirs(in_dir, out_dir, options.force);
    const QuantizePreset preset = options.preset.value_or(
        options.format == QuantizeFormat::Mixed ? QuantizePreset::Qwen36Mixed : QuantizePreset::AllLinear);

    const ModelConfig config = load_model_config(in_dir);
    const QuantConfig existing = load_quant_config(in_dir);
    QINFER_CHECK(existing.producer == Producer::None, "IN_DIR ", in_dir.string(), " is already quantized (",
                 producer_name(existing.producer), " ", existing.quant_algo, ", ", existing.source,
                 "); qinfer quantize needs an unquantized BF16/F16/F32 checkpoint");
    const models::WeightSpec spec = models::find_model_family(config.architecture).weight_spec(config);
    const TensorTable table = open_checkpoint(in_dir);
    const models::WeightPlan wp = models::plan_weights(spec, table, existing);
    const QuantPlan plan = plan_quantization(wp, spec, options.format, preset, options.exclude);

    QuantizeReport report;
    report.quant_algo = plan.quant_algo;
    report.preset = preset;

    // Input scales: calibration through the unquantized model, only when some module stores one.
    std::vector<float> input_scales;
    if (plan.needs_calibration()) {
        report.default_calibration_ids = !options.calib_ids.has_value();
        report.calibration_ids = options.calib_ids ? read_calibration_ids(*options.calib_ids, config.vocab_size)
                                                   : default_calibration_ids(config.vocab_size);
        auto model = Model::load(in_dir, LoadOptions{.activation_quant = false, .progress = options.progress});
        input_scales = input_group_scales(plan, calibrate_input_amax(*model, report.calibration_ids));
    }

    std::map<std::string, TensorToWrite> tensors = output_tensors(plan, table, input_scales, options.progress);

    for (const QuantUnit& u : plan.units) report.modules[u.algo.empty() ? "unquantized" : u.algo] += 1;
    report.exclude_modules = modelopt_exclude_modules(plan);
    if (plan.quant_algo == "MIXED_PRECISION") report.quantized_layers = modelopt_quantized_layers(plan);
    const ModelOptExport exported = modelopt_export_config(plan, report.exclude_modules, quantize_producer_version());

    // Write.
    prepare_out_dir(out_dir);
    std::map<std::string, std::string> metadata{
        {"format", "pt"},  // transformers refuses safetensors files whose metadata has no "format"
        {"qinfer.quantize", str_cat("format=", quantize_format_name(plan.format),
                                    " preset=", quantize_preset_name(preset))}};
    if (!report.calibration_ids.empty()) metadata["qinfer.calibration_ids"] = join_ids(report.calibration_ids);
    {
        std::vector<TensorToWrite> ordered;
        ordered.reserve(tensors.size());
        for (auto& [name, t] : tensors) ordered.push_back(std::move(t));
        tensors.clear();
        write_safetensors(out_dir / "model.safetensors", ordered, metadata);
    }
    nlohmann::ordered_json cfg = read_ordered_json(in_dir / "config.json");
    cfg["quantization_config"] = exported.quantization_config;
    write_text_file(out_dir / "config.json", cfg.dump(2) + "\n");
    write_text_file(out_dir / "hf_quant_config.json", exported.hf_quant_config.dump(4) + "\n");
    copy_other_files(in_dir, out_dir, table);
    for (const auto& e : fs::directory_iterator(out_dir)) {
        if (e.is_regular_file()) report.files.push_back(e.path().filename().string());
    }
    std::sort(report.files.begin(), report.files.end());

    verify_quantized_checkpoint(out_dir, spec, plan);
    return report;
}

}  // namespace qinfer::quant
