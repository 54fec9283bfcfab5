// Batched matmul through cuBLAS. cuBLAS is column-major, and a row-major
// matrix read as column-major is its transpose, so out = a @ b (row-major)
// is computed as out^T = b^T a^T: cuBLAS's "A" is our b and its "B" our a.
// Operands are used in place when one of their two matrix dims has unit
// stride (a transposed view costs nothing); anything else is copied
// contiguous first. float32 uses TF32 tensor cores unless
// cuda::set_allow_tf32(false).
#include "core/cuda.h"
#include "core/cuda/common.h"
#include "core/cuda/kernels.h"
#include "core/factory.h"

namespace fluxion::cuda {
namespace {

// How cuBLAS can read one [rows, cols] matrix of a batch.
struct Layout {
  bool usable = false;
  bool row_major = false;  // else column-major
  std::int64_t ld = 0;
};

Layout layout_of(std::int64_t rows, std::int64_t cols, std::int64_t s_rows, std::int64_t s_cols) {
  const std::int64_t one_row = std::max<std::int64_t>(1, cols), one_col = std::max<std::int64_t>(1, rows);
  if ((cols == 1 || s_cols == 1) && (rows == 1 || s_rows >= one_row))
    return {true, true, rows == 1 ? one_row : s_rows};
  if ((rows == 1 || s_rows == 1) && (cols == 1 || s_cols >= one_col))
    return {true, false, cols == 1 ? one_col : s_cols};
  return {};
}

}  // namespace

void matmul(const Tensor& a_in, const Tensor& b_in, const Tensor& out) {
  FLUXION_CHECK(a_in.device().is_cuda() && b_in.device() == a_in.device() && out.device() == a_in.device(),
                "matmul: expected every tensor on one CUDA device");
  const std::int64_t batch = out.size(0), m = out.size(1), n = out.size(2), k = a_in.size(2);
  if (out.numel() == 0) return;
  const int device = out.device().index;
  DeviceGuard guard(device);
  if (k == 0) return fill(out, 0.0);

  auto prepare = [&](const Tensor& t, std::int64_t rows, std::int64_t cols, Layout& layout) {
    layout = layout_of(rows, cols, t.stride(1), t.stride(2));
    if (layout.usable) return t;
    Tensor c = empty(t.shape(), t.options());
    copy(t, c);
    layout = layout_of(rows, cols, c.stride(1), c.stride(2));
    return c;
  };
  Layout la, lb;
  const Tensor a = prepare(a_in, m, k, la);
  const Tensor b = prepare(b_in, k, n, lb);
  // Row-major storage is already the transpose cuBLAS wants: no op.
  const cublasOperation_t op_b = lb.row_major ? CUBLAS_OP_N : CUBLAS_OP_T;
  const cublasOperation_t op_a = la.row_major ? CUBLAS_OP_N : CUBLAS_OP_T;
  const long long stride_a = batch == 1 ? 0 : a.stride(0), stride_b = batch == 1 ? 0 : b.stride(0);
  cublasHandle_t handle = cublas(device);
  auto check_int = [](std::int64_t v) {
    FLUXION_CHECK(v <= INT32_MAX, "matmul: dimension ", v, " exceeds cuBLAS's 32-bit limit");
    return static_cast<int>(v);
  };
  const int M = check_int(m), N = check_int(n), K = check_int(k), B = check_int(batch);
  const int lda = check_int(la.ld), ldb = check_int(lb.ld);
  if (out.dtype() == kFloat32) {
    const float alpha = 1.0f, beta = 0.0f;
    const cublasComputeType_t compute = allow_tf32() ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
    FLUXION_CUBLAS_CHECK(cublasGemmStridedBatchedEx(handle, op_b, op_a, N, M, K, &alpha, b.raw_data(), CUDA_R_32F,
                                                    ldb, stride_b, a.raw_data(), CUDA_R_32F, lda, stride_a, &beta,
                                                    out.raw_data(), CUDA_R_32F, N, static_cast<long long>(m) * n, B,
                                                    compute, CUBLAS_GEMM_DEFAULT));
  } else if (out.dtype() == kFloat64) {
    const double alpha = 1.0, beta = 0.0;
    FLUXION_CUBLAS_CHECK(cublasGemmStridedBatchedEx(handle, op_b, op_a, N, M, K, &alpha, b.raw_data(), CUDA_R_64F,
                                                    ldb, stride_b, a.raw_data(), CUDA_R_64F, lda, stride_a, &beta,
                                                    out.raw_data(), CUDA_R_64F, N, static_cast<long long>(m) * n, B,
                                                    CUBLAS_COMPUTE_64F, CUBLAS_GEMM_DEFAULT));
  } else {
    throw Error(detail::concat("matmul: expected a floating-point tensor (float32 or float64), got ", out.dtype()));
  }
}

}  // namespace fluxion::cuda
