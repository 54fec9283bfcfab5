// The flags that set TrainConfig's fields, one per row of its table
// (train/config_fields.h): `fluxion train` registers them all, `fluxion
// lr-find` those of the model, data and optimizer. Registered and read back
// here, so each command takes them alike.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "train/config.h"

namespace fluxion::apps {

/// Where CLI11 puts the flags' values before they are applied to a TrainConfig.
struct ConfigFlags {
  train::TrainConfig values;  ///< the config_fields flags' values (defaults where not given)
  std::map<std::string, double> optimizer_numbers;             ///< --lr, --sgd-lr, ... by key
  std::map<std::string, std::vector<double>> optimizer_pairs;  ///< --betas, by key
  std::string augment = "auto";
};

/// Whether `flag` was given on cmd's command line; false for a flag cmd lacks.
bool given(CLI::App* cmd, const std::string& flag);

/// Which rows get a flag: called with each row's key ("batch_size"). The
/// optimizer_options row stands for the optimizer flags (--lr, --betas, ...).
using ConfigFieldFilter = std::function<bool(std::string_view key)>;

/// A flag for each row of the table that `wanted` takes (all by default), in
/// the table's order, with the row's check (apps/flag_checks.h) and help.
void add_config_flags(CLI::App* cmd, ConfigFlags& f, const ConfigFieldFilter& wanted = {});

/// Each configuration flag given on the command line overrides `c`.
void apply_given_flags(CLI::App* cmd, const ConfigFlags& f, train::TrainConfig& c);

}  // namespace fluxion::apps
