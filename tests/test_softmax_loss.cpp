// softmax, log_softmax, cross_entropy and mse_loss against values computed
// here with std::exp and std::log.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "helpers.h"

using namespace fluxion;
using test::values;

namespace {

// Reference log-softmax of each row of a row-major [n, c] matrix.
std::vector<double> ref_log_softmax(const std::vector<double>& x, std::int64_t n, std::int64_t c) {
  std::vector<double> out(x.size());
  for (std::int64_t i = 0; i < n; ++i) {
    double peak = -INFINITY;
    for (std::int64_t j = 0; j < c; ++j) peak = std::max(peak, x[static_cast<std::size_t>(i * c + j)]);
    double total = 0;
    for (std::int64_t j = 0; j < c; ++j) total += std::exp(x[static_cast<std::size_t>(i * c + j)] - peak);
    for (std::int64_t j = 0; j < c; ++j)
      out[static_cast<std::size_t>(i * c + j)] = x[static_cast<std::size_t>(i * c + j)] - peak - std::log(total);
  }
  return out;
}

const std::vector<double> kLogits = {1.0, 2.0, 0.5, -1.0,   //
                                     0.0, 0.0, 0.0, 0.0,    //
                                     3.0, -2.0, 1.5, 0.25};  // [3, 4]
const std::vector<std::int64_t> kTargets = {2, 0, 3};

}  // namespace

TEST_CASE("softmax: rows sum to 1 and match exp(x) / sum(exp(x))") {
  Generator gen(31);
  Tensor x = randn({4, 6}, kFloat64, &gen) * 3.0;
  Tensor s = softmax(x, 1);
  CHECK(s.shape() == Shape{4, 6});
  CHECK_TENSOR(s.sum({1}), std::vector<double>(4, 1.0), 1e-15);
  std::vector<double> expected = ref_log_softmax(values(x), 4, 6);
  for (double& v : expected) v = std::exp(v);
  CHECK_TENSOR(s, expected, 1e-15);
  CHECK(values(softmax(x, -1)) == values(s));
  for (double p : values(s)) {
    CHECK(p > 0.0);
    CHECK(p < 1.0);
  }
  // A non-contiguous input gives the same result.
  Tensor xt = x.t().contiguous().t();
  CHECK_TENSOR(softmax(xt, 1), expected, 1e-15);
  // Known values: softmax([0, ln 3]) = [1/4, 3/4].
  CHECK_TENSOR(softmax(tensor({0.0, std::log(3.0)}, kFloat64), 0), (std::vector<double>{0.25, 0.75}), 1e-15);
  CHECK(softmax(scalar_tensor(5.0, kFloat64), 0).item() == 1.0);
  CHECK_THROWS_AS(softmax(tensor({1, 2}, kInt64), 0), Error);
  CHECK_THROWS_AS(softmax(x, 2), Error);
}

TEST_CASE("softmax: large logits do not overflow") {
  const double e = std::exp(1.0);
  for (DType dt : {kFloat32, kFloat64}) {
    CAPTURE(dtype_name(dt));
    const double tol = dt == kFloat32 ? 1e-6 : 1e-15;
    Tensor x = tensor({1000, 1001}, dt);
    const std::vector<double> s = values(softmax(x, 0));
    CHECK(std::isfinite(s[0]));
    CHECK(std::isfinite(s[1]));
    CHECK_TENSOR(softmax(x, 0), (std::vector<double>{1 / (1 + e), e / (1 + e)}), tol);
    CHECK_TENSOR(softmax(tensor({-1000, -1001}, dt), 0), (std::vector<double>{e / (1 + e), 1 / (1 + e)}), tol);
    for (double v : values(log_softmax(x, 0))) CHECK(std::isfinite(v));
  }
  // -inf logits get probability 0.
  CHECK_TENSOR(softmax(tensor({-INFINITY, 0.0, -INFINITY}, kFloat64), 0), (std::vector<double>{0, 1, 0}), 0.0);
  CHECK_TENSOR(log_softmax(tensor({-INFINITY, 0.0}, kFloat64), 0), (std::vector<double>{-INFINITY, 0}), 0.0);
}

TEST_CASE("softmax: log_softmax of large logits keeps full precision") {
  // log_softmax(x)_j = (x_j - max) - log(sum exp(x - max)): both terms are
  // small, so the result is accurate to a few ulps of itself. Computing
  // x_j - (max + log(sum)) instead rounds at the magnitude of max (1000 here)
  // and loses ~4 significant digits in float32.
  const double e = std::exp(1.0);
  const std::vector<double> expected = {-std::log1p(e), 1 - std::log1p(e)};  // -1.3133, -0.3133
  CHECK_TENSOR(log_softmax(tensor({1000, 1001}, kFloat64), 0), expected, 1e-15);
  CHECK_TENSOR(log_softmax(tensor({1000, 1001}, kFloat32), 0), expected, 1e-6);
  // cross_entropy inherits it: the loss of class 0 is log(1 + e).
  Tensor target = from_vector<std::int64_t>({0}, {1});
  CHECK(cross_entropy(tensor({1000, 1001}, {1, 2}, kFloat32), target).item() ==
        doctest::Approx(std::log1p(e)).epsilon(1e-6));
}

