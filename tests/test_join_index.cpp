// cat, stack, index_select, gather and where.
#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

#include "helpers.h"

using namespace fluxion;
using test::values;

namespace {
Tensor iota(std::int64_t n, double start = 0) { return arange(start, start + static_cast<double>(n), 1, kFloat64); }
Tensor index(const std::vector<std::int64_t>& v, const Shape& shape) { return from_vector<std::int64_t>(v, shape); }
Tensor index(const std::vector<std::int64_t>& v) { return index(v, {static_cast<std::int64_t>(v.size())}); }
}  // namespace

TEST_CASE("cat: along dims 0, 1 and -1") {
  Tensor a = iota(6).reshape({2, 3});        // 0..5
  Tensor b = iota(3, 10).reshape({1, 3});    // 10..12
  Tensor c = iota(4, 20).reshape({2, 2});    // 20..23
  Tensor r0 = cat({a, b}, 0);
  CHECK(r0.shape() == Shape{3, 3});
  CHECK(values(r0) == std::vector<double>{0, 1, 2, 3, 4, 5, 10, 11, 12});
  Tensor r1 = cat({a, c}, 1);
  CHECK(r1.shape() == Shape{2, 5});
  CHECK(values(r1) == std::vector<double>{0, 1, 2, 20, 21, 3, 4, 5, 22, 23});
  CHECK(values(cat({a, c}, -1)) == values(r1));
  CHECK(values(cat({c, a, c}, 1)) == std::vector<double>{20, 21, 0, 1, 2, 20, 21, 22, 23, 3, 4, 5, 22, 23});
  // Default dim is 0; one input is a copy.
  CHECK(values(cat({b, a})) == std::vector<double>{10, 11, 12, 0, 1, 2, 3, 4, 5});
  Tensor single = cat({a});
  CHECK(values(single) == values(a));
  CHECK(single.storage() != a.storage());
  // Non-contiguous and empty inputs.
  Tensor at = iota(6).reshape({3, 2}).t();  // [2, 3]: 0 2 4 / 1 3 5
  CHECK(values(cat({at, b}, 0)) == std::vector<double>{0, 2, 4, 1, 3, 5, 10, 11, 12});
  CHECK(values(cat({a, zeros({0, 3}, kFloat64)}, 0)) == values(a));
  CHECK(cat({zeros({0, 3}), zeros({0, 3})}, 0).shape() == Shape{0, 3});
  // 3-D along the middle dim.
  Tensor x = iota(8).reshape({2, 2, 2}), y = iota(2, 100).reshape({2, 1, 1}).expand({2, 1, 2});
  CHECK(values(cat({x, y}, 1)) == std::vector<double>{0, 1, 2, 3, 100, 100, 4, 5, 6, 7, 101, 101});
}

TEST_CASE("cat: errors") {
  Tensor a = zeros({2, 3});
  CHECK_THROWS_WITH_AS(cat({a, zeros({2, 2})}, 0), doctest::Contains("cat"), Error);
  CHECK_THROWS_WITH_AS(cat({a, zeros({2, 2})}, 0), doctest::Contains("tensor 1 has shape [2, 2]"), Error);
  CHECK_THROWS_AS(cat({a, zeros({3, 3})}, 1), Error);
  CHECK_THROWS_AS(cat({a, zeros({2, 3, 1})}, 0), Error);
  CHECK_THROWS_WITH_AS(cat({a, zeros({2, 3}, kFloat64)}, 0), doctest::Contains("dtype"), Error);
  CHECK_THROWS_AS(cat({}, 0), Error);
  CHECK_THROWS_AS(cat({scalar_tensor(1.0), scalar_tensor(2.0)}), Error);
  CHECK_THROWS_AS(cat({a, a}, 2), Error);
}

