#include "runtime/engine.h"

#include "core/check.h"
#include "models/model.h"
#ifdef QINFER_HAVE_CUDA
#include "kernels/cuda/buffer.h"
#include "runtime/cuda/cuda_model.h"
#endif

namespace qinfer {

Device parse_device(const std::string& s) {
    if (s == "cpu") return Device::Cpu;
    if (s == "cuda") return Device::Cuda;
    if (s == "auto") return cuda_device_available() ? Device::Cuda : Device::Cpu;
    QINFER_FAIL("unknown --device '", s, "' (expected cpu, cuda or auto)");
}

const char* device_name(Device d) { return d == Device::Cuda ? "cuda" : "cpu"; }

bool cuda_device_available() {
#ifdef QINFER_HAVE_CUDA
    return cuda::device_count() > 0;
#else
    return false;
#endif
}

namespace {

class CpuEngine final : public Engine {
public:
    CpuEngine(const std::filesystem::path& dir, const EngineOptions& o)
        : owned_(Model::load(dir, LoadOptions{.activation_quant = o.activation_quant, .progress = o.progress})),
          model_(owned_.get()),
          state_(model_->new_sequence()) {}
    explicit CpuEngine(const Model& m) : model_(&m), state_(m.new_sequence()) {}
    const ModelConfig& config() const override { return model_->config(); }
    Device device() const override { return Device::Cpu; }
    void reset() override { state_ = model_->new_sequence(); }
    Tensor forward(std::span<const int64_t> ids, bool all_logits) override {
        Tensor logits = model_->forward(ids, state_);
        if (all_logits || logits.dim(0) == 1) return logits;
        return logits.rows(logits.dim(0) - 1, logits.dim(0));
    }

private:
    std::unique_ptr<Model> owned_;
    const Model* model_;
    SequenceState state_;
};

#ifdef QINFER_HAVE_CUDA
class CudaEngine final : public Engine {
public:
    CudaEngine(const std::filesystem::path& dir, const EngineOptions& o) {
        cuda::CudaModelOptions co;
        co.max_batch = 1;
        co.progress = o.progress;
        co.max_ctx = o.max_ctx;  // 0: CudaModel derives it from the config
        model_ = cuda::CudaModel::load(dir, co);
        model_->reset_slot(0);
    }
    const ModelConfig& config() const override { return model_->config(); }
    Device device() const override { return Device::Cuda; }
    void reset() override { model_->reset_slot(0); }
    Tensor forward(std::span<const int64_t> ids, bool all_logits) override {
        if (ids.size() == 1 && model_->position(0) > 0) {
            const int slot[1] = {0};
            return model_->decode(slot, ids);
        }
        return model_->prefill(0, ids, all_logits);
    }

private:
    std::unique_ptr<cuda::CudaModel> model_;
};
#endif

}  // namespace

std::unique_ptr<Engine> cpu_engine_view(const Model& model) { return std::make_unique<CpuEngine>(model); }

std::unique_ptr<Engine> load_engine(const std::filesystem::path& dir, const EngineOptions& options) {
    if (options.device == Device::Cpu) return std::make_unique<CpuEngine>(dir, options);
    QINFER_CHECK(!options.activation_quant, "--activation-quant emulates W4A4/W8A8 on the CPU reference only; use "
                                            "--device cpu");
#ifdef QINFER_HAVE_CUDA
    return std::make_unique<CudaEngine>(dir, options);
#else
    QINFER_FAIL("--device cuda: this qinfer was built without the CUDA backend (configure with -DQINFER_CUDA=ON)");
#endif
}

}  // namespace qinfer
