#include "synth/synth_plan.h"

#include <algorithm>
#include <map>

#include "core/check.h"
#include "models/registry.h"

namespace qinfer::synth {

namespace {

// The stored layout a release uses for a parameter: the spec's first (split / packed shards, fused 3-D experts as HF
// releases Qwen3.5 MoE), except that Qwen3-Next checkpoints store routed experts per expert
// (qwen3_5_architecture.md §4), so for them the all-2-D alternative is taken.
const models::LayoutAlternative& release_layout(const models::ParamSpec& p, bool per_expert_experts) {
    if (per_expert_experts && p.shape.size() == 3) {
        for (const models::LayoutAlternative& alt : p.layouts) {
            const bool flat = std::all_of(alt.shards.begin(), alt.shards.end(),
                                          [](const models::ShardSource& s) { return s.shape.size() == 2; });
            if (flat) return alt;
        }
    }
    return p.layouts.front();
}

// The loader plan of a checkpoint that stores every parameter in its release layout. Records carry no tensor (there
// is no file yet); plan_quantization only reads names, shapes and offsets.
void plan_weights_in_release_layout(SynthPlan& plan, const std::string& prefix, bool per_expert_experts) {
    models::WeightPlan& wp = plan.weights;
    wp.prefix = prefix;
    for (const models::ParamSpec& p : plan.spec.params) {
        wp.params.push_back(&p);
        if (!p.tied_to.empty()) {
            wp.tied[p.name] = p.tied_to;
            continue;
        }
        const models::LayoutAlternative& alt = release_layout(p, per_expert_experts);
        auto& records = wp.shards[p.name];
        for (const models::ShardSource& sh : alt.shards) {
            models::ShardRecord r;
            r.checkpoint_name = sh.absolute ? sh.name : prefix + sh.name;
            r.module = models::module_of(r.checkpoint_name);
            r.runtime_param = "model." + p.name;
            r.decision.module = r.module;
            r.logical_shape = sh.shape;
            r.role = p.role;
            r.packed = alt.shards.size() > 1;
            r.fused = r.packed;
            r.layout = alt.label;
            r.dst_offset = sh.dst_offset;
            r.relayout = sh.relayout;
            records.push_back(std::move(r));
        }
    }
}

// The MTP head (qwen3_5_architecture.md §2.7): layers mtp.layers.{i} are full-attention decoder layers with the
// model's MLP kind, so the family's own spec for a one-layer full-attention model gives their tensors; then the
// concat projection mtp.fc [H, 2H] and three zero-centred norms. Every name is absolute.
std::vector<models::ParamSpec> mtp_params(const ModelConfig& c, int64_t layers) {
    std::vector<models::ParamSpec> out;
    if (layers <= 0) return out;
    ModelConfig one = c;
    one.num_hidden_layers = 1;
    one.layer_types = {LayerType::FullAttention};
    one.layer_is_moe = {c.is_moe};
    const models::WeightSpec layer = models::find_model_family(c.architecture).weight_spec(one);
    const int64_t H = c.hidden_size;
    out.push_back(models::single_param("mtp.fc.weight", {H, 2 * H}, models::ParamRole::Linear));
    for (const char* norm : {"mtp.pre_fc_norm_embedding.weight", "mtp.pre_fc_norm_hidden.weight", "mtp.norm.weight"}) {
        out.push_back(models::single_param(norm, {H}, models::ParamRole::Norm));
    }
    for (int64_t i = 0; i < layers; ++i) {
        const std::string to = "mtp.layers." + std::to_string(i) + ".";
        for (models::ParamSpec p : layer.params) {
            if (!p.name.starts_with("layers.0.")) continue;
            p.name = to + p.name.substr(9);
            for (models::LayoutAlternative& alt : p.layouts) {
                for (models::ShardSource& sh : alt.shards) sh.name = to + sh.name.substr(9);
            }
            out.push_back(std::move(p));
        }
    }
    for (models::ParamSpec& p : out) {  // names outside the text model: not under the checkpoint prefix
        for (models::LayoutAlternative& alt : p.layouts) {
            for (models::ShardSource& sh : alt.shards) sh.absolute = true;
        }
    }
    return out;
}

class Builder {
public:
    Builder(SynthPlan& plan, double initializer_range, uint64_t seed)
        : plan_(plan), range_(initializer_range), seed_(seed) {}

    size_t add_tensor(const std::string& name, DType dtype, const Shape& shape) {
        plan_.tensors.push_back({name, dtype, shape});
        return plan_.tensors.size() - 1;
    }

    SynthItem item_for(const models::ParamSpec& p, int64_t first, const Shape& shape, const std::string& module) const {
        SynthItem it;
        it.init = param_init(p, range_);
        it.stream = param_stream(seed_, p.name);
        it.first = first;
        it.cols = shape.empty() ? 1 : shape.back();
        it.rows = it.cols == 0 ? 0 : numel(shape) / it.cols;
        it.module = module;
        return it;
    }

