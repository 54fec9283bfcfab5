// matmul (torch.matmul semantics) and linear, against naive reference loops.
#include <doctest/doctest.h>
#include <sys/resource.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "helpers.h"

using namespace fluxion;
using test::Layout;
using test::values;

namespace {

// Row-major [m, k] @ [k, n] in double.
std::vector<double> naive(const std::vector<double>& a, const std::vector<double>& b, std::int64_t m, std::int64_t k,
                          std::int64_t n) {
  std::vector<double> c(static_cast<std::size_t>(m * n), 0.0);
  for (std::int64_t i = 0; i < m; ++i)
    for (std::int64_t j = 0; j < n; ++j) {
      double acc = 0;
      for (std::int64_t p = 0; p < k; ++p) acc += a[static_cast<std::size_t>(i * k + p)] * b[static_cast<std::size_t>(p * n + j)];
      c[static_cast<std::size_t>(i * n + j)] = acc;
    }
  return c;
}

std::vector<double> naive(const Tensor& a, const Tensor& b) {
  REQUIRE(a.dim() == 2);
  REQUIRE(b.dim() == 2);
  REQUIRE(a.size(1) == b.size(0));
  return naive(values(a), values(b), a.size(0), a.size(1), b.size(1));
}

}  // namespace

TEST_CASE("matmul: 2-D product matches a naive triple loop") {
  Generator gen(21);
  for (auto [m, k, n] : std::vector<std::array<std::int64_t, 3>>{{7, 5, 3}, {1, 9, 4}, {6, 1, 2}, {3, 4, 1}, {33, 17, 29}}) {
    CAPTURE(m);
    CAPTURE(k);
    CAPTURE(n);
    Tensor a = randn({m, k}, kFloat64, &gen), b = randn({k, n}, kFloat64, &gen);
    Tensor c = matmul(a, b);
    CHECK(c.shape() == Shape{m, n});
    CHECK(c.dtype() == kFloat64);
    CHECK_TENSOR(c, naive(a, b), 1e-13);
    CHECK(values(a.matmul(b)) == values(c));
  }
  // A small exact case.
  Tensor a = tensor({1, 2, 3, 4, 5, 6}, {2, 3}, kFloat64);
  Tensor b = tensor({7, 8, 9, 10, 11, 12}, {3, 2}, kFloat64);
  CHECK(values(matmul(a, b)) == std::vector<double>{58, 64, 139, 154});
}

TEST_CASE("matmul: transposed, strided and expanded operands") {
  Generator gen(22);
  Tensor a = randn({7, 5}, kFloat64, &gen), b = randn({5, 3}, kFloat64, &gen);
  const std::vector<double> expected = naive(a, b);
  Tensor at = a.t().contiguous().t();  // a's values, transposed layout
  Tensor bt = b.t().contiguous().t();
  REQUIRE_FALSE(at.is_contiguous());
  CHECK_TENSOR(matmul(at, b), expected, 1e-13);
  CHECK_TENSOR(matmul(a, bt), expected, 1e-13);
  CHECK_TENSOR(matmul(at, bt), expected, 1e-13);
  // a.t() @ x, the backward pattern.
  Tensor x = randn({7, 4}, kFloat64, &gen);
  CHECK_TENSOR(matmul(a.t(), x), naive(a.t().contiguous(), x), 1e-13);

  // Strides GEMM cannot take directly: every other column, and an offset.
  Tensor wide = randn({7, 11}, kFloat64, &gen);
  Tensor sa = wide.slice(1, 1, 11, 2);  // [7, 5], column stride 2
  REQUIRE(sa.shape() == Shape{7, 5});
  CHECK_TENSOR(matmul(sa, b), naive(sa.contiguous(), b), 1e-13);
  Tensor sb = randn({10, 3}, kFloat64, &gen).slice(0, 0, 10, 2);  // [5, 3], row stride 6
  CHECK_TENSOR(matmul(a, sb), naive(a, sb.contiguous()), 1e-13);

  // A broadcast (stride 0) row repeated.
  Tensor row = randn({1, 5}, kFloat64, &gen);
  Tensor rows = row.expand({4, 5});
  CHECK_TENSOR(matmul(rows, b), naive(rows.contiguous(), b), 1e-13);
}

