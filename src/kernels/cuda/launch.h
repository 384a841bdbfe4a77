#pragma once
// defines: qinfer::cuda::launch (every kernel launch of the backend), pdl_enabled, sm_count, grid_dependency_sync
// (device)
//
// Programmatic dependent launch (PDL, sm_90+). A decode step is ~600 small dependent kernels; without PDL each one
// starts only after its predecessor has drained, and the launch, the CTA rasterisation and the first DRAM round trip
// of every kernel sit on the critical path (~2 µs each at B = 1, perf-notes.md). With the
// ProgrammaticStreamSerialization attribute a kernel may be launched as soon as every CTA of the kernel before it has
// executed `griddepcontrol.launch_dependents`; its CTAs become resident and wait in `griddepcontrol.wait` until the
// predecessor grid has completed and its memory is visible.
//
// The contract, kept by every kernel of the backend: its first statement is grid_dependency_sync() (wait, then allow
// the next kernel to launch). Nothing, not even a write, happens before the wait, so no kernel can observe or clobber
// a predecessor's buffers early; and since a kernel triggers only after its own wait, at most two grids are in flight.
// The one exception is prefetch_l2() of constant data (weights, written only at load): a dense GEMV pulls its weight
// tiles into L2 while its predecessor still runs, so its first pass after the wait hits L2 instead of DRAM.
// Kernels launched by libraries (cuBLASLt) without the attribute serialise as usual. The attribute is also recorded
// by stream capture, so decode graphs keep the programmatic edges.
//
// QINFER_PDL=0 in the environment launches every kernel without the attribute (for A/B measurements and to rule PDL
// out when debugging); grid_dependency_sync() is then a no-op in effect.

#include <cuda_runtime.h>

#include <utility>

#include "kernels/cuda/check.h"

namespace qinfer::cuda {

// True when kernels are launched with the PDL attribute: the current device is sm_90+ and QINFER_PDL is not "0".
// Read once per process.
bool pdl_enabled();

// Streaming multiprocessors of the current device, read once per process: grid sizing in waves.
int sm_count();

#if defined(__CUDACC__)
__device__ __forceinline__ void grid_dependency_sync() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    asm volatile("griddepcontrol.wait;" ::: "memory");
    asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
#endif
}

// Pulls the 128-byte lines of [p, p + bytes) into L2; thread `lane` of `lanes` takes every lanes-th line. Only for data
// no kernel writes (weights): it may run before grid_dependency_sync().
__device__ __forceinline__ void prefetch_l2(const void* p, long long bytes, int lane, int lanes) {
    const unsigned long long a = reinterpret_cast<unsigned long long>(p);
    const unsigned long long first = a & ~127ULL, end = a + static_cast<unsigned long long>(bytes);
    for (unsigned long long l = first + 128ULL * static_cast<unsigned>(lane); l < end;
         l += 128ULL * static_cast<unsigned>(lanes))
        asm volatile("prefetch.global.L2 [%0];" ::"l"(l));
}
#endif

// Launches kernel(args...) on (grid, block, smem, stream) with the PDL attribute when pdl_enabled(), and with clusters
// of `cluster` CTAs along x when cluster > 0 (grid.x a multiple of it); checks the launch.
template <class... Params, class... Args>
void launch_clustered(void (*kernel)(Params...), dim3 grid, dim3 block, unsigned cluster, size_t smem,
                      cudaStream_t stream, Args&&... args) {
    cudaLaunchConfig_t cfg{};
    cfg.gridDim = grid;
    cfg.blockDim = block;
    cfg.dynamicSmemBytes = smem;
    cfg.stream = stream;
    cudaLaunchAttribute attr[2];
    unsigned n = 0;
    if (cluster > 0) {
        attr[n].id = cudaLaunchAttributeClusterDimension;
        attr[n].val.clusterDim.x = cluster;
        attr[n].val.clusterDim.y = 1;
        attr[n].val.clusterDim.z = 1;
        ++n;
    }
    if (pdl_enabled()) {
        attr[n].id = cudaLaunchAttributeProgrammaticStreamSerialization;
        attr[n].val.programmaticStreamSerializationAllowed = 1;
        ++n;
    }
    cfg.attrs = attr;
    cfg.numAttrs = n;
    QINFER_CUDA_CHECK(cudaLaunchKernelEx(&cfg, kernel, std::forward<Args>(args)...));
}

// launch_clustered without clusters: the launch every other kernel uses.
template <class... Params, class... Args>
void launch(void (*kernel)(Params...), dim3 grid, dim3 block, size_t smem, cudaStream_t stream, Args&&... args) {
    launch_clustered(kernel, grid, block, 0, smem, stream, std::forward<Args>(args)...);
}

}  // namespace qinfer::cuda
