#include "optim/rmsprop.h"

#include <cmath>

#include "core/fused.h"

namespace fluxion::optim {

void RMSpropOptions::validate(const char* who) const {
  check_at_least(who, "lr", lr_, 0.0);
  check_at_least(who, "alpha", alpha_, 0.0);
  check_at_least(who, "eps", eps_, 0.0);
  check_at_least(who, "weight_decay", weight_decay_, 0.0);
  check_at_least(who, "momentum", momentum_, 0.0);
}

RMSprop::RMSprop(std::vector<Tensor> params, RMSpropOptions options)
    : RMSprop(std::vector<Group>{{std::move(params), options}}) {}
RMSprop::RMSprop(std::vector<Group> groups) : OptimizerWith(std::move(groups)) { validate_options(); }

void RMSprop::step() {
  for_each_param([](Tensor& p, const Tensor& grad, ParamState& s, const RMSpropOptions& o, std::size_t) {
    ++s.step;
    // g += wd w;  sq = alpha sq + (1 - alpha) g^2;  (centered) avg_g = alpha avg_g + (1 - alpha) g
    // denom = sqrt(sq - avg_g^2) + eps;  momentum: buf = mu buf + g / denom, w -= lr buf;  else w -= lr g / denom
    // Buffers that an option does not use are passed as the square average
    // itself, and the rule ignores them.
    Tensor& square = buffer(s, "square_avg", p);
    Tensor& mean_grad = o.centered() ? buffer(s, "grad_avg", p) : square;
    Tensor& velocity = o.momentum() > 0.0 ? buffer(s, "momentum_buffer", p) : square;
    for_each_element("RMSprop", [lr = o.lr(), alpha = o.alpha(), eps = o.eps(), wd = o.weight_decay(),
                                 mu = o.momentum(), centered = o.centered()](auto& w, auto& g_in, auto& sq,
                                                                             auto& avg_g, auto& buf) {
      using T = std::remove_reference_t<decltype(w)>;
      const T g = g_in + T(wd) * w;
      sq = T(alpha) * sq + T(1.0 - alpha) * g * g;
      T variance = sq;
      if (centered) {
        avg_g = T(alpha) * avg_g + T(1.0 - alpha) * g;
        variance = sq - avg_g * avg_g;
      }
      const T denom = std::sqrt(variance) + T(eps);
      if (mu > 0.0) {
        buf = T(mu) * buf + g / denom;
        w -= T(lr) * buf;
      } else {
        w -= T(lr) * g / denom;
      }
    }, p, grad, square, mean_grad, velocity);
  });
}

}  // namespace fluxion::optim
