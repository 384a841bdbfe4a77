#include "runtime/cuda/cuda_model.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/check.h"
#include "core/progress.h"
#include "kernels/cuda/elementwise.h"
#include "kernels/cuda/moe.h"
#include "kernels/cuda/sampling.h"
#include "models/registry.h"
#include "quant/quant_config.h"

namespace qinfer::cuda {

struct CudaModel::Layer {
    LayerType type = LayerType::LinearAttention;
    bool moe = false;
    int cache_index = -1;  // index among attention layers (KV caches) or GDN layers (states)
    const float* input_norm = nullptr;  // f32 [H] zero-centred
    const float* post_norm = nullptr;
    // attention
    const DeviceLinear* qkv = nullptr;  // [2*Hq*hd + 2*Hkv*hd, H]
    const DeviceLinear* o = nullptr;    // [H, Hq*hd]
    const float* q_norm = nullptr;
    const float* k_norm = nullptr;
    // gated delta net
    const DeviceLinear* in_qkvz = nullptr;  // [2*kd + 2*vd, H]
    const DeviceLinear* in_ba = nullptr;    // [2*HV, H]
    const DeviceLinear* out = nullptr;      // [H, vd]
    GdnWeights gdn;
    // dense MLP / shared expert
    const DeviceLinear* gate_up = nullptr;  // [2F, H]
    const DeviceLinear* down = nullptr;     // [H, F]
    // MoE
    const DeviceLinear* router = nullptr;     // [E, H]
    const DeviceLinear* e_gate_up = nullptr;  // [E, 2I, H]
    const DeviceLinear* e_down = nullptr;     // [E, H, I]
    const DeviceLinear* sh_gate = nullptr;    // [1, H]
    // Decode (T <= 8) runs the shared expert as expert E of the routed experts' indexed GEMVs (one gate_up, SiLU·mul,
    // down and combine launch for both, its sigmoid gate as the (k+1)-th routing weight) when its weights have the
    // routed experts' format and shape; else these are null and it runs as its own GEMVs.
    const DeviceWeight* sh_gate_up_as_expert = nullptr;
    const DeviceWeight* sh_down_as_expert = nullptr;
    // The router and the shared-expert gate in one BF16/FP8 GEMV ([E + 1, H], row E the gate; CudaModel::derived_)
    // when both are single weights of one format; else null and they run apart.
    const DeviceLinear* router_and_gate = nullptr;
};

// Device buffers for one step of up to `rows` tokens (rows = max(prefill_chunk, max_batch)).
struct CudaModel::Work {
    int64_t rows = 0, moe_rows = 0, logit_rows = 0;
    // Row stride of router_logits: router_logit_cols(E), the padded row count of the fused router + gate weight.
    int64_t ld_logits = 0;
    DeviceBuffer ids, slots, positions, next;  // int32 [rows], [B], [B], [B]
    DeviceBuffer h;                            // f32 [rows, H] residual
    DeviceBuffer xb;                           // bf16 [rows, H] normed input of the next GEMMs
    DeviceBuffer proj;                         // bf16 [rows, max(qkv, qkvz, 2F, 2Is)]
    DeviceBuffer ba;                           // bf16 [rows, 2HV]
    DeviceBuffer mix;                          // bf16 [rows, max(Hq*hd, vd, F, Is)]
    DeviceBuffer kv_k, kv_v;                   // bf16 [attn layers][slots][max_ctx][Hkv][hd]
    DeviceBuffer gdn_conv, gdn_rec;            // f32 [gdn layers][slots][...]
    DeviceBuffer attn_ws, gdn_ws;
    // MoE
    DeviceBuffer router_logits;                // f32 [rows, ld_logits] (column E: the shared gate, when fused)
    DeviceBuffer topk_ids, topk_w;             // int32 / f32 [rows, k]
    DeviceBuffer offsets, src_token, sorted_pos, expert_of_row, permute_scratch;
    DeviceBuffer row_div_k, identity;          // int32 [moe_rows]: r / k and r (decode's indexed path)
    DeviceBuffer row_div_k1;  // int32 [moe_rows]: r / (k + 1) (decode with the shared expert as a slot)
    DeviceBuffer gus, acts, ys;                // bf16 [moe_rows, 2I], [moe_rows, I], [moe_rows, H] (moe.h: bf16 y)
    DeviceBuffer shared_gate;                  // f32 [rows]
    DeviceBuffer logits;                       // f32 [logit_rows, V]
    int32_t* host_i32 = nullptr;               // pinned staging: ids, slots, positions
    int64_t host_i32_count = 0;
};

CudaModel::~CudaModel() {
    for (auto& [k, g] : graphs_) cudaGraphExecDestroy(g);
    if (work_ && work_->host_i32) cudaFreeHost(work_->host_i32);
    if (stream_) cudaStreamDestroy(stream_);
}

namespace {

int64_t max_of(std::initializer_list<int64_t> v) { return *std::max_element(v.begin(), v.end()); }

// Router logit columns for E experts: E router rows + the shared-expert gate row, rounded up to 8. It is both the row
// count of the fused router + gate weight (zero rows past E + 1) and the logits' row stride: with M = E + 1 = 257 the
// prefill router GEMM ran in cuBLASLt's generic "Kernel2" (159 us per layer at 8k tokens; seventh session, ncu),
// and a 16-byte-aligned stride alone did not change that.
int64_t router_logit_cols(int64_t E) { return (E + 1 + 7) / 8 * 8; }

// Experts touched per layer by B tokens under uniform routing: E(1 − (1 − k/E)^B).
double expected_distinct_experts(int64_t E, int64_t k, int64_t B) {
    return static_cast<double>(E) * (1.0 - std::pow(1.0 - static_cast<double>(k) / static_cast<double>(E), static_cast<double>(B)));
}

}  // namespace

std::unique_ptr<CudaModel> CudaModel::load(const std::filesystem::path& dir, const CudaModelOptions& options) {
    QINFER_CHECK(device_count() > 0, "--device cuda: no CUDA device is visible (driver missing or no GPU)");
    QINFER_CHECK(options.max_batch >= 1 && options.max_ctx >= 0 && options.prefill_chunk >= 1,
                 "CUDA backend: max_batch and prefill_chunk must be >= 1 and max_ctx >= 0");
    std::unique_ptr<CudaModel> m(new CudaModel());
    m->config_ = load_model_config(dir);
    const ModelConfig& c = m->config_;
    m->options_ = options;
    if (m->options_.max_ctx == 0) m->options_.max_ctx = std::min<int64_t>(c.max_position_embeddings, 32768);
    m->options_.prefill_chunk = std::min(m->options_.prefill_chunk, m->options_.max_ctx);
    const models::ModelFamily& family = models::find_model_family(c.architecture);
    const models::WeightSpec spec = family.weight_spec(c);
    const TensorTable table = open_checkpoint(dir);
    const models::WeightPlan plan = models::plan_weights(spec, table, quant::load_quant_config(dir));
    uint64_t total = 0;
    for (const auto& [name, records] : plan.shards)
        for (const auto& r : records) total += r.stored_bytes();
    {
        ProgressBar bar("uploading weights", options.progress ? total : 0);
        m->params_ = upload_weights(plan, [&](uint64_t b) { bar.advance(b); });
    }
    QINFER_CUDA_CHECK(cudaStreamCreateWithFlags(&m->stream_, cudaStreamNonBlocking));
    m->gemm_ = std::make_unique<GemmContext>();

    m->attn_shape_.hq = static_cast<int>(c.num_attention_heads);
    m->attn_shape_.hkv = static_cast<int>(c.num_key_value_heads);
    m->attn_shape_.head_dim = static_cast<int>(c.head_dim);
    m->attn_shape_.rotary_dim = static_cast<int>(c.rotary_dim);
    m->attn_shape_.rope_theta = static_cast<float>(c.rope_theta);
    m->attn_shape_.eps = static_cast<float>(c.rms_norm_eps);
    m->gdn_shape_.hk = static_cast<int>(c.linear_num_key_heads);
    m->gdn_shape_.hv = static_cast<int>(c.linear_num_value_heads);
    m->gdn_shape_.dk = static_cast<int>(c.linear_key_head_dim);
    m->gdn_shape_.dv = static_cast<int>(c.linear_value_head_dim);
    m->gdn_shape_.conv_kernel = static_cast<int>(c.linear_conv_kernel_dim);
    m->gdn_shape_.eps = static_cast<float>(c.rms_norm_eps);

    const DeviceParams& P = m->params_;
    int n_attn = 0, n_gdn = 0;
    int64_t max_f = 0, max_is = 0;
    for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
        const std::string p = "layers." + std::to_string(i) + ".";
        Layer L;
        L.type = c.layer_types[static_cast<size_t>(i)];
        L.moe = c.layer_is_moe[static_cast<size_t>(i)];
        L.input_norm = P.vec(p + "input_layernorm.weight");
        L.post_norm = P.vec(p + "post_attention_layernorm.weight");
        if (L.type == LayerType::FullAttention) {
            const std::string a = p + "self_attn.";
            L.cache_index = n_attn++;
            L.qkv = &P.linear(a + "qkv_proj.weight");
            L.o = &P.linear(a + "o_proj.weight");
            L.q_norm = P.vec(a + "q_norm.weight");
            L.k_norm = P.vec(a + "k_norm.weight");
        } else {
            const std::string a = p + "linear_attn.";
            L.cache_index = n_gdn++;
            L.in_qkvz = &P.linear(a + "in_proj_qkvz.weight");
            L.in_ba = &P.linear(a + "in_proj_ba.weight");
            L.out = &P.linear(a + "out_proj.weight");
            L.gdn.conv1d = P.vec(a + "conv1d.weight");
            L.gdn.dt_bias = P.vec(a + "dt_bias");
            L.gdn.a_log = P.vec(a + "A_log");
            L.gdn.norm = P.vec(a + "norm.weight");
        }
        if (L.moe) {
            const std::string q = p + "mlp.";
            L.router = &P.linear(q + "gate.weight");
            L.e_gate_up = &P.linear(q + "experts.gate_up_proj");
            L.e_down = &P.linear(q + "experts.down_proj");
            if (c.shared_expert_intermediate_size > 0) {
                L.gate_up = &P.linear(q + "shared_expert.gate_up_proj.weight");
                L.down = &P.linear(q + "shared_expert.down_proj.weight");
                L.sh_gate = &P.linear(q + "shared_expert_gate.weight");
                max_is = std::max(max_is, L.gate_up->n / 2);
                const auto single = [](const DeviceLinear* l) {
                    return l->segments.size() == 1 ? &l->segments[0].weight : nullptr;
                };
                const DeviceWeight *sgu = single(L.gate_up), *sdn = single(L.down);
                const DeviceWeight *egu = single(L.e_gate_up), *edn = single(L.e_down);
                const auto same = [](const DeviceWeight* s, const DeviceWeight* e) {
                    return s != nullptr && e != nullptr && s->format() == e->format() && s->experts() == 1 &&
                           s->n() == e->n() && s->k() == e->k();
                };
                if (same(sgu, egu) && same(sdn, edn)) {
                    L.sh_gate_up_as_expert = sgu;
                    L.sh_down_as_expert = sdn;
                }
                const DeviceWeight *rw = single(L.router), *gw = single(L.sh_gate);
                if (rw != nullptr && gw != nullptr && rw->format() == gw->format() &&
                    rw->format() != WeightFormat::NVFP4 && rw->k() == gw->k() && rw->experts() == 1 &&
                    gw->experts() == 1) {
                    // Rows: the E router rows, the gate row, then zero rows up to router_logit_cols (an M of 257
                    // kept cuBLASLt's prefill GEMM on its generic "Kernel2", 159 us per layer at 8k tokens).
                    auto cat = std::make_unique<DeviceLinear>();
                    const int64_t used = rw->n() + gw->n();
                    cat->n = std::max(used, router_logit_cols(rw->n()));
                    cat->k = rw->k();
                    cat->segments.push_back({0, DeviceWeight(rw->format(), 1, cat->n, cat->k)});
                    DeviceWeight& cw = cat->segments[0].weight;
                    cw.copy_rows_from(0, *rw);
                    cw.copy_rows_from(rw->n(), *gw);
                    if (cat->n > used) {
                        const size_t elem = rw->format() == WeightFormat::BF16 ? 2 : 1;
                        const std::vector<uint8_t> zeros(static_cast<size_t>((cat->n - used) * cat->k) * elem, 0);
                        // FP8: the gate's scale, so the pad joins its scale run (one cuBLASLt call per run).
                        const float pad_scale = cw.scale_runs().empty() ? 1.0f : cw.scale_runs().back().scale;
                        cw.upload_rows(used, cat->n - used, zeros.data(), nullptr, pad_scale);
                    }
                    L.router_and_gate = cat.get();
                    m->derived_.push_back(std::move(cat));
                }
            }
        } else {
            L.gate_up = &P.linear(p + "mlp.gate_up_proj.weight");
            L.down = &P.linear(p + "mlp.down_proj.weight");
            max_f = std::max(max_f, L.gate_up->n / 2);
        }
        m->layers_.push_back(L);
    }

