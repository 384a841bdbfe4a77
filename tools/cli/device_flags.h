#pragma once
// defines: qinfer::cli::device_flag, engine_options
//
// `--device cpu|cuda|auto` for every command that runs a model. The default is $QINFER_DEVICE when set, else auto
// (cuda when this build has the CUDA backend and a GPU is visible, else cpu).

#include "args.h"
#include "runtime/engine.h"

namespace qinfer::cli {

FlagSpec device_flag();
FlagSpec max_ctx_flag();
// The device (and CUDA context length) chosen by the flags; progress bars on.
EngineOptions engine_options(const Args& args);

}  // namespace qinfer::cli
