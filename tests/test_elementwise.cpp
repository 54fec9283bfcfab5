// Elementwise arithmetic, comparisons and unary math, with broadcasting,
// non-contiguous operands and the parallel path.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <vector>

#include "helpers.h"

using namespace fluxion;
using test::values;

namespace {
const double kNaN = std::numeric_limits<double>::quiet_NaN();

// Applies f to every value.
std::vector<double> map(const std::vector<double>& v, const std::function<double(double)>& f) {
  std::vector<double> out;
  for (double x : v) out.push_back(f(x));
  return out;
}
}  // namespace

TEST_CASE("elementwise: add, sub, mul, div values") {
  Tensor a = tensor({1.5, -2.0, 3.0, 0.25}, kFloat64);
  Tensor b = tensor({0.5, 4.0, -1.5, 8.0}, kFloat64);
  CHECK(values(add(a, b)) == std::vector<double>{2.0, 2.0, 1.5, 8.25});
  CHECK(values(sub(a, b)) == std::vector<double>{1.0, -6.0, 4.5, -7.75});
  CHECK(values(mul(a, b)) == std::vector<double>{0.75, -8.0, -4.5, 2.0});
  CHECK(values(div(a, b)) == std::vector<double>{3.0, -0.5, -2.0, 0.03125});
  CHECK(values(a + b) == values(add(a, b)));
  CHECK(values(a - b) == values(sub(a, b)));
  CHECK(values(a * b) == values(mul(a, b)));
  CHECK(values(a / b) == values(div(a, b)));
  CHECK(values(-a) == std::vector<double>{-1.5, 2.0, -3.0, -0.25});
  CHECK(values(neg(b)) == std::vector<double>{-0.5, -4.0, 1.5, -8.0});
  // Division by zero follows IEEE 754.
  CHECK_TENSOR(div(tensor({1, -1, 0}, kFloat64), zeros({3}, kFloat64)),
               (std::vector<double>{INFINITY, -INFINITY, kNaN}), 0.0);
  // float32 results are rounded to float32.
  Tensor f = add(tensor({0.1}, kFloat32), tensor({0.2}, kFloat32));
  CHECK(f.dtype() == kFloat32);
  CHECK(f.to_vector<float>()[0] == 0.1f + 0.2f);
}

TEST_CASE("elementwise: broadcasting (3,1) + (4) -> (3,4)") {
  Tensor col = tensor({10, 20, 30}, kFloat64).reshape({3, 1});
  Tensor row = tensor({1, 2, 3, 4}, kFloat64);
  Tensor s = col + row;
  CHECK(s.shape() == Shape{3, 4});
  CHECK(values(s) == std::vector<double>{11, 12, 13, 14, 21, 22, 23, 24, 31, 32, 33, 34});
  Tensor d = row - col;
  CHECK(d.shape() == Shape{3, 4});
  CHECK(values(d) == std::vector<double>{-9, -8, -7, -6, -19, -18, -17, -16, -29, -28, -27, -26});
  // Rank broadcasting with a leading 1 and a 0-d operand.
  Tensor m = mul(ones({2, 1, 4}, kFloat64), col);
  CHECK(m.shape() == Shape{2, 3, 4});
  CHECK(values(m.select(0, 1).select(1, 3)) == std::vector<double>{10, 20, 30});
  CHECK(values(row * scalar_tensor(2, kFloat64)) == std::vector<double>{2, 4, 6, 8});
  // Size-0 dims broadcast against 1.
  CHECK((zeros({0, 1}) + zeros({3})).shape() == Shape{0, 3});
}

TEST_CASE("elementwise: a broadcasting error names the op and both shapes") {
  Tensor a = zeros({2, 3}), b = zeros({4});
  CHECK_THROWS_WITH_AS(add(a, b), doctest::Contains("add"), Error);
  CHECK_THROWS_WITH_AS(add(a, b), doctest::Contains("[2, 3]"), Error);
  CHECK_THROWS_WITH_AS(add(a, b), doctest::Contains("[4]"), Error);
  CHECK_THROWS_WITH_AS(mul(a, b), doctest::Contains("mul: shapes [2, 3] and [4]"), Error);
  CHECK_THROWS_WITH_AS(sub(zeros({3, 2}), zeros({2, 3})), doctest::Contains("sub"), Error);
  CHECK_THROWS_WITH_AS(div(a, b), doctest::Contains("div"), Error);
  CHECK_THROWS_WITH_AS(lt(a, b), doctest::Contains("lt"), Error);
}

