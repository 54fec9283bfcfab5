// The kernel is written with GCC's vector extension (one 32-byte vector: 8
// floats or 4 doubles, an AVX register), so one source serves both types and
// any target; CMakeLists.txt compiles this file with -ffp-contract=fast so
// that each `acc += a * b` becomes one fused multiply-add where the target has
// it. Accumulators are template-sized arrays that the compiler keeps in
// registers: 6 rows by 2 vectors, 12 of the 16 AVX registers, the rest for
// the row of B and the broadcast (6 by 2 measured faster than 4 by 3, 4 by 2
// and 8 by 1 on an AMD EPYC).
#include "core/cpu/small_gemm.h"

#include <cstring>

namespace fluxion::cpu {
namespace {

template <class T>
struct Simd {
  typedef T Vec __attribute__((vector_size(32)));
  static constexpr int kLanes = 32 / sizeof(T);
  static Vec load(const T* p) {
    Vec v;
    std::memcpy(&v, p, sizeof v);
    return v;
  }
  static void store(T* p, Vec v) { std::memcpy(p, &v, sizeof v); }
};

// C[R rows, V vectors] = A[R, k] @ B[k, V vectors]: the whole sum over k in
// registers, then one store.
template <class T, int R, int V>
void nn_block(std::int64_t k, const T* a, std::int64_t lda, const T* b, std::int64_t ldb, T* c, std::int64_t ldc) {
  using S = Simd<T>;
  typename S::Vec acc[R][V] = {};
  for (std::int64_t p = 0; p < k; ++p) {
    typename S::Vec row[V];
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) row[v] = S::load(b + p * ldb + v * S::kLanes);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const T scalar = a[r * lda + p];
#pragma GCC unroll 4
      for (int v = 0; v < V; ++v) acc[r][v] += scalar * row[v];
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) S::store(c + r * ldc + v * S::kLanes, acc[r][v]);
}

// The columns past the last whole vector, one dot product each.
template <class T>
void nn_tail(std::int64_t rows, std::int64_t cols, std::int64_t k, const T* a, std::int64_t lda, const T* b,
             std::int64_t ldb, T* c, std::int64_t ldc) {
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t j = 0; j < cols; ++j) {
      T total = 0;
      for (std::int64_t p = 0; p < k; ++p) total += a[r * lda + p] * b[p * ldb + j];
      c[r * ldc + j] = total;
    }
}

// All of C's columns for R rows of A.
template <class T, int R>
void nn_rows(std::int64_t n, std::int64_t k, const T* a, std::int64_t lda, const T* b, std::int64_t ldb, T* c,
             std::int64_t ldc) {
  constexpr int kLanes = Simd<T>::kLanes;
  std::int64_t j = 0;
  for (; j + 2 * kLanes <= n; j += 2 * kLanes) nn_block<T, R, 2>(k, a, lda, b + j, ldb, c + j, ldc);
  for (; j + kLanes <= n; j += kLanes) nn_block<T, R, 1>(k, a, lda, b + j, ldb, c + j, ldc);
  if (j < n) nn_tail(R, n - j, k, a, lda, b + j, ldb, c + j, ldc);
}

}  // namespace

bool small_gemm_suits(std::int64_t rows, std::int64_t depth, std::size_t elem) {
  // Measured on an AMD EPYC (2026-12-07) at 16x16 weights and 256 tiles:
  // ~2x OpenBLAS; ResNet-20 and DenseNet-121 steps, whose products are
  // 16-64 channels, 12-15% faster. Larger weights were not measured against
  // BLAS; B's passes (one per 6 rows) would grow with the rows. Reordering
  // the loops to keep a column block of B in L1 across all of A's panels is
  // untried.
  constexpr std::int64_t kSmallOperandBytes = 16 << 10;
  return rows * depth * static_cast<std::int64_t>(elem) <= kSmallOperandBytes;
}

template <class T>
void small_gemm_nn(std::int64_t m, std::int64_t n, std::int64_t k, const T* a, std::int64_t lda, const T* b,
                   std::int64_t ldb, T* c, std::int64_t ldc) {
  constexpr int kRows = 6;
  std::int64_t i = 0;
  for (; i + kRows <= m; i += kRows) nn_rows<T, kRows>(n, k, a + i * lda, lda, b, ldb, c + i * ldc, ldc);
  const T* ar = a + i * lda;
  T* cr = c + i * ldc;
  switch (m - i) {
    case 5: nn_rows<T, 5>(n, k, ar, lda, b, ldb, cr, ldc); break;
    case 4: nn_rows<T, 4>(n, k, ar, lda, b, ldb, cr, ldc); break;
    case 3: nn_rows<T, 3>(n, k, ar, lda, b, ldb, cr, ldc); break;
    case 2: nn_rows<T, 2>(n, k, ar, lda, b, ldb, cr, ldc); break;
    case 1: nn_rows<T, 1>(n, k, ar, lda, b, ldb, cr, ldc); break;
    default: break;
  }
}

template void small_gemm_nn<float>(std::int64_t, std::int64_t, std::int64_t, const float*, std::int64_t, const float*,
                                   std::int64_t, float*, std::int64_t);
template void small_gemm_nn<double>(std::int64_t, std::int64_t, std::int64_t, const double*, std::int64_t,
                                    const double*, std::int64_t, double*, std::int64_t);

}  // namespace fluxion::cpu
