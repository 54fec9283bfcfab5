#include "apps/config_flags.h"

#include <cstdint>
#include <limits>
#include <type_traits>

#include "apps/flag_checks.h"
#include "data/datasets.h"
#include "layers/models/registry.h"
#include "optim/make_optimizer.h"
#include "train/config_fields.h"

namespace fluxion::apps {
namespace {

using OptionMap = std::map<std::string, double>;  // TrainConfig::optimizer_options

// --augment takes on, off or auto for the 1, 0 or -1 that TrainConfig holds.
template <class T>
bool is_augment(const train::ConfigField<T>& field) {
  if constexpr (std::is_same_v<T, int>) return field.member == &train::TrainConfig::augment;
  return false;
}

// The CLI11 validator that stands for a FlagCheck (train/config_fields.h);
// `whole` for a flag whose field is an integer, which takes no fraction.
void add_check(CLI::Option* option, train::FlagCheck check, bool whole, int min = 0, int max = 0) {
  constexpr std::int64_t most = std::numeric_limits<std::int64_t>::max();
  switch (check) {
    case train::FlagCheck::none: return;
    case train::FlagCheck::model_name: option->check(CLI::IsMember(nn::model_names())); return;
    case train::FlagCheck::dataset_name: option->check(CLI::IsMember(data::dataset_names())); return;
    case train::FlagCheck::optimizer_name: option->check(CLI::IsMember(optim::optimizer_names())); return;
    case train::FlagCheck::int_range: option->check(whole_number_in(min, max)); return;
    case train::FlagCheck::non_negative: option->check(whole ? whole_number_in(0, most) : non_negative_number); return;
    case train::FlagCheck::positive: option->check(whole ? whole_number_in(1, most) : positive_number); return;
    case train::FlagCheck::fraction: option->check(number_in(0.0, 1.0)); return;
    case train::FlagCheck::below_one: option->check(number_from_below(0.0, 1.0)); return;
    case train::FlagCheck::whole_number: option->check(unsigned_64); return;
  }
}

// --lr, --sgd-lr, --momentum, --weight-decay and --betas B1,B2.
void add_optimizer_flags(CLI::App* cmd, ConfigFlags& f) {
  for (const train::OptimizerFlag& flag : train::optimizer_flags) {
    const std::string name = train::flag_name(flag.key);
    CLI::Option* option =
        flag.second_option == nullptr
            ? cmd->add_option(name, f.optimizer_numbers[flag.key], flag.help)
            : cmd->add_option(name, f.optimizer_pairs[flag.key], flag.help)->expected(2)->delimiter(',');
    add_check(option, flag.check, false);
  }
}

void apply_given_optimizer_flags(CLI::App* cmd, const ConfigFlags& f, OptionMap& options) {
  for (const train::OptimizerFlag& flag : train::optimizer_flags) {
    if (!given(cmd, train::flag_name(flag.key))) continue;
    if (flag.second_option == nullptr) {
      options[flag.option] = f.optimizer_numbers.at(flag.key);
    } else {
      const std::vector<double>& pair = f.optimizer_pairs.at(flag.key);
      options[flag.option] = pair.at(0);
      options[flag.second_option] = pair.at(1);
    }
  }
}

// A switch's names: --KEY, and --no-KEY beside it for one that is on by
// default (--tensorboard, --no-tensorboard); either counts as the flag given.
template <class T>
std::string bool_flag_names(const train::ConfigField<T>& field) {
  const std::string name = train::flag_name(field.key);
  const bool on_by_default = train::TrainConfig().*field.member;
  return on_by_default ? name + ",!--no-" + name.substr(2) : name;
}

}  // namespace

bool given(CLI::App* cmd, const std::string& flag) {
  const CLI::Option* option = cmd->get_option_no_throw(flag);
  return option != nullptr && option->count() > 0;
}

void add_config_flags(CLI::App* cmd, ConfigFlags& f, const ConfigFieldFilter& wanted) {
  train::for_each_config_field([&]<class T>(const train::ConfigField<T>& field) {
    if (wanted && !wanted(field.key)) return;
    if constexpr (std::is_same_v<T, OptionMap>) {
      add_optimizer_flags(cmd, f);
    } else {
      const std::string name = train::flag_name(field.key);
      CLI::Option* option = nullptr;
      if constexpr (std::is_same_v<T, bool>)
        option = cmd->add_flag(bool_flag_names(field), f.values.*field.member, field.help);
      else if (is_augment(field))
        option = cmd->add_option(name, f.augment, field.help)->check(CLI::IsMember({"on", "off", "auto"}));
      else
        option = cmd->add_option(name, f.values.*field.member, field.help);
      add_check(option, field.flag_check, std::is_integral_v<T>, field.range_min, field.range_max);
      if (field.default_in_help) option->capture_default_str();
    }
  });
}

void apply_given_flags(CLI::App* cmd, const ConfigFlags& f, train::TrainConfig& c) {
  train::for_each_config_field([&]<class T>(const train::ConfigField<T>& field) {
    if constexpr (std::is_same_v<T, OptionMap>) {
      apply_given_optimizer_flags(cmd, f, c.optimizer_options);
    } else if (given(cmd, train::flag_name(field.key))) {
      if (is_augment(field))
        c.augment = f.augment == "on" ? 1 : f.augment == "off" ? 0 : -1;
      else
        c.*field.member = f.values.*field.member;
    }
  });
}

}  // namespace fluxion::apps
