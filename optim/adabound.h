//! @file
//! AdaBound and AMSBound (Luo et al., 2019, "Adaptive gradient methods with
//! dynamic bound of learning rate"), as their reference code (Luolc/AdaBound)
//! computes them: Adam whose per-element step size is clipped into bounds that
//! start wide and close in on final_lr, turning Adam into SGD over training.
#pragma once

#include "optim/optimizer.h"

namespace fluxion::optim {

struct AdaBoundOptions {
  explicit AdaBoundOptions(double lr = 1e-3) : lr_(lr) {}
  FLUXION_ARG(double, lr, 1e-3);
  FLUXION_ARG(double, beta1, 0.9);
  FLUXION_ARG(double, beta2, 0.999);
  FLUXION_ARG(double, final_lr, 0.1);  ///< the SGD learning rate the bounds converge to
  FLUXION_ARG(double, gamma, 1e-3);    ///< how fast the bounds close
  FLUXION_ARG(double, eps, 1e-8);
  FLUXION_ARG(double, weight_decay, 0.0);  ///< L2, added to the gradient
  FLUXION_ARG(bool, amsbound, false);

 public:
  AdaBoundOptions& betas(double b1, double b2) { return beta1(b1).beta2(b2); }
  template <class F>
  void visit(F&& f) {
    f("lr", lr_);
    f("beta1", beta1_);
    f("beta2", beta2_);
    f("final_lr", final_lr_);
    f("gamma", gamma_);
    f("eps", eps_);
    f("weight_decay", weight_decay_);
    f("amsbound", amsbound_);
  }
  void validate(const char* who) const;
};

class AdaBound : public OptimizerWith<AdaBoundOptions> {
 public:
  AdaBound(std::vector<Tensor> params, AdaBoundOptions options = AdaBoundOptions());
  explicit AdaBound(std::vector<Group> groups);
  const char* name() const override { return "AdaBound"; }
  void step() override;
 protected:
  std::vector<std::string> state_buffers(std::size_t group) const override;
};

}  // namespace fluxion::optim
