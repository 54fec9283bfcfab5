// softmax and log_softmax along a dim. The forward is one stable kernel pass;
// the backward uses the output only:
//   softmax:      dx = y * (g - sum(g * y))
//   log_softmax:  dx = g - exp(y) * sum(g)
#include "autograd/ops/common.h"

namespace fluxion {
using namespace ops_detail;

namespace {
Tensor softmax_forward(const Tensor& a, std::int64_t dim, bool log, const char* op) {
  check_floating(a, op);
  const std::int64_t d = normalize_dim(dim, a.dim(), op);
  Tensor out = empty(a.shape(), a.options());
  if (a.dim() == 0) {
    out.fill_(log ? 0.0 : 1.0);  // softmax over a single element
    return out;
  }
  backend(a.device()).softmax(a, d, log, out);
  return out;
}
}  // namespace

Tensor softmax(const Tensor& a, std::int64_t dim) {
  Tensor out = softmax_forward(a, dim, false, "softmax");
  record(out, "softmax", {a}, [saved = save(out.detach()), dim](const Tensor& g) -> TensorList {
    const Tensor& y = saved.get();
    return {y * (g - sum(g * y, {dim}, true))};
  }, OpAttributes().ints("dim", {normalize_dim(dim, a.dim(), "softmax")}));
  return out;
}

Tensor log_softmax(const Tensor& a, std::int64_t dim) {
  Tensor out = softmax_forward(a, dim, true, "log_softmax");
  record(out, "log_softmax", {a}, [saved = save(out.detach()), dim](const Tensor& g) -> TensorList {
    return {g - exp(saved.get()) * sum(g, {dim}, true)};
  }, OpAttributes().ints("dim", {normalize_dim(dim, a.dim(), "log_softmax")}));
  return out;
}

}  // namespace fluxion
