#pragma once
// defines: qinfer::test::golden_dir, golden_cases — the transformers-made checkpoints under tests/golden/data.

#include <filesystem>
#include <string>
#include <vector>

namespace qinfer::test {

std::filesystem::path golden_dir();
// Every case folder under `root` (one with golden.safetensors), sorted by name; empty when root is absent.
std::vector<std::string> golden_cases(const std::filesystem::path& root = golden_dir());

}  // namespace qinfer::test