TEST_CASE("matmul: every small shape with every operand layout") {
  // Sizes of 1 and non-unit strides are where GEMM's leading dimensions are
  // easiest to get wrong.
  Generator gen(27);
  int checked = 0;
  for (std::int64_t m = 1; m <= 3; ++m)
    for (std::int64_t k = 1; k <= 3; ++k)
      for (std::int64_t n = 1; n <= 3; ++n) {
        const std::vector<double> av = test::normal_values(m * k, gen), bv = test::normal_values(k * n, gen);
        const std::vector<double> expected = naive(av, bv, m, k, n);
        for (Layout la : {Layout::contiguous, Layout::permuted, Layout::strided})
          for (Layout lb : {Layout::contiguous, Layout::permuted, Layout::strided}) {
            CAPTURE(m);
            CAPTURE(k);
            CAPTURE(n);
            CAPTURE(test::layout_name(la));
            CAPTURE(test::layout_name(lb));
            Tensor a = test::make_tensor(av, {m, k}, la), b = test::make_tensor(bv, {k, n}, lb);
            CHECK_TENSOR(matmul(a, b), expected, 1e-14);
            Tensor a32 = test::make_tensor(av, {m, k}, la, kFloat32), b32 = test::make_tensor(bv, {k, n}, lb, kFloat32);
            CHECK_TENSOR(matmul(a32, b32), expected, 1e-5);
            ++checked;
          }
      }
  CHECK(checked == 243);
}

TEST_CASE("matmul: vector cases") {
  Tensor v = tensor({1, 2, 3}, kFloat64), w = tensor({4, -5, 6}, kFloat64);
  Tensor dot = matmul(v, w);
  CHECK(dot.dim() == 0);
  CHECK(dot.item() == 12.0);

  Tensor m = tensor({1, 2, 3, 4, 5, 6}, {3, 2}, kFloat64);  // [3, 2]
  Tensor vm = matmul(v, m);                                  // [3] @ [3, 2] -> [2]
  CHECK(vm.shape() == Shape{2});
  CHECK(values(vm) == std::vector<double>{22, 28});

  Tensor mt = m.t();  // [2, 3]
  Tensor mv = matmul(mt, w);  // [2, 3] @ [3] -> [2]
  CHECK(mv.shape() == Shape{2});
  CHECK(values(mv) == std::vector<double>{4 - 15 + 30, 8 - 20 + 36});

  // A vector against a batch, and a batch against a vector.
  Tensor batch = stack({m, m * 2.0});  // [2, 3, 2]
  Tensor vb = matmul(v, batch);        // [3] @ [2, 3, 2] -> [2, 2]
  CHECK(vb.shape() == Shape{2, 2});
  CHECK(values(vb) == std::vector<double>{22, 28, 44, 56});
  Tensor bv = matmul(batch.transpose(1, 2), w);  // [2, 2, 3] @ [3] -> [2, 2]
  CHECK(bv.shape() == Shape{2, 2});
  CHECK(values(bv) == std::vector<double>{19, 24, 38, 48});

  // Strided vectors.
  Tensor sv = tensor({1, 0, 2, 0, 3}, kFloat64).slice(0, 0, 5, 2);
  CHECK(matmul(sv, w).item() == 12.0);
  CHECK(values(matmul(sv, m)) == std::vector<double>{22, 28});
  CHECK_THROWS_WITH_AS(matmul(v, tensor({1, 2}, kFloat64)), doctest::Contains("matmul"), Error);
}

TEST_CASE("matmul: batched 3-D against per-batch products") {
  Generator gen(23);
  Tensor a = randn({4, 2, 3}, kFloat64, &gen), b = randn({4, 3, 5}, kFloat64, &gen);
  Tensor c = matmul(a, b);
  CHECK(c.shape() == Shape{4, 2, 5});
  for (std::int64_t i = 0; i < 4; ++i) {
    CAPTURE(i);
    CHECK_TENSOR(c.select(0, i), naive(a.select(0, i), b.select(0, i)), 1e-13);
  }
  // Batch dim not outermost in memory, and transposed matrices inside.
  Tensor a2 = randn({2, 4, 3}, kFloat64, &gen).transpose(0, 1);  // [4, 2, 3], batch stride 3
  Tensor b2 = randn({4, 5, 3}, kFloat64, &gen).transpose(1, 2);  // [4, 3, 5], transposed
  Tensor c2 = matmul(a2, b2);
  for (std::int64_t i = 0; i < 4; ++i) {
    CAPTURE(i);
    CHECK_TENSOR(c2.select(0, i), naive(a2.select(0, i).contiguous(), b2.select(0, i).contiguous()), 1e-13);
  }
  // A 2-D operand broadcasts against a batch.
  Tensor w = randn({3, 5}, kFloat64, &gen);
  Tensor c3 = matmul(a, w);
  CHECK(c3.shape() == Shape{4, 2, 5});
  for (std::int64_t i = 0; i < 4; ++i) CHECK_TENSOR(c3.select(0, i), naive(a.select(0, i), w), 1e-13);
  Tensor l = randn({6, 2}, kFloat64, &gen);
  Tensor c4 = matmul(l, a);  // [6, 2] @ [4, 2, 3] -> [4, 6, 3]
  CHECK(c4.shape() == Shape{4, 6, 3});
  for (std::int64_t i = 0; i < 4; ++i) CHECK_TENSOR(c4.select(0, i), naive(l, a.select(0, i)), 1e-13);
}

