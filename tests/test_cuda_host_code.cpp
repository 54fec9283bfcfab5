// The CUDA backend's host-and-device code, checked on the CPU: the strided
// indexer every CUDA elementwise, reduction and indexing kernel addresses
// memory through, the per-element arithmetic of its elementwise kernels, and
// the plan that hands row-major matmuls to column-major cuBLAS, against the
// CPU backend. This runs everywhere, GPU or not; the GPU parity
// suite (tests/cuda/) then covers what only a GPU can run.
#include <limits>

#include "core/cpu/kernels.h"
#include "core/cuda/gemm_plan.h"
#include "core/cuda/indexer.h"
#include "core/elementwise.h"
#include "helpers.h"

using namespace fluxion;

namespace {

// Offsets of element `linear` of `shape` (row-major) under `strides`, the
// plain way.
std::int64_t naive_offset(const Shape& shape, const Strides& strides, std::int64_t linear) {
  std::int64_t off = 0;
  for (std::int64_t d = static_cast<std::int64_t>(shape.size()) - 1; d >= 0; --d) {
    off += (linear % shape[d]) * strides[d];
    linear /= shape[d];
  }
  return off;
}

}  // namespace

TEST_CASE("cuda indexer - offsets equal the plain strided formula, with merging, broadcast and transposes") {
  Generator gen(11);
  for (int trial = 0; trial < 300; ++trial) {
    const auto rank = static_cast<std::size_t>(gen.next_u64() % 6);
    Shape shape(rank);
    for (auto& s : shape) s = 1 + static_cast<std::int64_t>(gen.next_u64() % 4);
    // Operand 0 contiguous, 1 a permuted layout, 2 broadcast along random dims.
    std::array<Strides, 3> strides{contiguous_strides(shape), Strides(rank), Strides(rank)};
    std::vector<std::size_t> order(rank);
    std::iota(order.begin(), order.end(), 0);
    for (std::size_t i = rank; i > 1; --i) std::swap(order[i - 1], order[gen.next_u64() % i]);
    std::int64_t step = 1;
    for (std::size_t i : order) {
      strides[1][i] = step;
      step *= shape[i];
    }
    for (std::size_t d = 0; d < rank; ++d) strides[2][d] = gen.next_u64() % 2 == 0 ? 0 : strides[0][d] * 3;
    const cuda::Indexer<3> indexer = cuda::make_indexer<3>(shape, strides, "test");
    CHECK(indexer.ndim >= 1);
    CHECK(indexer.ndim <= std::max<int>(1, static_cast<int>(rank)));
    for (std::int64_t i = 0; i < numel(shape); ++i) {
      std::int64_t off[3];
      indexer.offsets(i, off);
      for (int k = 0; k < 3; ++k) {
        CAPTURE(trial);
        CAPTURE(k);
        REQUIRE(off[k] == naive_offset(shape, strides[static_cast<std::size_t>(k)], i));
      }
    }
  }
  // Contiguous operands merge into one dimension (no divisions per element).
  const Shape shape{4, 5, 6};
  CHECK(cuda::make_indexer<2>(shape, {contiguous_strides(shape), contiguous_strides(shape)}, "test").ndim == 1);
  CHECK_THROWS_WITH_AS(cuda::make_indexer<1>(Shape(11, 2), {Strides{1, 3, 9, 27, 81, 243, 729, 2187, 6561, 19683, 59049}}, "op"),
                       doctest::Contains("op: tensors with more than"), Error);
}

TEST_CASE("cuda elementwise arithmetic - the kernels' per-element switch equals the CPU backend, every op and dtype") {
  // Both backends run core/elementwise.h's functors, the CPU with the op
  // fixed outside its loops (visit_binary_op), a CUDA thread choosing it per
  // element (apply_binary). This holds the second route to the first for
  // every op in the lists, NaN, signed zero and infinities included, and
  // checks that both refuse int64 for the same ops.
  const double inf = std::numeric_limits<double>::infinity(), nan = std::numeric_limits<double>::quiet_NaN();
  const std::vector<double> floating{-3.5, -1.0, -0.0, 0.0, 0.25, 1.0, 2.0, 7.5, inf, -inf, nan};
  const std::vector<double> integers{-7, -3, -1, 0, 1, 2, 5};
  auto same = [](double a, double b) { return (std::isnan(a) && std::isnan(b)) || (a == b && std::signbit(a) == std::signbit(b)); };
  for (DType dtype : {kFloat32, kFloat64, kInt64}) {
    const std::vector<double>& values = is_floating(dtype) ? floating : integers;
    visit_dtype(dtype, [&]<class T>() {
      const std::int64_t n = static_cast<std::int64_t>(values.size());
      const Tensor a = tensor(values, {n, 1}, dtype), b = tensor(values, {1, n}, dtype);
      for (BinaryOp op : kBinaryOps) {
        CAPTURE(op_name(op));
        CAPTURE(dtype);
        Tensor out = empty({n, n}, dtype);
        bool computes = false;
        visit_binary_op(op, [&]<BinaryOp kOp>() { computes = computes_on<Binary<kOp, T>, T>; });
        if (!computes) {
          CHECK_THROWS_WITH_AS(cpu::binary(op, a, b, out), doctest::Contains("integer tensors are not supported"),
                               Error);
          continue;
        }
        cpu::binary(op, a, b, out);
        const std::vector<double> expected = out.to_vector<double>();
        for (std::int64_t i = 0; i < n; ++i)
          for (std::int64_t j = 0; j < n; ++j) {
            const double got = static_cast<double>(apply_binary<T>(op, T(values[i]), T(values[j])));
            CAPTURE(values[i]);
            CAPTURE(values[j]);
            CHECK(same(got, expected[static_cast<std::size_t>(i * n + j)]));
          }
      }
      for (UnaryOp op : kUnaryOps) {
        CAPTURE(op_name(op));
        CAPTURE(dtype);
        bool computes = false;
        visit_unary_op(op, [&]<UnaryOp kOp>() { computes = computes_on<Unary<kOp, T>, T>; });
        for (UnaryParams params : {UnaryParams{2.0, 0.0}, UnaryParams{-0.5, 1.5}}) {
          Tensor out = empty({n, 1}, dtype);
          if (!computes) {
            CHECK_THROWS_WITH_AS(cpu::unary(op, a, out, params), doctest::Contains("expected a floating-point tensor"),
                                 Error);
            continue;
          }
          cpu::unary(op, a, out, params);
          const std::vector<double> expected = out.to_vector<double>();
          for (std::int64_t i = 0; i < n; ++i) {
            const double got = static_cast<double>(apply_unary<T>(op, T(values[i]), params));
            CAPTURE(values[i]);
            CAPTURE(params.a);
            // On the host both use libm: exact. (On a GPU, exp, tanh and pow
            // come from CUDA's math library, within its documented ulps.)
            CHECK(same(got, expected[static_cast<std::size_t>(i)]));
          }
        }
      }
    });
  }
}

