#include "optim/adabound.h"

#include <algorithm>
#include <cmath>

#include "optim/fused.h"

namespace fluxion::optim {

AdaBound::AdaBound(std::vector<Tensor> params, AdaBoundOptions options)
    : AdaBound(std::vector<Group>{{std::move(params), options}}) {}

AdaBound::AdaBound(std::vector<Group> groups) : OptimizerWith(std::move(groups)) {
  validate_options();
}

std::vector<std::string> AdaBound::state_buffers(std::size_t group) const {
  if (options(group).amsbound()) return {"exp_avg", "exp_avg_sq", "max_exp_avg_sq"};
  return {"exp_avg", "exp_avg_sq"};
}

void AdaBound::step() {
  for_each_param([this](Tensor& p, const Tensor& grad, ParamState& s, const AdaBoundOptions& o, std::size_t group) {
    const std::int64_t t = ++s.step;
    Tensor& m = buffer(s, "exp_avg", p);
    Tensor& v = buffer(s, "exp_avg_sq", p);
    // Adam's bias-corrected step size, then per element clipped into
    // [lower, upper], both closing in on final_lr as t grows:
    //   lower = final_lr (1 - 1 / (gamma t + 1)),  upper = final_lr (1 + 1 / (gamma t))
    const double step_size = o.lr() * std::sqrt(1.0 - std::pow(o.beta2(), t)) / (1.0 - std::pow(o.beta1(), t));
    // final_lr follows the schedule: scaled by lr / initial lr.
    const double final_lr = o.final_lr() * o.lr() / initial_lrs_[group];
    const double lower = final_lr * (1.0 - 1.0 / (o.gamma() * static_cast<double>(t) + 1.0));
    const double upper = final_lr * (1.0 + 1.0 / (o.gamma() * static_cast<double>(t)));
    if (o.amsbound()) {
      const rules::AdaBound<true> rule{o.weight_decay(), o.beta1(), o.beta2(), o.eps(), step_size, lower, upper};
      for_each_element("AMSBound", rule, p, grad, m, v, buffer(s, "max_exp_avg_sq", p));
    } else {
      // The "maximum" is v itself: a 4-tensor pass (see Adam).
      const rules::AdaBound<false> rule{o.weight_decay(), o.beta1(), o.beta2(), o.eps(), step_size, lower, upper};
      for_each_element("AdaBound", rule, p, grad, m, v);
    }
  });
}

}  // namespace fluxion::optim
