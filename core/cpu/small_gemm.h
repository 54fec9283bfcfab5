// A register-blocked GEMM for the Winograd convolution's many small products
// (core/cpu/winograd.cpp): 16 per chunk of the batch, each with the channel
// counts (16 to 64 in a CIFAR ResNet) as two of its three sizes. There a
// BLAS call spends as long around its kernel as in it: it packs both
// operands, and with beta = 0 it first zeroes all of C in a pass of its own
// (OpenBLAS's sgemm_beta, 7% of a ResNet-20 step by itself). With the small
// operand small enough to stay in L1, this kernel reads both in place and
// writes each element of C once. Row-major, like blas.h; single-threaded (the
// callers split the batch among threads).
#pragma once

#include <cstddef>
#include <cstdint>

namespace fluxion::cpu {

// Whether small_gemm_nn suits a product whose small operand, the one
// every column block rereads, is [rows, depth]: it must fit in L1 beside the
// streamed one. Larger products go to BLAS (blas.h), whose packing pays.
bool small_gemm_suits(std::int64_t rows, std::int64_t depth, std::size_t elem);

// C[m, n] = A[m, k] @ B[k, n], overwriting C (no beta pass). A is the small
// operand: each of its elements is broadcast against a row of B.
template <class T>
void small_gemm_nn(std::int64_t m, std::int64_t n, std::int64_t k, const T* a, std::int64_t lda, const T* b,
                   std::int64_t ldb, T* c, std::int64_t ldc);

}  // namespace fluxion::cpu
