//! @file
//! Every optimizer, listed once: its name, its class and its default options.
//! make_optimizer and optimizer_names() (optim/make_optimizer.h) read this
//! list, and the fused engine takes its rules from it: the update rules of
//! the registered classes (each class's `Rules`) are the only ones
//! for_each_element accepts (optim/fused.h), and optim/fused_rules.cu makes a
//! GPU kernel of each. So a rule that no registered optimizer lists fails to
//! compile where a step() uses it, in every build, not only with CUDA.
//! docs/contributing.md has the recipe for adding an optimizer.
#pragma once

#include <tuple>

#include "optim/adabayes.h"
#include "optim/adabound.h"
#include "optim/adagrad.h"
#include "optim/adam.h"
#include "optim/rmsprop.h"
#include "optim/rule_list.h"
#include "optim/sgd.h"

namespace fluxion::optim {

/// Optimizer `Class` under the name `name`: make_optimizer builds it from
/// `defaults` with the options given by name applied.
template <class Class>
struct Registered {
  const char* name;
  typename Class::Options defaults;
};

/// The registered optimizers, in the order optimizer_names() lists them (the
/// command line's --help and error messages).
inline auto registry() {
  return std::tuple{
      Registered<SGD>{"sgd", SGDOptions()},
      Registered<Adam>{"adam", AdamOptions()},
      Registered<Adam>{"amsgrad", AdamOptions().amsgrad(true)},
      Registered<AdamW>{"adamw", AdamWOptions()},
      Registered<Adagrad>{"adagrad", AdagradOptions()},
      Registered<RMSprop>{"rmsprop", RMSpropOptions()},
      Registered<AdaBound>{"adabound", AdaBoundOptions()},
      Registered<AdaBound>{"amsbound", AdaBoundOptions().amsbound(true)},
      Registered<AdaBayes>{"adabayes", AdaBayesOptions()},
      Registered<AdaBayesFP>{"adabayes-fp", AdaBayesOptions()},
      Registered<AdaBayes>{"adabayes-rescaled", AdaBayesOptions().rescale_on_lr_change(true)},
  };
}

/// The rules of the classes of a registry (a tuple of Registered), joined.
template <class Registry>
struct RulesOf;
template <class... Classes>
struct RulesOf<std::tuple<Registered<Classes>...>> : JoinRules<typename Classes::Rules...> {};

/// Every rule of every registered optimizer.
using RegisteredRules = typename RulesOf<decltype(registry())>::type;

/// Whether for_each_element may run `Rule`: whether a registered optimizer lists it.
template <class Rule>
inline constexpr bool is_registered_rule = rule_listed<Rule, RegisteredRules>;

}  // namespace fluxion::optim