    // ---- work buffers
    auto w = std::make_unique<Work>();
    const CudaModelOptions& opt = m->options_;
    const int64_t H = c.hidden_size, V = c.vocab_size, B = opt.max_batch, S = opt.max_ctx;
    const int64_t R = std::max<int64_t>(opt.prefill_chunk, B);
    const int64_t hq = c.num_attention_heads, hkv = c.num_key_value_heads, hd = c.head_dim;
    const int64_t kd = c.linear_key_dim(), vd = c.linear_value_dim(), hv = c.linear_num_value_heads;
    const int64_t E = c.num_experts, k = std::max<int64_t>(c.num_experts_per_tok, 1), I = c.moe_intermediate_size;
    const int64_t qkv_dim = 2 * hq * hd + 2 * hkv * hd, qkvz_dim = 2 * kd + 2 * vd;
    w->rows = R;
    // decode's indexed path: up to 8 tokens x (k + 1) slots (the shared expert as a slot)
    w->moe_rows = c.is_moe ? std::max(R * k, 8 * (k + 1)) : 0;
    w->logit_rows = std::max<int64_t>(B, 64);
    w->ids = DeviceBuffer(static_cast<size_t>(R) * 4);
    w->slots = DeviceBuffer(static_cast<size_t>(B) * 4);
    w->positions = DeviceBuffer(static_cast<size_t>(B) * 4);
    w->next = DeviceBuffer(static_cast<size_t>(B) * 4);
    w->h = DeviceBuffer(static_cast<size_t>(R * H) * 4);
    w->xb = DeviceBuffer(static_cast<size_t>(R * H) * 2);
    w->proj = DeviceBuffer(static_cast<size_t>(R * max_of({qkv_dim, qkvz_dim, 2 * max_f, 2 * max_is, 1})) * 2);
    w->ba = DeviceBuffer(static_cast<size_t>(R * std::max<int64_t>(2 * hv, 1)) * 2);
    w->mix = DeviceBuffer(static_cast<size_t>(R * max_of({hq * hd, vd, max_f, max_is, 1})) * 2);
    if (n_attn > 0) {
        const size_t kv = static_cast<size_t>(n_attn) * B * S * hkv * hd * 2;
        w->kv_k = DeviceBuffer(kv);
        w->kv_v = DeviceBuffer(kv);
        w->attn_ws = DeviceBuffer(std::max<size_t>(gated_attention_decode_workspace_bytes(m->attn_shape_, B, S), 16));
    }
    if (n_gdn > 0) {
        w->gdn_conv = DeviceBuffer(static_cast<size_t>(n_gdn * B * m->gdn_shape_.conv_state_elems()) * 4);
        w->gdn_rec = DeviceBuffer(static_cast<size_t>(n_gdn * B * m->gdn_shape_.recurrent_state_elems()) * 4);
        w->gdn_ws = DeviceBuffer(std::max<size_t>(gdn_prefill_workspace_bytes(m->gdn_shape_, opt.prefill_chunk), 16));
        QINFER_CUDA_CHECK(cudaMemset(w->gdn_conv.data(), 0, w->gdn_conv.bytes()));
        QINFER_CUDA_CHECK(cudaMemset(w->gdn_rec.data(), 0, w->gdn_rec.bytes()));
    }
    if (c.is_moe) {
        const int64_t MR = w->moe_rows;
        w->ld_logits = router_logit_cols(E);
        w->router_logits = DeviceBuffer(static_cast<size_t>(R * w->ld_logits) * 4);
        w->topk_ids = DeviceBuffer(static_cast<size_t>(MR) * 4);
        w->topk_w = DeviceBuffer(static_cast<size_t>(MR) * 4);
        w->offsets = DeviceBuffer(static_cast<size_t>(E + 1) * 4);
        w->src_token = DeviceBuffer(static_cast<size_t>(MR) * 4);
        w->sorted_pos = DeviceBuffer(static_cast<size_t>(MR) * 4);
        w->expert_of_row = DeviceBuffer(static_cast<size_t>(MR) * 4);
        w->permute_scratch = DeviceBuffer(std::max<size_t>(moe_permute_scratch_bytes(R, k, E), 16));
        std::vector<int32_t> div(static_cast<size_t>(MR)), div1(static_cast<size_t>(MR)), id(static_cast<size_t>(MR));
        for (int64_t r = 0; r < MR; ++r) {
            div[static_cast<size_t>(r)] = static_cast<int32_t>(r / k);
            div1[static_cast<size_t>(r)] = static_cast<int32_t>(r / (k + 1));
            id[static_cast<size_t>(r)] = static_cast<int32_t>(r);
        }
        w->row_div_k = to_device(std::span<const int32_t>(div));
        w->row_div_k1 = to_device(std::span<const int32_t>(div1));
        w->identity = to_device(std::span<const int32_t>(id));
        w->gus = DeviceBuffer(static_cast<size_t>(MR * 2 * I) * 2);
        w->acts = DeviceBuffer(static_cast<size_t>(MR * I) * 2);
        w->ys = DeviceBuffer(static_cast<size_t>(MR * H) * 2);
        if (c.shared_expert_intermediate_size > 0) {
            w->shared_gate = DeviceBuffer(static_cast<size_t>(R) * 4);
        }
    }
    w->logits = DeviceBuffer(static_cast<size_t>(w->logit_rows * V) * 4);
    w->host_i32_count = R + 2 * B;
    QINFER_CUDA_CHECK(cudaMallocHost(&w->host_i32, static_cast<size_t>(w->host_i32_count) * 4));
    m->work_ = std::move(w);
    m->positions_.assign(static_cast<size_t>(B), 0);
    return m;
}