TEST_CASE("matmul: broadcast batch dims (2,1,3,4) @ (5,4,2) -> (2,5,3,2)") {
  Generator gen(24);
  Tensor a = randn({2, 1, 3, 4}, kFloat64, &gen), b = randn({5, 4, 2}, kFloat64, &gen);
  Tensor c = matmul(a, b);
  CHECK(c.shape() == Shape{2, 5, 3, 2});
  for (std::int64_t i = 0; i < 2; ++i)
    for (std::int64_t j = 0; j < 5; ++j) {
      CAPTURE(i);
      CAPTURE(j);
      CHECK_TENSOR(c.select(0, i).select(0, j), naive(a.select(0, i).select(0, 0), b.select(0, j)), 1e-13);
    }
  // The same with the operands swapped in role: [5,2,4] @ [2,1,4,3] -> [2,5,2,3].
  Tensor d = matmul(b.transpose(1, 2), a.transpose(2, 3));
  CHECK(d.shape() == Shape{2, 5, 2, 3});
  for (std::int64_t i = 0; i < 2; ++i)
    for (std::int64_t j = 0; j < 5; ++j)
      CHECK_TENSOR(d.select(0, i).select(0, j),
                   naive(b.select(0, j).t().contiguous(), a.select(0, i).select(0, 0).t().contiguous()), 1e-13);
}

TEST_CASE("matmul: errors name matmul and the shapes") {
  CHECK_THROWS_WITH_AS(matmul(zeros({2, 3}), zeros({4, 5})), doctest::Contains("matmul"), Error);
  CHECK_THROWS_WITH_AS(matmul(zeros({2, 3}), zeros({4, 5})), doctest::Contains("[2, 3]"), Error);
  CHECK_THROWS_WITH_AS(matmul(zeros({2, 3}), zeros({4, 5})), doctest::Contains("[4, 5]"), Error);
  CHECK_THROWS_WITH_AS(matmul(zeros({2, 3, 4}), zeros({3, 4, 5})), doctest::Contains("matmul"), Error);
  CHECK_THROWS_WITH_AS(matmul(scalar_tensor(1.0), zeros({3})), doctest::Contains("matmul"), Error);
  CHECK_THROWS_AS(matmul(zeros({3}), scalar_tensor(1.0)), Error);
  CHECK_THROWS_WITH_AS(matmul(zeros({2, 2}, kInt64), zeros({2, 2}, kInt64)), doctest::Contains("matmul"), Error);
  CHECK_THROWS_WITH_AS(matmul(zeros({2, 2}), zeros({2, 2}, kFloat64)), doctest::Contains("dtype"), Error);
}

