// Follows torch/nn/utils/clip_grad.py (PyTorch 2.x) step by step, so that
// float64 results agree to rounding (tests/test_clip.cpp, 1e-12).
#include "optim/clip.h"

#include <algorithm>

#include "autograd/ops.h"
#include "core/grad_mode.h"

namespace fluxion::optim {

double grad_norm(const std::vector<Tensor>& params) {
  NoGradGuard no_grad;
  // Each tensor's norm, then the norm of those (torch stacks them and takes
  // vector_norm): all on the gradients' device, read back once. The norms
  // are gathered in double, so the float32 gradients' total is not rounded
  // to float32 a second time.
  std::vector<Tensor> norms;
  for (const Tensor& p : params) {
    const Tensor g = p.grad();
    if (!g.defined()) continue;
    norms.push_back(to_dtype(sqrt(sum(g * g)), DType::float64));
  }
  if (norms.empty()) return 0.0;
  const Tensor each = stack(norms);  // [number of gradients]
  return sqrt(sum(each * each)).item();
}

void clip_grads_with_norm_(const std::vector<Tensor>& params, double max_norm, double total_norm) {
  NoGradGuard no_grad;
  // torch: clip_coef = max_norm / (total_norm + 1e-6), a float over a tensor,
  // which Tensor.__rtruediv__ computes as reciprocal(...) * max_norm; then
  // clamp(max=1.0). A NaN norm gives a NaN factor, which clamp keeps.
  const double coefficient = (1.0 / (total_norm + 1e-6)) * max_norm;
  const double clamped = coefficient > 1.0 ? 1.0 : coefficient;
  // torch multiplies by 1.0 too; skipping it changes no value.
  if (clamped == 1.0) return;
  for (const Tensor& p : params) {
    Tensor g = p.grad();
    if (g.defined()) g.mul_(clamped);
  }
}

double clip_grad_norm_(const std::vector<Tensor>& params, double max_norm) {
  const double total = grad_norm(params);
  clip_grads_with_norm_(params, max_norm, total);
  return total;
}

void clip_grad_value_(const std::vector<Tensor>& params, double clip) {
  NoGradGuard no_grad;
  for (const Tensor& p : params) {
    Tensor g = p.grad();
    if (g.defined()) g.copy_(clamp(g, -clip, clip));
  }
}

}  // namespace fluxion::optim
