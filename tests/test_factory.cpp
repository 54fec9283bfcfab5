// Factories: constants, ranges, C++ values, random tensors and generators.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "helpers.h"

using namespace fluxion;
using test::values;

TEST_CASE("factory: zeros, ones, full and the *_like variants") {
  Tensor z = zeros({2, 3});
  CHECK(z.shape() == Shape{2, 3});
  CHECK(z.dtype() == kFloat32);
  CHECK(z.is_contiguous());
  CHECK_FALSE(z.requires_grad());
  CHECK(values(z) == std::vector<double>(6, 0.0));
  CHECK(values(ones({4}, kFloat64)) == std::vector<double>(4, 1.0));
  CHECK(ones({4}, kFloat64).dtype() == kFloat64);
  CHECK(values(full({2, 2}, -3.25, kFloat32)) == std::vector<double>(4, -3.25));
  CHECK(full({3}, 2.9, kInt64).to_vector<std::int64_t>() == std::vector<std::int64_t>{2, 2, 2});
  CHECK(zeros({}).dim() == 0);
  CHECK(zeros({0, 5}).numel() == 0);
  CHECK(scalar_tensor(1.5, kFloat64).item() == 1.5);
  CHECK_THROWS_AS(zeros({2, -1}), Error);

  Tensor base = full({2, 3}, 7.0, kFloat64);
  CHECK(values(zeros_like(base)) == std::vector<double>(6, 0.0));
  CHECK(ones_like(base).dtype() == kFloat64);
  CHECK(values(full_like(base, 0.5)) == std::vector<double>(6, 0.5));
  CHECK(empty_like(base).shape() == Shape{2, 3});
  CHECK(zeros_like(base.t()).shape() == Shape{3, 2});
  CHECK(zeros_like(tensor({1}, kInt64)).dtype() == kInt64);
}

TEST_CASE("factory: arange") {
  // Integer arguments give int64, as in PyTorch.
  Tensor a = arange(5);
  CHECK(a.dtype() == kInt64);
  CHECK(a.to_vector<std::int64_t>() == std::vector<std::int64_t>{0, 1, 2, 3, 4});
  CHECK(arange(2, 11, 3).to_vector<std::int64_t>() == std::vector<std::int64_t>{2, 5, 8});
  CHECK(arange(0, 10, 3).to_vector<std::int64_t>() == std::vector<std::int64_t>{0, 3, 6, 9});

  // Floating ranges.
  Tensor f = arange(0, 1, 0.25, kFloat32);
  CHECK(f.dtype() == kFloat32);
  CHECK(values(f) == std::vector<double>{0, 0.25, 0.5, 0.75});
  CHECK(arange(0, 1, 0.1, kFloat64).numel() == 10);
  CHECK(arange(0, 0.3, 0.1, kFloat64).numel() == 3);  // (0.3 - 0) / 0.1 = 2.99999..., ceil -> 3
  CHECK(values(arange(-1, 1, 0.5, kFloat64)) == std::vector<double>{-1, -0.5, 0, 0.5});

  // Negative step.
  CHECK(arange(5, 0, -1).to_vector<std::int64_t>() == std::vector<std::int64_t>{5, 4, 3, 2, 1});
  CHECK(values(arange(1, 0, -0.25, kFloat64)) == std::vector<double>{1, 0.75, 0.5, 0.25});

  // Empty ranges.
  CHECK(arange(3, 3).numel() == 0);
  CHECK(arange(3, 3).shape() == Shape{0});
  CHECK(arange(5, 0).numel() == 0);
  CHECK(arange(0, 5, -1).numel() == 0);
  CHECK(arange(0).numel() == 0);

  CHECK_THROWS_WITH_AS(arange(0, 5, 0), doctest::Contains("step"), Error);
  CHECK_THROWS_AS(arange(0, INFINITY), Error);
  CHECK_THROWS_AS(arange(0, 5, 1, TensorOptions(kInt64).requires_grad(true)), Error);
}

