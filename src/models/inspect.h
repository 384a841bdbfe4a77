#pragma once
// defines: qinfer::models::inspect_checkpoint, qinfer::models::inspect_text
//
// `qinfer inspect`: what a checkpoint is and how qinfer will run it, without loading any weight data. The report
// lists, for every checkpoint Linear module, its stored format and the runtime module it feeds, so a user can see
// exactly which tensors were packed together (qkv_proj, gate_up_proj, in_proj_qkvz, in_proj_ba, stacked experts).

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

namespace qinfer::models {

// Throws qinfer::Error if the config or the checkpoint is invalid or contradicts the model's weight spec.
nlohmann::json inspect_checkpoint(const std::filesystem::path& dir);
// Human-readable rendering of the report.
std::string inspect_text(const nlohmann::json& report);

}  // namespace qinfer::models
