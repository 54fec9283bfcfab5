#include "optim/optimizer.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>
#include <sstream>

namespace fluxion::optim {

void Optimizer::zero_grad(bool set_to_none) {
  NoGradGuard no_grad;
  for (std::size_t g = 0; g < num_groups(); ++g)
    for (const Tensor& p : group_params(g)) {
      if (!p.grad().defined()) continue;
      if (set_to_none) p.set_grad(Tensor());
      else p.grad().zero_();
    }
}

std::vector<Tensor> Optimizer::params() const {
  std::vector<Tensor> all;
  for (std::size_t g = 0; g < num_groups(); ++g)
    all.insert(all.end(), group_params(g).begin(), group_params(g).end());
  return all;
}

void Optimizer::set_lr(double lr) {
  for (std::size_t g = 0; g < num_groups(); ++g) set_lr(g, lr);
}

const ParamState& Optimizer::state(std::size_t param_index) const {
  FLUXION_CHECK(param_index < state_.size(), name(), ": parameter index ", param_index, " out of range (",
                state_.size(), " parameters)");
  return state_[param_index];
}

std::size_t Optimizer::group_of(std::size_t param_index) const {
  std::size_t first = 0;
  for (std::size_t g = 0; g < num_groups(); ++g) {
    first += group_params(g).size();
    if (param_index < first) return g;
  }
  throw Error(detail::concat(name(), ": parameter index ", param_index, " out of range (", first, " parameters)"));
}

StateDict Optimizer::state_dict() const {
  StateDict dict;
  for (std::size_t i = 0; i < state_.size(); ++i) {
    if (state_[i].step == 0 && state_[i].buffers.empty()) continue;
    const std::string prefix = "state." + std::to_string(i) + ".";
    dict[prefix + "step"] = scalar_tensor(static_cast<double>(state_[i].step), kInt64);
    for (const auto& [key, tensor] : state_[i].buffers) dict[prefix + key] = tensor.clone();
  }
  for (std::size_t g = 0; g < num_groups(); ++g) {
    for (const auto& [key, value] : group_options(g))
      dict["param_groups." + std::to_string(g) + "." + key] = scalar_tensor(value, kFloat64);
    dict["param_groups." + std::to_string(g) + ".initial_lr"] = scalar_tensor(initial_lrs_[g], kFloat64);
  }
  return dict;
}

void Optimizer::load_state_dict(const StateDict& dict, const std::string& source) {
  const std::vector<Tensor> all = params();
  std::vector<ParamState> loaded(all.size());
  std::vector<bool> has_state(all.size(), false);
  std::set<std::string> expected;  // every group key
  std::vector<std::string> unexpected, missing;

  // Group options, and each group's initial lr: all must be there.
  for (std::size_t g = 0; g < num_groups(); ++g) {
    std::vector<std::string> keys{"initial_lr"};
    for (const auto& [key, unused] : group_options(g)) keys.push_back(key);
    for (const std::string& key : keys) {
      const std::string full = "param_groups." + std::to_string(g) + "." + key;
      auto it = dict.find(full);
      if (it == dict.end()) {
        missing.push_back(full);
        continue;
      }
      FLUXION_CHECK(it->second.numel() == 1, source, ": '", full, "' must hold one value, got shape ",
                    to_string(it->second.shape()));
      expected.insert(full);
    }
  }

  // Per-parameter state: "state.<i>.<name>".
  for (const auto& [key, tensor] : dict) {
    if (expected.count(key)) continue;
    const std::size_t dot = key.find('.', 6);
    std::size_t index = 0;
    bool parsed = key.rfind("state.", 0) == 0 && dot != std::string::npos && dot > 6;
    if (parsed) {
      const auto [end, error] = std::from_chars(key.data() + 6, key.data() + dot, index);
      parsed = error == std::errc() && end == key.data() + dot;  // all digits, and no overflow
    }
    if (!parsed || index >= all.size()) {
      unexpected.push_back(key);
      continue;
    }
    has_state[index] = true;
    const std::string name = key.substr(dot + 1);
    if (name == "step") {
      FLUXION_CHECK(tensor.numel() == 1 && tensor.dtype() == kInt64, source, ": '", key,
                    "' must be a single int64 step count");
      loaded[index].step = tensor.item<std::int64_t>();
      FLUXION_CHECK(loaded[index].step >= 1, source, ": '", key, "' must be >= 1, got ", loaded[index].step);
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
    loaded[index].buffers[name] = tensor.to(all[index].dtype()).to(all[index].device()).clone();
  }
  // A parameter with any state has all of it.
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (!has_state[i]) continue;
    const std::string prefix = "state." + std::to_string(i) + ".";
    if (loaded[i].step == 0) missing.push_back(prefix + "step");
    for (const std::string& name : state_buffers(group_of(i)))
      if (!loaded[i].buffers.count(name)) missing.push_back(prefix + name);
  }
  if (!missing.empty() || !unexpected.empty()) {
    std::ostringstream message;
    message << source << ": cannot load " << this->name() << " state:";
    if (!missing.empty()) {
      message << " missing keys:";
      for (const auto& k : missing) message << " '" << k << "'";
    }
    if (!unexpected.empty()) {
      message << (missing.empty() ? "" : ";") << " unexpected keys:";
      for (const auto& k : unexpected) message << " '" << k << "'";
    }
    throw Error(message.str());
  }

  // Apply the options; if any value is out of range, put everything back.
  std::vector<std::map<std::string, double>> previous_options;
  for (std::size_t g = 0; g < num_groups(); ++g) previous_options.push_back(group_options(g));
  const std::vector<double> previous_initial_lrs = initial_lrs_;
  try {
    for (std::size_t g = 0; g < num_groups(); ++g) {
      const std::string prefix = "param_groups." + std::to_string(g) + ".";
      for (const auto& [key, unused] : previous_options[g]) set_group_option(g, key, dict.at(prefix + key).item());
      const double initial = dict.at(prefix + "initial_lr").item();
      FLUXION_CHECK(std::isfinite(initial) && initial > 0.0, source, ": '", prefix, "initial_lr' must be > 0, got ",
                    initial);
      initial_lrs_[g] = initial;
    }
    validate_options();
  } catch (...) {
    for (std::size_t g = 0; g < num_groups(); ++g)
      for (const auto& [key, value] : previous_options[g]) set_group_option(g, key, value);
    initial_lrs_ = previous_initial_lrs;
    throw;
  }
  state_ = std::move(loaded);
}

Tensor& buffer(ParamState& state, const std::string& key, const Tensor& param, double initial) {
  auto it = state.buffers.find(key);
  if (it == state.buffers.end()) it = state.buffers.emplace(key, full(param.shape(), initial, param.dtype())).first;
  return it->second;
}

}  // namespace fluxion::optim