TEST_CASE("factory: tensor() from values, with shape checks") {
  Tensor t = tensor({1.0, 2.5, -3.0});
  CHECK(t.shape() == Shape{3});
  CHECK(t.dtype() == kFloat32);
  CHECK(values(t) == std::vector<double>{1.0, 2.5, -3.0});
  CHECK(tensor({0, 2, 1}, kInt64).to_vector<std::int64_t>() == std::vector<std::int64_t>{0, 2, 1});
  CHECK(tensor({}, kFloat64).numel() == 0);

  Tensor m = tensor({1, 2, 3, 4, 5, 6}, {2, 3}, kFloat64);
  CHECK(m.shape() == Shape{2, 3});
  CHECK(m.select(1, 2).to_vector<double>() == std::vector<double>{3, 6});
  CHECK(tensor({4.0}, Shape{}, kFloat64).dim() == 0);
  CHECK_THROWS_WITH_AS(tensor({1, 2, 3, 4, 5}, {2, 3}), doctest::Contains("5 values cannot fill shape [2, 3]"),
                       Error);
  CHECK_THROWS_AS(tensor({1, 2}, Shape{}), Error);
  CHECK_THROWS_AS(tensor({1, 2, 3}, kInt64).requires_grad_(), Error);
}

TEST_CASE("factory: from_vector keeps the element type") {
  Tensor f = from_vector<float>({0.1f, 0.2f, 0.3f, 0.4f}, {2, 2});
  CHECK(f.dtype() == kFloat32);
  CHECK(f.shape() == Shape{2, 2});
  CHECK(f.to_vector<float>() == std::vector<float>{0.1f, 0.2f, 0.3f, 0.4f});

  Tensor d = from_vector<double>({0.1, 1e300, -2.0}, {3});
  CHECK(d.dtype() == kFloat64);
  CHECK(d.to_vector<double>() == std::vector<double>{0.1, 1e300, -2.0});

  // int64 beyond 2^53 survives exactly (no trip through double).
  const std::int64_t big = (std::int64_t{1} << 60) + 1;
  Tensor i = from_vector<std::int64_t>({big, -5}, {2});
  CHECK(i.dtype() == kInt64);
  CHECK(i.to_vector<std::int64_t>() == std::vector<std::int64_t>{big, -5});

  CHECK(from_vector<double>({}, {0, 3}).numel() == 0);
  CHECK_THROWS_WITH_AS(from_vector<double>({1, 2, 3}, {2, 2}), doctest::Contains("from_vector"), Error);
}

TEST_CASE("factory: manual_seed makes rand and randn reproducible") {
  manual_seed(1234);
  const std::vector<double> r1 = values(rand({64}, kFloat64));
  const std::vector<double> n1 = values(randn({65}, kFloat64));  // odd count: leaves a spare normal behind
  const std::vector<double> i1 = values(randint(0, 1000, {32}));
  manual_seed(1234);
  const std::vector<double> r2 = values(rand({64}, kFloat64));
  const std::vector<double> n2 = values(randn({65}, kFloat64));
  const std::vector<double> i2 = values(randint(0, 1000, {32}));
  CHECK(r1 == r2);
  CHECK(n1 == n2);
  CHECK(i1 == i2);

  // Reseeding discards the spare normal: the first value after a reseed is
  // the same as the first value of the sequence.
  manual_seed(1234);
  (void)rand({64}, kFloat64);
  const std::vector<double> n3 = values(randn({1}, kFloat64));
  CHECK(n3[0] == n1[0]);

  manual_seed(1235);
  const std::vector<double> r4 = values(rand({64}, kFloat64));
  const std::vector<double> n4 = values(randn({65}, kFloat64));
  CHECK(r4 != r1);
  CHECK(n4 != n1);
  int equal = 0;
  for (std::size_t k = 0; k < r1.size(); ++k) equal += r1[k] == r4[k];
  CHECK(equal == 0);

  // float32 draws the same stream with 24 bits (exact in float, so never
  // rounded up to 1): each value is the float64 one truncated to 2^-24.
  manual_seed(1234);
  const std::vector<float> r5 = rand({64}, kFloat32).to_vector<float>();
  for (std::size_t k = 0; k < r5.size(); ++k) {
    CHECK(static_cast<double>(r5[k]) <= r1[k]);
    CHECK(r1[k] - static_cast<double>(r5[k]) < 0x1.0p-24);
  }
}

