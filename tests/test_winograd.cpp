// Winograd F(2x2, 3x3) convolution (core/cpu/winograd.cpp) against the
// im2col + GEMM reference: the forward and both gradients, over sizes
// with odd edges (tiles hanging over the output), paddings 0 to 2 (also
// different along height and width), a one-row input, batches
// smaller and larger than a chunk, float64 and float32. Products whose
// weights fit in L1 run on core/cpu/small_gemm.cpp, larger ones on BLAS
// ({2, 64, 48} takes the first in float32, the second in float64).
#include <cmath>

#include "core/cpu/kernels.h"
#include "helpers.h"

using namespace fluxion;
using test::values;

namespace {

// Largest |a - b| over the largest |b|: the error relative to the output's scale.
double scaled_error(const Tensor& a, const Tensor& b) {
  const std::vector<double> va = values(a), vb = values(b);
  double diff = 0.0, scale = 0.0;
  for (std::size_t i = 0; i < va.size(); ++i) {
    diff = std::max(diff, std::fabs(va[i] - vb[i]));
    scale = std::max(scale, std::fabs(vb[i]));
  }
  return diff / scale;
}

struct Case {
  std::int64_t n, c, o, h, w, pad_h, pad_w;
};

}  // namespace

TEST_CASE("winograd conv2d and its gradients equal im2col's") {
  const std::vector<Case> cases{
      {2, 16, 16, 8, 8, 1, 1},   {3, 16, 24, 7, 9, 1, 1}, {1, 32, 16, 5, 5, 0, 0}, {2, 16, 16, 6, 5, 2, 2},
      {5, 24, 32, 4, 4, 1, 1},   {130, 16, 16, 4, 4, 1, 1},  // more samples than one chunk
      {2, 64, 48, 16, 16, 1, 1}, {1, 16, 16, 3, 3, 1, 1},
      {2, 16, 16, 5, 7, 0, 2},   {1, 16, 24, 1, 6, 1, 0}, {3, 16, 16, 4, 9, 2, 1},  // uneven padding, one row
      // Channel counts that are not multiples of 8; the output channels (16,
      // 19, 21, 23, 32) leave every remainder of the small GEMM's 6-row blocks.
      {2, 16, 23, 6, 6, 1, 1}, {2, 19, 21, 5, 5, 1, 1}, {2, 16, 19, 5, 6, 1, 1},
  };
  for (const DType dtype : {kFloat64, kFloat32}) {
    const double tol = dtype == kFloat64 ? 1e-12 : 2e-5;
    for (const Case& k : cases) {
      CAPTURE(dtype);
      INFO("n ", k.n, " c ", k.c, " o ", k.o, " h ", k.h, " w ", k.w, " pad ", k.pad_h, ", ", k.pad_w);
      manual_seed(7);
      Conv2dParams p;
      p.pad_h = k.pad_h;
      p.pad_w = k.pad_w;
      const Tensor x = randn({k.n, k.c, k.h, k.w}, TensorOptions().dtype(dtype));
      const Tensor w = randn({k.o, k.c, 3, 3}, TensorOptions().dtype(dtype));
      REQUIRE(cpu::winograd_applies(k.c, k.o, w, p));
      const std::int64_t ho = k.h + 2 * k.pad_h - 2, wo = k.w + 2 * k.pad_w - 2;
      Tensor ref = empty({k.n, k.o, ho, wo}, x.options()), out = empty_like(ref);
      cpu::conv2d_im2col(x, w, ref, p);
      cpu::winograd_conv2d(x, w, out, p);
      CHECK(scaled_error(out, ref) < tol);

      const Tensor dy = randn({k.n, k.o, ho, wo}, x.options());
      Tensor dx_ref = empty(x.shape(), x.options()), dx = empty(x.shape(), x.options());
      cpu::conv2d_backward_input_im2col(dy, w, dx_ref, p);
      cpu::winograd_conv2d_backward_input(dy, w, dx, p);
      CHECK(scaled_error(dx, dx_ref) < tol);

      Tensor dw_ref = empty(w.shape(), w.options()), dw = empty(w.shape(), w.options());
      cpu::conv2d_backward_weight_im2col(dy, x, dw_ref, p);
      cpu::winograd_conv2d_backward_weight(dy, x, dw, p);
      CHECK(scaled_error(dw, dw_ref) < tol);

      // The public op takes the Winograd path for these shapes.
      CHECK(values(conv2d(x, w, Tensor(), p)) == values(out));
    }
  }
}

TEST_CASE("winograd applies to 3x3 stride-1 convs with 16+ channels and padding <= 2 only") {
  const Tensor w3 = empty({16, 16, 3, 3}), w1 = empty({16, 16, 1, 1});
  Conv2dParams p;
  p.pad_h = p.pad_w = 1;
  CHECK(cpu::winograd_applies(16, 16, w3, p));
  CHECK_FALSE(cpu::winograd_applies(3, 16, w3, p));   // the stem: too few channels
  CHECK_FALSE(cpu::winograd_applies(16, 8, w3, p));
  CHECK_FALSE(cpu::winograd_applies(16, 16, w1, p));  // 1x1
  Conv2dParams strided = p;
  strided.stride_h = strided.stride_w = 2;
  CHECK_FALSE(cpu::winograd_applies(16, 16, w3, strided));
  Conv2dParams dilated = p;
  dilated.dilation_h = 2;
  CHECK_FALSE(cpu::winograd_applies(16, 16, w3, dilated));
  Conv2dParams grouped = p;
  grouped.groups = 2;
  CHECK_FALSE(cpu::winograd_applies(16, 16, w3, grouped));
  Conv2dParams wide = p;
  wide.pad_w = 3;
  CHECK_FALSE(cpu::winograd_applies(16, 16, w3, wide));
}