void CudaModel::reset_slot(int slot) {
    QINFER_CHECK(slot >= 0 && slot < options_.max_batch, "CUDA backend: slot ", slot, " out of range [0, ",
                 options_.max_batch, ")");
    positions_[static_cast<size_t>(slot)] = 0;
    const int64_t B = options_.max_batch;
    const size_t conv = static_cast<size_t>(gdn_shape_.conv_state_elems()) * 4;
    const size_t rec = static_cast<size_t>(gdn_shape_.recurrent_state_elems()) * 4;
    for (const Layer& L : layers_) {
        if (L.type != LayerType::LinearAttention) continue;
        const size_t base = static_cast<size_t>(L.cache_index * B + slot);
        QINFER_CUDA_CHECK(cudaMemsetAsync(work_->gdn_conv.as<char>() + base * conv, 0, conv, stream_));
        QINFER_CUDA_CHECK(cudaMemsetAsync(work_->gdn_rec.as<char>() + base * rec, 0, rec, stream_));
    }
}

bool CudaModel::capturing() const {
    cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
    QINFER_CUDA_CHECK(cudaStreamIsCapturing(stream_, &status));
    return status != cudaStreamCaptureStatusNone;
}

void CudaModel::observe_routing(int layer, int64_t pos0, int64_t T, int64_t ld, int64_t slots) {
    if (capturing()) return;  // a graph replays without the host: nothing to observe
    const int64_t E = config_.num_experts, k = config_.num_experts_per_tok;
    Tensor logits({T, E});
    std::vector<int32_t> ids(static_cast<size_t>(T * slots)), experts(static_cast<size_t>(T * k));
    QINFER_CUDA_CHECK(cudaMemcpy2DAsync(logits.data(), static_cast<size_t>(E) * 4, work_->router_logits.data(),
                                        static_cast<size_t>(ld) * 4, static_cast<size_t>(E) * 4, static_cast<size_t>(T),
                                        cudaMemcpyDeviceToHost, stream_));
    QINFER_CUDA_CHECK(
        cudaMemcpyAsync(ids.data(), work_->topk_ids.data(), ids.size() * 4, cudaMemcpyDeviceToHost, stream_));
    QINFER_CUDA_CHECK(cudaStreamSynchronize(stream_));
    for (int64_t t = 0; t < T; ++t)  // the routed slots only (a shared-expert slot is the last of each token)
        for (int64_t j = 0; j < k; ++j)
            experts[static_cast<size_t>(t * k + j)] = ids[static_cast<size_t>(t * slots + j)];
    routing_observer_(layer, pos0, logits, experts);
}

