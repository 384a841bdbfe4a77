#include "models/model.h"

#include "core/progress.h"
#include "layers/gated_attention.h"
#include "layers/gated_delta_net.h"
#include "layers/mlp.h"
#include "models/registry.h"
#include "quant/quant_config.h"
#include "ops/embedding.h"
#include "ops/linear.h"
#include "ops/norm.h"

namespace qinfer {

struct Model::Layer {
    LayerType type;
    const Tensor* input_norm;  // f32 [H] zero-centred
    const Tensor* post_norm;   // f32 [H] zero-centred
    std::unique_ptr<layers::GatedAttention> attention;
    std::unique_ptr<layers::GatedDeltaNet> linear_attention;
    std::unique_ptr<layers::SwiGluMlp> mlp;
    std::unique_ptr<layers::SparseMoe> moe;
};

Model::~Model() = default;

namespace {

// The row ranges of each runtime weight whose checkpoint shard quantizes its input (W4A4 NVFP4, W8A8 FP8), with the
// shard's static input scale. Rows count in the weight flattened to 2-D ([E, rows, K] experts: e * rows + r).
std::map<std::string, std::vector<layers::LinearSegment>> activation_segments(const models::WeightPlan& plan) {
    std::map<std::string, std::vector<layers::LinearSegment>> out;
    for (const auto& [name, records] : plan.shards) {
        for (const models::ShardRecord& r : records) {
            const quant::QuantScheme& s = r.decision.scheme;
            if (!s.activations_quantized) continue;
            QINFER_CHECK(r.input_scale != nullptr, "--activation-quant: ", r.module, " quantizes its activations (",
                         quant::scheme_str(s), ") with dynamic scales, which the CPU emulation does not model");
            float input_scale = models::read_scalar(*r.input_scale);
            if (r.decision.reciprocal_global_scales) input_scale = 1.0f / input_scale;  // compressed-tensors: 1/scale
            const int64_t K = r.logical_shape.back();
            const int64_t row = r.dst_offset / K;
            layers::LinearSegment seg;
            seg.row_begin = row;
            seg.row_end = row + numel(r.logical_shape) / K;
            seg.act = s.format == quant::WeightFormat::NVFP4 ? layers::ActivationQuant::Nvfp4 : layers::ActivationQuant::Fp8;
            seg.input_scale = input_scale;
            out[name].push_back(seg);
        }
    }
    return out;
}

}  // namespace

std::unique_ptr<Model> Model::load(const std::filesystem::path& dir, const LoadOptions& options) {
    std::unique_ptr<Model> m(new Model());
    m->config_ = load_model_config(dir);
    const models::ModelFamily& family = models::find_model_family(m->config_.architecture);
    const models::WeightSpec spec = family.weight_spec(m->config_);
    const TensorTable table = open_checkpoint(dir);
    const models::WeightPlan plan = models::plan_weights(spec, table, quant::load_quant_config(dir));
    uint64_t total_bytes = 0;
    for (const auto& [name, records] : plan.shards) {
        for (const auto& r : records) total_bytes += r.tensor->bytes.size();
    }
    {
        ProgressBar bar("loading weights", options.progress ? total_bytes : 0);
        m->weights_.tensors = models::materialize_weights(plan, [&](uint64_t bytes) { bar.advance(bytes); });
    }
    m->weights_.tied = plan.tied;
    if (options.activation_quant) m->weights_.act_segments = activation_segments(plan);
    QINFER_CHECK(!(options.activation_quant && options.bf16_activations),
                 "LoadOptions: activation_quant and bf16_activations do not combine");
    m->weights_.bf16_activations = options.bf16_activations;

    const ModelConfig& c = m->config_;
    for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
        const std::string p = "layers." + std::to_string(i) + ".";
        auto layer = std::make_unique<Layer>();
        layer->type = c.layer_types[static_cast<size_t>(i)];
        layer->input_norm = &m->weights_.tensor(p + "input_layernorm.weight");
        layer->post_norm = &m->weights_.tensor(p + "post_attention_layernorm.weight");
        switch (layer->type) {
            case LayerType::FullAttention:
                layer->attention = std::make_unique<layers::GatedAttention>(c, m->weights_, p + "self_attn.");
                break;
            case LayerType::LinearAttention:
                layer->linear_attention = std::make_unique<layers::GatedDeltaNet>(c, m->weights_, p + "linear_attn.");
                break;
        }
        if (c.layer_is_moe[static_cast<size_t>(i)]) {
            layer->moe = std::make_unique<layers::SparseMoe>(c, m->weights_, p + "mlp.");
        } else {
            layer->mlp = std::make_unique<layers::SwiGluMlp>(m->weights_, p + "mlp.");
        }
        m->layers_.push_back(std::move(layer));
    }
    return m;
}

Tensor Model::forward(std::span<const int64_t> ids, SequenceState& state, const Taps* taps) const {
    QINFER_CHECK(!ids.empty(), "forward called with no tokens");
    const ModelConfig& c = config_;
    const int64_t T = static_cast<int64_t>(ids.size());
    const float eps = static_cast<float>(c.rms_norm_eps);
    std::vector<int64_t> positions(static_cast<size_t>(T));
    for (int64_t t = 0; t < T; ++t) positions[static_cast<size_t>(t)] = state.position + t;

    Tensor h = ops::embedding(weights_.tensor("embed_tokens.weight"), ids);  // f32 [T, H]
    QINFER_TAP(taps, h, "model.embed_tokens.out");
    for (size_t i = 0; i < layers_.size(); ++i) {
        const Layer& layer = *layers_[i];
        const std::string tp = taps ? str_cat("model.layers.", i, ".") : std::string();
        Tensor x = ops::rms_norm(h, *layer.input_norm, eps, /*zero_centered=*/true);
        Tensor mixed;  // f32 [T, H]
        switch (layer.type) {
            case LayerType::FullAttention:
                mixed = layer.attention->forward(x, positions, state.attention[i], taps, tp + "self_attn.");
                QINFER_TAP(taps, mixed, tp, "self_attn.out");
                break;
            case LayerType::LinearAttention:
                mixed = layer.linear_attention->forward(x, state.linear[i], taps, tp + "linear_attn.");
                QINFER_TAP(taps, mixed, tp, "linear_attn.out");
                break;
        }
        for (int64_t j = 0; j < h.numel(); ++j) h.data()[j] += mixed.data()[j];
        x = ops::rms_norm(h, *layer.post_norm, eps, /*zero_centered=*/true);
        const Tensor mlp_out = layer.moe ? layer.moe->forward(x, taps, tp + "mlp.") : layer.mlp->forward(x);
        QINFER_TAP(taps, mlp_out, tp, "mlp.out");
        for (int64_t j = 0; j < h.numel(); ++j) h.data()[j] += mlp_out.data()[j];
        QINFER_TAP(taps, h, tp, "out");
    }
    h = ops::rms_norm(h, weights_.tensor("norm.weight"), eps, /*zero_centered=*/true);
    QINFER_TAP(taps, h, "model.norm.out");
    Tensor logits = weights_.linear("lm_head.weight").forward(h);  // f32 [T, V]
    QINFER_TAP(taps, logits, "logits");
    state.position += T;
    return logits;
}

}  // namespace qinfer
