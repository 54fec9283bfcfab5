//! @file
//! RMSprop, plain, centered, and with momentum: torch.optim.RMSprop's update
//! and option names.
#pragma once

#include "optim/optimizer.h"

namespace fluxion::optim {

struct RMSpropOptions {
  explicit RMSpropOptions(double lr = 1e-2) : lr_(lr) {}
  FLUXION_ARG(double, lr, 1e-2);
  FLUXION_ARG(double, alpha, 0.99);
  FLUXION_ARG(double, eps, 1e-8);
  FLUXION_ARG(double, weight_decay, 0.0);  ///< L2
  FLUXION_ARG(double, momentum, 0.0);
  FLUXION_ARG(bool, centered, false);

 public:
  template <class F>
  void visit(F&& f) {
    f("lr", lr_);
    f("alpha", alpha_);
    f("eps", eps_);
    f("weight_decay", weight_decay_);
    f("momentum", momentum_);
    f("centered", centered_);
  }
  void validate(const char* who) const;
};

class RMSprop : public OptimizerWith<RMSpropOptions> {
 public:
  RMSprop(std::vector<Tensor> params, RMSpropOptions options = RMSpropOptions());
  explicit RMSprop(std::vector<Group> groups);
  const char* name() const override { return "RMSprop"; }
  void step() override;
 protected:
  std::vector<std::string> state_buffers(std::size_t group) const override;
};

}  // namespace fluxion::optim
