//! @file
//! Every optimizer by name, with options by name: what the command line and
//! the trainer use.
//!
//!   auto opt = make_optimizer("adamw", model_params, {{"lr", 1e-3}, {"weight_decay", 5e-5}});
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "optim/optimizer.h"

namespace fluxion::optim {

/// sgd adam amsgrad adamw adagrad rmsprop adabound amsbound adabayes adabayes-fp
/// adabayes-rescaled: the registry's order (optim/registry.h).
const std::vector<std::string>& optimizer_names();

/// Whether optimizer `name` has option `option` ("sgd_lr", "batch_size",
/// "momentum", ...); false for an unknown optimizer.
bool has_option(const std::string& name, const std::string& option);

/// Builds optimizer `name` over `params`. `options` overrides the defaults by
/// PyTorch option name (bools as 0 or 1); an unknown name or option, or a value
/// out of range, throws an Error that lists what is allowed.
std::unique_ptr<Optimizer> make_optimizer(const std::string& name, std::vector<Tensor> params,
                                          const std::map<std::string, double>& options = {});

}  // namespace fluxion::optim
