#include "runtime/sequence_state.h"

namespace qinfer {

SequenceState SequenceState::fresh(const ModelConfig& cfg) {
    SequenceState s;
    const size_t n = static_cast<size_t>(cfg.num_hidden_layers);
    s.attention.resize(n);
    s.linear.resize(n);
    for (size_t i = 0; i < n; ++i) {
        switch (cfg.layer_types[i]) {
            case LayerType::FullAttention:
                s.attention[i].k = Tensor({0, cfg.num_key_value_heads, cfg.head_dim});
                s.attention[i].v = Tensor({0, cfg.num_key_value_heads, cfg.head_dim});
                break;
            case LayerType::LinearAttention:
                s.linear[i].conv = Tensor({cfg.linear_conv_dim(), cfg.linear_conv_kernel_dim - 1});
                s.linear[i].recurrent =
                    Tensor({cfg.linear_num_value_heads, cfg.linear_key_head_dim, cfg.linear_value_head_dim});
                break;
        }
    }
    return s;
}

}  // namespace qinfer
