// Losses, composed from differentiable ops (so their gradients come for free
// and are checked like any other op).
#include "autograd/ops/common.h"

namespace fluxion {
using namespace ops_detail;

namespace {
Tensor reduce(const Tensor& loss, Reduction reduction) {
  switch (reduction) {
    case Reduction::mean: return mean(loss);
    case Reduction::sum: return sum(loss);
    case Reduction::none: return loss;
  }
  return loss;
}
}  // namespace

Tensor cross_entropy(const Tensor& logits, const Tensor& target, Reduction reduction, double label_smoothing) {
  check_floating(logits, "cross_entropy");
  FLUXION_CHECK(logits.dim() == 2, "cross_entropy: logits must be [N, C], got shape ", to_string(logits.shape()));
  FLUXION_CHECK(target.dtype() == kInt64, "cross_entropy: target must hold int64 class indices, got ",
                target.dtype());
  FLUXION_CHECK(target.device() == logits.device(), "cross_entropy: the target is on ", target.device(),
                " but the logits on ", logits.device());
  FLUXION_CHECK(target.dim() == 1 && target.size(0) == logits.size(0), "cross_entropy: target shape ",
                to_string(target.shape()), " does not match logits shape ", to_string(logits.shape()),
                " (expected [", logits.size(0), "])");
  FLUXION_CHECK(label_smoothing >= 0.0 && label_smoothing <= 1.0,
                "cross_entropy: label_smoothing must be in [0, 1], got ", label_smoothing);
  const std::int64_t classes = logits.size(1);
  const std::vector<std::int64_t> labels = target.to_vector<std::int64_t>();
  for (std::size_t i = 0; i < labels.size(); ++i)
    FLUXION_CHECK(labels[i] >= 0 && labels[i] < classes, "cross_entropy: target[", i, "] = ", labels[i],
                  " is not a class index in [0, ", classes, ")");

  Tensor log_probs = log_softmax(logits, 1);                                   // [N, C]
  Tensor nll = -gather(log_probs, 1, target.unsqueeze(1)).squeeze(1);         // [N]
  if (label_smoothing == 0.0) return reduce(nll, reduction);
  Tensor uniform_nll = -mean(log_probs, {1});                                  // [N]
  return reduce(nll * (1.0 - label_smoothing) + uniform_nll * label_smoothing, reduction);
}

Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
  FLUXION_CHECK(input.shape() == target.shape(), "mse_loss: input shape ", to_string(input.shape()),
                " and target shape ", to_string(target.shape()), " differ");
  Tensor diff = input - target;
  return reduce(diff * diff, reduction);
}

}  // namespace fluxion
