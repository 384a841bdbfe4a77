#include <filesystem>
#include <iostream>
#include <map>

#include "args.h"
#include "device_flags.h"
#include "commands.h"
#include "core/check.h"
#include "io/npy.h"
#include "io/safetensors.h"
#include "models/model.h"

namespace qinfer::cli {

namespace {

// Collects taps across forward calls; tensors of the same name from successive calls are concatenated along their
// first (token) dimension, so a prefill + decode run dumps the same shapes as one full prefill.
class TapCollector {
public:
    void add(const std::string& name, const Tensor& t) {
        auto it = taps_.find(name);
        if (it == taps_.end()) {
            order_.push_back(name);
            taps_.emplace(name, t);
            return;
        }
        Tensor& acc = it->second;
        Shape s = acc.shape();
        s[0] += t.dim(0);
        acc.vec().insert(acc.vec().end(), t.vec().begin(), t.vec().end());
        acc.reshape(s);
    }
    void write(const std::filesystem::path& file, const Model& model, const SequenceState& state) const {
        std::vector<TensorToWrite> out;
        for (const auto& name : order_) out.push_back(tensor_to_write(name, taps_.at(name)));
        for (size_t i = 0; i < state.linear.size(); ++i) {
            if (model.config().layer_types[i] != LayerType::LinearAttention) continue;
            const std::string p = "state.model.layers." + std::to_string(i) + ".linear_attn.";
            out.push_back(tensor_to_write(p + "recurrent", state.linear[i].recurrent));
            out.push_back(tensor_to_write(p + "conv", state.linear[i].conv));
        }
        write_safetensors(file, out, {{"producer", "qinfer logits --dump"}});
    }

private:
    std::vector<std::string> order_;
    std::map<std::string, Tensor> taps_;
};

}  // namespace

int cmd_logits(const std::vector<std::string>& argv) {
    Args args("logits",
              "Runs token ids through the model (CPU reference backend, fp32) and writes float32 [T, vocab] logits as\n"
              ".npy. With --prefill N the first N tokens go through one prefill call and the rest through single-token\n"
              "decode steps; the result equals a full prefill within tolerance.",
              {},
              {{"model", "DIR", "Hugging Face model folder (config.json + safetensors)"},
               {"ids", "1,2,3", "comma-separated token ids"},
               {"out", "FILE.npy", "output file"},
               {"prefill", "N", "tokens in the first (prefill) call; the rest are decoded one by one (default: all)"},
               {"dump", "DIR", "also write every named intermediate to DIR/taps.safetensors"},
               {"activation-quant", "",
                "emulate the input quantization of W4A4 NVFP4 / W8A8 FP8 shards (default: weight-only, as W4A16)"},
               device_flag(),
               max_ctx_flag()},
              argv);
    if (args.help_requested()) {
        std::cout << args.usage();
        return 0;
    }
    const std::string model_dir = args.get("model");
    const std::vector<int64_t> ids = parse_id_list("ids", args.get("ids"));
    const std::filesystem::path out = args.get("out");
    const int64_t T = static_cast<int64_t>(ids.size());
    const int64_t prefill = args.get_int("prefill", T);
    QINFER_CHECK(prefill >= 1 && prefill <= T, "--prefill must be in [1, ", T, "] for ", T, " ids, got ", prefill);

    EngineOptions eo = engine_options(args);
    eo.activation_quant = args.has("activation-quant");
    if (eo.device == Device::Cuda) {
        // The GPU engine: same prefill / decode split; no taps (--dump reads the CPU reference's intermediates).
        QINFER_CHECK(!args.has("dump"), "--dump records the CPU reference's intermediates; use --device cpu");
        const auto engine = load_engine(model_dir, eo);
        const int64_t V = engine->config().vocab_size;
        Tensor logits({T, V});
        const Tensor first = engine->forward(std::span<const int64_t>(ids.data(), static_cast<size_t>(prefill)), true);
        std::copy(first.vec().begin(), first.vec().end(), logits.data());
        for (int64_t t = prefill; t < T; ++t) {
            const Tensor step = engine->forward(std::span<const int64_t>(ids.data() + t, 1), true);
            std::copy(step.vec().begin(), step.vec().end(), logits.row(t));
        }
        write_npy_f32(out, logits.data(), logits.shape());
        return 0;
    }
    const auto model = Model::load(model_dir, LoadOptions{.activation_quant = eo.activation_quant});
    for (int64_t id : ids) {
        QINFER_CHECK(id < model->config().vocab_size, "--ids: token id ", id, " is out of range for vocab size ",
                     model->config().vocab_size);
    }
    TapCollector collector;
    const Taps taps([&](const std::string& n, const Tensor& t) { collector.add(n, t); });
    const Taps* tap_ptr = args.has("dump") ? &taps : nullptr;

    SequenceState state = model->new_sequence();
    const int64_t V = model->config().vocab_size;
    Tensor logits({T, V});  // f32 [T, V]
    const Tensor first = model->forward(std::span<const int64_t>(ids.data(), static_cast<size_t>(prefill)), state, tap_ptr);
    std::copy(first.vec().begin(), first.vec().end(), logits.data());
    for (int64_t t = prefill; t < T; ++t) {
        const Tensor step = model->forward(std::span<const int64_t>(ids.data() + t, 1), state, tap_ptr);
        std::copy(step.vec().begin(), step.vec().end(), logits.row(t));
    }
    write_npy_f32(out, logits.data(), logits.shape());
    if (tap_ptr != nullptr) {
        const std::filesystem::path dir = args.get("dump");
        std::filesystem::create_directories(dir);
        collector.write(dir / "taps.safetensors", *model, state);
    }
    return 0;
}

}  // namespace qinfer::cli
