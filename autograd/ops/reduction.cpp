// Reductions: sum and mean over dims, max (with argmax) along one dim, and
// sum_to, the inverse of broadcasting.
#include <algorithm>

#include "autograd/ops/common.h"

namespace fluxion {
using namespace ops_detail;

namespace {

// a's shape with the reduced dims set to 1 (the keepdim shape), and the
// shape without them.
struct ReducedShapes {
  Shape keep;
  Shape drop;
  std::int64_t count = 1;  // elements summed into each output
};

ReducedShapes reduced_shapes(const Tensor& a, const std::vector<std::int64_t>& dims, const char* op) {
  std::vector<bool> reduce(a.dim(), dims.empty());  // no dims: reduce all, as sum(dim=[]) in PyTorch
  for (auto d : dims) {
    std::int64_t nd = normalize_dim(d, a.dim(), op);
    if (a.dim() == 0) continue;
    FLUXION_CHECK(!reduce[nd], op, ": dimension ", d, " appears more than once in the dims list");
    reduce[nd] = true;
  }
  ReducedShapes r;
  for (std::int64_t d = 0; d < a.dim(); ++d) {
    if (reduce[d]) {
      r.keep.push_back(1);
      r.count *= a.shape()[d];
    } else {
      r.keep.push_back(a.shape()[d]);
      r.drop.push_back(a.shape()[d]);
    }
  }
  return r;
}

// A fresh contiguous tensor seen with another shape of the same size.
Tensor reshaped(const Tensor& fresh, const Shape& shape) {
  return make_view(fresh, shape, contiguous_strides(shape), fresh.offset());
}

}  // namespace

Tensor sum(const Tensor& a, const std::vector<std::int64_t>& dims, bool keepdim) {
  const ReducedShapes r = reduced_shapes(a, dims, "sum");
  Tensor out_keep = empty(r.keep, a.options());
  backend(a.device()).sum(a, out_keep);
  Tensor out = keepdim ? out_keep : reshaped(out_keep, r.drop);
  std::vector<std::int64_t> axes;  // the reduced dims, normalised, for exporters
  for (std::int64_t d = 0; d < a.dim(); ++d)
    if (dims.empty() ||
        std::any_of(dims.begin(), dims.end(), [&](std::int64_t k) { return normalize_dim(k, a.dim(), "sum") == d; }))
      axes.push_back(d);
  record(out, "sum", {a}, [keep = r.keep, shape = a.shape()](const Tensor& g) -> TensorList {
    return {g.reshape(keep).expand(shape)};
  }, OpAttributes().ints("dims", axes).ints("keepdim", {keepdim ? 1 : 0}));
  return out;
}

Tensor sum(const Tensor& a) { return sum(a, {}, false); }

Tensor mean(const Tensor& a, const std::vector<std::int64_t>& dims, bool keepdim) {
  check_floating(a, "mean");
  const ReducedShapes r = reduced_shapes(a, dims, "mean");
  return sum(a, dims, keepdim) / static_cast<double>(r.count);
}

Tensor mean(const Tensor& a) { return mean(a, {}, false); }

MaxResult max(const Tensor& a, std::int64_t dim, bool keepdim) {
  const std::int64_t d = normalize_dim(dim, a.dim(), "max");
  if (a.dim() == 0) return {a, zeros({}, TensorOptions(kInt64).device(a.device()))};
  FLUXION_CHECK(a.shape()[d] > 0, "max: cannot reduce over dimension ", dim, " of size 0 (shape ",
                to_string(a.shape()), ")");
  const ReducedShapes r = reduced_shapes(a, {d}, "max");
  Tensor values = empty(r.keep, a.options());
  Tensor indices = empty(r.keep, TensorOptions(kInt64).device(a.device()));
  backend(a.device()).max(a, d, values, indices);
  MaxResult result{keepdim ? values : reshaped(values, r.drop), keepdim ? indices : reshaped(indices, r.drop)};
  record(result.values, "max", {a}, [shape = a.shape(), keep = r.keep, d, saved = save(indices)](const Tensor& g) -> TensorList {
    // The gradient flows only to the element that was picked.
    Tensor grad = zeros(shape, g.options());
    backend(g.device()).scatter_add(grad, d, saved.get(), g.reshape(keep));
    return {grad};
  }, OpAttributes().ints("dim", {d}).ints("keepdim", {keepdim ? 1 : 0}));
  return result;
}

Tensor max(const Tensor& a) {
  FLUXION_CHECK(a.numel() > 0, "max: cannot take the maximum of an empty tensor");
  return max(a.reshape({-1}), 0).values;
}

Tensor argmax(const Tensor& a, std::int64_t dim, bool keepdim) {
  NoGradGuard no_grad;
  return max(a, dim, keepdim).indices;
}

Tensor sum_to(const Tensor& a, const Shape& shape) {
  if (a.shape() == shape) return a;
  FLUXION_CHECK(shape.size() <= a.shape().size() && broadcast_shapes(shape, a.shape(), "sum_to") == a.shape(),
                "sum_to: shape ", to_string(a.shape()), " cannot be summed down to ", to_string(shape));
  const std::size_t lead = a.shape().size() - shape.size();
  std::vector<std::int64_t> dims;
  for (std::size_t d = 0; d < a.shape().size(); ++d)
    if (d < lead || (shape[d - lead] == 1 && a.shape()[d] != 1)) dims.push_back(static_cast<std::int64_t>(d));
  if (dims.empty()) return a.reshape(shape);
  return sum(a, dims, true).reshape(shape);
}

}  // namespace fluxion