namespace {

// What cublasGemmStridedBatched computes, element by element, reading memory
// exactly as its arguments say (column-major: X(i, j) = X[i + j * ld]):
//   C(i, j) = sum_l op(A)(i, l) op(B)(l, j),  C m x n, ldc = m, per batch.
void emulated_cublas_gemm(bool transpose_a, bool transpose_b, std::int64_t m, std::int64_t n, std::int64_t k,
                          const double* a, std::int64_t lda, std::int64_t stride_a, const double* b, std::int64_t ldb,
                          std::int64_t stride_b, double* c, std::int64_t stride_c, std::int64_t batch) {
  for (std::int64_t p = 0; p < batch; ++p)
    for (std::int64_t i = 0; i < m; ++i)
      for (std::int64_t j = 0; j < n; ++j) {
        double total = 0;
        for (std::int64_t l = 0; l < k; ++l) {
          const double x = transpose_a ? a[p * stride_a + l + i * lda] : a[p * stride_a + i + l * lda];
          const double y = transpose_b ? b[p * stride_b + j + l * ldb] : b[p * stride_b + l + j * ldb];
          total += x * y;
        }
        c[p * stride_c + i + j * m] = total;
      }
}

// matmul as core/cuda/matmul.cpp runs it, with cuBLAS emulated: a [B, M, K]
// and b [B, K, N] views (any strides, stride 0 on B for broadcast).
Tensor planned_matmul(Tensor a, Tensor b) {
  const std::int64_t batch = a.size(0), m = a.size(1), k = a.size(2), n = b.size(2);
  cuda::GemmOperand la = cuda::plan_operand(m, k, a.stride(1), a.stride(2));
  if (!la.usable) {
    a = a.contiguous();
    la = cuda::plan_operand(m, k, a.stride(1), a.stride(2));
  }
  cuda::GemmOperand lb = cuda::plan_operand(k, n, b.stride(1), b.stride(2));
  if (!lb.usable) {
    b = b.contiguous();
    lb = cuda::plan_operand(k, n, b.stride(1), b.stride(2));
  }
  REQUIRE(la.usable);
  REQUIRE(lb.usable);
  Tensor out = empty({batch, m, n}, kFloat64);
  // cuBLAS's A is our b, its B our a: out^T (n x m) = b^T a^T.
  emulated_cublas_gemm(lb.transpose, la.transpose, n, m, k, b.data<double>(), lb.ld, batch == 1 ? 0 : b.stride(0),
                       a.data<double>(), la.ld, batch == 1 ? 0 : a.stride(0), out.data<double>(), m * n, batch);
  return out;
}

}  // namespace

TEST_CASE("cuda gemm plan - cuBLAS's column-major arguments give the row-major product, for every layout") {
  const Tensor base_a = randn({3, 8, 9}, kFloat64), base_b = randn({3, 9, 7}, kFloat64);
  struct Case {
    std::string name;
    Tensor a, b;
  };
  const std::vector<Case> cases = {
      {"contiguous", base_a.slice(2, 0, 5), base_b.slice(1, 0, 5)},
      {"contiguous, whole", base_a.slice(0, 0, 1).contiguous(), base_b.slice(0, 0, 1).contiguous()},
      {"row padding (ld > cols)", base_a.slice(2, 1, 6), base_b.slice(1, 2, 7).slice(2, 0, 4)},
      {"transposed views", base_a.transpose(1, 2).slice(1, 0, 6).slice(2, 0, 7), base_b.transpose(1, 2).slice(2, 0, 5)},
      {"mixed", base_a.slice(2, 0, 7), base_b.transpose(1, 2).contiguous().transpose(1, 2).slice(1, 0, 7)},
      {"broadcast batch (stride 0)", base_a.slice(0, 0, 1).expand({3, 8, 9}), base_b},
      {"single row and column", base_a.slice(1, 0, 1), base_b.slice(2, 0, 1)},
      {"neither dim unit-stride (copied)", base_a.slice(2, 0, 9, 2), base_b.slice(1, 0, 9, 2)},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    const Tensor expected = matmul(c.a, c.b);
    const Tensor got = planned_matmul(c.a, c.b);
    REQUIRE(got.shape() == expected.shape());
    CHECK(test::compare(got, expected.to_vector<double>(), 1e-12));
  }
}