TEST_CASE("stack") {
  Tensor a = tensor({1, 2}, kFloat64), b = tensor({3, 4}, kFloat64), c = tensor({5, 6}, kFloat64);
  Tensor s0 = stack({a, b, c});
  CHECK(s0.shape() == Shape{3, 2});
  CHECK(values(s0) == std::vector<double>{1, 2, 3, 4, 5, 6});
  Tensor s1 = stack({a, b, c}, 1);
  CHECK(s1.shape() == Shape{2, 3});
  CHECK(values(s1) == std::vector<double>{1, 3, 5, 2, 4, 6});
  CHECK(values(stack({a, b, c}, -1)) == values(s1));
  CHECK(stack({a, b, c}, -2).shape() == Shape{3, 2});
  // 0-d inputs stack into a vector.
  Tensor v = stack({scalar_tensor(7.0), scalar_tensor(8.0)});
  CHECK(v.shape() == Shape{2});
  CHECK(values(v) == std::vector<double>{7, 8});
  // 2-D inputs along the last dim.
  Tensor m = iota(4).reshape({2, 2});
  CHECK(values(stack({m, m * 10.0}, 2)) == std::vector<double>{0, 0, 1, 10, 2, 20, 3, 30});
  CHECK_THROWS_WITH_AS(stack({a, tensor({1, 2, 3}, kFloat64)}), doctest::Contains("stack"), Error);
  CHECK_THROWS_AS(stack({a, b}, 2), Error);
  CHECK_THROWS_AS(stack({a, b}, -3), Error);
  CHECK_THROWS_AS(stack({}), Error);
}

TEST_CASE("index_select") {
  Tensor x = iota(12).reshape({3, 4});
  Tensor rows = index_select(x, 0, index({2, 0, 2}));
  CHECK(rows.shape() == Shape{3, 4});
  CHECK(values(rows) == std::vector<double>{8, 9, 10, 11, 0, 1, 2, 3, 8, 9, 10, 11});
  Tensor cols = index_select(x, 1, index({3, 1}));
  CHECK(cols.shape() == Shape{3, 2});
  CHECK(values(cols) == std::vector<double>{3, 1, 7, 5, 11, 9});
  CHECK(values(index_select(x, -1, index({3, 1}))) == values(cols));
  // More indices than the dim has, and an empty index.
  CHECK(values(index_select(x, 0, index({1, 1, 1, 1, 1}))).size() == 20);
  CHECK(index_select(x, 0, index({}, {0})).shape() == Shape{0, 4});
  // Non-contiguous input.
  CHECK(values(index_select(x.t(), 0, index({1, 3}))) == std::vector<double>{1, 5, 9, 3, 7, 11});
  // A 1-D input.
  CHECK(values(index_select(iota(5, 10), 0, index({4, 0}))) == std::vector<double>{14, 10});

  CHECK_THROWS_WITH_AS(index_select(x, 0, index({3})), doctest::Contains("out of bounds"), Error);
  CHECK_THROWS_AS(index_select(x, 1, index({-1})), Error);
  CHECK_THROWS_WITH_AS(index_select(x, 0, tensor({0, 1}, kFloat32)), doctest::Contains("int64"), Error);
  CHECK_THROWS_AS(index_select(x, 0, index({0, 1}, {1, 2})), Error);
  CHECK_THROWS_AS(index_select(x, 2, index({0})), Error);
}

