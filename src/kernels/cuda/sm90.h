#pragma once
// defines: qinfer::cuda::sm90a_available -- whether the Hopper-only kernels (wgmma, TMA: nvfp4_wgmma.cu,
// attention_wgmma.cu) can run here.

namespace qinfer::cuda {

// True on an sm_90 device running a build whose device code was compiled for sm_90a (sm90.cuh's QINFER_WGMMA): an
// sm_90 build without the "a" features would reach the kernels' __trap(). Settled once per process, with a probe
// kernel and a copy (so call it first outside any stream capture).
bool sm90a_available();

}  // namespace qinfer::cuda