TEST_CASE("softmax: log_softmax equals log(softmax)") {
  Generator gen(32);
  Tensor x = randn({5, 7}, kFloat64, &gen) * 2.0;
  for (std::int64_t dim : {0, 1}) {
    CAPTURE(dim);
    CHECK_TENSOR(log_softmax(x, dim), values(log(softmax(x, dim))), 1e-14);
  }
  CHECK_TENSOR(log_softmax(x, 1), ref_log_softmax(values(x), 5, 7), 1e-14);
  CHECK(values(log_softmax(x, -2)) == values(log_softmax(x, 0)));
}

TEST_CASE("softmax: along dim 0, and along the middle dim of a 3-D tensor") {
  Generator gen(33);
  Tensor x = randn({3, 5}, kFloat64, &gen);
  Tensor s0 = softmax(x, 0);
  CHECK_TENSOR(s0.sum({0}), std::vector<double>(5, 1.0), 1e-15);
  // Column j of softmax(x, 0) is row j of softmax(x^T, 1).
  CHECK_TENSOR(s0.t(), values(softmax(x.t().contiguous(), 1)), 1e-15);
  Tensor y = randn({2, 4, 3}, kFloat64, &gen);
  Tensor s1 = softmax(y, 1);
  CHECK_TENSOR(s1.sum({1}), std::vector<double>(6, 1.0), 1e-15);
  for (std::int64_t b = 0; b < 2; ++b)
    CHECK_TENSOR(s1.select(0, b), values(softmax(y.select(0, b), 0)), 1e-15);
}

TEST_CASE("softmax: an empty softmax dim gives an empty result") {
  // PyTorch: torch.softmax(torch.zeros(2, 0), 1) is an empty [2, 0] tensor.
  // Run in a child process: the bug this guards against crashes.
  const int status = test::run_isolated([] {
    Tensor s = softmax(zeros({2, 0}), 1);
    Tensor l = log_softmax(zeros({0}), 0);
    return s.shape() == Shape{2, 0} && l.shape() == Shape{0} ? 0 : 1;
  });
  CHECK_MESSAGE(status == 0, "softmax over a size-0 dim: " << test::describe_status(status));
  // Softmax over a non-empty dim of a tensor with an empty other dim is fine.
  CHECK(softmax(zeros({0, 3}), 1).shape() == Shape{0, 3});
}

TEST_CASE("cross_entropy: mean, sum and none against hand-computed values") {
  Tensor logits = tensor(kLogits, {3, 4}, kFloat64);
  Tensor target = from_vector<std::int64_t>(kTargets, {3});
  const std::vector<double> logp = ref_log_softmax(kLogits, 3, 4);
  std::vector<double> nll;
  for (std::size_t i = 0; i < 3; ++i) nll.push_back(-logp[i * 4 + static_cast<std::size_t>(kTargets[i])]);
  // Row 1 is uniform: its loss is exactly log(4).
  CHECK(nll[1] == doctest::Approx(std::log(4.0)).epsilon(1e-15));
  const double total = nll[0] + nll[1] + nll[2];

  Tensor none = cross_entropy(logits, target, Reduction::none);
  CHECK(none.shape() == Shape{3});
  CHECK_TENSOR(none, nll, 1e-14);
  Tensor s = cross_entropy(logits, target, Reduction::sum);
  CHECK(s.dim() == 0);
  CHECK(s.item() == doctest::Approx(total).epsilon(1e-14));
  Tensor m = cross_entropy(logits, target);  // mean by default
  CHECK(m.dim() == 0);
  CHECK(m.item() == doctest::Approx(total / 3).epsilon(1e-14));

  // float32 logits.
  Tensor m32 = cross_entropy(logits.to(kFloat32), target);
  CHECK(m32.dtype() == kFloat32);
  CHECK(m32.item() == doctest::Approx(total / 3).epsilon(1e-6));
  // Non-contiguous logits.
  Tensor lt = logits.t().contiguous().t();
  CHECK_TENSOR(cross_entropy(lt, target, Reduction::none), nll, 1e-14);
}

