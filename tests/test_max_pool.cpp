// max_pool2d's two CPU kernels: the 2x2 stride-2 one (core/cpu/pool.cpp,
// vectorised) must pick the same maximum and the same position as the
// general window kernel, on ties (the first wins) and NaNs (the last wins)
// too, since the position decides which input gets the gradient.
#include <doctest/doctest.h>

#include <cmath>

#include "helpers.h"

using namespace fluxion;

namespace {

// The general kernel on the same windows: ceil_mode changes nothing for
// even sizes but takes the general path.
Pool2dParams two_by_two(bool general) {
  Pool2dParams p;
  p.kernel_h = p.kernel_w = 2;
  p.stride_h = p.stride_w = 2;
  p.ceil_mode = general;
  return p;
}

bool same(double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; }

}  // namespace

TEST_CASE("max_pool2d: the 2x2 stride-2 kernel agrees with the general one, ties and NaNs included") {
  for (DType dt : {kFloat32, kFloat64}) {
    CAPTURE(dtype_name(dt));
    manual_seed(11);
    // Few distinct values, so most windows hold ties; a NaN in some.
    Tensor x = randint(0, 3, {3, 5, 6, 10}, TensorOptions(kInt64)).to(dt);
    std::vector<double> v = x.to_vector<double>();
    for (std::size_t i = 7; i < v.size(); i += 37) v[i] = NAN;
    v[0] = v[1] = NAN;  // two NaNs in one window: the last wins
    const Tensor base = tensor(v, x.shape(), TensorOptions(dt));
    const Tensor g = randn({3, 5, 3, 5}, TensorOptions(dt));

    std::vector<double> out[2], grad[2];
    for (bool general : {false, true}) {
      Tensor in = base.clone().requires_grad_();
      Tensor y = max_pool2d(in, two_by_two(general));
      REQUIRE(y.shape() == Shape{3, 5, 3, 5});
      sum(y * g).backward();
      out[general] = y.to_vector<double>();
      grad[general] = in.grad().to_vector<double>();
    }
    for (std::size_t i = 0; i < out[0].size(); ++i) {
      CAPTURE(i);
      CHECK(same(out[0][i], out[1][i]));
    }
    CHECK(grad[0] == grad[1]);  // the same positions got the same gradients
    // The rules themselves, on one window each: ties go to the first
    // position in scan order; the last NaN wins; a NaN held stays against
    // larger values after it.
    struct Window {
      std::vector<double> values, grad;
    };
    const Window windows[] = {{{1, 1, 1, 1}, {1, 0, 0, 0}},
                              {{NAN, NAN, 2, 3}, {0, 1, 0, 0}},
                              {{NAN, 5, 6, 7}, {1, 0, 0, 0}},
                              {{1, 3, 3, 2}, {0, 1, 0, 0}}};
    for (const Window& w : windows) {
      for (bool general : {false, true}) {
        CAPTURE(general);
        Tensor in = tensor(w.values, {1, 1, 2, 2}, TensorOptions(dt)).requires_grad_();
        sum(max_pool2d(in, two_by_two(general))).backward();
        CHECK(in.grad().to_vector<double>() == w.grad);
      }
    }
  }
}
