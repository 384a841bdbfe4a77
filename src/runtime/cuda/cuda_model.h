#pragma once
// defines: qinfer::cuda::CudaModelOptions, DecodeBytes, CudaModel
//
// A Qwen3.5-family text model on one CUDA GPU: the same hybrid decoder as the CPU reference (models/model.h), with
// weights in their stored formats on the device (runtime/cuda/device_weights.h) and every op a CUDA kernel
// (kernels/cuda/*.h). Sequences live in slots [0, max_batch): each slot owns its KV cache rows and its GDN conv +
// fp32 recurrent state. Prefill runs one sequence's tokens (split into chunks of at most prefill_chunk); decode runs
// one token for each of B slots, as a CUDA graph per batch size (captured on first use; positions, slots and token
// ids are device arrays refreshed before each replay).

#include <cuda_runtime.h>

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <vector>

#include "core/tensor.h"
#include "io/hf_config.h"
#include "kernels/cuda/attention.h"
#include "kernels/cuda/gated_delta_net.h"
#include "runtime/cuda/device_weights.h"

namespace qinfer::cuda {

struct CudaModelOptions {
    int max_batch = 1;             // sequences decoded together (slots)
    int64_t max_ctx = 4096;        // positions per sequence (KV cache rows); 0 = min(max_position_embeddings, 32768)
    int64_t prefill_chunk = 4096;  // longest single forward (capped at max_ctx); longer prompts run in chunks
    bool cuda_graphs = true;       // capture decode steps into graphs
    bool progress = true;          // progress bar while uploading (terminal only)
};

// What one decode step of B sequences at context `ctx` must read and write in device memory, from the loaded model.
struct DecodeBytes {
    uint64_t dense_weights = 0;   // every non-expert GEMM weight incl. lm_head (read once per step, whatever B)
    uint64_t expert_weights = 0;  // routed experts: Σ_layers U(B) · expert bytes, U(B) = E(1 − (1 − k/E)^B)
    uint64_t state = 0;           // GDN conv + recurrent state, read and written: B · 2 · bytes
    uint64_t kv = 0;              // KV cache read: B · ctx · per-token bytes (+ the new token's write)
    uint64_t total() const { return dense_weights + expert_weights + state + kv; }
};

class CudaModel {
public:
    static std::unique_ptr<CudaModel> load(const std::filesystem::path& dir, const CudaModelOptions& options = {});
    ~CudaModel();
    CudaModel(const CudaModel&) = delete;
    CudaModel& operator=(const CudaModel&) = delete;

    const ModelConfig& config() const { return config_; }
    const CudaModelOptions& options() const { return options_; }  // as resolved at load (max_ctx, prefill_chunk)
    cudaStream_t stream() const { return stream_; }

    // Starts a fresh sequence in `slot` (zero GDN state, position 0).
    void reset_slot(int slot);
    int64_t position(int slot) const { return positions_.at(static_cast<size_t>(slot)); }

    // Runs ids after what `slot` holds. Returns f32 logits: every row [T, V] when all_logits, else the last [1, V].
    Tensor prefill(int slot, std::span<const int64_t> ids, bool all_logits);
    // One token for each of slots[b] (distinct). Returns f32 logits [B, V].
    Tensor decode(std::span<const int> slots, std::span<const int64_t> ids);
    // As decode, but selects greedily on the device and returns only the B token ids.
    std::vector<int32_t> decode_greedy(std::span<const int> slots, std::span<const int64_t> ids);

    // Debugging and tests: after each MoE layer's routing in an eager step (prefill; decode steps that are not
    // captured), `observer` receives the layer index, the position of row 0 (prefill: the chunk's first token;
    // decode: slots[0]'s token), the f32 router logits [rows, E] and the chosen expert ids int32 [rows, k], on the
    // host. Synchronises the stream per MoE layer, so it is off (empty) in serving.
    using RoutingObserver = std::function<void(int layer, int64_t pos0, const Tensor& router_logits,
                                               std::span<const int32_t> experts)>;
    void set_routing_observer(RoutingObserver observer) { routing_observer_ = std::move(observer); }
    // Debugging and tests: in an eager step, `observer` receives the f32 residual stream h [rows, H] of layer `layer`
    // after its token mixer's add (after_mlp false) and after its MLP / MoE add (after_mlp true), on the host, with
    // pos0 as above. Localises a divergence from the CPU reference to a layer and a sublayer. Synchronises the
    // stream twice per layer: off (empty) in serving.
    using ResidualObserver = std::function<void(int layer, bool after_mlp, int64_t pos0, const Tensor& h)>;
    void set_residual_observer(ResidualObserver observer) { residual_observer_ = std::move(observer); }

    // Device bytes of every weight held: the checkpoint's parameters and the load-time fusions made from them.
    uint64_t weight_bytes() const;
    DecodeBytes decode_bytes(int64_t B, int64_t ctx) const;
    // Formats of the GEMM weights, e.g. {"nvfp4": 120 params, "bf16": 41} (for bench reports).
    std::map<std::string, int> format_counts() const;

private:
    CudaModel() = default;
    struct Layer;
    struct Work;
    enum class Phase { Prefill, Decode };

    void forward(Phase phase, int64_t T, int slot, int64_t pos0);  // enqueues one step on stream_
    void lm_head(int64_t row0, int64_t rows);                        // logits_ rows [0, rows) from xb rows
    // ld: the router logits' row stride; slots: expert ids per token (k, or k + 1 with the shared expert's slot)
    void observe_routing(int layer, int64_t pos0, int64_t T, int64_t ld, int64_t slots);
    void observe_residual(int layer, bool after_mlp, int64_t pos0, int64_t T);
    bool capturing() const;  // stream_ is being captured into a graph (the observers then see nothing)
    void decode_enqueue(std::span<const int> slots, std::span<const int64_t> ids, bool greedy);

    ModelConfig config_;
    CudaModelOptions options_;
    DeviceParams params_;
    std::vector<std::unique_ptr<DeviceLinear>> derived_;  // load-time fusions of params_ (Layer::router_and_gate)
    std::vector<Layer> layers_;
    std::unique_ptr<Work> work_;
    std::unique_ptr<GemmContext> gemm_;
    cudaStream_t stream_ = nullptr;
    std::vector<int64_t> positions_;
    std::map<int64_t, cudaGraphExec_t> graphs_;  // decode graphs by batch size (and greedy flag in the key's sign)
    std::set<int64_t> warmed_;                   // keys whose first (eager) step has run
    RoutingObserver routing_observer_;
    ResidualObserver residual_observer_;
    AttentionShape attn_shape_;
    GdnShape gdn_shape_;
};

}  // namespace qinfer::cuda
