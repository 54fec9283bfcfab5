#include "optim/sgd.h"

#include "optim/fused.h"

namespace fluxion::optim {

SGD::SGD(std::vector<Tensor> params, SGDOptions options) : SGD(std::vector<Group>{{std::move(params), options}}) {}
SGD::SGD(std::vector<Group> groups) : OptimizerWith(std::move(groups)) { validate_options(); }

std::vector<std::string> SGD::state_buffers(std::size_t group) const {
  if (options(group).momentum() == 0.0) return {};
  return {"momentum_buffer"};
}

void SGD::step() {
  for_each_param([](Tensor& p, const Tensor& grad, ParamState& s, const SGDOptions& o, std::size_t) {
    const bool first = s.step++ == 0;
    if (o.momentum() == 0.0) {
      for_each_element("SGD", rules::Sgd{o.lr(), o.weight_decay()}, p, grad);
      return;
    }
    // The buffer starts as the first step's gradient, undamped (as PyTorch).
    Tensor& velocity = buffer(s, "momentum_buffer", p);
    const rules::SgdMomentum rule{o.lr(), o.weight_decay(), o.momentum(), o.dampening(), o.nesterov(), first};
    for_each_element("SGD", rule, p, grad, velocity);
  });
}

}  // namespace fluxion::optim
