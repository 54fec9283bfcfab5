#include "optim/rmsprop.h"

#include <cmath>
#include <type_traits>

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

std::vector<std::string> RMSprop::state_buffers(std::size_t g) const {
  std::vector<std::string> names{"square_avg"};
  if (options(g).centered()) names.push_back("grad_avg");
  if (options(g).momentum() > 0.0) names.push_back("momentum_buffer");
  return names;
}

void RMSprop::step() {
  for_each_param([](Tensor& p, const Tensor& grad, ParamState& s, const RMSpropOptions& o, std::size_t) {
    ++s.step;
    // g += wd w;  sq = alpha sq + (1 - alpha) g^2;  (centered) avg_g = alpha avg_g + (1 - alpha) g
    // denom = sqrt(sq - avg_g^2) + eps;  momentum: buf = mu buf + g / denom, w -= lr buf;  else w -= lr g / denom
    Tensor& square = buffer(s, "square_avg", p);
    // The flags are compile-time, so each variant is its own loop over only
    // the buffers it uses (passing one buffer in two roles would defeat the
    // compiler's vectorisation; unused roles get a local).
    auto update = [lr = o.lr(), alpha = o.alpha(), eps = o.eps(), wd = o.weight_decay(), mu = o.momentum()](
                      auto centered, auto momentum, auto& w, auto& g_in, auto& sq, auto& avg_g, auto& buf) {
      using T = std::remove_reference_t<decltype(w)>;
      const T g = g_in + T(wd) * w;
      sq = T(alpha) * sq + T(1.0 - alpha) * g * g;
      T variance = sq;
      if constexpr (decltype(centered)::value) {
        avg_g = T(alpha) * avg_g + T(1.0 - alpha) * g;
        variance = sq - avg_g * avg_g;
      }
      const T denom = std::sqrt(variance) + T(eps);
      if constexpr (decltype(momentum)::value) {
        buf = T(mu) * buf + g / denom;
        w -= T(lr) * buf;
      } else {
        w -= T(lr) * g / denom;
      }
    };
    using yes = std::true_type;
    using no = std::false_type;
    if (o.centered() && o.momentum() > 0.0) {
      auto both = [&](auto& w, auto& g, auto& sq, auto& a, auto& b) { update(yes(), yes(), w, g, sq, a, b); };
      for_each_element("RMSprop", both, p, grad, square, buffer(s, "grad_avg", p), buffer(s, "momentum_buffer", p));
    } else if (o.centered()) {
      auto centered = [&](auto& w, auto& g, auto& sq, auto& a) {
        auto unused = w;
        update(yes(), no(), w, g, sq, a, unused);
      };
      for_each_element("RMSprop", centered, p, grad, square, buffer(s, "grad_avg", p));
    } else if (o.momentum() > 0.0) {
      auto momentum = [&](auto& w, auto& g, auto& sq, auto& b) {
        auto unused = w;
        update(no(), yes(), w, g, sq, unused, b);
      };
      for_each_element("RMSprop", momentum, p, grad, square, buffer(s, "momentum_buffer", p));
    } else {
      auto plain = [&](auto& w, auto& g, auto& sq) {
        auto unused = w;
        update(no(), no(), w, g, sq, unused, unused);
      };
      for_each_element("RMSprop", plain, p, grad, square);
    }
  });
}

}  // namespace fluxion::optim
