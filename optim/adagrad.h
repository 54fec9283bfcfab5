//! @file
//! Adagrad: torch.optim.Adagrad's update and option names.
#pragma once

#include "optim/optimizer.h"

namespace fluxion::optim {

struct AdagradOptions {
  explicit AdagradOptions(double lr = 1e-2) : lr_(lr) {}
  FLUXION_ARG(double, lr, 1e-2);
  FLUXION_ARG(double, lr_decay, 0.0);
  FLUXION_ARG(double, weight_decay, 0.0);  ///< L2
  FLUXION_ARG(double, initial_accumulator_value, 0.0);
  FLUXION_ARG(double, eps, 1e-10);

 public:
  template <class F>
  void visit(F&& f) {
    f("lr", lr_);
    f("lr_decay", lr_decay_);
    f("weight_decay", weight_decay_);
    f("initial_accumulator_value", initial_accumulator_value_);
    f("eps", eps_);
  }
  void validate(const char* who) const;
};

class Adagrad : public OptimizerWith<AdagradOptions> {
 public:
  Adagrad(std::vector<Tensor> params, AdagradOptions options = AdagradOptions());
  explicit Adagrad(std::vector<Group> groups);
  const char* name() const override { return "Adagrad"; }
  void step() override;
 protected:
  std::vector<std::string> state_buffers(std::size_t group) const override;
};

}  // namespace fluxion::optim
