// Dropout: in training, zero each element with probability p and scale the
// survivors by 1 / (1 - p), so the expected output equals the input and
// evaluation needs no rescaling (PyTorch's "inverted" dropout). The mask comes
// from the given generator, else the default one (manual_seed).
#include "autograd/ops/common.h"

namespace fluxion {
using namespace ops_detail;

Tensor dropout(const Tensor& x, double p, bool training, Generator* generator) {
  check_floating(x, "dropout");
  FLUXION_CHECK(p >= 0.0 && p <= 1.0, "dropout: probability p must be in [0, 1], got ", p);
  if (!training || p == 0.0) return x;
  if (p == 1.0) return x * 0.0;
  Tensor keep;
  {
    NoGradGuard no_grad;
    keep = ge(rand(x.shape(), x.options().requires_grad(false), generator), scalar_like(x, p)) * (1.0 / (1.0 - p));
  }
  return x * keep;
}

}  // namespace fluxion
