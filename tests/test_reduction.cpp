// Reductions: sum, mean, max/argmax, sum_to.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "helpers.h"

using namespace fluxion;
using test::values;

namespace {
const double kNaN = std::numeric_limits<double>::quiet_NaN();
// x[i][j][k] = 12 i + 4 j + k
Tensor cube() { return arange(0, 24, 1, kFloat64).reshape({2, 3, 4}); }
}  // namespace

TEST_CASE("reduction: sum over all, one, negative and several dims, with keepdim") {
  Tensor x = cube();
  Tensor all = x.sum();
  CHECK(all.dim() == 0);
  CHECK(all.item() == 276.0);
  CHECK(sum(x, {}).item() == 276.0);  // no dims: all, as PyTorch's sum(dim=[])

  Tensor s0 = x.sum({0});
  CHECK(s0.shape() == Shape{3, 4});
  CHECK(values(s0) == std::vector<double>{12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32, 34});
  Tensor s1 = x.sum({1});
  CHECK(s1.shape() == Shape{2, 4});
  CHECK(values(s1) == std::vector<double>{12, 15, 18, 21, 48, 51, 54, 57});
  Tensor s2 = x.sum({2});
  CHECK(s2.shape() == Shape{2, 3});
  CHECK(values(s2) == std::vector<double>{6, 22, 38, 54, 70, 86});

  CHECK(x.sum({1}, true).shape() == Shape{2, 1, 4});
  CHECK(values(x.sum({1}, true)) == values(s1));
  CHECK(values(x.sum({-1})) == values(s2));
  CHECK(values(x.sum({-3})) == values(s0));

  // Several dims, in any order: sum_{i,k} (12 i + 4 j + k) = 60 + 32 j.
  Tensor s02 = x.sum({0, 2});
  CHECK(s02.shape() == Shape{3});
  CHECK(values(s02) == std::vector<double>{60, 92, 124});
  CHECK(values(x.sum({2, 0})) == values(s02));
  CHECK(values(x.sum({-1, 0})) == values(s02));
  CHECK(x.sum({0, 2}, true).shape() == Shape{1, 3, 1});
  CHECK(x.sum({0, 1, 2}).dim() == 0);
  CHECK(x.sum({0, 1, 2}, true).shape() == Shape{1, 1, 1});
  CHECK(x.sum({0, 1, 2}).item() == 276.0);

  // A non-contiguous input.
  Tensor t = x.permute({2, 0, 1});  // [4, 2, 3]
  CHECK(values(t.sum({0})) == values(s2));
  CHECK(values(t.sum({1, 2})) == std::vector<double>{60, 66, 72, 78});  // sum_{i,j} x[i][j][k] = 60 + 6 k
  CHECK(values(x.slice(2, 0, 4, 2).sum({2})) == std::vector<double>{2, 10, 18, 26, 34, 42});

  // int64 sums stay int64 and exact past 2^53.
  const std::int64_t big = std::int64_t{1} << 60;
  Tensor i = from_vector<std::int64_t>({big, 1, 2}, {3});
  CHECK(i.sum().dtype() == kInt64);
  CHECK(i.sum().to_vector<std::int64_t>()[0] == big + 3);

  // Degenerate shapes.
  CHECK(scalar_tensor(2.5).sum().item() == 2.5);
  CHECK(scalar_tensor(2.5).sum({0}).item() == 2.5);
  CHECK(zeros({0}).sum().item() == 0.0);
  CHECK(values(zeros({2, 0}).sum({1})) == std::vector<double>{0, 0});
  CHECK(zeros({2, 0}).sum({0}).shape() == Shape{0});
  CHECK_THROWS_AS(x.sum({3}), Error);
}

