// Batched matmul through cuBLAS, planned by core/cuda/gemm_plan.h (the
// column-major mapping, and which operands are used in place). float32
// uses TF32 tensor cores unless cuda::set_allow_tf32(false).
#include "core/cuda.h"
#include "core/cuda/common.h"
#include "core/cuda/gemm_plan.h"
#include "core/cuda/kernels.h"
#include "core/factory.h"

namespace fluxion::cuda {

void matmul(const Tensor& a_in, const Tensor& b_in, const Tensor& out) {
  FLUXION_CHECK(a_in.device().is_cuda() && b_in.device() == a_in.device() && out.device() == a_in.device(),
                "matmul: expected every tensor on one CUDA device");
  const std::int64_t batch = out.size(0), m = out.size(1), n = out.size(2), k = a_in.size(2);
  if (out.numel() == 0) return;
  const int device = out.device().index;
  DeviceGuard guard(device);
  if (k == 0) return fill(out, 0.0);

  auto prepare = [&](const Tensor& t, std::int64_t rows, std::int64_t cols, GemmOperand& plan) {
    plan = plan_operand(rows, cols, t.stride(1), t.stride(2));
    if (plan.usable) return t;
    Tensor c = empty(t.shape(), t.options());
    copy(t, c);
    plan = plan_operand(rows, cols, c.stride(1), c.stride(2));
    return c;
  };
  GemmOperand la, lb;
  const Tensor a = prepare(a_in, m, k, la);
  const Tensor b = prepare(b_in, k, n, lb);
  const cublasOperation_t op_b = lb.transpose ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t op_a = la.transpose ? CUBLAS_OP_T : CUBLAS_OP_N;
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