TEST_CASE("gather") {
  Tensor x = tensor({1, 2, 3, 4, 5, 6}, {2, 3}, kFloat64);
  Tensor g1 = gather(x, 1, index({2, 0, 1, 1}, {2, 2}));
  CHECK(g1.shape() == Shape{2, 2});
  CHECK(values(g1) == std::vector<double>{3, 1, 5, 5});
  Tensor g0 = gather(x, 0, index({1, 0, 1}, {1, 3}));
  CHECK(g0.shape() == Shape{1, 3});
  CHECK(values(g0) == std::vector<double>{4, 2, 6});
  CHECK(values(gather(x, -1, index({2, 0, 1, 1}, {2, 2}))) == values(g1));
  // An index smaller than the input in the other dims.
  CHECK(values(gather(x, 1, index({2}, {1, 1}))) == std::vector<double>{3});
  // 3-D, along the last dim; and a non-contiguous input.
  Tensor y = iota(12).reshape({2, 3, 2});
  Tensor gy = gather(y, 2, index({1, 0, 0, 1, 1, 1, 0, 0, 1, 0, 0, 0}, {2, 3, 2}));
  CHECK(values(gy) == std::vector<double>{1, 0, 2, 3, 5, 5, 6, 6, 9, 8, 10, 10});
  CHECK(values(gather(x.t(), 0, index({1, 0}, {1, 2}))) == std::vector<double>{2, 4});
  // int64 input.
  CHECK(gather(x.to(kInt64), 1, index({1, 2}, {2, 1})).to_vector<std::int64_t>() ==
        std::vector<std::int64_t>{2, 6});

  CHECK_THROWS_WITH_AS(gather(x, 1, index({3, 0}, {2, 1})), doctest::Contains("out of bounds"), Error);
  CHECK_THROWS_WITH_AS(gather(x, 1, index({0, -1}, {2, 1})), doctest::Contains("gather"), Error);
  CHECK_THROWS_AS(gather(x, 0, index({2, 0, 0}, {1, 3})), Error);
  CHECK_THROWS_WITH_AS(gather(x, 1, tensor({0, 1}, {2, 1}, kFloat64)), doctest::Contains("int64"), Error);
  CHECK_THROWS_AS(gather(x, 1, index({0, 1})), Error);                // rank mismatch
  CHECK_THROWS_AS(gather(x, 1, index({0, 0, 0, 0}, {4, 1})), Error);  // larger than input in dim 0
}

TEST_CASE("gather: a 0-d input picks its element, as in PyTorch") {
  // torch.gather(torch.tensor(2.), 0, torch.tensor(0)) == tensor(2.).
  // Run in a child process: the bug this guards against crashes.
  const int status = test::run_isolated([] {
    Tensor g = gather(scalar_tensor(2.0, kFloat64), 0, scalar_tensor(0, kInt64));
    return g.dim() == 0 && g.item() == 2.0 ? 0 : 1;
  });
  CHECK_MESSAGE(status == 0, "gather on a 0-d tensor: " << test::describe_status(status));
}

TEST_CASE("where broadcasts condition and both branches") {
  Tensor cond = tensor({1, 0, 1}, kFloat64).reshape({3, 1});
  Tensor a = tensor({1, 2, 3, 4}, kFloat64).reshape({1, 4});
  Tensor b = scalar_tensor(-1.0, kFloat64);
  Tensor w = where(cond, a, b);
  CHECK(w.shape() == Shape{3, 4});
  CHECK(values(w) == std::vector<double>{1, 2, 3, 4, -1, -1, -1, -1, 1, 2, 3, 4});
  // The condition may have any dtype; nonzero means true.
  Tensor ci = tensor({0, 5, -2, 0}, kInt64);
  Tensor x = tensor({1, 2, 3, 4}, kFloat32), y = tensor({10, 20, 30, 40}, kFloat32);
  CHECK(values(where(ci, x, y)) == std::vector<double>{10, 2, 3, 40});
  CHECK(where(ci, x, y).dtype() == kFloat32);
  // The usual pattern: where(x > 0, x, 0).
  Tensor v = tensor({-1.5, 2.0, 0.0, 3.5}, kFloat64);
  CHECK(values(where(gt(v, zeros({}, kFloat64)), v, zeros({}, kFloat64))) == std::vector<double>{0, 2, 0, 3.5});
  // The condition can be the largest operand.
  CHECK(where(ones({2, 3, 4}), tensor({1}, kFloat64), tensor({2}, kFloat64)).shape() == Shape{2, 3, 4});
  // Non-contiguous operands.
  Tensor m = iota(6).reshape({2, 3});
  CHECK(values(where(tensor({1, 0}, kFloat64), m.t(), -m.t())) == std::vector<double>{0, -3, 1, -4, 2, -5});

  CHECK_THROWS_WITH_AS(where(cond, a, scalar_tensor(1.0, kFloat32)), doctest::Contains("where"), Error);
  CHECK_THROWS_WITH_AS(where(zeros({2}), a, b), doctest::Contains("where"), Error);
}
