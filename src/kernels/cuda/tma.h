#pragma once
// defines: qinfer::cuda::tma_map_bf16_3d -- host-side encoding of TMA tensor maps (cuTensorMapEncodeTiled, reached
// through the runtime's driver entry point, so the library does not link libcuda itself).

#include <cuda.h>  // CUtensorMap (type only)

#include <cstdint>

namespace qinfer::cuda {

// Tensor map of a 3-d bf16 array at `base` (16-byte aligned): dims[0] innermost (contiguous), dims[1] and dims[2]
// with byte strides strides[0] and strides[1] (multiples of 16); box = the tile one TMA load copies, in elements
// (box[0] * 2 bytes <= 128). 128-byte swizzle in shared memory (sm90.cuh's layout); elements outside dims read as
// zero. `what` names the tensor in errors.
CUtensorMap tma_map_bf16_3d(const void* base, const uint64_t (&dims)[3], const uint64_t (&strides)[2],
                            const uint32_t (&box)[3], const char* what);

}  // namespace qinfer::cuda
