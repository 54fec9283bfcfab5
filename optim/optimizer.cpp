#include "optim/optimizer.h"

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
  std::set<std::string> used;
  std::vector<std::string> unexpected, missing;

  // Group options: every option of every group must be there.
  auto group_keys = [this](std::size_t g) {
    std::vector<std::string> keys{"initial_lr"};
    for (const auto& [key, unused] : group_options(g)) keys.push_back(key);
    return keys;
  };
  for (std::size_t g = 0; g < num_groups(); ++g)
    for (const std::string& key : group_keys(g)) {
      const std::string full = "param_groups." + std::to_string(g) + "." + key;
      auto it = dict.find(full);
      if (it == dict.end()) {
        missing.push_back(full);
        continue;
      }
      FLUXION_CHECK(it->second.numel() == 1, source, ": '", full, "' must hold one value, got shape ",
                    to_string(it->second.shape()));
      used.insert(full);
    }

  // Per-parameter state: "state.<i>.<name>".
  for (const auto& [key, tensor] : dict) {
    if (key.rfind("state.", 0) != 0) {
      if (!used.count(key)) unexpected.push_back(key);
      continue;
    }
    const std::size_t dot = key.find('.', 6);
    std::size_t index = 0;
    bool ok = dot != std::string::npos && dot > 6;
    for (std::size_t c = 6; ok && c < dot; ++c) ok = std::isdigit(static_cast<unsigned char>(key[c])) != 0;
    if (ok) index = std::stoul(key.substr(6, dot - 6));
    if (!ok || index >= all.size()) {
      unexpected.push_back(key);
      continue;
    }
    const std::string name = key.substr(dot + 1);
    if (name == "step") {
      FLUXION_CHECK(tensor.numel() == 1 && tensor.dtype() == kInt64, source, ": '", key,
                    "' must be a single int64 step count");
      loaded[index].step = tensor.item<std::int64_t>();
    } else {
      FLUXION_CHECK(tensor.shape() == all[index].shape(), source, ": '", key, "' has shape ",
                    to_string(tensor.shape()), " but parameter ", index, " has shape ", to_string(all[index].shape()));
      loaded[index].buffers[name] = tensor.to(all[index].dtype()).clone();
    }
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
  // Everything checked: now apply (options first, then validate them).
  for (std::size_t g = 0; g < num_groups(); ++g) {
    const std::string prefix = "param_groups." + std::to_string(g) + ".";
    for (const auto& [key, unused] : group_options(g)) set_group_option(g, key, dict.at(prefix + key).item());
    initial_lrs_[g] = dict.at(prefix + "initial_lr").item();
  }
  validate_options();
  state_ = std::move(loaded);
}

Tensor& buffer(ParamState& state, const std::string& key, const Tensor& param, double initial) {
  auto it = state.buffers.find(key);
  if (it == state.buffers.end()) it = state.buffers.emplace(key, full(param.shape(), initial, param.dtype())).first;
  return it->second;
}

}  // namespace fluxion::optim
