//! @file
//! Stochastic gradient descent with momentum, dampening, Nesterov momentum and
//! L2 weight decay: torch.optim.SGD's update and option names.
#pragma once

#include "optim/optimizer.h"

namespace fluxion::optim {

struct SGDOptions {
  explicit SGDOptions(double lr = 0.1) : lr_(lr) {}
  FLUXION_ARG(double, lr, 0.1);
  FLUXION_ARG(double, momentum, 0.0);
  FLUXION_ARG(double, dampening, 0.0);
  FLUXION_ARG(double, weight_decay, 0.0);  ///< L2: added to the gradient
  FLUXION_ARG(bool, nesterov, false);

 public:
  template <class F>
  void visit(F&& f) {
    f("lr", lr_);
    f("momentum", momentum_);
    f("dampening", dampening_);
    f("weight_decay", weight_decay_);
    f("nesterov", nesterov_);
  }
  void validate(const char* who) const;
};

class SGD : public OptimizerWith<SGDOptions> {
 public:
  SGD(std::vector<Tensor> params, SGDOptions options = SGDOptions());
  explicit SGD(std::vector<Group> groups);
  const char* name() const override { return "SGD"; }
  void step() override;
 protected:
  std::vector<std::string> state_buffers(std::size_t group) const override;
};

}  // namespace fluxion::optim
