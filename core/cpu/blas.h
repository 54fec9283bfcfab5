// The CPU's matrix multiply: OpenBLAS through CBLAS when configured with it,
// else Eigen's own GEMM (the GPU machines have no OpenBLAS package). An
// OpenBLAS build still uses Eigen's under an address-space limit (ulimit -v),
// where OpenBLAS's per-thread buffers could hang it, or when
// FLUXION_GEMM=eigen says so (blas.cpp). Row-major throughout:
// C[M, N] = alpha * op(A)[M, K] @ op(B)[K, N] + beta * C.
#pragma once

#include <cstdint>

namespace fluxion::cpu {

template <class T>
void gemm(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k, T alpha, const T* a,
          std::int64_t lda, const T* b, std::int64_t ldb, T beta, T* c, std::int64_t ldc);

// "openblas (openmp)", "eigen", ...: what gemm runs on.
const char* blas_name();
// Threads used inside gemm; called by set_num_threads.
void set_blas_threads(int n);

}  // namespace fluxion::cpu