uint64_t CudaModel::weight_bytes() const {
    uint64_t b = params_.bytes();
    for (const auto& d : derived_) b += d->bytes();
    return b;
}

void CudaModel::observe_residual(int layer, bool after_mlp, int64_t pos0, int64_t T) {
    if (capturing()) return;  // as observe_routing
    Tensor h({T, config_.hidden_size});
    QINFER_CUDA_CHECK(cudaMemcpyAsync(h.data(), work_->h.data(), static_cast<size_t>(h.numel()) * 4,
                                      cudaMemcpyDeviceToHost, stream_));
    QINFER_CUDA_CHECK(cudaStreamSynchronize(stream_));
    residual_observer_(layer, after_mlp, pos0, h);
}

void CudaModel::forward(Phase phase, int64_t T, int slot, int64_t pos0) {
    const ModelConfig& c = config_;
    Work& w = *work_;
    GemmContext& g = *gemm_;
    cudaStream_t s = stream_;
    const int64_t H = c.hidden_size, B = options_.max_batch, S = options_.max_ctx;
    const float eps = static_cast<float>(c.rms_norm_eps);
    const int64_t hq = c.num_attention_heads, hkv = c.num_key_value_heads, hd = c.head_dim;
    const int64_t kd = c.linear_key_dim(), vd = c.linear_value_dim(), hv = c.linear_num_value_heads;
    const int64_t qkv_dim = 2 * hq * hd + 2 * hkv * hd, qkvz_dim = 2 * kd + 2 * vd;
    float* h = w.h.as<float>();
    bf16* xb = w.xb.as<bf16>();
    bf16* proj = w.proj.as<bf16>();
    bf16* mix = w.mix.as<bf16>();

    const DeviceLinear& embed = params_.linear("embed_tokens.weight");
    embedding(static_cast<const bf16*>(embed.segments.front().weight.data().data()), c.vocab_size, H,
              w.ids.as<int32_t>(), T, h, s);
    const float* final_norm = params_.vec("norm.weight");
    bool xb_ready = false;  // the previous layer's last kernel already wrote this layer's normed input into xb
    // The MoE combine. When it is the layer's last writer of h, it also norms h for what comes next (the next layer's
    // input norm or the final norm), and that norm is skipped.
    const auto combine = [&](size_t li, bool last_writer, const int32_t* pos, const float* wts, int64_t T_,
                             int64_t slots) {
        if (last_writer && moe_combine_norm_supported(H)) {
            const float* next_norm = li + 1 < layers_.size() ? layers_[li + 1].input_norm : final_norm;
            moe_combine_norm(w.ys.as<bf16>(), pos, wts, T_, slots, H, h, next_norm, eps, true, xb, s);
            xb_ready = true;
        } else {
            moe_combine(w.ys.as<bf16>(), pos, wts, T_, slots, H, h, s);
        }
    };
    for (size_t li = 0; li < layers_.size(); ++li) {
        const Layer& L = layers_[li];
        if (!xb_ready) rms_norm(h, H, L.input_norm, eps, true, T, H, xb, s);
        xb_ready = false;
        if (L.type == LayerType::FullAttention) {
            L.qkv->forward(xb, T, H, proj, qkv_dim, OutMode::StoreBF16, g, s);
            KvCache cache;
            const size_t layer_off = static_cast<size_t>(L.cache_index) * B * S * hkv * hd;
            cache.k = w.kv_k.as<bf16>() + layer_off;
            cache.v = w.kv_v.as<bf16>() + layer_off;
            cache.max_ctx = S;
            if (phase == Phase::Prefill) {
                gated_attention_prefill(attn_shape_, proj, T, slot, pos0, L.q_norm, L.k_norm, cache, mix, s);
            } else {
                gated_attention_decode(attn_shape_, proj, T, w.slots.as<int32_t>(), w.positions.as<int32_t>(),
                                       L.q_norm, L.k_norm, cache, mix, w.attn_ws.data(), s);
            }
            L.o->forward(mix, T, hq * hd, h, H, OutMode::AddF32, g, s);
        } else {
            L.in_qkvz->forward(xb, T, H, proj, qkvz_dim, OutMode::StoreBF16, g, s);
            L.in_ba->forward(xb, T, H, w.ba.data(), 2 * hv, OutMode::StoreBF16, g, s);
            GdnState st;
            const int64_t slots_before = L.cache_index * B;  // this layer's states start after earlier layers' slots
            st.conv = w.gdn_conv.as<float>() + slots_before * gdn_shape_.conv_state_elems();
            st.recurrent = w.gdn_rec.as<float>() + slots_before * gdn_shape_.recurrent_state_elems();
            if (phase == Phase::Prefill) {
                gdn_prefill(gdn_shape_, L.gdn, proj, w.ba.as<bf16>(), T, slot, st, mix, w.gdn_ws.data(), s);
            } else {
                gdn_decode(gdn_shape_, L.gdn, proj, w.ba.as<bf16>(), T, w.slots.as<int32_t>(), st, mix, s);
            }
            L.out->forward(mix, T, vd, h, H, OutMode::AddF32, g, s);
        }
        if (residual_observer_) observe_residual(static_cast<int>(li), false, pos0, T);
        rms_norm(h, H, L.post_norm, eps, true, T, H, xb, s);
        if (!L.moe) {
            const int64_t F = L.gate_up->n / 2;
            L.gate_up->forward(xb, T, H, proj, 2 * F, OutMode::StoreBF16, g, s);
            silu_mul(proj, T, F, mix, s);
            L.down->forward(mix, T, F, h, H, OutMode::AddF32, g, s);
            if (residual_observer_) observe_residual(static_cast<int>(li), true, pos0, T);
            continue;
        }
        // ---- sparse MoE: route, run the selected experts, combine into h; then the gated shared expert
        const int64_t E = c.num_experts, k = c.num_experts_per_tok, I = L.e_down->k;
        const DeviceWeight& wgu = L.e_gate_up->segments.front().weight;
        const DeviceWeight& wdn = L.e_down->segments.front().weight;
        // Router logits f32 [T, ldl]; the shared expert's gate logit of token t at gate[t * ldg].
        const int64_t ldl = w.ld_logits;
        float* logits = w.router_logits.as<float>();
        (L.router_and_gate != nullptr ? L.router_and_gate : L.router)
            ->forward(xb, T, H, logits, ldl, OutMode::StoreF32, g, s);
        const float* gate = L.router_and_gate != nullptr ? logits + E : w.shared_gate.as<float>();
        const int64_t ldg = L.router_and_gate != nullptr ? ldl : 1;
        if (L.sh_gate != nullptr && L.router_and_gate == nullptr)
            L.sh_gate->forward(xb, T, H, w.shared_gate.data(), 1, OutMode::StoreF32, g, s);
        // Few tokens with a matching shared expert: it runs as slot k of every token (expert id E), so one launch
        // each does the routed and shared experts' gate_up, SiLU·mul, down and the combine (its sigmoid gate is the
        // slot's weight).
        const bool fold_shared = T <= 8 && L.sh_gate_up_as_expert != nullptr;
        const int64_t slots = fold_shared ? k + 1 : k, rows = T * slots;
        if (fold_shared)
            moe_route_shared(logits, ldl, T, E, k, c.norm_topk_prob, gate, ldg, w.topk_ids.as<int32_t>(),
                             w.topk_w.as<float>(), s);
        else
            moe_route(logits, ldl, T, E, k, c.norm_topk_prob, w.topk_ids.as<int32_t>(), w.topk_w.as<float>(), s);
        if (routing_observer_) observe_routing(static_cast<int>(li), pos0, T, ldl, slots);
        const bool last_writer = fold_shared || L.gate_up == nullptr;  // no shared expert left to add after
        if (T <= 8) {
            // Few tokens: each (token, slot) row reads its own expert's weights directly (only selected experts).
            const DeviceBuffer& row_token = fold_shared ? w.row_div_k1 : w.row_div_k;
            linear_indexed(wgu, xb, H, row_token.as<int32_t>(), w.topk_ids.as<int32_t>(), rows, w.gus.data(), 2 * I,
                           OutMode::StoreBF16, g, s, fold_shared ? L.sh_gate_up_as_expert : nullptr);
            silu_mul(w.gus.as<bf16>(), rows, I, w.acts.as<bf16>(), s);
            linear_indexed(wdn, w.acts.as<bf16>(), I, w.identity.as<int32_t>(), w.topk_ids.as<int32_t>(), rows,
                           w.ys.data(), H, OutMode::StoreBF16, g, s, fold_shared ? L.sh_down_as_expert : nullptr);
            combine(li, last_writer, w.identity.as<int32_t>(), w.topk_w.as<float>(), T, slots);
        } else {
            moe_permute(w.topk_ids.as<int32_t>(), T, k, E, w.offsets.as<int32_t>(), w.src_token.as<int32_t>(),
                        w.sorted_pos.as<int32_t>(), w.expert_of_row.as<int32_t>(), w.permute_scratch.data(), s);
            // gate_up reads each sorted row's token straight from xb (src_token: the permutation).
            linear_grouped(wgu, xb, rows, H, w.offsets.as<int32_t>(), w.gus.data(), 2 * I, OutMode::StoreBF16, g, s,
                           w.src_token.as<int32_t>());
            silu_mul(w.gus.as<bf16>(), rows, I, w.acts.as<bf16>(), s);
            linear_grouped(wdn, w.acts.as<bf16>(), rows, I, w.offsets.as<int32_t>(), w.ys.data(), H,
                           OutMode::StoreBF16, g, s);
            combine(li, last_writer, w.sorted_pos.as<int32_t>(), w.topk_w.as<float>(), T, slots);
        }
        if (!last_writer) {
            const int64_t Is = L.gate_up->n / 2;
            L.gate_up->forward(xb, T, H, proj, 2 * Is, OutMode::StoreBF16, g, s);
            if (L.down->gated_supported(T)) {  // decode: the sigmoid-gated add in the down projection's store
                silu_mul(proj, T, Is, mix, s);
                L.down->forward_gated(mix, T, Is, h, H, OutMode::AddF32, gate, ldg, s);
            } else {  // the gate scales the activations (elementwise.h), the projection adds into h
                silu_mul(proj, T, Is, mix, s, gate, ldg);
                L.down->forward(mix, T, Is, h, H, OutMode::AddF32, g, s);
            }
        }
        if (residual_observer_) observe_residual(static_cast<int>(li), true, pos0, T);
    }
    if (!xb_ready) rms_norm(h, H, final_norm, eps, true, T, H, xb, s);
}

