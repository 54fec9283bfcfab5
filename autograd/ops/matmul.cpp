// Matrix products. The kernel multiplies [B, M, K] by [B, K, N]; this file maps
// torch.matmul's cases (vectors, broadcast batch dims) onto it and records the
// backward: dA = dC @ B^T, dB = A^T @ dC, each summed back over broadcast
// batch dims. The transposes are views; BLAS reads them without copying.
#include <optional>

#include "autograd/ops/common.h"

namespace fluxion {
using namespace ops_detail;

namespace {

// The one stride that walks t's batch dims (all but the last two) in
// row-major order, if there is one.
std::optional<std::int64_t> batch_stride(const Tensor& t) {
  std::optional<std::int64_t> stride;
  std::int64_t extent = 1;  // batch positions covered by `stride` so far
  for (std::int64_t d = t.dim() - 3; d >= 0; --d) {
    if (t.shape()[d] == 1) continue;
    if (!stride) stride = t.strides()[d];
    else if (t.strides()[d] != *stride * extent) return std::nullopt;
    extent *= t.shape()[d];
  }
  return stride.value_or(0);
}

// t [batch..., rows, cols] as [B, rows, cols]: a view when one stride walks
// the batch dims, else a contiguous copy.
Tensor as_batched(const Tensor& t, std::int64_t batch) {
  const std::int64_t nd = t.dim();
  const std::int64_t rows = t.shape()[nd - 2], cols = t.shape()[nd - 1];
  Tensor base = t;
  std::optional<std::int64_t> stride = batch_stride(t);
  if (!stride) {
    base = empty(t.shape(), t.options());
    backend(t.device()).copy(t, base);
    stride = rows * cols;
  }
  return make_view(base, {batch, rows, cols}, {*stride, base.strides()[nd - 2], base.strides()[nd - 1]},
                   base.offset());
}

Tensor matmul_batched(const Tensor& a, const Tensor& b) {
  const std::int64_t m = a.shape()[a.dim() - 2], k = a.shape()[a.dim() - 1];
  const std::int64_t k2 = b.shape()[b.dim() - 2], n = b.shape()[b.dim() - 1];
  FLUXION_CHECK(k == k2, "matmul: shapes ", to_string(a.shape()), " and ", to_string(b.shape()),
                " cannot be multiplied (", k, " columns vs ", k2, " rows)");
  const Shape batch_a(a.shape().begin(), a.shape().end() - 2), batch_b(b.shape().begin(), b.shape().end() - 2);
  Shape batch = broadcast_shapes(batch_a, batch_b, "matmul");
  const std::int64_t count = numel(batch);
  Shape shape_a = batch, shape_b = batch, shape_out = batch;
  shape_a.insert(shape_a.end(), {m, k});
  shape_b.insert(shape_b.end(), {k, n});
  shape_out.insert(shape_out.end(), {m, n});

  Tensor out = empty(shape_out, a.options());
  {
    NoGradGuard no_grad;  // the expands below are plumbing, not graph
    profiler::Scope scope("matmul forward");
    backend(a.device()).matmul(as_batched(a.expand(shape_a), count), as_batched(b.expand(shape_b), count),
                               make_view(out, {count, m, n}, {m * n, n, 1}, 0));
  }
  record(out, "matmul", {a, b}, [sa = save(a), sb = save(b), need_a = a.requires_grad(), need_b = b.requires_grad()](const Tensor& g) -> TensorList {
    const Tensor &a = sa.get(), &b = sb.get();
    return {need_a ? sum_to(matmul(g, b.transpose(-1, -2)), a.shape()) : Tensor(),
            need_b ? sum_to(matmul(a.transpose(-1, -2), g), b.shape()) : Tensor()};
  });
  return out;
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  check_compatible(a, b, "matmul");
  check_floating(a, "matmul");
  FLUXION_CHECK(a.dim() >= 1 && b.dim() >= 1, "matmul: both operands need at least one dimension, got shapes ",
                to_string(a.shape()), " and ", to_string(b.shape()));
  // Vectors become matrices for the product, and the added dim is removed after.
  if (a.dim() == 1 && b.dim() == 1) return matmul_batched(a.unsqueeze(0), b.unsqueeze(1)).reshape({});
  if (a.dim() == 1) return matmul_batched(a.unsqueeze(0), b).squeeze(-2);
  if (b.dim() == 1) return matmul_batched(a, b.unsqueeze(1)).squeeze(-1);
  return matmul_batched(a, b);
}

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  FLUXION_CHECK(weight.dim() == 2, "linear: weight must be 2-D [out_features, in_features], got ",
                to_string(weight.shape()));
  FLUXION_CHECK(x.dim() >= 1 && x.size(-1) == weight.size(1), "linear: input shape ", to_string(x.shape()),
                " does not end in in_features = ", weight.size(1), " (weight shape ", to_string(weight.shape()), ")");
  Tensor y = matmul(x, weight.t());
  if (!bias.defined()) return y;
  FLUXION_CHECK(bias.dim() == 1 && bias.size(0) == weight.size(0), "linear: bias shape ", to_string(bias.shape()),
                " does not match out_features = ", weight.size(0));
  return y + bias;
}

}  // namespace fluxion
