#include "optim/rmsprop.h"

#include <cmath>
#include <type_traits>

#include "optim/fused.h"

namespace fluxion::optim {

RMSprop::RMSprop(std::vector<Tensor> params, RMSpropOptions options)
    : RMSprop(std::vector<Group>{{std::move(params), options}}) {}
RMSprop::RMSprop(std::vector<Group> groups) : OptimizerWith(std::move(groups)) { validate_options(); }

std::vector<std::string> RMSprop::state_buffers(std::size_t group) const {
  std::vector<std::string> names{"square_avg"};
  if (options(group).centered()) names.push_back("grad_avg");
  if (options(group).momentum() > 0.0) names.push_back("momentum_buffer");
  return names;
}

void RMSprop::step() {
  for_each_param([](Tensor& p, const Tensor& grad, ParamState& s, const RMSpropOptions& o, std::size_t) {
    ++s.step;
    // g += wd w;  sq = alpha sq + (1 - alpha) g^2;  (centered) avg_g = alpha avg_g + (1 - alpha) g
    // denom = sqrt(sq - avg_g^2) + eps;  momentum: buf = mu buf + g / denom, w -= lr buf;  else w -= lr g / denom
    Tensor& square = buffer(s, "square_avg", p);
    // The flags are compile-time: each variant passes only the buffers it uses.
    const auto lr = o.lr(), alpha = o.alpha(), eps = o.eps(), wd = o.weight_decay(), mu = o.momentum();
    if (o.centered() && o.momentum() > 0.0) {
      for_each_element("RMSprop", rules::RMSprop<true, true>{lr, alpha, eps, wd, mu}, p, grad, square,
                       buffer(s, "grad_avg", p), buffer(s, "momentum_buffer", p));
    } else if (o.centered()) {
      for_each_element("RMSprop", rules::RMSprop<true, false>{lr, alpha, eps, wd, mu}, p, grad, square,
                       buffer(s, "grad_avg", p));
    } else if (o.momentum() > 0.0) {
      for_each_element("RMSprop", rules::RMSprop<false, true>{lr, alpha, eps, wd, mu}, p, grad, square,
                       buffer(s, "momentum_buffer", p));
    } else {
      for_each_element("RMSprop", rules::RMSprop<false, false>{lr, alpha, eps, wd, mu}, p, grad, square);
    }
  });
}

}  // namespace fluxion::optim