void CudaModel::lm_head(int64_t row0, int64_t rows) {
    const int64_t H = config_.hidden_size, V = config_.vocab_size;
    params_.linear("lm_head.weight").forward(work_->xb.as<bf16>() + row0 * H, rows, H, work_->logits.data(), V,
                                             OutMode::StoreF32, *gemm_, stream_);
}

Tensor CudaModel::prefill(int slot, std::span<const int64_t> ids, bool all_logits) {
    QINFER_CHECK(!ids.empty(), "forward called with no tokens");
    QINFER_CHECK(slot >= 0 && slot < options_.max_batch, "CUDA backend: slot ", slot, " out of range");
    const int64_t V = config_.vocab_size, T = static_cast<int64_t>(ids.size());
    int64_t& pos = positions_[static_cast<size_t>(slot)];
    QINFER_CHECK(pos + T <= options_.max_ctx, "CUDA backend: ", pos, " + ", T, " tokens exceed the context of ",
                 options_.max_ctx, " positions (--max-ctx)");
    for (int64_t id : ids) QINFER_CHECK(id >= 0 && id < V, "token id ", id, " out of range [0, ", V, ")");
    Tensor out({all_logits ? T : 1, V});
    for (int64_t b = 0; b < T; b += options_.prefill_chunk) {
        const int64_t n = std::min(options_.prefill_chunk, T - b);
        for (int64_t t = 0; t < n; ++t) work_->host_i32[t] = static_cast<int32_t>(ids[static_cast<size_t>(b + t)]);
        QINFER_CUDA_CHECK(cudaMemcpyAsync(work_->ids.data(), work_->host_i32, static_cast<size_t>(n) * 4,
                                          cudaMemcpyHostToDevice, stream_));
        forward(Phase::Prefill, n, slot, pos);
        pos += n;
        if (all_logits) {
            for (int64_t r = 0; r < n; r += work_->logit_rows) {
                const int64_t m = std::min(work_->logit_rows, n - r);
                lm_head(r, m);
                QINFER_CUDA_CHECK(cudaMemcpyAsync(out.row(b + r), work_->logits.data(), static_cast<size_t>(m * V) * 4,
                                                  cudaMemcpyDeviceToHost, stream_));
                QINFER_CUDA_CHECK(cudaStreamSynchronize(stream_));
            }
        } else if (b + n == T) {
            lm_head(n - 1, 1);
            QINFER_CUDA_CHECK(cudaMemcpyAsync(out.data(), work_->logits.data(), static_cast<size_t>(V) * 4,
                                              cudaMemcpyDeviceToHost, stream_));
        }
        // The host staging buffer is reused by the next chunk: wait until this chunk's ids were consumed.
        QINFER_CUDA_CHECK(cudaStreamSynchronize(stream_));
    }
    return out;
}

