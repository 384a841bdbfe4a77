#pragma once
// defines: qinfer::TensorInfo, qinfer::SafetensorsFile, qinfer::TensorTable, qinfer::open_checkpoint,
//          qinfer::write_safetensors, qinfer::safetensors_header, kMaxHeaderBytes
//
// Safetensors format: 8-byte little-endian header length N, N bytes of JSON
// {"name": {"dtype": "BF16", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {str: str}}, then the data
// buffer. Offsets are relative to the start of the data buffer.
//
// Files are mmapped read-only and validated strictly before any tensor is exposed: the header length is capped (as
// the reference implementation does, 100 MB), the JSON must parse, every tensor's byte range must lie inside the
// file and equal numel × dtype size, ranges must not overlap, and dtypes must be known. A lying file produces an
// Error naming the file and the tensor; no byte outside the mapping is ever read.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/tensor.h"

namespace qinfer {

inline constexpr uint64_t kMaxHeaderBytes = 100'000'000;

struct TensorInfo {
    std::string name;
    DType dtype = DType::F32;
    Shape shape;
    std::span<const std::byte> bytes;  // points into the mmapped file; bytes.size() == numel(shape) * dtype_size
    std::string file;                  // path of the file that holds it (for messages)

    int64_t numel() const { return qinfer::numel(shape); }
    // Converts a floating tensor to fp32. Throws naming the tensor for non-float dtypes.
    Tensor to_f32() const;
};

class SafetensorsFile {
public:
    // Maps and validates the file. Throws qinfer::Error naming the file (and tensor) on any problem.
    static std::shared_ptr<SafetensorsFile> open(const std::filesystem::path& path);
    ~SafetensorsFile();
    SafetensorsFile(const SafetensorsFile&) = delete;
    SafetensorsFile& operator=(const SafetensorsFile&) = delete;

    const std::filesystem::path& path() const { return path_; }
    const std::vector<TensorInfo>& tensors() const { return tensors_; }   // in header order
    const TensorInfo* find(const std::string& name) const;                 // nullptr when absent
    const std::map<std::string, std::string>& metadata() const { return metadata_; }

private:
    SafetensorsFile() = default;
    std::filesystem::path path_;
    void* map_ = nullptr;
    size_t map_size_ = 0;
    std::vector<TensorInfo> tensors_;
    std::map<std::string, size_t> index_;
    std::map<std::string, std::string> metadata_;
};

// All tensors of a checkpoint folder, by name. Keeps the mapped files alive.
class TensorTable {
public:
    const TensorInfo* find(const std::string& name) const;  // nullptr when absent
    const TensorInfo& at(const std::string& name) const;     // throws naming the tensor
    bool contains(const std::string& name) const { return find(name) != nullptr; }
    const std::map<std::string, const TensorInfo*>& all() const { return by_name_; }  // sorted by name
    size_t size() const { return by_name_.size(); }
    const std::vector<std::filesystem::path>& files() const { return file_paths_; }

    // Adds every tensor of a file. Throws if a name is already present (duplicate across shards).
    void add_file(std::shared_ptr<SafetensorsFile> file);

private:
    std::vector<std::shared_ptr<SafetensorsFile>> files_;
    std::vector<std::filesystem::path> file_paths_;
    std::map<std::string, const TensorInfo*> by_name_;
};

// Opens a checkpoint folder:
//  - if model.safetensors.index.json exists: every shard it names (each must exist), and checks that every
//    weight_map entry is present in the shard it names and that every tensor in the shards is listed;
//  - else if model.safetensors exists: that file;
//  - else: an error naming the folder.
// `path` may also be a single .safetensors file.
TensorTable open_checkpoint(const std::filesystem::path& path);

// Writes a safetensors file (used by tests, `qinfer logits --dump`, and tools). Tensors are written in the given
// order; `raw` holds the bytes of each tensor in its dtype.
struct TensorToWrite {
    std::string name;
    DType dtype;
    Shape shape;
    std::vector<std::byte> raw;
};
void write_safetensors(const std::filesystem::path& path, const std::vector<TensorToWrite>& tensors,
                       const std::map<std::string, std::string>& metadata = {});
// The start of a safetensors file whose tensors are known before their data (streaming writers such as `qinfer
// synth`, which fill the data in place afterwards): the 8-byte length, the JSON header in the given order (padded
// with spaces to 8-byte alignment, as the reference implementation does) and each tensor's offset in the data buffer.
// write_safetensors uses the same function. Throws naming `file` for duplicate or "__metadata__" names, negative
// dimensions, or a header over kMaxHeaderBytes.
struct TensorHeaderEntry {
    std::string name;
    DType dtype;
    Shape shape;
};
struct SafetensorsHeader {
    std::string bytes;                   // length prefix + JSON; the data buffer starts at bytes.size()
    std::vector<uint64_t> data_offsets;  // per tensor, relative to the data buffer
    uint64_t data_bytes = 0;             // size of the data buffer
};
SafetensorsHeader safetensors_header(const std::string& file, const std::vector<TensorHeaderEntry>& tensors,
                                     const std::map<std::string, std::string>& metadata = {});

// Convenience: an fp32 tensor as F32, or rounded to BF16.
TensorToWrite tensor_to_write(const std::string& name, const Tensor& t, DType dtype = DType::F32);

}  // namespace qinfer
