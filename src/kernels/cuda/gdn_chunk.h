#pragma once
// defines: qinfer::cuda::GdnChunkTiles, gdn_chunk_tiles, gdn_chunk_forward -- private to src/kernels/cuda
//
// The chunked delta rule of gdn_prefill (gated_delta_net.cu) on the tensor cores: between gdn_front (conv, SiLU,
// norms, gates) and the gated RMSNorm. Two launches:
//   prep, per (chunk of 64 tokens, value head), fully parallel: everything of the chunk that does not depend on the
//         state entering it -- W = (I + A)⁻¹ β K e^γ, U = (I + A)⁻¹ β V, and the output's two parts Q' = Q e^γ − M W
//         and O_b = M U (M = (Q Kᵀ) ⊙ D), K̃ = K e^{γ_last − γ}, e^{γ_last};
//   scan, per (value head, 32-column v-tile), sequential over the chunks: V' = U − W S, o = O_b + Q' S,
//         S ← e^{γ_last} S + K̃ᵀ V'.
// (o = Q e^γ S + M V' = (Q e^γ − M W) S + M U: the intra-chunk part moves out of the sequential loop.)

#include <cstddef>
#include <cstdint>

#include "kernels/cuda/gated_delta_net.h"

namespace qinfer::cuda {

// The prep's outputs, the scan's inputs: per (chunk, value head) one 64-row tile each, row-major, padded to D columns
// (D = max(dk, dv) rounded up to 32, 64 or 128) and to 64 rows with zeros, so that the scan copies them unchecked.
struct GdnChunkTiles {
    int d = 0;                                      // D
    float *w = nullptr, *qp = nullptr, *kt = nullptr;  // [n_chunks * HV][64][D]: W, Q', K̃
    float *u = nullptr, *ob = nullptr;              // [n_chunks * HV][64][D]: U, O_b
    float* decay = nullptr;                         // [n_chunks * HV]: e^{γ_last}
};

// Bytes of the tiles for T tokens; with base != nullptr, the tiles carved from base (256-byte aligned pieces).
size_t gdn_chunk_tiles(const GdnShape& s, int64_t T, void* base, GdnChunkTiles* tiles);

// X f32 [T, conv_dim]: q (L2-normalised, · dk^-0.5) ‖ k (L2-normalised) ‖ v, per token; g, beta f32 [T, HV].
// S f32 [HV, dk, dv]: the state entering the first token, replaced by the state after the last.
// Writes o f32 into X's v columns (q and k are left as they are).
void gdn_chunk_forward(const GdnShape& s, int64_t T, float* X, const float* g, const float* beta, float* S,
                       const GdnChunkTiles& tiles, cudaStream_t stream);

}  // namespace qinfer::cuda
