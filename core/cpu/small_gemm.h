// A register-blocked GEMM for the Winograd convolution's many small products
// (core/cpu/winograd.cpp): 16 per chunk of the batch, each with the channel
// counts (16 to 64 in a CIFAR ResNet) as two of its three sizes. There a
// BLAS call spends as long around its kernel as in it: it packs both
// operands, and with beta = 0 it first zeroes all of C in a pass of its own
// (OpenBLAS's sgemm_beta, 7% of a ResNet-20 step by itself). This kernel
// reads both operands in place and writes each element of C once: for each
// 6-row panel of the small operand A (in L1 while every column block reuses
// it) it streams all of B, which at Winograd's chunk sizes (C x ~256 tiles)
// sits in L2. Row-major, like blas.h; single-threaded (the callers split the
// batch among threads).
#pragma once

#include <cstddef>
#include <cstdint>

namespace fluxion::cpu {

// Whether small_gemm_nn suits a product whose small operand A is
// [rows, depth]: at most 16 KiB, so B is streamed at most ~11 times (64 rows
// of 64 floats). Larger products go to BLAS (blas.h), whose packing pays.
bool small_gemm_suits(std::int64_t rows, std::int64_t depth, std::size_t elem);

// C[m, n] = A[m, k] @ B[k, n], overwriting C (no beta pass; zeros for
// k = 0). A is the small operand: each of its elements is broadcast against a
// row of B. lda >= k, ldb and ldc >= n; C overlaps neither A nor B.
template <class T>
void small_gemm_nn(std::int64_t m, std::int64_t n, std::int64_t k, const T* a, std::int64_t lda, const T* b,
                   std::int64_t ldb, T* c, std::int64_t ldc);

}  // namespace fluxion::cpu
