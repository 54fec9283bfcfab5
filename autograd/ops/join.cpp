// cat and stack. The backward of cat hands each input its slice of the
// gradient; stack is cat of unsqueezed inputs.
#include "autograd/ops/common.h"

namespace fluxion {
using namespace ops_detail;

Tensor cat(const TensorList& tensors, std::int64_t dim) {
  FLUXION_CHECK(!tensors.empty(), "cat: expected at least one tensor");
  const Tensor& first = tensors.front();
  FLUXION_CHECK(first.dim() > 0, "cat: zero-dimensional tensors cannot be concatenated (use stack)");
  const std::int64_t d = normalize_dim(dim, first.dim(), "cat");
  Shape shape = first.shape();
  shape[d] = 0;
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i];
    check_compatible(first, t, "cat");
    bool same = t.dim() == first.dim();
    for (std::int64_t k = 0; same && k < t.dim(); ++k) same = k == d || t.shape()[k] == first.shape()[k];
    FLUXION_CHECK(same, "cat: tensor ", i, " has shape ", to_string(t.shape()), " but tensor 0 has shape ",
                  to_string(first.shape()), "; all dimensions except ", d, " must match");
    shape[d] += t.shape()[d];
  }
  Tensor out = empty(shape, first.options());
  std::vector<std::int64_t> offsets;
  std::int64_t offset = 0;
  for (const Tensor& t : tensors) {
    offsets.push_back(offset);
    backend(out.device()).copy(t, out.detach().slice(d, offset, offset + t.shape()[d]));
    offset += t.shape()[d];
  }
  std::vector<std::int64_t> sizes;
  for (const Tensor& t : tensors) sizes.push_back(t.shape()[d]);
  record(out, "cat", tensors, [d, offsets, sizes](const Tensor& g) -> TensorList {
    TensorList grads;
    for (std::size_t i = 0; i < offsets.size(); ++i) grads.push_back(g.slice(d, offsets[i], offsets[i] + sizes[i]));
    return grads;
  }, OpAttributes().ints("dim", {d}));
  return out;
}

Tensor stack(const TensorList& tensors, std::int64_t dim) {
  FLUXION_CHECK(!tensors.empty(), "stack: expected at least one tensor");
  const std::int64_t nd = tensors.front().dim();
  FLUXION_CHECK(dim >= -(nd + 1) && dim <= nd, "stack: dimension ", dim, " out of range for ", nd,
                "-dimensional inputs");
  for (std::size_t i = 1; i < tensors.size(); ++i)
    FLUXION_CHECK(tensors[i].shape() == tensors.front().shape(), "stack: tensor ", i, " has shape ",
                  to_string(tensors[i].shape()), " but tensor 0 has shape ", to_string(tensors.front().shape()));
  TensorList expanded;
  for (const Tensor& t : tensors) expanded.push_back(unsqueeze(t, dim));
  return cat(expanded, dim);
}

}  // namespace fluxion