TEST_CASE("elementwise: scalar operators") {
  Tensor x = tensor({1, -2, 4}, kFloat64);
  CHECK(values(x + 1.5) == std::vector<double>{2.5, -0.5, 5.5});
  CHECK(values(1.5 + x) == std::vector<double>{2.5, -0.5, 5.5});
  CHECK(values(x - 1.0) == std::vector<double>{0, -3, 3});
  CHECK(values(1.0 - x) == std::vector<double>{0, 3, -3});
  CHECK(values(x * -2.0) == std::vector<double>{-2, 4, -8});
  CHECK(values(3.0 * x) == std::vector<double>{3, -6, 12});
  CHECK(values(x / 4.0) == std::vector<double>{0.25, -0.5, 1.0});
  CHECK(values(8.0 / x) == std::vector<double>{8, -4, 2});
  // The scalar takes the tensor's dtype.
  Tensor f = tensor({1, 2}, kFloat32) * 0.1;
  CHECK(f.dtype() == kFloat32);
  CHECK(f.to_vector<float>() == std::vector<float>{1.f * 0.1f, 2.f * 0.1f});
  Tensor i = tensor({1, 2, 3}, kInt64) + 2.0;
  CHECK(i.dtype() == kInt64);
  CHECK(i.to_vector<std::int64_t>() == std::vector<std::int64_t>{3, 4, 5});
}

TEST_CASE("elementwise: comparisons return 1 and 0 in the operands' dtype") {
  Tensor a = tensor({1, 2, 3, kNaN}, kFloat64);
  Tensor b = tensor({2, 2, 2, kNaN}, kFloat64);
  CHECK(values(eq(a, b)) == std::vector<double>{0, 1, 0, 0});
  CHECK(values(ne(a, b)) == std::vector<double>{1, 0, 1, 1});
  CHECK(values(lt(a, b)) == std::vector<double>{1, 0, 0, 0});
  CHECK_TENSOR(le(a, b), (std::vector<double>{1, 1, 0, 0}), 0.0);
  CHECK(values(gt(a, b)) == std::vector<double>{0, 0, 1, 0});
  CHECK(values(ge(a, b)) == std::vector<double>{0, 1, 1, 0});
  CHECK(eq(a, b).dtype() == kFloat64);
  Tensor i = gt(tensor({1, 5}, kInt64), tensor({3}, kInt64));
  CHECK(i.dtype() == kInt64);
  CHECK(i.to_vector<std::int64_t>() == std::vector<std::int64_t>{0, 1});
  // Comparisons are not differentiable: nothing is recorded.
  Tensor x = ones({2}, TensorOptions(kFloat64).requires_grad(true));
  CHECK_FALSE(gt(x, zeros({2}, kFloat64)).requires_grad());
}

TEST_CASE("elementwise: maximum and minimum propagate NaN") {
  Tensor a = tensor({1, 5, kNaN, 2, kNaN}, kFloat64);
  Tensor b = tensor({3, 4, 1, kNaN, kNaN}, kFloat64);
  CHECK_TENSOR(maximum(a, b), (std::vector<double>{3, 5, kNaN, kNaN, kNaN}), 0.0);
  CHECK_TENSOR(minimum(a, b), (std::vector<double>{1, 4, kNaN, kNaN, kNaN}), 0.0);
  CHECK_TENSOR(maximum(b, a), (std::vector<double>{3, 5, kNaN, kNaN, kNaN}), 0.0);
  CHECK_TENSOR(minimum(b, a), (std::vector<double>{1, 4, kNaN, kNaN, kNaN}), 0.0);
  Tensor f = maximum(tensor({-1, 0, 1}), tensor({0}));  // broadcast, float32
  CHECK(values(f) == std::vector<double>{0, 0, 1});
}