TEST_CASE("reduction: float32 sums accumulate in double") {
  // 16M float32 ones.
  constexpr std::int64_t n = std::int64_t{1} << 24;
  Tensor ones16m = ones({n});
  Tensor s = ones16m.sum();
  CHECK(s.dtype() == kFloat32);
  CHECK(s.item() == 16777216.0);
  // Two more: a float32 accumulator would stop at 2^24 (2^24 + 1 rounds down).
  Tensor more = ones({n + 2});
  CHECK(more.sum().item() == 16777218.0);
  CHECK(values(more.reshape({2, (n + 2) / 2}).sum({1})) == std::vector<double>{8388609.0, 8388609.0});
  // One large value followed by a million ones: exact in double, lost in float.
  Tensor mixed = ones({1000001});
  mixed.slice(0, 0, 1).fill_(1e8);
  CHECK(mixed.sum().item() == 101000000.0);
}

TEST_CASE("reduction: mean") {
  Tensor x = cube();
  CHECK(x.mean().item() == 11.5);
  CHECK(mean(x).dim() == 0);
  CHECK(values(x.mean({1})) == std::vector<double>{4, 5, 6, 7, 16, 17, 18, 19});
  CHECK(x.mean({0, 2}, true).shape() == Shape{1, 3, 1});
  CHECK(values(x.mean({0, 2})) == std::vector<double>{7.5, 11.5, 15.5});
  CHECK(values(x.mean({-1})) == std::vector<double>{1.5, 5.5, 9.5, 13.5, 17.5, 21.5});
  CHECK(values(x.transpose(0, 2).mean({0})) == std::vector<double>{1.5, 13.5, 5.5, 17.5, 9.5, 21.5});
  Tensor f = tensor({1, 2, 3, 4}, kFloat32);
  CHECK(f.mean().dtype() == kFloat32);
  CHECK(f.mean().item() == 2.5);
  CHECK(std::isnan(zeros({0}).mean().item()));  // 0/0, as in PyTorch
  CHECK_THROWS_WITH_AS(mean(tensor({1, 2}, kInt64)), doctest::Contains("mean"), Error);
}

TEST_CASE("reduction: max along a dim returns values and first-index argmax") {
  Tensor x = tensor({3, 7, 7, 1, 9, 9, 2, 0}, {2, 4}, kFloat64);
  MaxResult r1 = max(x, 1);
  CHECK(r1.values.shape() == Shape{2});
  CHECK(values(r1.values) == std::vector<double>{7, 9});
  CHECK(r1.indices.dtype() == kInt64);
  CHECK(r1.indices.to_vector<std::int64_t>() == std::vector<std::int64_t>{1, 0});  // first index on ties

  MaxResult r0 = max(x, 0);
  CHECK(values(r0.values) == std::vector<double>{9, 9, 7, 1});
  CHECK(r0.indices.to_vector<std::int64_t>() == std::vector<std::int64_t>{1, 1, 0, 0});

  MaxResult rk = max(x, -1, true);
  CHECK(rk.values.shape() == Shape{2, 1});
  CHECK(rk.indices.shape() == Shape{2, 1});
  CHECK(values(rk.values) == std::vector<double>{7, 9});

  CHECK(argmax(x, 1).to_vector<std::int64_t>() == std::vector<std::int64_t>{1, 0});
  CHECK(argmax(x, 0, true).shape() == Shape{1, 4});
  CHECK(argmax(x, 0, true).to_vector<std::int64_t>() == std::vector<std::int64_t>{1, 1, 0, 0});
  CHECK(max(x).item() == 9.0);
  CHECK(max(x).dim() == 0);

  // Non-contiguous input, int64, -inf.
  CHECK(values(max(x.t(), 1).values) == std::vector<double>{9, 9, 7, 1});
  CHECK(max(x.t(), 1).indices.to_vector<std::int64_t>() == std::vector<std::int64_t>{1, 1, 0, 0});
  Tensor xi = tensor({-5, -2, -9}, kInt64);
  CHECK(max(xi, 0).values.to_vector<std::int64_t>()[0] == -2);
  CHECK(max(xi).dtype() == kInt64);
  MaxResult ninf = max(tensor({-INFINITY, -INFINITY}, kFloat64), 0);
  CHECK(ninf.values.item() == -INFINITY);
  CHECK(ninf.indices.item() == 0.0);
  // 3-D along the middle dim.
  Tensor c = cube();
  CHECK(values(max(c, 1).values) == std::vector<double>{8, 9, 10, 11, 20, 21, 22, 23});
  CHECK(max(c, 1).indices.to_vector<std::int64_t>() == std::vector<std::int64_t>(8, 2));
}

