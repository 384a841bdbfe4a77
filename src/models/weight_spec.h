#pragma once
// defines: qinfer::models::ParamRole, ShardSource, LayoutAlternative, ParamSpec, WeightSpec
//
// A model declares its weights as data (conventions.md C6): every runtime parameter, its runtime shape, and where it
// comes from in the checkpoint. HF tensor names are canonical; runtime names are HF names plus the fused names every
// serving engine uses (qkv_proj, gate_up_proj, in_proj_qkvz, in_proj_ba, stacked experts).
//
// A runtime parameter is filled from one or more checkpoint shards, each copied to an element offset of the runtime
// tensor (packed groups concatenate rows; per-expert tensors land at expert e's slice). A parameter may have several
// alternative layouts (fused 3-D experts vs per-expert 2-D); exactly one must be present in a checkpoint. A shard may
// carry a re-layout function (Qwen3-Next's interleaved in_proj_qkvz) applied once at load (C8), so the forward only
// ever sees the dense layout.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace qinfer::models {

enum class ParamRole : uint8_t {
    Linear,     // a GEMM weight [out, in] (or stacked experts [E, out, in]); quantizable in later formats
    Embedding,  // embed_tokens
    Norm,       // RMSNorm weights
    Conv,       // GDN depthwise conv1d
    Vector,     // small per-head vectors (A_log, dt_bias)
};
std::string_view param_role_name(ParamRole r);

// Re-layout from the checkpoint's element order to the runtime order: reads src (checkpoint shape, fp32) and writes
// numel(src) elements at dst.
using Relayout = std::function<void(const Tensor& src, float* dst)>;

struct ShardSource {
    std::string name;        // checkpoint tensor name relative to the text-model prefix, or absolute if `absolute`
    Shape shape;             // expected checkpoint shape
    int64_t dst_offset = 0;  // element offset inside the runtime parameter
    bool absolute = false;   // true for names outside the text model (lm_head.weight)
    Relayout relayout;       // empty = plain copy
};

struct LayoutAlternative {
    std::string label;                // "fused 3-D experts", "per-expert", "split shards", ...
    std::vector<ShardSource> shards;  // in runtime order
};

struct ParamSpec {
    std::string name;                         // runtime name relative to "model." ("layers.0.self_attn.qkv_proj.weight")
    Shape shape;                              // runtime shape
    ParamRole role = ParamRole::Linear;
    std::vector<LayoutAlternative> layouts;   // tried in order
    std::string tied_to;                      // non-empty: share this runtime parameter instead (tied lm_head)
};

struct WeightSpec {
    std::vector<ParamSpec> params;
    // Runtime Linear parameters (by ParamSpec::name) that the forward feeds the SAME input tensor, beyond the shards of
    // one packed parameter (which always share theirs): a GDN layer's in_proj_qkvz and in_proj_ba. ModelOpt gives
    // quantized Linears that share an input one weight and one input scale (quantized_checkpoints.md §7.1), so
    // `qinfer quantize` needs to know; the forward itself does not use this.
    std::vector<std::vector<std::string>> same_input;
    // fnmatch globs over absolute checkpoint names that are known and deliberately not loaded (vision tower, MTP head).
    std::vector<std::string> ignore;
};

// Builders used by the model files.
// A parameter stored as one checkpoint tensor of the same name and shape.
ParamSpec single_param(const std::string& name, Shape shape, ParamRole role);
// A runtime parameter formed by concatenating checkpoint shards along dim 0 (rows): runtime_name gets shape
// [sum(rows), cols...]. Each entry is (checkpoint name, checkpoint shape).
ParamSpec packed_rows(const std::string& runtime_name, const std::vector<std::pair<std::string, Shape>>& shards,
                      ParamRole role = ParamRole::Linear);

}  // namespace qinfer::models