TEST_CASE("elementwise: unary math matches the std:: functions") {
  const std::vector<double> v = {-2.5, -1.0, -0.3, 0.0, 0.4, 1.0, 3.7};
  const std::vector<double> pos = {0.01, 0.5, 1.0, 2.0, 9.0, 123.4};
  Tensor x = tensor(v, {7}, kFloat64);
  Tensor p = tensor(pos, {6}, kFloat64);
  CHECK_TENSOR(neg(x), map(v, [](double t) { return -t; }), 0.0);
  CHECK_TENSOR(exp(x), map(v, [](double t) { return std::exp(t); }), 1e-15);
  CHECK_TENSOR(log(p), map(pos, [](double t) { return std::log(t); }), 1e-15);
  CHECK_TENSOR(sqrt(p), map(pos, [](double t) { return std::sqrt(t); }), 1e-15);
  CHECK_TENSOR(pow(x, 2.0), map(v, [](double t) { return t * t; }), 1e-15);
  CHECK_TENSOR(pow(x, 3.0), map(v, [](double t) { return std::pow(t, 3.0); }), 1e-15);
  CHECK_TENSOR(pow(p, 0.5), map(pos, [](double t) { return std::pow(t, 0.5); }), 1e-15);
  CHECK_TENSOR(pow(p, -1.5), map(pos, [](double t) { return std::pow(t, -1.5); }), 1e-15);
  CHECK_TENSOR(pow(x, 0.0), std::vector<double>(7, 1.0), 0.0);
  CHECK_TENSOR(abs(x), map(v, [](double t) { return std::fabs(t); }), 0.0);
  CHECK_TENSOR(clamp(x, -1.0, 0.5), map(v, [](double t) { return std::clamp(t, -1.0, 0.5); }), 0.0);
  CHECK_TENSOR(relu(x), map(v, [](double t) { return t > 0 ? t : 0.0; }), 0.0);
  CHECK_TENSOR(sigmoid(x), map(v, [](double t) { return 1.0 / (1.0 + std::exp(-t)); }), 1e-15);
  CHECK_TENSOR(tanh(x), map(v, [](double t) { return std::tanh(t); }), 1e-15);
  CHECK(values(sign(x)) == std::vector<double>{-1, -1, -1, 0, 1, 1, 1});
  // Method forms are the same ops.
  CHECK(values(x.exp()) == values(exp(x)));
  CHECK(values(p.log()) == values(log(p)));
  CHECK(values(p.sqrt()) == values(sqrt(p)));
  CHECK(values(x.abs()) == values(abs(x)));
  CHECK(values(x.pow(3.0)) == values(pow(x, 3.0)));
  CHECK(values(x.relu()) == values(relu(x)));
  CHECK(values(x.sigmoid()) == values(sigmoid(x)));
  CHECK(values(x.tanh()) == values(tanh(x)));
  // Outside the domain: NaN, as std:: gives.
  Tensor bad = tensor({-1.0}, kFloat64);
  CHECK(std::isnan(log(bad).item()));
  CHECK(std::isnan(sqrt(bad).item()));
  CHECK(log(zeros({1}, kFloat64)).item() == -INFINITY);
  CHECK_THROWS_AS(clamp(x, 1.0, -1.0), Error);
  // float32 versions agree with std:: in float.
  Tensor xf = tensor(v, {7}, kFloat32);
  const std::vector<float> ef = exp(xf).to_vector<float>();
  for (std::size_t k = 0; k < v.size(); ++k)
    CHECK(ef[k] == doctest::Approx(std::exp(static_cast<float>(v[k]))).epsilon(1e-6));
}

TEST_CASE("elementwise: abs clears the sign bit of -0.0, as std::fabs and PyTorch do") {
  Tensor r = abs(tensor({-0.0, 0.0}, kFloat64));
  const std::vector<double> out = values(r);
  CHECK_FALSE(std::signbit(out[0]));
  CHECK_FALSE(std::signbit(out[1]));
}