void CudaModel::decode_enqueue(std::span<const int> slots, std::span<const int64_t> ids, bool greedy) {
    const int64_t B = static_cast<int64_t>(slots.size());
    QINFER_CHECK(B >= 1 && B <= options_.max_batch && ids.size() == slots.size(), "CUDA backend: decode of ", B,
                 " sequences (", ids.size(), " ids) with max_batch ", options_.max_batch);
    const int64_t V = config_.vocab_size;
    Work& w = *work_;
    int32_t* hid = w.host_i32;
    int32_t* hslot = w.host_i32 + B;
    int32_t* hpos = w.host_i32 + 2 * B;
    for (int64_t b = 0; b < B; ++b) {
        const int sl = slots[static_cast<size_t>(b)];
        QINFER_CHECK(sl >= 0 && sl < options_.max_batch, "CUDA backend: slot ", sl, " out of range");
        for (int64_t o = 0; o < b; ++o) QINFER_CHECK(slots[static_cast<size_t>(o)] != sl, "CUDA backend: slot ", sl, " twice in one decode step");
        const int64_t id = ids[static_cast<size_t>(b)];
        QINFER_CHECK(id >= 0 && id < V, "token id ", id, " out of range [0, ", V, ")");
        const int64_t pos = positions_[static_cast<size_t>(sl)];
        QINFER_CHECK(pos + 1 <= options_.max_ctx, "CUDA backend: slot ", sl, " is full (", options_.max_ctx, " positions)");
        hid[b] = static_cast<int32_t>(id);
        hslot[b] = sl;
        hpos[b] = static_cast<int32_t>(pos);
    }
    QINFER_CUDA_CHECK(cudaMemcpyAsync(w.ids.data(), hid, static_cast<size_t>(B) * 4, cudaMemcpyHostToDevice, stream_));
    QINFER_CUDA_CHECK(cudaMemcpyAsync(w.slots.data(), hslot, static_cast<size_t>(B) * 4, cudaMemcpyHostToDevice, stream_));
    QINFER_CUDA_CHECK(cudaMemcpyAsync(w.positions.data(), hpos, static_cast<size_t>(B) * 4, cudaMemcpyHostToDevice, stream_));
    auto enqueue = [&] {
        forward(Phase::Decode, B, -1, hpos[0]);  // pos0 only labels the routing observer's rows in decode
        lm_head(0, B);
        if (greedy) argmax_rows(w.logits.as<float>(), V, B, V, w.next.as<int32_t>(), stream_);
    };
    const int64_t key = greedy ? -B : B;
    if (!options_.cuda_graphs || !warmed_.contains(key)) {
        // First step of a batch size runs eagerly: GEMM paths allocate their scratch and build their cuBLASLt setup
        // on first use, which must not happen inside a capture. The next step of this size is captured.
        enqueue();
        warmed_.insert(key);
    } else {
        auto it = graphs_.find(key);
        if (it == graphs_.end()) {
            cudaGraph_t graph = nullptr;
            QINFER_CUDA_CHECK(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal));
            try {
                enqueue();
            } catch (...) {
                cudaStreamEndCapture(stream_, &graph);
                if (graph) cudaGraphDestroy(graph);
                throw;
            }
            QINFER_CUDA_CHECK(cudaStreamEndCapture(stream_, &graph));
            cudaGraphExec_t exec = nullptr;
            QINFER_CUDA_CHECK(cudaGraphInstantiate(&exec, graph, 0));
            QINFER_CUDA_CHECK(cudaGraphDestroy(graph));
            it = graphs_.emplace(key, exec).first;
        }
        QINFER_CUDA_CHECK(cudaGraphLaunch(it->second, stream_));
    }
    for (int64_t b = 0; b < B; ++b) positions_[static_cast<size_t>(slots[static_cast<size_t>(b)])] += 1;
}

