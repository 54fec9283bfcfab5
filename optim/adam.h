//! @file
//! Adam, its AMSGrad variant (amsgrad = true), and AdamW (decoupled weight
//! decay): torch.optim.Adam / AdamW's updates and option names.
#pragma once

#include "optim/optimizer.h"

namespace fluxion::optim {

struct AdamOptions {
  explicit AdamOptions(double lr = 1e-3) : lr_(lr) {}
  FLUXION_ARG(double, lr, 1e-3);
  FLUXION_ARG(double, beta1, 0.9);
  FLUXION_ARG(double, beta2, 0.999);
  FLUXION_ARG(double, eps, 1e-8);
  FLUXION_ARG(double, weight_decay, 0.0);  ///< Adam: L2 added to the gradient; AdamW: decoupled
  FLUXION_ARG(bool, amsgrad, false);

 public:
  AdamOptions& betas(double b1, double b2) { return beta1(b1).beta2(b2); }
  template <class F>
  void visit(F&& f) {
    f("lr", lr_);
    f("beta1", beta1_);
    f("beta2", beta2_);
    f("eps", eps_);
    f("weight_decay", weight_decay_);
    f("amsgrad", amsgrad_);
  }
  void validate(const char* who) const;
};

class Adam : public OptimizerWith<AdamOptions> {
 public:
  Adam(std::vector<Tensor> params, AdamOptions options = AdamOptions());
  explicit Adam(std::vector<Group> groups);
  const char* name() const override { return "Adam"; }
  void step() override;
 protected:
  std::vector<std::string> state_buffers(std::size_t group) const override;
};

/// AdamW's options are Adam's with PyTorch's AdamW default weight_decay 1e-2.
struct AdamWOptions : AdamOptions {
  explicit AdamWOptions(double lr = 1e-3) : AdamOptions(lr) { weight_decay(1e-2); }
};

class AdamW : public OptimizerWith<AdamOptions> {
 public:
  AdamW(std::vector<Tensor> params, AdamOptions options = AdamWOptions());
  explicit AdamW(std::vector<Group> groups);
  const char* name() const override { return "AdamW"; }
  void step() override;
 protected:
  std::vector<std::string> state_buffers(std::size_t group) const override;
};

}  // namespace fluxion::optim
