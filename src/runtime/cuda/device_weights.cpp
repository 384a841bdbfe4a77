#include "runtime/cuda/device_weights.h"

#include <algorithm>
#include <cstring>

#include "core/check.h"
#include "core/dtype.h"

namespace qinfer::cuda {

uint64_t DeviceLinear::bytes() const {
    uint64_t b = 0;
    for (const auto& s : segments) b += s.weight.bytes();
    return b;
}

uint64_t DeviceLinear::expert_bytes() const {
    uint64_t b = 0;
    for (const auto& s : segments) b += s.weight.expert_bytes();
    return b;
}

std::string DeviceLinear::format_str() const {
    std::string s;
    for (const auto& seg : segments) {
        const std::string f = weight_format_name(seg.weight.format());
        if (s.find(f) == std::string::npos) s += (s.empty() ? "" : "+") + f;
    }
    return s;
}

namespace {
// Runs run(weight, y offset to the segment's first column) for every segment of l.
template <class Run>
void each_segment(const DeviceLinear& l, void* y, OutMode mode, Run run) {
    const size_t elem = mode == OutMode::StoreBF16 ? sizeof(bf16) : sizeof(float);
    for (const auto& s : l.segments) run(s.weight, static_cast<char*>(y) + static_cast<size_t>(s.col0) * elem);
}
}  // namespace

void DeviceLinear::forward(const bf16* x, int64_t m, int64_t ldx, void* y, int64_t ldy, OutMode mode,
                           GemmContext& ctx, cudaStream_t stream) const {
    each_segment(*this, y, mode, [&](const DeviceWeight& w, void* ys) {
        linear(w, 0, x, m, ldx, ys, ldy, mode, ctx, stream);
    });
}

bool DeviceLinear::gated_supported(int64_t m) const {
    if (segments.empty()) return false;
    for (const auto& s : segments)
        if (!gated_gemv_supported(s.weight, m)) return false;
    return true;
}

void DeviceLinear::forward_gated(const bf16* x, int64_t m, int64_t ldx, void* y, int64_t ldy, OutMode mode,
                                 const float* gate_logit, int64_t ld_gate, cudaStream_t stream) const {
    each_segment(*this, y, mode, [&](const DeviceWeight& w, void* ys) {
        linear_gated(w, x, m, ldx, ys, ldy, mode, gate_logit, ld_gate, stream);
    });
}

const DeviceLinear& DeviceParams::linear(const std::string& name) const {
    auto t = tied.find(name);
    const std::string& key = t == tied.end() ? name : t->second;
    auto it = linears.find(key);
    QINFER_CHECK(it != linears.end(), "CUDA backend: no linear parameter '", key, "' on the device");
    return it->second;
}

const float* DeviceParams::vec(const std::string& name) const {
    auto it = vectors.find(name);
    QINFER_CHECK(it != vectors.end(), "CUDA backend: no parameter '", name, "' on the device");
    return it->second.as<float>();
}

uint64_t DeviceParams::bytes() const {
    uint64_t b = 0;
    for (const auto& [n, l] : linears) b += l.bytes();
    for (const auto& [n, v] : vectors) b += v.bytes();
    return b;
}

namespace {

WeightFormat device_format(const models::ShardRecord& r) {
    switch (r.decision.scheme.format) {
        case quant::WeightFormat::BF16:
        case quant::WeightFormat::F16:
        case quant::WeightFormat::F32:
            return WeightFormat::BF16;
        case quant::WeightFormat::NVFP4:
            return WeightFormat::NVFP4;
        case quant::WeightFormat::FP8:
            QINFER_CHECK(r.decision.scheme.weight_scales != quant::ScaleGranularity::Block, "CUDA backend: ",
                         r.checkpoint_name, " is block-scaled FP8 (", quant::scheme_str(r.decision.scheme),
                         "), which the CUDA kernels do not support yet; run it with --device cpu");
            return WeightFormat::FP8;
    }
    QINFER_FAIL("internal: unknown weight format for ", r.checkpoint_name);
}

std::span<const uint8_t> raw(const TensorInfo& t) {
    return {reinterpret_cast<const uint8_t*>(t.bytes.data()), t.bytes.size()};
}

// Qwen3-Next's relayouts permute rows. Recover the permutation by relayouting a tensor whose every element holds its
// row index; anything that is not a row permutation is refused (the GPU keeps rows of packed codes intact).
std::vector<int64_t> row_permutation(const models::ShardRecord& r) {
    const Shape& s = r.logical_shape;
    const int64_t rows = s[0], cols = numel(s) / rows;
    Tensor idx(s);
    for (int64_t i = 0; i < rows; ++i) std::fill(idx.data() + i * cols, idx.data() + (i + 1) * cols, static_cast<float>(i));
    std::vector<float> dst(static_cast<size_t>(numel(s)));
    r.relayout(idx, dst.data());
    std::vector<int64_t> perm(static_cast<size_t>(rows));  // perm[dst_row] = src_row
    for (int64_t i = 0; i < rows; ++i) {
        const float v = dst[static_cast<size_t>(i * cols)];
        for (int64_t c = 1; c < cols; ++c) {
            QINFER_CHECK(dst[static_cast<size_t>(i * cols + c)] == v, "CUDA backend: the re-layout of ",
                         r.checkpoint_name, " is not a row permutation");
        }
        perm[static_cast<size_t>(i)] = static_cast<int64_t>(v);
    }
    return perm;
}

// Applies perm to rows of `row_bytes` bytes.
std::vector<uint8_t> permute_rows(std::span<const uint8_t> src, int64_t row_bytes, const std::vector<int64_t>& perm) {
    std::vector<uint8_t> out(src.size());
    for (size_t i = 0; i < perm.size(); ++i) {
        std::memcpy(out.data() + i * static_cast<size_t>(row_bytes),
                    src.data() + static_cast<size_t>(perm[i] * row_bytes), static_cast<size_t>(row_bytes));
    }
    return out;
}

// Uploads one shard into `w` starting at flattened row `row0`.
void upload_shard(const models::ShardRecord& r, DeviceWeight& w, int64_t row0) {
    const int64_t K = r.logical_shape.back();
    const int64_t rows = numel(r.logical_shape) / K;
    std::vector<int64_t> perm;
    if (r.relayout) perm = row_permutation(r);
    auto maybe_permute = [&](std::span<const uint8_t> b, int64_t row_bytes) -> std::vector<uint8_t> {
        if (perm.empty()) return {};
        return permute_rows(b, row_bytes, perm);
    };
    switch (w.format()) {
        case WeightFormat::BF16: {
            std::vector<uint8_t> conv;
            std::span<const uint8_t> data = raw(*r.tensor);
            if (r.tensor->dtype != DType::BF16) {
                // F16 / F32 checkpoint: rounded to BF16 (round-to-nearest-even), the CUDA backend's activation dtype.
                const Tensor f = r.tensor->to_f32();
                conv.resize(static_cast<size_t>(f.numel()) * 2);
                auto* d = reinterpret_cast<uint16_t*>(conv.data());
                for (int64_t i = 0; i < f.numel(); ++i) d[i] = f32_to_bf16(f.data()[i]);
                data = conv;
            }
            const auto p = maybe_permute(data, K * 2);
            w.upload_rows(row0, rows, p.empty() ? data.data() : p.data(), nullptr, 1.0f);
            return;
        }
        case WeightFormat::NVFP4: {
            float global = models::read_scalar(*r.global_scale);
            if (r.decision.reciprocal_global_scales) global = 1.0f / global;
            const auto pd = maybe_permute(raw(*r.tensor), K / 2);
            const auto ps = maybe_permute(raw(*r.weight_scale), K / 16);
            w.upload_rows(row0, rows, pd.empty() ? raw(*r.tensor).data() : pd.data(),
                          ps.empty() ? raw(*r.weight_scale).data() : ps.data(), global);
            return;
        }
        case WeightFormat::FP8: {
            const Tensor scale = r.weight_scale->to_f32();
            const auto pd = maybe_permute(raw(*r.tensor), K);
            const uint8_t* data = pd.empty() ? raw(*r.tensor).data() : pd.data();
            if (scale.numel() == 1) {
                w.upload_rows(row0, rows, data, nullptr, scale.data()[0]);
            } else {
                QINFER_CHECK(scale.numel() == rows, "CUDA backend: FP8 scale of ", r.checkpoint_name, " has ",
                             scale.numel(), " values for ", rows, " rows");
                for (int64_t i = 0; i < rows; ++i) {  // per-channel: one row per call, each with its own scale
                    const int64_t src = perm.empty() ? i : perm[static_cast<size_t>(i)];
                    w.upload_rows(row0 + i, 1, data + i * K, nullptr, scale.data()[src]);
                }
            }
            return;
        }
    }
}

}  // namespace

DeviceParams upload_weights(const models::WeightPlan& plan, const std::function<void(uint64_t)>& progress) {
    DeviceParams out;
    out.tied = plan.tied;
    for (const models::ParamSpec* p : plan.params) {
        if (!p->tied_to.empty()) continue;
        const auto& records = plan.shards.at(p->name);
        const bool linear = p->role == models::ParamRole::Linear || p->role == models::ParamRole::Embedding;
        if (!linear) {
            // Small parameters: exact fp32, the checkpoint's element order (with its re-layout, if any).
            Tensor t(p->shape);
            for (const auto& r : records) {
                const Tensor src = r.tensor->to_f32();
                if (r.relayout) r.relayout(src, t.data() + r.dst_offset);
                else std::copy(src.data(), src.data() + src.numel(), t.data() + r.dst_offset);
                if (progress) progress(r.stored_bytes());
            }
            out.vectors.emplace(p->name, to_device(std::span<const float>(t.span())));
            continue;
        }
        const int64_t E = p->shape.size() == 3 ? p->shape[0] : 1;
        const int64_t N = p->shape[p->shape.size() - 2], K = p->shape.back();
        DeviceLinear dl;
        dl.experts = E;
        dl.n = N;
        dl.k = K;
        const WeightFormat first = device_format(records.front());
        const bool uniform = std::all_of(records.begin(), records.end(), [&](const models::ShardRecord& r) {
            return device_format(r) == first;  // W4A4 vs W4A16 of the same format run the same weight-only kernel
        });
        if (uniform) {
            DeviceLinear::Segment seg;
            seg.weight = DeviceWeight(first, E, N, K);
            for (const auto& r : records) {
                upload_shard(r, seg.weight, r.dst_offset / K);
                if (progress) progress(r.stored_bytes());
            }
            dl.segments.push_back(std::move(seg));
        } else {
            QINFER_CHECK(E == 1, "CUDA backend: the experts of ", p->name,
                         " are stored in different formats; mixed-format experts are not supported on the GPU yet "
                         "(run with --device cpu)");
            for (const auto& r : records) {
                DeviceLinear::Segment seg;
                seg.col0 = r.dst_offset / K;
                const int64_t rows = numel(r.logical_shape) / K;
                seg.weight = DeviceWeight(device_format(r), 1, rows, K);
                upload_shard(r, seg.weight, 0);
                if (progress) progress(r.stored_bytes());
                dl.segments.push_back(std::move(seg));
            }
            std::sort(dl.segments.begin(), dl.segments.end(),
                      [](const auto& a, const auto& b) { return a.col0 < b.col0; });
        }
        out.linears.emplace(p->name, std::move(dl));
    }
    return out;
}

}  // namespace qinfer::cuda
