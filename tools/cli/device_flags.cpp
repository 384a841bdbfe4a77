#include "device_flags.h"

#include <cstdlib>

namespace qinfer::cli {

FlagSpec device_flag() {
    return {"device", "cpu|cuda|auto",
            "where the model runs (default: $QINFER_DEVICE, else auto = cuda when a GPU is present, else cpu)"};
}

FlagSpec max_ctx_flag() {
    return {"max-ctx", "N", "cuda: positions per sequence to reserve (default: min(max_position_embeddings, 32768))"};
}

EngineOptions engine_options(const Args& args) {
    EngineOptions o;
    const char* env = std::getenv("QINFER_DEVICE");
    o.device = parse_device(args.get_or("device", env != nullptr && *env != '\0' ? env : "auto"));
    o.max_ctx = args.has("max-ctx") ? args.get_int("max-ctx", 0) : 0;
    return o;
}

}  // namespace qinfer::cli
