#include "optim/adam.h"

#include <cmath>

#include "optim/fused.h"

namespace fluxion::optim {

namespace {

// One Adam step for a parameter. l2 is added to the gradient (Adam);
// decoupled shrinks the weight before the step (AdamW). In order:
//   g += l2 w;  w *= 1 - lr decoupled
//   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;  v_max = max(v_max, v)
//   w -= lr / (1 - b1^t) * m / (sqrt(v or v_max) / sqrt(1 - b2^t) + eps)
void adam_step(Tensor& p, const Tensor& grad, ParamState& s, const AdamOptions& o, double l2, double decoupled) {
  const std::int64_t t = ++s.step;
  const double step_size = o.lr() / (1.0 - std::pow(o.beta1(), t));
  const double correction2_sqrt = std::sqrt(1.0 - std::pow(o.beta2(), t));
  Tensor& m = buffer(s, "exp_avg", p);
  Tensor& v = buffer(s, "exp_avg_sq", p);
  const double shrink = 1.0 - o.lr() * decoupled;
  if (o.amsgrad()) {
    const rules::Adam<true> rule{l2, shrink, o.beta1(), o.beta2(), step_size, correction2_sqrt, o.eps()};
    for_each_element("Adam", rule, p, grad, m, v, buffer(s, "max_exp_avg_sq", p));
  } else {
    // A 4-tensor pass: the same tensor passed twice (v as its own maximum)
    // would defeat the compiler's vectorisation.
    const rules::Adam<false> rule{l2, shrink, o.beta1(), o.beta2(), step_size, correction2_sqrt, o.eps()};
    for_each_element("Adam", rule, p, grad, m, v);
  }
}

}  // namespace

Adam::Adam(std::vector<Tensor> params, AdamOptions options) : Adam(std::vector<Group>{{std::move(params), options}}) {}
Adam::Adam(std::vector<Group> groups) : OptimizerWith(std::move(groups)) { validate_options(); }

namespace {
std::vector<std::string> adam_buffers(const AdamOptions& o) {
  if (o.amsgrad()) return {"exp_avg", "exp_avg_sq", "max_exp_avg_sq"};
  return {"exp_avg", "exp_avg_sq"};
}
}  // namespace

std::vector<std::string> Adam::state_buffers(std::size_t group) const { return adam_buffers(options(group)); }
std::vector<std::string> AdamW::state_buffers(std::size_t group) const { return adam_buffers(options(group)); }

void Adam::step() {
  for_each_param([](Tensor& p, const Tensor& grad, ParamState& s, const AdamOptions& o, std::size_t) {
    adam_step(p, grad, s, o, o.weight_decay(), 0.0);
  });
}

AdamW::AdamW(std::vector<Tensor> params, AdamOptions options)
    : AdamW(std::vector<Group>{{std::move(params), options}}) {}
AdamW::AdamW(std::vector<Group> groups) : OptimizerWith(std::move(groups)) { validate_options(); }

void AdamW::step() {
  for_each_param([](Tensor& p, const Tensor& grad, ParamState& s, const AdamOptions& o, std::size_t) {
    adam_step(p, grad, s, o, 0.0, o.weight_decay());
  });
}

}  // namespace fluxion::optim
