//! @file
//! Adam, its AMSGrad variant (amsgrad = true), and AdamW (decoupled weight
//! decay): torch.optim.Adam / AdamW's updates and option names.
#pragma once

#include "optim/optimizer.h"
#include "optim/rule_list.h"

namespace fluxion::optim {

// The update rules of step(), declared here and defined in optim/rules.h, so
// that editing a rule recompiles optim/ only, not every program.
namespace rules {
template <bool AmsGrad>
struct Adam;
}  // namespace rules

/// Adam's options: type, name, default, allowed values (FLUXION_OPTIONS, core/options.h).
#define FLUXION_ADAM_OPTIONS(X)                                                                       \
  X(double, lr, 1e-3, at_least(0.0))                                                                  \
  X(double, beta1, 0.9, unit_interval())                                                              \
  X(double, beta2, 0.999, unit_interval())                                                            \
  X(double, eps, 1e-8, at_least(0.0))                                                                 \
  X(double, weight_decay, 0.0, at_least(0.0))  /* Adam: L2 added to the gradient; AdamW: decoupled */ \
  X(bool, amsgrad, false, any_value())

struct AdamOptions {
  FLUXION_OPTIONS(FLUXION_ADAM_OPTIONS)

 public:
  AdamOptions() = default;
  explicit AdamOptions(double lr) : lr_(lr) {}
  AdamOptions& betas(double b1, double b2) { return beta1(b1).beta2(b2); }
};

class Adam : public OptimizerWith<AdamOptions> {
 public:
  /// The update rules step() runs (optim/rules.h): without and with AMSGrad.
  using Rules = RuleList<rules::Adam<false>, rules::Adam<true>>;

  Adam(std::vector<Tensor> params, AdamOptions options = AdamOptions());
  explicit Adam(std::vector<Group> groups);
  const char* name() const override { return "Adam"; }
  void step() override;
 protected:
  std::vector<std::string> state_buffers(std::size_t group) const override;
};

/// AdamW's options are Adam's with PyTorch's AdamW default weight_decay 1e-2.
struct AdamWOptions : AdamOptions {
  AdamWOptions() { weight_decay(1e-2); }
  explicit AdamWOptions(double lr) : AdamWOptions() { this->lr(lr); }
};

class AdamW : public OptimizerWith<AdamOptions> {
 public:
  using Rules = Adam::Rules;

  AdamW(std::vector<Tensor> params, AdamOptions options = AdamWOptions());
  explicit AdamW(std::vector<Group> groups);
  const char* name() const override { return "AdamW"; }
  void step() override;
 protected:
  std::vector<std::string> state_buffers(std::size_t group) const override;
};

}  // namespace fluxion::optim