    // An unquantized stored tensor: BF16, the dtype of every preset ("dtype": "bfloat16").
    void add_plain(const models::ParamSpec& p, const std::string& name, const Shape& shape, int64_t first) {
        SynthItem it = item_for(p, first, shape, models::module_of(name));
        it.format = ItemFormat::Bf16;
        it.data_tensor = add_tensor(name, DType::BF16, shape);
        plan_.items.push_back(std::move(it));
    }

    void add_unit(const models::ParamSpec& p, const quant::QuantUnit& u) {
        const int64_t first = u.source->dst_offset + u.src_offset;
        if (u.algo.empty()) {
            // Unquantized: the input tensor as it is, or one expert's slice of a fused tensor (then 2-D, `.weight`).
            if (u.split) {
                add_plain(p, u.module + ".weight", {u.n, u.k}, first);
            } else {
                add_plain(p, u.source->checkpoint_name, u.source->logical_shape, first);
            }
            return;
        }
        SynthItem it = item_for(p, first, {u.n, u.k}, u.module);
        it.format = u.algo == "FP8" ? ItemFormat::Fp8 : ItemFormat::Nvfp4;
        it.weight_group = u.weight_group;
        for (const quant::UnitTensor& t : quant::unit_tensors(u)) {
            const size_t index = add_tensor(t.name, t.dtype, t.shape);
            switch (t.role) {
                case quant::UnitTensorRole::Weight:
                    it.data_tensor = index;
                    break;
                case quant::UnitTensorRole::BlockScales:
                    it.scale_tensor = index;
                    break;
                case quant::UnitTensorRole::GlobalScale:
                case quant::UnitTensorRole::WeightScale:
                case quant::UnitTensorRole::InputScale:
                    plan_.scalars.push_back({index, t.role, u.weight_group, u.algo});
                    break;
            }
        }
        plan_.items.push_back(std::move(it));
    }

private:
    SynthPlan& plan_;
    double range_;
    uint64_t seed_;
};

}  // namespace

std::unique_ptr<SynthPlan> plan_synth(const ModelConfig& config, int64_t mtp_layers, double initializer_range,
                                      uint64_t seed, std::optional<QuantLayout> quant) {
    auto plan = std::make_unique<SynthPlan>();
    plan->spec = models::find_model_family(config.architecture).weight_spec(config);
    // The Qwen3.5 wrappers keep the text model under model.language_model. (qwen3_5_architecture.md §2.1).
    const bool per_expert = config.text_model_type == "qwen3_next";
    plan_weights_in_release_layout(*plan, config.nested_text_config ? "model.language_model." : "model.", per_expert);
    // MTP tensors are on the spec's ignore list; the quantization planner keeps their Linear modules unquantized and
    // lists them for the exclude summary, as it does when quantizing a real checkpoint.
    plan->mtp = mtp_params(config, mtp_layers);
    for (const models::ParamSpec& p : plan->mtp) {
        for (const models::ShardSource& sh : release_layout(p, per_expert).shards) {
            plan->weights.ignored.push_back(sh.name);
        }
    }
    if (quant) plan->quant = quant::plan_quantization(plan->weights, plan->spec, quant->format, quant->preset, {});

    // Units of each Linear parameter, in plan order.
    std::map<std::string, std::vector<const quant::QuantUnit*>> units_of;
    if (plan->quant) {
        for (const quant::QuantUnit& u : plan->quant->units) units_of[u.param].push_back(&u);
    }

    Builder b(*plan, initializer_range, seed);
    for (const models::ParamSpec* p : plan->weights.params) {
        auto records = plan->weights.shards.find(p->name);
        if (records == plan->weights.shards.end()) continue;  // tied: stored once, under its target
        plan->parameters += numel(p->shape);
        if (auto units = units_of.find(p->name); units != units_of.end()) {
            for (const quant::QuantUnit* u : units->second) b.add_unit(*p, *u);
            continue;
        }
        QINFER_CHECK(!plan->quant || p->role != models::ParamRole::Linear, "internal: Linear parameter ", p->name,
                     " has no quantization units");
        for (const models::ShardRecord& r : records->second) {
            b.add_plain(*p, r.checkpoint_name, r.logical_shape, r.dst_offset);
        }
    }
    for (const models::ParamSpec& p : plan->mtp) {
        plan->parameters += numel(p.shape);
        for (const models::ShardSource& sh : release_layout(p, per_expert).shards) {
            b.add_plain(p, sh.name, sh.shape, sh.dst_offset);
        }
    }
    return plan;
}

}  // namespace qinfer::synth
