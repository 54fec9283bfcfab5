// Batched matrix product on BLAS. Transposed operands are passed to GEMM as
// transposes rather than copied, so backward's `g @ b.t()` costs no copy.
#include <optional>

#include "core/cpu/blas.h"
#include "core/cpu/kernels.h"
#include "core/profiler.h"

namespace fluxion::cpu {
namespace {

struct MatrixLayout {
  bool transposed;
  std::int64_t ld;
};

// How GEMM can read a rows x cols matrix with the given strides, if it can.
std::optional<MatrixLayout> blas_layout(std::int64_t rows, std::int64_t cols, std::int64_t row_stride,
                                        std::int64_t col_stride) {
  if (col_stride == 1 || cols == 1) {
    std::int64_t ld = rows == 1 ? std::max<std::int64_t>(cols, 1) : row_stride;
    if (ld >= std::max<std::int64_t>(cols, 1)) return MatrixLayout{false, ld};
  }
  if (row_stride == 1 || rows == 1) {
    std::int64_t ld = cols == 1 ? std::max<std::int64_t>(rows, 1) : col_stride;
    if (ld >= std::max<std::int64_t>(rows, 1)) return MatrixLayout{true, ld};
  }
  return std::nullopt;
}

// A 3-D operand GEMM can read; copies it to contiguous memory if needed.
Tensor blas_readable(const Tensor& t) {
  if (blas_layout(t.shape()[1], t.shape()[2], t.strides()[1], t.strides()[2])) return t;
  Tensor c = empty(t.shape(), t.options());
  copy(t, c);
  return c;
}

}  // namespace

void matmul(const Tensor& a_in, const Tensor& b_in, const Tensor& out) {
  const std::int64_t batch = a_in.shape()[0], m = a_in.shape()[1], k = a_in.shape()[2], n = b_in.shape()[2];
  if (out.numel() == 0) return;
  if (k == 0) {  // an empty sum: zeros
    fill(out, 0.0);
    return;
  }
  profiler::add_multiply_adds(static_cast<double>(batch) * static_cast<double>(m) * static_cast<double>(n) *
                              static_cast<double>(k));
  const Tensor a = blas_readable(a_in), b = blas_readable(b_in);
  const MatrixLayout la = *blas_layout(m, k, a.strides()[1], a.strides()[2]);
  const MatrixLayout lb = *blas_layout(k, n, b.strides()[1], b.strides()[2]);
  visit_floating(out.dtype(), "matmul", [&]<class T>() {
    const T* pa = a.data<T>();
    const T* pb = b.data<T>();
    T* pc = out.data<T>();
    for (std::int64_t i = 0; i < batch; ++i) {
      T* c = pc + i * m * n;
      gemm<T>(la.transposed, lb.transposed, m, n, k, T(1), pa + i * a.strides()[0], la.ld, pb + i * b.strides()[0],
              lb.ld, T(0), c, n);
    }
  });
}

}  // namespace fluxion::cpu
