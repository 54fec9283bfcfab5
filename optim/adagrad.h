//! @file
//! Adagrad: torch.optim.Adagrad's update and option names.
#pragma once

#include "optim/optimizer.h"
#include "optim/rule_list.h"

namespace fluxion::optim {

// The update rules of step(), declared here and defined in optim/rules.h, so
// that editing a rule recompiles optim/ only, not every program.
namespace rules {
struct Adagrad;
}  // namespace rules

/// Adagrad's options: type, name, default, allowed values (FLUXION_OPTIONS, core/options.h).
#define FLUXION_ADAGRAD_OPTIONS(X)                         \
  X(double, lr, 1e-2, at_least(0.0))                       \
  X(double, lr_decay, 0.0, at_least(0.0))                  \
  X(double, weight_decay, 0.0, at_least(0.0))  /* L2 */    \
  X(double, initial_accumulator_value, 0.0, at_least(0.0)) \
  X(double, eps, 1e-10, at_least(0.0))

struct AdagradOptions {
  FLUXION_OPTIONS(FLUXION_ADAGRAD_OPTIONS)

 public:
  AdagradOptions() = default;
  explicit AdagradOptions(double lr) : lr_(lr) {}
};

class Adagrad : public OptimizerWith<AdagradOptions> {
 public:
  /// The update rule step() runs (optim/rules.h).
  using Rules = RuleList<rules::Adagrad>;

  Adagrad(std::vector<Tensor> params, AdagradOptions options = AdagradOptions());
  explicit Adagrad(std::vector<Group> groups);
  const char* name() const override { return "Adagrad"; }
  void step() override;
 protected:
  std::vector<std::string> state_buffers(std::size_t group) const override;
};

}  // namespace fluxion::optim
