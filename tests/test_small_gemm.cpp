// The Winograd convolution's register-blocked GEMM (core/cpu/small_gemm.cpp)
// against a plain triple loop in long double: every row remainder of its
// 6-row blocks, column counts around its 1- and 2-vector blocks and their
// scalar tail, leading dimensions wider than the matrices, float and double.
// The padding between a row's last column and its leading dimension must be
// left as it was.
#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "core/cpu/small_gemm.h"
#include "helpers.h"

using namespace fluxion;

namespace {

template <class T>
void check_shape(std::int64_t m, std::int64_t n, std::int64_t k) {
  const std::int64_t lda = k + 3, ldb = n + 5, ldc = n + 2;
  std::mt19937 rng(static_cast<unsigned>(m * 10007 + n * 101 + k));
  std::uniform_real_distribution<T> uniform(-1, 1);
  std::vector<T> a(static_cast<std::size_t>(m * lda)), b(static_cast<std::size_t>(k * ldb));
  for (T& x : a) x = uniform(rng);
  for (T& x : b) x = uniform(rng);
  constexpr T kSentinel = T(12345);
  std::vector<T> c(static_cast<std::size_t>(m * ldc), kSentinel);
  cpu::small_gemm_nn<T>(m, n, k, a.data(), lda, b.data(), ldb, c.data(), ldc);
  // k products of values in [-1, 1], each rounded once and added in some order.
  const double tolerance = 4.0 * static_cast<double>(k) * std::numeric_limits<T>::epsilon();
  for (std::int64_t i = 0; i < m; ++i) {
    for (std::int64_t j = 0; j < n; ++j) {
      long double expected = 0;
      for (std::int64_t p = 0; p < k; ++p)
        expected += static_cast<long double>(a[i * lda + p]) * static_cast<long double>(b[p * ldb + j]);
      INFO("m ", m, " n ", n, " k ", k, " at (", i, ", ", j, ")");
      CHECK(std::fabs(static_cast<double>(c[i * ldc + j] - expected)) <= tolerance);
    }
    for (std::int64_t j = n; j < ldc; ++j) CHECK(c[i * ldc + j] == kSentinel);
  }
}

}  // namespace

TEST_CASE("small_gemm_nn equals the product for every block remainder") {
  for (const std::int64_t m : {1, 2, 3, 4, 5, 6, 7, 11, 12, 13, 16, 17})
    for (const std::int64_t n : {1, 3, 4, 7, 8, 9, 15, 16, 17, 24, 33})
      for (const std::int64_t k : {1, 2, 16, 19}) {
        check_shape<float>(m, n, k);
        check_shape<double>(m, n, k);
      }
}

TEST_CASE("small_gemm_nn overwrites C whatever it held, NaN included") {
  // No beta pass: a NaN left in C by an earlier use must not survive.
  const std::int64_t m = 7, n = 19, k = 3;
  std::vector<float> a(m * k, 1.0f), b(k * n, 2.0f), c(m * n, std::nanf(""));
  cpu::small_gemm_nn<float>(m, n, k, a.data(), k, b.data(), n, c.data(), n);
  for (const float x : c) CHECK(x == 6.0f);
  // An empty sum is 0.
  std::fill(c.begin(), c.end(), std::nanf(""));
  cpu::small_gemm_nn<float>(m, n, 0, a.data(), k, b.data(), n, c.data(), n);
  for (const float x : c) CHECK(x == 0.0f);
}

TEST_CASE("small_gemm_suits takes what fits half of L1, by bytes") {
  CHECK(cpu::small_gemm_suits(64, 64, sizeof(float)));
  CHECK_FALSE(cpu::small_gemm_suits(64, 65, sizeof(float)));
  CHECK_FALSE(cpu::small_gemm_suits(64, 64, sizeof(double)));
  CHECK(cpu::small_gemm_suits(32, 64, sizeof(double)));
}
