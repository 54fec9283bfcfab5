#include "optim/optimizer.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>
#include <set>
#include <sstream>
#include <utility>

namespace fluxion::optim {

void Optimizer::zero_grad(bool set_to_none) {
  NoGradGuard no_grad;
  for (std::size_t group = 0; group < num_groups(); ++group)
    for (const Tensor& p : group_params(group)) {
      if (!p.grad().defined()) continue;
      if (set_to_none) p.set_grad(Tensor());
      else p.grad().zero_();
    }
}

std::vector<Tensor> Optimizer::params() const {
  std::vector<Tensor> all;
  for (std::size_t group = 0; group < num_groups(); ++group)
    all.insert(all.end(), group_params(group).begin(), group_params(group).end());
  return all;
}

void Optimizer::set_lr(double lr) {
  for (std::size_t group = 0; group < num_groups(); ++group) set_lr(group, lr);
}

void Optimizer::set_option(const std::string& option, double value) {
  for (std::size_t group = 0; group < num_groups(); ++group) {
    const std::map<std::string, double> before = group_options(group);
    FLUXION_CHECK(before.count(option) > 0, name(), ": unknown option '", option, "'");
    set_group_option(group, option, value);
    try {
      validate_options();
    } catch (...) {
      set_group_option(group, option, before.at(option));
      throw;
    }
  }
}

void Optimizer::set_initial_lr(double lr) {
  FLUXION_CHECK(std::isfinite(lr) && lr > 0, name(), ": an initial lr must be finite and > 0, got ", lr);
  for (double& initial : initial_lrs_) initial = lr;
}

const ParamState& Optimizer::state(std::size_t param_index) const {
  FLUXION_CHECK(param_index < state_.size(), name(), ": parameter index ", param_index, " out of range (",
                state_.size(), " parameters)");
  return state_[param_index];
}

std::size_t Optimizer::group_of(std::size_t param_index) const {
  std::size_t first = 0;
  for (std::size_t group = 0; group < num_groups(); ++group) {
    first += group_params(group).size();
    if (param_index < first) return group;
  }
  throw Error(detail::concat(name(), ": parameter index ", param_index, " out of range (", first, " parameters)"));
}

namespace {

std::string group_prefix(std::size_t group) { return "param_groups." + std::to_string(group) + "."; }

}  // namespace

StateDict Optimizer::state_dict() const {
  StateDict dict;
  for (std::size_t i = 0; i < state_.size(); ++i) {
    if (state_[i].step == 0 && state_[i].buffers.empty()) continue;
    const std::string prefix = "state." + std::to_string(i) + ".";
    dict[prefix + "step"] = scalar_tensor(static_cast<double>(state_[i].step), kInt64);
    for (const auto& [key, tensor] : state_[i].buffers) dict[prefix + key] = tensor.clone();
  }
  for (std::size_t group = 0; group < num_groups(); ++group) {
    for (const auto& [key, value] : group_options(group))
      dict[group_prefix(group) + key] = scalar_tensor(value, kFloat64);
    dict[group_prefix(group) + "initial_lr"] = scalar_tensor(initial_lrs_[group], kFloat64);
  }
  return dict;
}

namespace {

// Throws one error naming every missing and every unexpected key, if any.
void check_keys(const std::string& source, const char* optimizer, const std::vector<std::string>& missing,
                const std::vector<std::string>& unexpected) {
  if (missing.empty() && unexpected.empty()) return;
  std::ostringstream message;
  message << source << ": cannot load " << optimizer << " state:";
  if (!missing.empty()) {
    message << " missing keys:";
    for (const auto& key : missing) message << " '" << key << "'";
  }
  if (!unexpected.empty()) {
    message << (missing.empty() ? "" : ";") << " unexpected keys:";
    for (const auto& key : unexpected) message << " '" << key << "'";
  }
  throw Error(message.str());
}

}  // namespace

// Everything is checked before anything changes: the keys, each value as it
// is read, then the options, which are put back if any is out of range.
void Optimizer::load_state_dict(const StateDict& dict, const std::string& source) {
  std::vector<std::string> missing, unexpected;
  const std::set<std::string> group_keys = read_group_keys(dict, source, missing);
  std::vector<std::optional<ParamState>> loaded = read_param_states(dict, source, group_keys, unexpected);
  find_incomplete_states(loaded, missing);
  check_keys(source, name(), missing, unexpected);
  apply_group_options(dict, source);
  state_.assign(loaded.size(), ParamState());
  for (std::size_t i = 0; i < loaded.size(); ++i)
    if (loaded[i]) state_[i] = std::move(*loaded[i]);
}

// Each group's options and initial lr must be there, one value each. Returns
// the keys found; adds the absent ones to `missing`.
std::set<std::string> Optimizer::read_group_keys(const StateDict& dict, const std::string& source,
                                                 std::vector<std::string>& missing) const {
  std::set<std::string> found;
  for (std::size_t group = 0; group < num_groups(); ++group) {
    std::vector<std::string> keys{"initial_lr"};
    for (const auto& [key, unused] : group_options(group)) keys.push_back(key);
    const std::vector<std::string> newer = options_added_later();
    for (const std::string& key : keys) {
      const std::string full = group_prefix(group) + key;
      auto it = dict.find(full);
      if (it == dict.end()) {
        if (std::find(newer.begin(), newer.end(), key) == newer.end()) missing.push_back(full);
        continue;
      }
      FLUXION_CHECK(it->second.numel() == 1, source, ": '", full, "' must hold one value, got shape ",
                    to_string(it->second.shape()));
      found.insert(full);
    }
  }
  return found;
}

namespace {

// "state.<i>.<name>" as (i, name), if `key` has that form with i < count.
std::optional<std::pair<std::size_t, std::string>> parse_state_key(const std::string& key, std::size_t count) {
  const std::size_t dot = key.find('.', 6);
  if (key.rfind("state.", 0) != 0 || dot == std::string::npos || dot <= 6) return std::nullopt;
  std::size_t index = 0;
  const auto [end, error] = std::from_chars(key.data() + 6, key.data() + dot, index);
  // All digits, no overflow, a parameter that exists.
  if (error != std::errc() || end != key.data() + dot || index >= count) return std::nullopt;
  return std::pair{index, key.substr(dot + 1)};
}

}  // namespace

// Every key that is not a group's is parameter state, "state.<i>.<name>":
// its step count, or a buffer its group's optimizer keeps, shaped like the
// parameter (converted to the parameter's dtype and device). Returns the state
// read, for each parameter that has any; adds other keys to `unexpected`.
std::vector<std::optional<ParamState>> Optimizer::read_param_states(const StateDict& dict, const std::string& source,
                                                                    const std::set<std::string>& group_keys,
                                                                    std::vector<std::string>& unexpected) const {
  const std::vector<Tensor> all = params();
  std::vector<std::optional<ParamState>> loaded(all.size());
  for (const auto& [key, tensor] : dict) {
    if (group_keys.count(key)) continue;
    const auto parsed = parse_state_key(key, all.size());
    if (!parsed) {
      unexpected.push_back(key);
      continue;
    }
    const auto& [index, name] = *parsed;
    ParamState& state = loaded[index] ? *loaded[index] : loaded[index].emplace();
    if (name == "step") {
      FLUXION_CHECK(tensor.numel() == 1 && tensor.dtype() == kInt64, source, ": '", key,
                    "' must be a single int64 step count");
      state.step = tensor.item<std::int64_t>();
      FLUXION_CHECK(state.step >= 1, source, ": '", key, "' must be >= 1, got ", state.step);
      continue;
    }
    const std::vector<std::string> wanted = state_buffers(group_of(index));
    if (std::find(wanted.begin(), wanted.end(), name) == wanted.end()) {
      unexpected.push_back(key);
      continue;
    }
    FLUXION_CHECK(tensor.shape() == all[index].shape(), source, ": '", key, "' has shape ",
                  to_string(tensor.shape()), " but parameter ", index, " has shape ", to_string(all[index].shape()));
    FLUXION_CHECK(is_floating(tensor.dtype()), source, ": '", key, "' must be floating-point, got ", tensor.dtype());
    state.buffers[name] = tensor.to(all[index].dtype()).to(all[index].device()).clone();
  }
  return loaded;
}

// A parameter with any state has all of it: its step and every buffer.
void Optimizer::find_incomplete_states(const std::vector<std::optional<ParamState>>& states,
                                       std::vector<std::string>& missing) const {
  for (std::size_t i = 0; i < states.size(); ++i) {
    if (!states[i]) continue;
    const std::string prefix = "state." + std::to_string(i) + ".";
    if (states[i]->step == 0) missing.push_back(prefix + "step");
    for (const std::string& name : state_buffers(group_of(i)))
      if (!states[i]->buffers.count(name)) missing.push_back(prefix + name);
  }
}

// Sets every group's options and initial lr from `dict` (read_group_keys found
// them all); if any value is out of range, puts everything back and throws.
void Optimizer::apply_group_options(const StateDict& dict, const std::string& source) {
  std::vector<std::map<std::string, double>> previous_options;
  for (std::size_t group = 0; group < num_groups(); ++group) previous_options.push_back(group_options(group));
  const std::vector<double> previous_initial_lrs = initial_lrs_;
  try {
    for (std::size_t group = 0; group < num_groups(); ++group) {
      const std::string prefix = group_prefix(group);
      for (const auto& [key, unused] : previous_options[group])
        if (dict.count(prefix + key)) set_group_option(group, key, dict.at(prefix + key).item());  // else added later
      const double initial = dict.at(prefix + "initial_lr").item();
      FLUXION_CHECK(std::isfinite(initial) && initial > 0.0, source, ": '", prefix, "initial_lr' must be > 0, got ",
                    initial);
      initial_lrs_[group] = initial;
    }
    validate_options();
  } catch (...) {
    for (std::size_t group = 0; group < num_groups(); ++group)
      for (const auto& [key, value] : previous_options[group]) set_group_option(group, key, value);
    initial_lrs_ = previous_initial_lrs;
    throw;
  }
}

Tensor& buffer(ParamState& state, const std::string& key, const Tensor& param, double initial) {
  auto it = state.buffers.find(key);
  // On the parameter's device: a dtype alone would put a GPU parameter's state on the CPU.
  if (it == state.buffers.end()) it = state.buffers.emplace(key, full(param.shape(), initial, param.options())).first;
  return it->second;
}

}  // namespace fluxion::optim
