#pragma once
// defines: qinfer::models::ModelFamily, register_model_family, find_model_family, registered_architectures
//
// Models are registered by the HF `architectures[0]` string (conventions.md C5). Each model family lives in one file
// (models/qwen3_5.cpp, models/qwen3_next.cpp) and registers itself with one static call; nothing else needs editing
// to add a family. An unknown architecture fails with the list of supported ones.

#include <string>
#include <vector>

#include "io/hf_config.h"
#include "models/weight_spec.h"

namespace qinfer::models {

struct ModelFamily {
    std::string name;                        // "qwen3_5", "qwen3_next"
    std::vector<std::string> architectures;  // HF architectures[0] values it serves
    WeightSpec (*weight_spec)(const ModelConfig& cfg);  // checkpoint -> runtime parameters for this config
};

// Returns true so that a file can register with `const bool kRegistered = register_model_family({...});`.
bool register_model_family(ModelFamily family);
// Throws qinfer::Error listing the supported architectures when none matches.
const ModelFamily& find_model_family(const std::string& architecture);
std::vector<std::string> registered_architectures();

}  // namespace qinfer::models
