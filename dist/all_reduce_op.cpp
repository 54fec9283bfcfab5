// The all-reduce as an autograd op (dist/distributed.h), for layers whose
// forward needs every rank's data, such as synchronised batchnorm. Built with
// or without MPI: before dist::init() it is the identity.
#include "autograd/node.h"
#include "dist/distributed.h"

namespace fluxion::dist {

Tensor all_reduce_sum_differentiable(const Tensor& x) {
  if (!initialized()) return x;
  Tensor out = x.detach().contiguous().clone();
  all_reduce_sum({out}, "a synchronised batchnorm's statistics");
  // d(sum over ranks of x_r)/dx_s = 1 for every rank: each rank's gradient
  // is the sum of all ranks' output gradients.
  record(out, "all_reduce_sum", {x}, [](const Tensor& g) -> TensorList {
    Tensor summed = g.contiguous().clone();
    all_reduce_sum({summed}, "a synchronised batchnorm's gradient");
    return {summed};
  });
  return out;
}

}  // namespace fluxion::dist
