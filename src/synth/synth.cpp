// defines: synth_checkpoint (synth.h): config -> plan -> lay out shards -> group scales -> values -> configs -> re-read

#include "synth/synth.h"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <exception>
#include <fstream>
#include <mutex>

#include <nlohmann/json.hpp>

#include "core/check.h"
#include "core/dtype.h"
#include "core/progress.h"
#include "models/weight_loader.h"
#include "quant/fp8.h"
#include "quant/nvfp4.h"
#include "quant/quant_config.h"
#include "quant/quantize.h"
#include "quant/quantize_config.h"
#include "synth/synth_plan.h"

namespace qinfer::synth {

namespace fs = std::filesystem;
using nlohmann::ordered_json;

std::string_view synth_layout_name(SynthLayout l) {
    switch (l) {
        case SynthLayout::Bf16:
            return "bf16";
        case SynthLayout::Nvfp4All:
            return "nvfp4-all";
        case SynthLayout::NvidiaNvfp4:
            return "nvidia-nvfp4";
        case SynthLayout::Qwen36Mixed:
            return "qwen3.6-mixed";
        case SynthLayout::Fp8:
            return "fp8";
    }
    return "?";
}

std::vector<SynthLayout> all_synth_layouts() {
    return {SynthLayout::Bf16, SynthLayout::Nvfp4All, SynthLayout::NvidiaNvfp4, SynthLayout::Qwen36Mixed,
            SynthLayout::Fp8};
}

SynthLayout parse_synth_layout(const std::string& s) {
    std::string valid;
    for (SynthLayout l : all_synth_layouts()) {
        if (s == synth_layout_name(l)) return l;
        valid += (valid.empty() ? "" : ", ") + std::string(synth_layout_name(l));
    }
    QINFER_FAIL("unknown --layout \"", s, "\"; valid layouts: ", valid);
}

namespace {

constexpr int64_t kChunkValues = int64_t{1} << 20;  // values per work item: 4 MB of fp32 scratch per thread

std::optional<QuantLayout> quant_layout(SynthLayout l) {
    using quant::QuantizeFormat;
    using quant::QuantizePreset;
    switch (l) {
        case SynthLayout::Bf16:
            return std::nullopt;
        case SynthLayout::Nvfp4All:
            return QuantLayout{QuantizeFormat::Nvfp4, QuantizePreset::AllLinear};
        case SynthLayout::NvidiaNvfp4:
            return QuantLayout{QuantizeFormat::Nvfp4, QuantizePreset::NvidiaQwen35};
        case SynthLayout::Qwen36Mixed:
            return QuantLayout{QuantizeFormat::Mixed, QuantizePreset::Qwen36Mixed};
        case SynthLayout::Fp8:
            return QuantLayout{QuantizeFormat::Fp8, QuantizePreset::AllLinear};
    }
    return std::nullopt;
}

// Files a synthetic checkpoint consists of; --force removes these (and only these) from the output folder first.
bool is_output_file(const fs::path& p) {
    const std::string n = p.filename().string();
    return p.extension() == ".safetensors" || n == "model.safetensors.index.json" || n == "config.json" ||
           n == "hf_quant_config.json" || n == "generation_config.json" || n == "README.md";
}

void prepare_out_dir(const fs::path& out, bool force) {
    QINFER_CHECK(!out.empty(), "--out is required");
    if (fs::exists(out)) {
        QINFER_CHECK(fs::is_directory(out), "--out ", out.string(), " exists and is not a directory");
        QINFER_CHECK(force || fs::is_empty(out), "--out ", out.string(),
                     " exists and is not empty (use --force to replace its checkpoint files)");
        for (const auto& e : fs::directory_iterator(out)) {
            if (e.is_regular_file() && is_output_file(e.path())) fs::remove(e.path());
        }
    }
    fs::create_directories(out);
}

// Sets the OpenMP thread count for the duration of a call.
class ThreadCount {
public:
    explicit ThreadCount(int n) : saved_(omp_get_max_threads()) {
        QINFER_CHECK(n >= 0, "--threads must be >= 0 (0 = all cores), got ", n);
        if (n > 0) omp_set_num_threads(n);
    }
    ~ThreadCount() { omp_set_num_threads(saved_); }
    ThreadCount(const ThreadCount&) = delete;
    ThreadCount& operator=(const ThreadCount&) = delete;

private:
    int saved_;
};

// A progress bar in units of 2^20 of whatever is counted, fed with exact counts from any thread.
class MegaProgress {
public:
    MegaProgress(std::string label, uint64_t total, bool enabled)
        : bar_(std::move(label), enabled ? (total + (1u << 20) - 1) >> 20 : 0) {}
    void advance(uint64_t n) {
        const uint64_t before = done_.fetch_add(n);
        const uint64_t steps = ((before + n) >> 20) - (before >> 20);
        if (steps > 0) bar_.advance(steps);
    }

private:
    ProgressBar bar_;
    std::atomic<uint64_t> done_{0};
};

struct Chunk {
    size_t item;
    int64_t row0, rows;
};

std::vector<Chunk> chunks_of(const std::vector<SynthItem>& items, bool quantized_only) {
    std::vector<Chunk> out;
    for (size_t i = 0; i < items.size(); ++i) {
        const SynthItem& it = items[i];
        if (quantized_only && it.weight_group < 0) continue;
        const int64_t step = std::max<int64_t>(1, kChunkValues / std::max<int64_t>(1, it.cols));
        for (int64_t r = 0; r < it.rows; r += step) out.push_back({i, r, std::min(step, it.rows - r)});
    }
    return out;
}

// Runs fn(index, chunk, scratch) over all chunks on OpenMP threads (dynamic schedule: chunk costs differ by format),
// each thread reusing one fp32 scratch buffer. The first exception is rethrown here; later chunks are skipped.
template <class Fn>
void for_each_chunk(const std::vector<Chunk>& chunks, Fn&& fn) {
    std::exception_ptr first;
    std::mutex mu;
    std::atomic<bool> failed{false};
    const auto n = static_cast<int64_t>(chunks.size());
#pragma omp parallel
    {
        std::vector<float> scratch;
#pragma omp for schedule(dynamic, 1)
        for (int64_t i = 0; i < n; ++i) {
            if (failed.load(std::memory_order_relaxed)) continue;
            try {
                fn(static_cast<size_t>(i), chunks[static_cast<size_t>(i)], scratch);
            } catch (...) {
                std::lock_guard<std::mutex> lock(mu);
                if (!first) first = std::current_exception();
                failed = true;
            }
        }
    }
    if (first) std::rethrow_exception(first);
}

// The chunk's values, rounded to BF16: the bf16 layout stores exactly these, and the quantized layouts quantize
// exactly these, as ModelOpt quantizes a BF16 release -- so `qinfer quantize` of the bf16 layout writes the same
// weight bytes and weight scales as the quantized layouts (only the uncalibrated input_scale differs).
std::span<float> generate(const SynthItem& it, const Chunk& c, std::vector<float>& scratch) {
    scratch.resize(static_cast<size_t>(c.rows * it.cols));
    fill_values(it.init, it.stream, it.first + c.row0 * it.cols, scratch);
    for (float& x : scratch) x = round_bf16(x);
    return scratch;
}

// Pass 1: per weight group, the amax over all its units' values; then the group's shared weight scale, by the same
// functions `qinfer quantize` applies to the max over the group (the scale is monotonic in amax).
std::vector<float> group_weight_scales(const SynthPlan& plan, bool progress) {
    const quant::QuantPlan& qp = *plan.quant;
    const std::vector<Chunk> chunks = chunks_of(plan.items, /*quantized_only=*/true);
    std::vector<float> chunk_amax(chunks.size(), 0.0f);
    uint64_t total = 0;
    for (const Chunk& c : chunks) total += static_cast<uint64_t>(c.rows * plan.items[c.item].cols);
    {
        MegaProgress bar("synth: scales (M values)", total, progress);
        for_each_chunk(chunks, [&](size_t index, const Chunk& c, std::vector<float>& scratch) {
            const std::span<float> v = generate(plan.items[c.item], c, scratch);
            // Values are finite by construction, so a plain max (which vectorizes, unlike fmax's NaN rules) is exact.
            float amax = 0.0f;
            for (float x : v) amax = std::max(amax, std::fabs(x));
            chunk_amax[index] = amax;
            bar.advance(v.size());
        });
    }
    std::vector<float> group_amax(qp.weight_groups.size(), 0.0f);
    for (size_t i = 0; i < chunks.size(); ++i) {
        const auto g = static_cast<size_t>(plan.items[chunks[i].item].weight_group);
        group_amax[g] = std::max(group_amax[g], chunk_amax[i]);
    }
    std::vector<float> scales(qp.weight_groups.size(), 0.0f);
    for (size_t g = 0; g < scales.size(); ++g) {
        const std::span<const float> amax(&group_amax[g], 1);
        const bool fp8 = qp.units.at(qp.weight_groups[g].front()).algo == "FP8";
        scales[g] = fp8 ? quant::fp8_weight_scale(amax) : quant::nvfp4_weight_scale_2(amax);
    }
    return scales;
}

void write_scalars(const SynthPlan& plan, const std::vector<float>& group_scales, ShardedWriter& w) {
    for (const SynthScalar& s : plan.scalars) {
        float v = 0.0f;
        switch (s.role) {
            case quant::UnitTensorRole::GlobalScale:
            case quant::UnitTensorRole::WeightScale:
                v = group_scales.at(static_cast<size_t>(s.weight_group));
                break;
            case quant::UnitTensorRole::InputScale:
                // ModelOpt: FP8 amax / 448, NVFP4 amax / (6 · 448) (the same formulas as quantize.cpp's calibration).
                v = s.algo == "FP8" ? kSynthInputAmax / quant::kE4m3Max
                                    : kSynthInputAmax / (quant::kE2m1Max * quant::kE4m3Max);
                break;
            case quant::UnitTensorRole::Weight:
            case quant::UnitTensorRole::BlockScales:
                QINFER_FAIL("internal: ", w.tensor(s.tensor).name, " is not a scalar");
        }
        w.write(s.tensor, 0, &v, sizeof v);
    }
}

// Pass 2: every item's values, converted or quantized, written in place.
void write_values(const SynthPlan& plan, const std::vector<float>& group_scales, ShardedWriter& w, bool progress) {
    const std::vector<Chunk> chunks = chunks_of(plan.items, /*quantized_only=*/false);
    MegaProgress bar("synth: writing (MiB)", w.data_bytes(), progress);
    for_each_chunk(chunks, [&](size_t, const Chunk& c, std::vector<float>& scratch) {
        const SynthItem& it = plan.items[c.item];
        const std::span<float> v = generate(it, c, scratch);
        switch (it.format) {
            case ItemFormat::Bf16: {
                std::vector<uint16_t> bf16(v.size());
                for (size_t i = 0; i < v.size(); ++i) bf16[i] = f32_to_bf16(v[i]);
                w.write(it.data_tensor, static_cast<uint64_t>(c.row0 * it.cols) * 2, bf16.data(), bf16.size() * 2);
                bar.advance(bf16.size() * 2);
                return;
            }
            case ItemFormat::Nvfp4: {
                const float s2 = group_scales.at(static_cast<size_t>(it.weight_group));
                const quant::Nvfp4Weight q = quant::nvfp4_quantize(v, c.rows, it.cols, s2);
                w.write(it.data_tensor, static_cast<uint64_t>(c.row0 * (it.cols / 2)), q.packed.data(),
                        q.packed.size());
                w.write(it.scale_tensor, static_cast<uint64_t>(c.row0 * (it.cols / quant::kNvfp4BlockSize)),
                        q.block_scales.data(), q.block_scales.size());
                bar.advance(q.packed.size() + q.block_scales.size());
                return;
            }
            case ItemFormat::Fp8: {
                const float s = group_scales.at(static_cast<size_t>(it.weight_group));
                const quant::Fp8Weight q = quant::fp8_quantize(v, c.rows, it.cols, s);
                w.write(it.data_tensor, static_cast<uint64_t>(c.row0 * it.cols), q.values.data(), q.values.size());
                bar.advance(q.values.size());
                return;
            }
        }
    });
}

void write_text_file(const fs::path& p, const std::string& text) {
    std::ofstream f(p, std::ios::trunc);
    QINFER_CHECK(f.good(), "cannot create ", p.string());
    f << text;
    f.close();
    QINFER_CHECK(!f.fail(), "cannot write ", p.string());
}

// What transformers' GenerationConfig.from_model_config keeps of a model config: the special token ids (the text
// config's first, as HF's get_text_config() reads them).
ordered_json generation_config(ordered_json config) {
    ordered_json g;
    g["_from_model_config"] = true;
    const ordered_json& t = text_section(config);
    for (const char* key : {"bos_token_id", "eos_token_id", "pad_token_id"}) {
        if (t.contains(key) && !t[key].is_null()) {
            g[key] = t[key];
        } else if (config.contains(key) && !config[key].is_null()) {
            g[key] = config[key];
        }
    }
    return g;
}

std::string readme(const SynthOptions& o, const SynthConfig& sc) {
    return str_cat(
        "# Synthetic ", o.preset, " (", synth_layout_name(o.layout), ") -- RANDOM WEIGHTS\n\n",
        "Written by `qinfer synth --preset ", o.preset, " --layout ", synth_layout_name(o.layout), " --seed ", o.seed,
        o.layers ? str_cat(" --layers ", o.layers) : std::string(),
        "`. The config, tensor names, shapes and quantization layout are those of the released model (",
        sc.config.num_hidden_layers,
        " layers written); every weight is random (see qinfer's "
        "src/synth/init.h), so the model produces no meaningful text. It has no tokenizer and no vision tower "
        "weights. Use it to test loading, kernels and serving at real sizes.\n");
}

// bf16: the loader's own plan must accept the folder (every tensor consumed, right shapes) and see only BF16.
void verify_bf16(const fs::path& dir, const models::WeightSpec& spec) {
    const TensorTable table = open_checkpoint(dir);
    const models::WeightPlan wp = models::plan_weights(spec, table, quant::load_quant_config(dir));
    for (const auto& [name, records] : wp.shards) {
        for (const models::ShardRecord& r : records) {
            QINFER_CHECK(r.decision.scheme.format == quant::WeightFormat::BF16, "internal: ", r.checkpoint_name,
                         " reads back as ", quant::scheme_str(r.decision.scheme));
        }
    }
}

}  // namespace

SynthReport synth_checkpoint(const SynthOptions& o) {
    const auto start = std::chrono::steady_clock::now();
    const ThreadCount threads(o.threads);
    SynthReport report;
    report.threads = omp_get_max_threads();

    // Plan everything before touching the output folder, so that bad input leaves it alone.
    SynthConfig sc = make_synth_config(o.preset, o.layers, o.overrides);
    const double init_range = text_section(sc.json).value("initializer_range", 0.02);
    const std::optional<QuantLayout> ql = quant_layout(o.layout);
    std::unique_ptr<SynthPlan> plan;
    try {
        plan = plan_synth(sc.config, text_section(sc.json).value("mtp_num_hidden_layers", int64_t{0}), init_range,
                          o.seed, ql);
    } catch (const Error& e) {
        QINFER_FAIL("--layout ", synth_layout_name(o.layout), " on preset ", o.preset, ": ", e.what());
    }
    ordered_json config = sc.json;
    std::optional<quant::ModelOptExport> exported;
    if (plan->quant) {
        const std::vector<std::string> exclude = quant::modelopt_exclude_modules(*plan->quant);
        exported = quant::modelopt_export_config(*plan->quant, exclude, quant::quantize_producer_version());
        config["quantization_config"] = exported->quantization_config;
        report.quant_algo = plan->quant->quant_algo;
        report.exclude_modules = exclude.size();
        for (const quant::QuantUnit& u : plan->quant->units) report.modules[u.algo.empty() ? "unquantized" : u.algo]++;
    }

    prepare_out_dir(o.out, o.force);
    const std::map<std::string, std::string> metadata{
        {"format", "pt"},  // transformers refuses safetensors files whose metadata has no "format"
        {"qinfer.synth", str_cat("preset=", o.preset, " layout=", synth_layout_name(o.layout), " seed=", o.seed,
                                 " layers=", sc.config.num_hidden_layers)}};
    {
        ShardedWriter writer(o.out, plan->tensors, o.max_shard_bytes, metadata);
        std::vector<float> group_scales;
        if (plan->quant) group_scales = group_weight_scales(*plan, o.progress);
        write_scalars(*plan, group_scales, writer);
        write_values(*plan, group_scales, writer, o.progress);
        writer.finish();
        report.bytes = writer.data_bytes();
        report.shards = writer.files().size();
    }
    write_text_file(o.out / "config.json", config.dump(2) + "\n");
    if (exported) write_text_file(o.out / "hf_quant_config.json", exported->hf_quant_config.dump(4) + "\n");
    write_text_file(o.out / "generation_config.json", generation_config(config).dump(2) + "\n");
    write_text_file(o.out / "README.md", readme(o, sc));

    if (plan->quant) {
        quant::verify_quantized_checkpoint(o.out, plan->spec, *plan->quant);
    } else {
        verify_bf16(o.out, plan->spec);
    }

    report.parameters = plan->parameters;
    report.tensors = plan->tensors.size();
    for (const auto& e : fs::directory_iterator(o.out)) {
        if (e.is_regular_file()) report.files.push_back(e.path().filename().string());
    }
    std::sort(report.files.begin(), report.files.end());
    report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return report;
}

}  // namespace qinfer::synth
