#include "kernels/cuda/tma.h"

#include <cuda_runtime.h>
#include <cudaTypedefs.h>  // PFN_cuTensorMapEncodeTiled

#include "core/check.h"
#include "kernels/cuda/check.h"

namespace qinfer::cuda {
namespace {

PFN_cuTensorMapEncodeTiled_v12000 encode_fn() {
    static const PFN_cuTensorMapEncodeTiled_v12000 fn = [] {
        void* p = nullptr;
        cudaDriverEntryPointQueryResult q{};
        QINFER_CUDA_CHECK(cudaGetDriverEntryPointByVersion("cuTensorMapEncodeTiled", &p, 12000, cudaEnableDefault, &q));
        QINFER_CHECK(q == cudaDriverEntryPointSuccess && p != nullptr,
                     "TMA: the driver does not provide cuTensorMapEncodeTiled (query result ", static_cast<int>(q),
                     ")");
        return reinterpret_cast<PFN_cuTensorMapEncodeTiled_v12000>(p);
    }();
    return fn;
}

}  // namespace

CUtensorMap tma_map_bf16_3d(const void* base, const uint64_t (&dims)[3], const uint64_t (&strides)[2],
                            const uint32_t (&box)[3], const char* what) {
    QINFER_CHECK(reinterpret_cast<uintptr_t>(base) % 16 == 0, "TMA map of ", what,
                 ": base address not 16-byte aligned");
    QINFER_CHECK(strides[0] % 16 == 0 && strides[1] % 16 == 0, "TMA map of ", what, ": strides ", strides[0], ", ",
                 strides[1], " bytes are not multiples of 16");
    QINFER_CHECK(box[0] * 2 <= 128, "TMA map of ", what, ": inner box ", box[0],
                 " elements exceeds the 128-byte swizzle");
    CUtensorMap map{};
    const cuuint64_t gdim[3] = {dims[0], dims[1], dims[2]};
    const cuuint64_t gstride[2] = {strides[0], strides[1]};
    const cuuint32_t bdim[3] = {box[0], box[1], box[2]};
    const cuuint32_t estride[3] = {1, 1, 1};
    const CUresult r = encode_fn()(&map, CU_TENSOR_MAP_DATA_TYPE_BFLOAT16, 3, const_cast<void*>(base), gdim, gstride,
                                   bdim, estride, CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B,
                                   CU_TENSOR_MAP_L2_PROMOTION_L2_256B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
    QINFER_CHECK(r == CUDA_SUCCESS, "TMA map of ", what, ": cuTensorMapEncodeTiled failed (CUresult ",
                 static_cast<int>(r), ") for dims {", dims[0], ", ", dims[1], ", ", dims[2], "}, box {", box[0], ", ",
                 box[1], ", ", box[2], "}");
    return map;
}

}  // namespace qinfer::cuda