TEST_CASE("reduction: NaN wins in max, as in PyTorch") {
  Tensor x = tensor({1, kNaN, 5, kNaN, /**/ kNaN, 3, 2, 1, /**/ 1, 2, 4, kNaN}, {3, 4}, kFloat64);
  MaxResult r = max(x, 1);
  CHECK_TENSOR(r.values, (std::vector<double>{kNaN, kNaN, kNaN}), 0.0);
  CHECK(r.indices.to_vector<std::int64_t>() == std::vector<std::int64_t>{1, 0, 3});
  CHECK(std::isnan(max(x).item()));
  CHECK(argmax(x, 0).to_vector<std::int64_t>() == std::vector<std::int64_t>{1, 0, 0, 0});
}

TEST_CASE("reduction: max over an empty dim throws") {
  CHECK_THROWS_WITH_AS(max(zeros({2, 0}), 1), doctest::Contains("size 0"), Error);
  CHECK_THROWS_AS(argmax(zeros({0}), 0), Error);
  CHECK_THROWS_AS(max(zeros({0, 3})), Error);
  // Reducing a non-empty dim of a tensor with another empty dim is fine.
  MaxResult r = max(zeros({0, 3}), 1);
  CHECK(r.values.shape() == Shape{0});
  CHECK(r.indices.shape() == Shape{0});
  CHECK_THROWS_AS(max(zeros({2, 3}), 2), Error);
}

TEST_CASE("reduction: sum_to is the inverse of broadcasting") {
  Tensor g = ones({2, 3, 4}, kFloat64);
  CHECK(sum_to(g, {3, 1}).shape() == Shape{3, 1});
  CHECK(values(sum_to(g, {3, 1})) == std::vector<double>(3, 8.0));
  CHECK(values(sum_to(g, {4})) == std::vector<double>(4, 6.0));
  CHECK(values(sum_to(g, {1, 3, 4})) == std::vector<double>(12, 2.0));
  CHECK(values(sum_to(g, {2, 1, 1})) == std::vector<double>(2, 12.0));
  CHECK(sum_to(g, {}).dim() == 0);
  CHECK(sum_to(g, {}).item() == 24.0);
  CHECK(sum_to(g, {2, 3, 4}).storage() == g.storage());  // same shape: unchanged

  // For any b broadcast to a bigger shape, sum_to gives b times the repeat count.
  Generator gen(8);
  Tensor b = randn({3, 1}, kFloat64, &gen);
  Tensor expanded = b.expand({5, 3, 7});
  CHECK_TENSOR(sum_to(expanded, {3, 1}), values(b * 35.0), 1e-14);
  // And values that differ along the summed dims are added up.
  Tensor x = cube();
  CHECK(values(sum_to(x, {3, 1})) == std::vector<double>{60, 92, 124});

  CHECK_THROWS_WITH_AS(sum_to(g, {5}), doctest::Contains("sum_to"), Error);
  CHECK_THROWS_AS(sum_to(g, {1, 2, 3, 4}), Error);
  CHECK_THROWS_AS(sum_to(g, {3, 2}), Error);
}

TEST_CASE("reduction: duplicate or out-of-range dims throw") {
  Tensor x = cube();
  CHECK_THROWS_WITH_AS(x.sum({1, 1}), doctest::Contains("more than once"), Error);
  CHECK_THROWS_WITH_AS(x.sum({1, -2}), doctest::Contains("more than once"), Error);
  CHECK_THROWS_AS(x.mean({0, 0}), Error);
  CHECK_THROWS_AS(x.sum({0, 1, 2, 0}), Error);
  CHECK_THROWS_WITH_AS(x.sum({5}), doctest::Contains("out of range"), Error);
  CHECK_THROWS_AS(x.mean({-4}), Error);
  CHECK_THROWS_AS(max(x, 3), Error);
}