TEST_CASE("cross_entropy: label_smoothing = 0.1 follows (1-e) nll + e mean_c(-log p_c)") {
  const double eps = 0.1;
  Tensor logits = tensor(kLogits, {3, 4}, kFloat64);
  Tensor target = from_vector<std::int64_t>(kTargets, {3});
  const std::vector<double> logp = ref_log_softmax(kLogits, 3, 4);
  std::vector<double> expected;
  for (std::size_t i = 0; i < 3; ++i) {
    const double nll = -logp[i * 4 + static_cast<std::size_t>(kTargets[i])];
    double uniform = 0;
    for (std::size_t c = 0; c < 4; ++c) uniform -= logp[i * 4 + c];
    uniform /= 4;
    expected.push_back((1 - eps) * nll + eps * uniform);
  }
  CHECK_TENSOR(cross_entropy(logits, target, Reduction::none, eps), expected, 1e-14);
  const double total = expected[0] + expected[1] + expected[2];
  CHECK(cross_entropy(logits, target, Reduction::sum, eps).item() == doctest::Approx(total).epsilon(1e-14));
  CHECK(cross_entropy(logits, target, Reduction::mean, eps).item() == doctest::Approx(total / 3).epsilon(1e-14));
  // Smoothing changes the loss (it is not silently ignored).
  CHECK(std::fabs(cross_entropy(logits, target, Reduction::sum, eps).item() -
                  cross_entropy(logits, target, Reduction::sum).item()) > 1e-3);
  // e = 1: the target is ignored entirely.
  Tensor other = from_vector<std::int64_t>({0, 1, 2}, {3});
  CHECK(cross_entropy(logits, target, Reduction::sum, 1.0).item() ==
        doctest::Approx(cross_entropy(logits, other, Reduction::sum, 1.0).item()).epsilon(1e-15));
  CHECK_THROWS_WITH_AS(cross_entropy(logits, target, Reduction::mean, 1.5), doctest::Contains("label_smoothing"),
                       Error);
  CHECK_THROWS_AS(cross_entropy(logits, target, Reduction::mean, -0.1), Error);
}

TEST_CASE("cross_entropy: invalid targets") {
  Tensor logits = tensor(kLogits, {3, 4}, kFloat64);
  CHECK_THROWS_WITH_AS(cross_entropy(logits, from_vector<std::int64_t>({2, 4, 0}, {3})),
                       doctest::Contains("target[1] = 4"), Error);
  CHECK_THROWS_WITH_AS(cross_entropy(logits, from_vector<std::int64_t>({-1, 0, 0}, {3})),
                       doctest::Contains("target[0] = -1"), Error);
  CHECK_THROWS_WITH_AS(cross_entropy(logits, from_vector<std::int64_t>({0, 1, 9}, {3})),
                       doctest::Contains("target[2]"), Error);
  CHECK_THROWS_WITH_AS(cross_entropy(logits, tensor({2, 0, 3}, kFloat32)), doctest::Contains("int64"), Error);
  CHECK_THROWS_WITH_AS(cross_entropy(logits, tensor({2, 0, 3}, kFloat64)), doctest::Contains("int64"), Error);
  CHECK_THROWS_AS(cross_entropy(logits, from_vector<std::int64_t>({1, 2}, {2})), Error);
  CHECK_THROWS_AS(cross_entropy(logits, from_vector<std::int64_t>({1, 2, 0}, {3, 1})), Error);
  CHECK_THROWS_AS(cross_entropy(tensor({1, 2, 3}, kFloat64), from_vector<std::int64_t>({1}, {1})), Error);
  CHECK_THROWS_AS(cross_entropy(logits.to(kInt64), from_vector<std::int64_t>({1, 2, 0}, {3})), Error);
}

TEST_CASE("mse_loss: values and shape mismatch") {
  Tensor input = tensor({1.0, 2.0, 3.0, -1.0, 0.5, 4.0}, {2, 3}, kFloat64);
  Tensor target = tensor({0.0, 2.5, 1.0, 1.0, 0.5, 0.0}, {2, 3}, kFloat64);
  const std::vector<double> sq = {1.0, 0.25, 4.0, 4.0, 0.0, 16.0};
  Tensor none = mse_loss(input, target, Reduction::none);
  CHECK(none.shape() == Shape{2, 3});
  CHECK(values(none) == sq);
  CHECK(mse_loss(input, target, Reduction::sum).item() == 25.25);
  CHECK(mse_loss(input, target).item() == doctest::Approx(25.25 / 6).epsilon(1e-15));
  CHECK(mse_loss(input, target).dim() == 0);
  CHECK(mse_loss(input.to(kFloat32), target.to(kFloat32), Reduction::sum).item() == 25.25);
  CHECK(mse_loss(input, input).item() == 0.0);
  CHECK_THROWS_WITH_AS(mse_loss(input, zeros({3, 2}, kFloat64)), doctest::Contains("mse_loss"), Error);
  CHECK_THROWS_WITH_AS(mse_loss(input, zeros({3, 2}, kFloat64)), doctest::Contains("[2, 3]"), Error);
  CHECK_THROWS_WITH_AS(mse_loss(input, zeros({3, 2}, kFloat64)), doctest::Contains("[3, 2]"), Error);
  // No silent broadcasting: a [3] target for a [2, 3] input is an error.
  CHECK_THROWS_AS(mse_loss(input, zeros({3}, kFloat64)), Error);
}