TEST_CASE("factory: Generator objects are independent of the default generator") {
  Generator g1(42), g2(42);
  manual_seed(7);
  const std::vector<double> a = values(randn({10}, kFloat64, &g1));
  const std::vector<double> d1 = values(rand({10}, kFloat64));  // default generator
  const std::vector<double> b = values(randn({10}, kFloat64, &g2));
  CHECK(a == b);  // drawing from the default generator in between did not disturb g2

  manual_seed(7);
  const std::vector<double> d2 = values(rand({10}, kFloat64));
  CHECK(d1 == d2);  // drawing from g1 did not advance the default generator

  Generator g3(43);
  CHECK(values(randn({10}, kFloat64, &g3)) != a);
  g3.manual_seed(42);
  CHECK(values(randn({10}, kFloat64, &g3)) == a);

  // Generator::uniform has 53 random bits in [0, 1).
  Generator g4(0);
  for (int k = 0; k < 1000; ++k) {
    const double u = g4.uniform();
    REQUIRE(u >= 0.0);
    REQUIRE(u < 1.0);
    REQUIRE(std::ldexp(u, 53) == std::floor(std::ldexp(u, 53)));
  }
}

TEST_CASE("factory: rand is uniform in 0 to 1") {
  Generator gen(2024);
  constexpr std::int64_t n = 100000;
  const std::vector<double> v = values(rand({n}, kFloat64, &gen));
  double sum = 0, lo = 1, hi = 0;
  std::int64_t below_quarter = 0;
  for (double x : v) {
    sum += x;
    lo = std::min(lo, x);
    hi = std::max(hi, x);
    below_quarter += x < 0.25;
  }
  CHECK(lo >= 0.0);
  CHECK(hi < 1.0);
  // The mean of n uniforms has standard error sqrt(1/12)/sqrt(n) = 9.1e-4;
  // 0.0046 is five standard errors.
  CHECK(std::fabs(sum / n - 0.5) < 0.0046);
  // The fraction below 0.25 has standard error sqrt(0.25 * 0.75 / n) = 1.4e-3.
  CHECK(std::fabs(static_cast<double>(below_quarter) / n - 0.25) < 0.007);

  // uniform(low, high) in float32.
  const std::vector<double> u = values(uniform({1000}, -2.0, 3.0, kFloat32, &gen));
  for (double x : u) {
    REQUIRE(x >= -2.0);
    REQUIRE(x <= 3.0);  // float32 rounding may reach the upper bound
  }
  CHECK_THROWS_AS(uniform({2}, 1.0, 0.0), Error);
  CHECK_THROWS_AS(rand({2}, kInt64), Error);
}

TEST_CASE("factory: rand in float32 stays below 1, as in PyTorch") {
  // Seed 3138459's first draw is 0.9999999773, which rounds to 1.0f: a
  // float32 rand must still be in [0, 1) (PyTorch guarantees it).
  Generator gen(3138459);
  const std::vector<float> v = rand({16}, kFloat32, &gen).to_vector<float>();
  for (std::size_t i = 0; i < v.size(); ++i) {
    CAPTURE(i);
    CHECK(v[i] >= 0.0f);
    CHECK(v[i] < 1.0f);
  }
  // The same draw in float64 is below 1.
  Generator gen64(3138459);
  CHECK(rand({1}, kFloat64, &gen64).item() < 1.0);
}

