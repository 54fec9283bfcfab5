// How a batched row-major matmul out[B, M, N] = a[B, M, K] @ b[B, K, N] is
// handed to cuBLAS, which is column-major. A row-major matrix read as
// column-major is its transpose, so out^T = b^T a^T: cuBLAS's first operand
// is our b, its second our a, with m = N, n = M. An operand is used in
// place when one of its matrix dims has unit stride (a transposed view costs
// nothing); otherwise it must be copied contiguous first. Host-only and
// free of CUDA headers, so tests/test_cuda_host_code.cpp checks the plan
// against a column-major GEMM emulated on the CPU.
#pragma once

#include <algorithm>
#include <cstdint>

namespace fluxion::cuda {

// How cuBLAS reads one [rows, cols] matrix with strides (s_rows, s_cols).
struct GemmOperand {
  bool usable = false;     // false: copy it contiguous, then plan again
  bool transpose = false;  // cuBLAS's op for it: row-major storage needs none
  std::int64_t ld = 0;     // leading dimension in elements
};

inline GemmOperand plan_operand(std::int64_t rows, std::int64_t cols, std::int64_t s_rows, std::int64_t s_cols) {
  const std::int64_t one_row = std::max<std::int64_t>(1, cols), one_col = std::max<std::int64_t>(1, rows);
  // Row-major (each row contiguous): as column-major it is the transpose,
  // which is what out^T = b^T a^T wants, so no op.
  if ((cols == 1 || s_cols == 1) && (rows == 1 || s_rows >= one_row))
    return {true, false, rows == 1 ? one_row : s_rows};
  // Column-major (a transposed view): cuBLAS transposes it.
  if ((rows == 1 || s_rows == 1) && (cols == 1 || s_cols >= one_col))
    return {true, true, cols == 1 ? one_col : s_cols};
  return {};
}

}  // namespace fluxion::cuda
