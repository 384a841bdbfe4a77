#pragma once
// defines: qinfer::Device, parse_device, device_name, cuda_device_available, EngineOptions, Engine, load_engine
//
// One loaded model on one device, running one sequence at a time: what the CLI commands (generate, chat, logits,
// perplexity) need, independent of the backend. The CPU engine is the fp32 reference (models/model.h); the CUDA engine
// is runtime/cuda/cuda_model.h (slot 0). Batched decoding and benchmarks use CudaModel directly.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>

#include "core/tensor.h"
#include "io/hf_config.h"

namespace qinfer {

enum class Device : uint8_t { Cpu, Cuda };
// "cpu" | "cuda" | "auto" (cuda when this build has the CUDA backend and a GPU is visible). Throws listing the values.
Device parse_device(const std::string& s);
const char* device_name(Device d);
// True when this build has the CUDA backend and at least one device is visible.
bool cuda_device_available();

struct EngineOptions {
    Device device = Device::Cpu;
    bool progress = true;
    bool activation_quant = false;  // CPU only (an emulation); refused on cuda
    int64_t max_ctx = 0;            // cuda: positions per sequence (0 = min(max_position_embeddings, 32768))
};

class Engine {
public:
    virtual ~Engine() = default;
    virtual const ModelConfig& config() const = 0;
    virtual Device device() const = 0;
    // Starts a new, empty sequence (the previous one is dropped).
    virtual void reset() = 0;
    // Runs ids after what the sequence holds. Returns f32 logits: every row [T, V] when all_logits, else the last
    // row [1, V].
    virtual Tensor forward(std::span<const int64_t> ids, bool all_logits) = 0;
};

std::unique_ptr<Engine> load_engine(const std::filesystem::path& dir, const EngineOptions& options);

class Model;
// A CPU engine over an already loaded Model (not owned; it must outlive the view).
std::unique_ptr<Engine> cpu_engine_view(const Model& model);

}  // namespace qinfer
