#pragma once
// defines: qinfer::write_npy_f32, qinfer::read_npy_f32
//
// NumPy .npy files, for exchanging tensors with Python scripts (reference activations, debug dumps) without a
// safetensors round trip. Only what qinfer needs: writing fp32 ('<f4', C order, format version 1.0, data 64-byte
// aligned as numpy does) and reading '<f4' or '<f8' C-order arrays (fp64 is rounded to fp32). Anything else (other
// dtypes, big-endian, Fortran order, object arrays, a size that does not match the shape) is an Error naming the file.

#include <filesystem>

#include "core/tensor.h"

namespace qinfer {

// Writes numel(shape) floats from `data` (which may be null when numel is 0).
void write_npy_f32(const std::filesystem::path& path, const float* data, const Shape& shape);
inline void write_npy_f32(const std::filesystem::path& path, const Tensor& t) {
    write_npy_f32(path, t.data(), t.shape());
}

// Reads a '<f4' or '<f8' C-order array (format versions 1.0, 2.0 and 3.0) as fp32. A 0-d array gives shape [].
Tensor read_npy_f32(const std::filesystem::path& path);

}  // namespace qinfer
