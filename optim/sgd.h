//! @file
//! Stochastic gradient descent with momentum, dampening, Nesterov momentum and
//! L2 weight decay: torch.optim.SGD's update and option names.
#pragma once

#include "optim/optimizer.h"
#include "optim/rule_list.h"

namespace fluxion::optim {

// The update rules of step(), declared here and defined in optim/rules.h, so
// that editing a rule recompiles optim/ only, not every program.
namespace rules {
struct Sgd;
struct SgdMomentum;
}  // namespace rules

/// PyTorch's rule for nesterov: it needs momentum > 0 and dampening = 0.
inline auto needs_momentum_without_dampening() {
  return [](const char* who, const char* option, bool nesterov, const auto& options) -> void {
    FLUXION_CHECK(!nesterov || (options.momentum() > 0.0 && options.dampening() == 0.0), who, ": option ", option,
                  " needs momentum > 0 and dampening = 0 (as in PyTorch)");
  };
}

/// SGD's options: type, name, default, allowed values (FLUXION_OPTIONS, core/options.h).
#define FLUXION_SGD_OPTIONS(X)                                                 \
  X(double, lr, 0.1, at_least(0.0))            /* PyTorch has no default */    \
  X(double, momentum, 0.0, at_least(0.0))                                      \
  X(double, dampening, 0.0, at_least(0.0))                                     \
  X(double, weight_decay, 0.0, at_least(0.0))  /* L2: added to the gradient */ \
  X(bool, nesterov, false, needs_momentum_without_dampening())

struct SGDOptions {
  FLUXION_OPTIONS(FLUXION_SGD_OPTIONS)

 public:
  SGDOptions() = default;
  explicit SGDOptions(double lr) : lr_(lr) {}
};

class SGD : public OptimizerWith<SGDOptions> {
 public:
  /// The update rules step() runs (optim/rules.h).
  using Rules = RuleList<rules::Sgd, rules::SgdMomentum>;

  SGD(std::vector<Tensor> params, SGDOptions options = SGDOptions());
  explicit SGD(std::vector<Group> groups);
  const char* name() const override { return "SGD"; }
  void step() override;
 protected:
  std::vector<std::string> state_buffers(std::size_t group) const override;
};

}  // namespace fluxion::optim