TEST_CASE("factory: randn has mean 0 and standard deviation 1") {
  Generator gen(99);
  constexpr std::int64_t n = 100000;
  const std::vector<double> v = values(randn({n}, kFloat64, &gen));
  double sum = 0, sq = 0;
  std::int64_t within_one = 0;
  for (double x : v) {
    REQUIRE(std::isfinite(x));
    sum += x;
    sq += x * x;
    within_one += std::fabs(x) < 1.0;
  }
  const double mean = sum / n, stddev = std::sqrt(sq / n - mean * mean);
  // Standard errors: mean 1/sqrt(n) = 3.2e-3; standard deviation
  // 1/sqrt(2n) = 2.2e-3. Tolerances are five standard errors.
  CHECK(std::fabs(mean) < 0.016);
  CHECK(std::fabs(stddev - 1.0) < 0.011);
  // P(|x| < 1) = 0.6827, standard error sqrt(0.6827 * 0.3173 / n) = 1.5e-3.
  CHECK(std::fabs(static_cast<double>(within_one) / n - 0.682689) < 0.0074);
  CHECK_THROWS_AS(randn({2}, kInt64), Error);
}

TEST_CASE("factory: randint stays in low to high-1 and hits every value") {
  Generator gen(5);
  Tensor r = randint(-3, 4, {10000}, kInt64, &gen);
  CHECK(r.dtype() == kInt64);
  std::vector<int> counts(7, 0);
  for (std::int64_t x : r.to_vector<std::int64_t>()) {
    REQUIRE(x >= -3);
    REQUIRE(x < 4);
    ++counts[static_cast<std::size_t>(x + 3)];
  }
  // Each value expects 10000/7 = 1428.6 hits, standard deviation 35.
  for (int c : counts) CHECK(std::abs(c - 1429) < 180);
  CHECK(values(randint(5, 6, {4}, kInt64, &gen)) == std::vector<double>(4, 5.0));
  Tensor rf = randint(0, 10, {100}, kFloat32, &gen);
  CHECK(rf.dtype() == kFloat32);
  for (double x : values(rf)) CHECK(x == std::floor(x));
  CHECK_THROWS_AS(randint(3, 3, {2}), Error);
}

TEST_CASE("factory: TensorOptions chaining, including requires_grad") {
  TensorOptions o = TensorOptions().dtype(kFloat64).requires_grad(true);
  CHECK(o.dtype() == kFloat64);
  CHECK(o.requires_grad());
  CHECK(o.device() == kCPU);
  // Each setter returns a copy; the original is unchanged.
  TensorOptions base;
  TensorOptions changed = base.dtype(kInt64);
  CHECK(base.dtype() == kFloat32);
  CHECK(changed.dtype() == kInt64);
  CHECK_FALSE(changed.requires_grad());
  CHECK(TensorOptions(kFloat64).requires_grad(true).requires_grad(false).requires_grad() == false);

  Tensor z = zeros({2, 3}, o);
  CHECK(z.dtype() == kFloat64);
  CHECK(z.requires_grad());
  CHECK(z.is_leaf());
  CHECK(values(z) == std::vector<double>(6, 0.0));
  CHECK(randn({3}, o).requires_grad());
  CHECK(tensor({1, 2}, o).requires_grad());
  CHECK(full({2}, 3.0, o).requires_grad());
  CHECK(arange(0, 3, 1, o).requires_grad());
  CHECK_FALSE(ones({2}, kFloat64).requires_grad());
  CHECK(z.options().dtype() == kFloat64);
  CHECK_FALSE(z.options().requires_grad());  // options() describes dtype and device only
  CHECK_THROWS_AS(zeros({2}, TensorOptions(kInt64).requires_grad(true)), Error);
}

TEST_CASE("random: a generator's state round-trips exactly, mid Box-Muller pair included") {
  Generator a(42);
  a.normal();  // leaves the second normal of the pair cached
  a.uniform();
  const std::string saved = a.state();
  Generator b(7);
  b.set_state(saved);
  for (int i = 0; i < 5; ++i) {
    CHECK(a.normal() == b.normal());
    CHECK(a.next_u64() == b.next_u64());
  }
  CHECK_THROWS_AS(b.set_state("not a state"), Error);
  CHECK_THROWS_AS(b.set_state(saved + " 5"), Error);
}