Tensor CudaModel::decode(std::span<const int> slots, std::span<const int64_t> ids) {
    decode_enqueue(slots, ids, false);
    const int64_t B = static_cast<int64_t>(slots.size()), V = config_.vocab_size;
    Tensor out({B, V});
    QINFER_CUDA_CHECK(cudaMemcpyAsync(out.data(), work_->logits.data(), static_cast<size_t>(B * V) * 4,
                                      cudaMemcpyDeviceToHost, stream_));
    QINFER_CUDA_CHECK(cudaStreamSynchronize(stream_));
    return out;
}

std::vector<int32_t> CudaModel::decode_greedy(std::span<const int> slots, std::span<const int64_t> ids) {
    decode_enqueue(slots, ids, true);
    std::vector<int32_t> out(slots.size());
    QINFER_CUDA_CHECK(cudaMemcpyAsync(out.data(), work_->next.data(), out.size() * 4, cudaMemcpyDeviceToHost, stream_));
    QINFER_CUDA_CHECK(cudaStreamSynchronize(stream_));
    return out;
}

DecodeBytes CudaModel::decode_bytes(int64_t B, int64_t ctx) const {
    const ModelConfig& c = config_;
    DecodeBytes d;
    for (const auto& [name, lin] : params_.linears) {
        if (name == "embed_tokens.weight") continue;  // gathered rows only (B · H · 2 bytes), not the table
        if (lin.experts > 1) {
            d.expert_weights += static_cast<uint64_t>(
                expected_distinct_experts(lin.experts, c.num_experts_per_tok, B) * static_cast<double>(lin.expert_bytes()));
        } else {
            d.dense_weights += lin.bytes();
        }
    }
    if (params_.tied.count("lm_head.weight")) d.dense_weights += params_.linear("lm_head.weight").bytes();
    int64_t n_attn = 0, n_gdn = 0;
    for (const auto& t : c.layer_types) (t == LayerType::FullAttention ? n_attn : n_gdn) += 1;
    const uint64_t per_seq_state = static_cast<uint64_t>(n_gdn) *
        static_cast<uint64_t>(gdn_shape_.conv_state_elems() + gdn_shape_.recurrent_state_elems()) * 4;
    d.state = static_cast<uint64_t>(B) * 2 * per_seq_state;
    const uint64_t kv_token = static_cast<uint64_t>(n_attn) * 2 * c.num_key_value_heads * c.head_dim * 2;
    d.kv = static_cast<uint64_t>(B) * static_cast<uint64_t>(ctx + 1) * kv_token;
    return d;
}

std::map<std::string, int> CudaModel::format_counts() const {
    std::map<std::string, int> m;
    for (const auto& [name, lin] : params_.linears) m[lin.format_str()] += 1;
    return m;
}

}  // namespace qinfer::cuda
