//! @file
//! AdaBound and AMSBound (Luo et al., 2019, "Adaptive gradient methods with
//! dynamic bound of learning rate"), as their reference code (Luolc/AdaBound)
//! computes them: Adam whose per-element step size is clipped into bounds that
//! start wide and close in on final_lr, turning Adam into SGD over training.
#pragma once

#include "optim/optimizer.h"
#include "optim/rule_list.h"

namespace fluxion::optim {

// The update rules of step(), declared here and defined in optim/rules.h, so
// that editing a rule recompiles optim/ only, not every program.
namespace rules {
template <bool AmsBound>
struct AdaBound;
}  // namespace rules

/// AdaBound's options: type, name, default, allowed values (FLUXION_OPTIONS, core/options.h).
#define FLUXION_ADABOUND_OPTIONS(X)                                                                \
  X(double, lr, 1e-3, positive())               /* > 0: final_lr is scaled by lr / initial lr */   \
  X(double, beta1, 0.9, unit_interval())                                                           \
  X(double, beta2, 0.999, unit_interval())                                                         \
  X(double, final_lr, 0.1, at_least(0.0))       /* the SGD learning rate the bounds converge to */ \
  X(double, gamma, 1e-3, open_unit_interval())  /* how fast the bounds close */                    \
  X(double, eps, 1e-8, at_least(0.0))                                                              \
  X(double, weight_decay, 0.0, at_least(0.0))   /* L2, added to the gradient */                    \
  X(bool, amsbound, false, any_value())

struct AdaBoundOptions {
  FLUXION_OPTIONS(FLUXION_ADABOUND_OPTIONS)

 public:
  AdaBoundOptions() = default;
  explicit AdaBoundOptions(double lr) : lr_(lr) {}
  AdaBoundOptions& betas(double b1, double b2) { return beta1(b1).beta2(b2); }
};

class AdaBound : public OptimizerWith<AdaBoundOptions> {
 public:
  /// The update rules step() runs (optim/rules.h): AdaBound and AMSBound.
  using Rules = RuleList<rules::AdaBound<false>, rules::AdaBound<true>>;

  AdaBound(std::vector<Tensor> params, AdaBoundOptions options = AdaBoundOptions());
  explicit AdaBound(std::vector<Group> groups);
  const char* name() const override { return "AdaBound"; }
  void step() override;
 protected:
  std::vector<std::string> state_buffers(std::size_t group) const override;
};

}  // namespace fluxion::optim