TEST_CASE("elementwise: sigmoid and tanh are stable at +-1000") {
  for (DType dt : {kFloat32, kFloat64}) {
    CAPTURE(dtype_name(dt));
    Tensor x = tensor({-1000, -100, 0, 100, 1000}, dt);
    const std::vector<double> s = values(sigmoid(x));
    for (double y : s) CHECK(std::isfinite(y));
    CHECK(s[0] == 0.0);
    // exp(-100) = 3.7e-44 is a float32 subnormal (flushed to zero where FTZ is on).
    if (dt == kFloat64) {
      CHECK(s[1] == doctest::Approx(std::exp(-100.0)).scale(0).epsilon(1e-12));
    } else {
      CHECK((s[1] >= 0.0 && s[1] < 1e-43));
    }
    CHECK(s[2] == 0.5);
    CHECK(s[3] == 1.0);
    CHECK(s[4] == 1.0);
    CHECK(values(tanh(x)) == std::vector<double>{-1, -1, 0, 1, 1});
  }
}

TEST_CASE("elementwise: dtype rules") {
  CHECK_THROWS_WITH_AS(add(zeros({2}, kFloat32), zeros({2}, kFloat64)), doctest::Contains("dtype mismatch"), Error);
  CHECK_THROWS_WITH_AS(mul(zeros({2}, kInt64), zeros({2}, kFloat32)), doctest::Contains("mul"), Error);
  // int64 arithmetic works ...
  Tensor a = tensor({7, -3, 5}, kInt64), b = tensor({2, 4, -6}, kInt64);
  CHECK(add(a, b).to_vector<std::int64_t>() == std::vector<std::int64_t>{9, 1, -1});
  CHECK(sub(a, b).to_vector<std::int64_t>() == std::vector<std::int64_t>{5, -7, 11});
  CHECK(mul(a, b).to_vector<std::int64_t>() == std::vector<std::int64_t>{14, -12, -30});
  CHECK(add(a, b).dtype() == kInt64);
  CHECK(neg(a).to_vector<std::int64_t>() == std::vector<std::int64_t>{-7, 3, -5});
  CHECK(abs(a).to_vector<std::int64_t>() == std::vector<std::int64_t>{7, 3, 5});
  CHECK(clamp(a, -1, 6).to_vector<std::int64_t>() == std::vector<std::int64_t>{6, -1, 5});
  // ... but division and floating math on int64 throw.
  CHECK_THROWS_WITH_AS(div(a, b), doctest::Contains("div"), Error);
  CHECK_THROWS_AS(a / 2.0, Error);
  CHECK_THROWS_AS(exp(a), Error);
  CHECK_THROWS_AS(log(a), Error);
  CHECK_THROWS_AS(sqrt(a), Error);
  CHECK_THROWS_AS(sigmoid(a), Error);
  CHECK_THROWS_AS(pow(a, 2.0), Error);
}

TEST_CASE("elementwise: non-contiguous operands give the same values as contiguous copies") {
  Generator gen(11);
  Tensor base = randn({6, 8}, kFloat64, &gen);
  Tensor t = base.t();                       // [8, 6], transposed strides
  Tensor s = base.slice(1, 1, 8, 2);         // [6, 4], step 2, offset 1
  Tensor other = randn({8, 6}, kFloat64, &gen);
  Tensor other_s = randn({6, 4}, kFloat64, &gen);
  Tensor tc = t.contiguous(), sc = s.contiguous();
  REQUIRE_FALSE(t.is_contiguous());
  REQUIRE_FALSE(s.is_contiguous());

  CHECK(values(add(t, other)) == values(add(tc, other)));
  CHECK(values(mul(other, t)) == values(mul(other, tc)));
  CHECK(values(div(s, other_s)) == values(div(sc, other_s)));
  CHECK(values(sub(s, s.select(0, 2))) == values(sub(sc, sc.select(0, 2))));
  CHECK(values(add(t, s.t().slice(0, 0, 4).sum({0}, true))) == values(add(tc, sc.t().slice(0, 0, 4).sum({0}, true))));
  CHECK(values(exp(t)) == values(exp(tc)));
  CHECK(values(abs(s)) == values(abs(sc)));
  CHECK(values(tanh(s)) == values(tanh(sc)));
  CHECK(values(sigmoid(t)) == values(sigmoid(tc)));
  CHECK(values(clamp(t, -0.5, 0.5)) == values(clamp(tc, -0.5, 0.5)));
  CHECK(values(maximum(t, other)) == values(maximum(tc, other)));
  CHECK(values(lt(s, other_s)) == values(lt(sc, other_s)));
  // Both operands strided, and an operand expanded with stride 0.
  CHECK(values(mul(t, t)) == values(mul(tc, tc)));
  Tensor e = base.select(1, 3).unsqueeze(1).expand({6, 4});
  CHECK(values(add(s, e)) == values(add(sc, e.contiguous())));
  // Result of an op on a strided input is itself contiguous.
  CHECK(exp(s).is_contiguous());
}