TEST_CASE("matmul: empty dims") {
  // Run in a child process: with -D_GLIBCXX_ASSERTIONS the CPU kernel aborts
  // on these (it dereferences an empty std::optional layout for an operand
  // with a zero-size matrix dim).
  const int status = test::run_isolated([] {
    // K = 0: a sum over nothing is zero.
    Tensor c = matmul(ones({2, 0}, kFloat64), ones({0, 3}, kFloat64));
    if (c.shape() != Shape{2, 3} || values(c) != std::vector<double>(6, 0.0)) return 1;
    Tensor c32 = matmul(ones({4, 0}), ones({0, 1}));
    if (values(c32) != std::vector<double>(4, 0.0)) return 2;
    Tensor cb = matmul(ones({3, 2, 0}, kFloat64), ones({3, 0, 2}, kFloat64));
    if (values(cb) != std::vector<double>(12, 0.0)) return 3;
    if (matmul(ones({0}, kFloat64), ones({0}, kFloat64)).item() != 0.0) return 4;
    // M = 0 or N = 0: empty results.
    if (matmul(ones({0, 3}), ones({3, 2})).shape() != Shape{0, 2}) return 5;
    if (matmul(ones({2, 3}), ones({3, 0})).shape() != Shape{2, 0}) return 6;
    if (matmul(ones({0, 2, 3}), ones({3, 2})).shape() != Shape{0, 2, 2}) return 7;
    return 0;
  });
  CHECK_MESSAGE(status == 0, "matmul with an empty dim: " << test::describe_status(status));
}

TEST_CASE("matmul: float32 agrees with float64") {
  Generator gen(25);
  Tensor a = randn({64, 48}, kFloat64, &gen), b = randn({48, 32}, kFloat64, &gen);
  const std::vector<double> c64 = values(matmul(a, b));
  Tensor c32 = matmul(a.to(kFloat32), b.to(kFloat32));
  CHECK(c32.dtype() == kFloat32);
  // Entries have magnitude ~ sqrt(48) ~ 7; float32 rounding of inputs and 48
  // accumulations stays well under 1e-4 relative.
  CHECK_TENSOR(c32, c64, 1e-4);
  // And the float64 result is the reference one.
  CHECK_TENSOR(matmul(a, b), naive(a, b), 1e-13);
}

TEST_CASE("linear: x @ weight^T + bias") {
  Generator gen(26);
  Tensor x = randn({4, 3}, kFloat64, &gen), w = randn({2, 3}, kFloat64, &gen), b = randn({2}, kFloat64, &gen);
  std::vector<double> expected = naive(x, w.t().contiguous());
  const std::vector<double> bias = values(b);
  CHECK_TENSOR(linear(x, w), expected, 1e-13);
  for (std::size_t i = 0; i < expected.size(); ++i) expected[i] += bias[i % 2];
  Tensor y = linear(x, w, b);
  CHECK(y.shape() == Shape{4, 2});
  CHECK_TENSOR(y, expected, 1e-13);

  // Leading dims are kept; a 1-D input gives a 1-D output.
  Tensor x3 = randn({2, 5, 3}, kFloat64, &gen);
  Tensor y3 = linear(x3, w, b);
  CHECK(y3.shape() == Shape{2, 5, 2});
  CHECK_TENSOR(y3.select(0, 1), values(linear(x3.select(0, 1), w, b)), 1e-13);
  Tensor y1 = linear(x.select(0, 2), w, b);
  CHECK(y1.shape() == Shape{2});
  CHECK_TENSOR(y1, values(y.select(0, 2)), 1e-13);
}

TEST_CASE("linear: shape errors") {
  Tensor x = zeros({4, 3}), w = zeros({2, 3}), b = zeros({2});
  CHECK_THROWS_WITH_AS(linear(x, zeros({3})), doctest::Contains("weight"), Error);
  CHECK_THROWS_WITH_AS(linear(zeros({4, 5}), w), doctest::Contains("in_features = 3"), Error);
  CHECK_THROWS_WITH_AS(linear(x, w, zeros({3})), doctest::Contains("bias"), Error);
  CHECK_THROWS_AS(linear(x, w, zeros({2, 1})), Error);
  CHECK_THROWS_AS(linear(scalar_tensor(1.0), w), Error);
  CHECK_NOTHROW(linear(x, w, b));
}

// FLUXION_GEMM chooses the GEMM (core/cpu/blas.cpp); the CTest entry
// gemm_eigen_under_an_address_space_limit runs the GEMM cases with eigen.
TEST_CASE("gemm: FLUXION_GEMM=eigen is the GEMM in use, and says so") {
  const char* choice = std::getenv("FLUXION_GEMM");
  rlimit limit{};
  const bool limited = getrlimit(RLIMIT_AS, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY;
  if (choice != nullptr && std::string(choice) == "eigen")
    CHECK(std::string(blas_backend()).rfind("eigen", 0) == 0);
  else if (choice == nullptr && !limited)  // the default, with no limit: not the fallback
    CHECK(std::string(blas_backend()).find("FLUXION_GEMM") == std::string::npos);
}
