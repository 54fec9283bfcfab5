//! @file
//! RMSprop, plain, centered, and with momentum: torch.optim.RMSprop's update
//! and option names.
#pragma once

#include "optim/optimizer.h"
#include "optim/rule_list.h"

namespace fluxion::optim {

// The update rules of step(), declared here and defined in optim/rules.h, so
// that editing a rule recompiles optim/ only, not every program.
namespace rules {
template <bool Centered, bool Momentum>
struct RMSprop;
}  // namespace rules

/// RMSprop's options: type, name, default, allowed values (FLUXION_OPTIONS, core/options.h).
#define FLUXION_RMSPROP_OPTIONS(X)                      \
  X(double, lr, 1e-2, at_least(0.0))                    \
  X(double, alpha, 0.99, at_least(0.0))                 \
  X(double, eps, 1e-8, at_least(0.0))                   \
  X(double, weight_decay, 0.0, at_least(0.0))  /* L2 */ \
  X(double, momentum, 0.0, at_least(0.0))               \
  X(bool, centered, false, any_value())

struct RMSpropOptions {
  FLUXION_OPTIONS(FLUXION_RMSPROP_OPTIONS)

 public:
  RMSpropOptions() = default;
  explicit RMSpropOptions(double lr) : lr_(lr) {}
};

class RMSprop : public OptimizerWith<RMSpropOptions> {
 public:
  /// The update rules step() runs (optim/rules.h), one per <centered, momentum>.
  using Rules = RuleList<rules::RMSprop<false, false>, rules::RMSprop<true, false>, rules::RMSprop<false, true>,
                         rules::RMSprop<true, true>>;

  RMSprop(std::vector<Tensor> params, RMSpropOptions options = RMSpropOptions());
  explicit RMSprop(std::vector<Group> groups);
  const char* name() const override { return "RMSprop"; }
  void step() override;
 protected:
  std::vector<std::string> state_buffers(std::size_t group) const override;
};

}  // namespace fluxion::optim
