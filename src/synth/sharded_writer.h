#pragma once
// defines: qinfer::synth::ShardedWriter, parse_byte_size, kDefaultMaxShardBytes
//
// Writes a Hugging Face sharded safetensors checkpoint whose tensors (names, dtypes, shapes, order) are known before
// any data exists, so that data can be produced in parallel and streamed straight to its final place:
//   - tensors are assigned to shards in order, starting a new shard when the next tensor would take the current one
//     past max_shard_bytes (huggingface_hub's split_torch_state_dict_into_shards rule; a tensor larger than the limit
//     gets a shard of its own);
//   - files are named as transformers names them: model.safetensors for one shard, else
//     model-00001-of-0000N.safetensors plus model.safetensors.index.json ({"metadata": {"total_size"}, "weight_map"},
//     keys sorted, as transformers writes it);
//   - each file gets its header (io/safetensors.h safetensors_header) and its final size up front; write() then
//     places bytes with pwrite at their offset, from any thread, so memory stays bounded by what the callers hold.
// finish() checks that every tensor received exactly its byte count (a planning bug would otherwise leave zeros).

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "io/safetensors.h"

namespace qinfer::synth {

inline constexpr uint64_t kDefaultMaxShardBytes = 5'000'000'000;  // huggingface_hub's default max_shard_size "5GB"

// "5GB" (10^9), "500MB", "64KB", "2GiB" (2^30), "1MiB", "4096" (bytes) -> bytes; throws naming `what` otherwise.
uint64_t parse_byte_size(const std::string& text, const std::string& what);

class ShardedWriter {
public:
    // Creates the shard files in `dir` (which must exist) with their headers. `metadata` goes into every header.
    // Throws, before creating anything, when the file system has less space available than the tensor data needs.
    ShardedWriter(const std::filesystem::path& dir, std::vector<TensorHeaderEntry> tensors, uint64_t max_shard_bytes,
                  const std::map<std::string, std::string>& metadata);
    ~ShardedWriter();
    ShardedWriter(const ShardedWriter&) = delete;
    ShardedWriter& operator=(const ShardedWriter&) = delete;

    // Copies n bytes to byte `offset` of tensor `tensor`'s data. Thread-safe; the range must lie inside the tensor.
    void write(size_t tensor, uint64_t offset, const void* data, size_t n);
    // Closes the files and writes the index (several shards). Throws naming the first tensor not fully written.
    void finish();

    const std::vector<std::string>& files() const { return file_names_; }  // shard file names, in order
    uint64_t data_bytes() const { return total_bytes_; }                   // sum of all tensor sizes
    const TensorHeaderEntry& tensor(size_t i) const { return tensors_.at(i); }

private:
    std::filesystem::path dir_;
    std::vector<TensorHeaderEntry> tensors_;
    std::vector<size_t> shard_of_;                      // per tensor
    std::vector<uint64_t> file_offset_;                 // per tensor: where its data starts in its shard file
    std::vector<uint64_t> size_;                        // per tensor: bytes
    std::unique_ptr<std::atomic<uint64_t>[]> written_;  // per tensor: bytes written so far
    std::vector<std::string> file_names_;
    std::vector<int> fds_;
    uint64_t total_bytes_ = 0;
    bool finished_ = false;
};

}  // namespace qinfer::synth
