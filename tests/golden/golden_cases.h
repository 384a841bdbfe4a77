#pragma once
// defines: qinfer::test::golden_dir, golden_cases — the transformers-made checkpoints under tests/golden/data.

#include <filesystem>
#include <string>
#include <vector>

namespace qinfer::test {

std::filesystem::path golden_dir();
// Every case folder (one with golden.safetensors), sorted by name.
std::vector<std::string> golden_cases();

}  // namespace qinfer::test
