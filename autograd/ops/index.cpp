// gather, index_select and where. gather's backward scatters the gradient
// back with scatter_add (an index may be picked twice, so it adds).
#include "autograd/ops/common.h"

namespace fluxion {
using namespace ops_detail;

Tensor gather(const Tensor& a, std::int64_t dim, const Tensor& index) {
  FLUXION_CHECK(index.dtype() == kInt64, "gather: index must be int64, got ", index.dtype());
  FLUXION_CHECK(index.device() == a.device(), "gather: the index is on ", index.device(), " but the input on ",
                a.device());
  FLUXION_CHECK(index.dim() == a.dim(), "gather: index has ", index.dim(), " dimensions but the input has ",
                a.dim(), " (shapes ", to_string(index.shape()), " and ", to_string(a.shape()), ")");
  const std::int64_t d = normalize_dim(dim, a.dim(), "gather");
  if (a.dim() == 0) return gather(a.reshape({1}), 0, index.reshape({1})).reshape({});  // as a 1-element vector
  for (std::int64_t k = 0; k < a.dim(); ++k)
    FLUXION_CHECK(k == d || index.shape()[k] <= a.shape()[k], "gather: index shape ", to_string(index.shape()),
                  " is larger than input shape ", to_string(a.shape()), " in dimension ", k);
  Tensor out = empty(index.shape(), a.options());
  backend(a.device()).gather(a, d, index, out);
  record(out, "gather", {a}, [in = a.shape(), d, saved = save(index)](const Tensor& g) -> TensorList {
    Tensor grad = zeros(in, g.options());
    backend(g.device()).scatter_add(grad, d, saved.get(), g);
    return {grad};
  });
  return out;
}

Tensor index_select(const Tensor& a, std::int64_t dim, const Tensor& index) {
  FLUXION_CHECK(index.dtype() == kInt64 && index.dim() == 1, "index_select: index must be a 1-D int64 tensor, got ",
                index.dtype(), " with shape ", to_string(index.shape()));
  FLUXION_CHECK(a.dim() > 0, "index_select: the input must have at least one dimension");
  const std::int64_t d = normalize_dim(dim, a.dim(), "index_select");
  // index_select is gather with the index broadcast across the other dims.
  Shape index_shape(a.dim(), 1), out_shape = a.shape();
  index_shape[d] = out_shape[d] = index.size(0);
  return gather(a, d, index.reshape(index_shape).expand(out_shape));
}

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  check_compatible(a, b, "where");
  FLUXION_CHECK(cond.device() == a.device(), "where: the condition is on ", cond.device(), " but the values on ",
                a.device());
  Shape shape = broadcast_shapes(broadcast_shapes(cond.shape(), a.shape(), "where"), b.shape(), "where");
  Tensor mask = to_dtype(cond.detach(), a.dtype());
  Tensor out = empty(shape, a.options());
  backend(a.device()).where(mask, a, b, out);
  record(out, "where", {a, b}, [saved = save(mask), sa = a.shape(), sb = b.shape()](const Tensor& g) -> TensorList {
    const Tensor& mask = saved.get();
    Tensor zero = zeros({}, g.options());
    return {sum_to(where(mask, g, zero), sa), sum_to(where(mask, zero, g), sb)};
  });
  return out;
}

}  // namespace fluxion