TEST_CASE("elementwise: large tensors give the same results with 1 and 2 threads") {
  test::ThreadCountGuard restore;
  Generator gen(3);
  constexpr std::int64_t n = (1 << 20) + 12345;  // > 1M elements and not a multiple of any chunk
  Tensor a = randn({n}, kFloat32, &gen), b = randn({n}, kFloat32, &gen);
  Tensor m = randn({1200, 1100}, kFloat32, &gen);  // 1.32M elements

  auto compute = [&] {
    std::vector<std::vector<float>> results;
    results.push_back((a * b + a).to_vector<float>());
    results.push_back(sigmoid(a).to_vector<float>());
    results.push_back(add(m.t(), m.t().slice(0, 0, 1)).to_vector<float>());  // strided + broadcast
    results.push_back(exp(m.slice(1, 0, 1100, 2)).to_vector<float>());
    results.push_back(m.sum({1}).to_vector<float>());
    results.push_back(m.sum({0}).to_vector<float>());
    results.push_back(a.sum().to_vector<float>());
    results.push_back(softmax(m, 1).to_vector<float>());
    results.push_back(max(m, 0).values.to_vector<float>());
    return results;
  };
  set_num_threads(1);
  REQUIRE(get_num_threads() == 1);
  const auto one = compute();
  set_num_threads(2);
  const auto two = compute();
  REQUIRE(one.size() == two.size());
  for (std::size_t k = 0; k < one.size(); ++k) {
    CAPTURE(k);
    CHECK(one[k] == two[k]);
  }
  // And the parallel results are right, spot-checked against a serial loop.
  const std::vector<float> av = a.to_vector<float>(), bv = b.to_vector<float>();
  for (std::int64_t i = 0; i < n; i += 4099) {
    CAPTURE(i);
    const auto k = static_cast<std::size_t>(i);
    // a*b is rounded to float before the add (two ops); a float product is
    // exact in double, so this reference cannot be fused into an FMA.
    const float product = static_cast<float>(static_cast<double>(av[k]) * bv[k]);
    CHECK(two[0][k] == static_cast<float>(static_cast<double>(product) + av[k]));
  }
  const std::vector<float> mv = m.to_vector<float>();
  // add(m.t(), first row of m.t()): out[i][j] = m[j][i] + m[j][0]
  for (std::int64_t i = 0; i < 1100; i += 97)
    for (std::int64_t j = 0; j < 1200; j += 101)
      CHECK(two[2][static_cast<std::size_t>(i * 1200 + j)] ==
            mv[static_cast<std::size_t>(j * 1100 + i)] + mv[static_cast<std::size_t>(j * 1100)]);
}

TEST_CASE("relu backward passes the gradient where the output is positive, as PyTorch's threshold_backward") {
  // 0 at 0 and below; a NaN output (relu(NaN) is NaN) passes the gradient on.
  Tensor x = tensor({-2.0, 0.0, 3.0, NAN}, kFloat32).requires_grad_();
  Tensor y = relu(x);
  y.backward(tensor({10.0, 20.0, 30.0, 40.0}, kFloat32));
  const std::vector<double> g = values(x.grad());
  CHECK(g == std::vector<double>{0.0, 0.0, 30.0, 40.0});
  CHECK(std::isnan(values(y)[3]));
}
