//! @file
//! The Optimizer interface, in libtorch's manner: built from parameters (or
//! parameter groups with their own options) and an options struct; zero_grad(),
//! step(), a learning rate per group that schedules read and write, and a
//! state_dict() that a resumed run loads to continue bit for bit.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "autograd/ops.h"
#include "optim/options.h"

namespace fluxion::optim {

/// Named tensors, as saved with a model (see core/safetensors.h).
using StateDict = std::map<std::string, Tensor>;

/// What an optimizer keeps for one parameter: its own step count (as PyTorch
/// does) and named buffers shaped like the parameter.
struct ParamState {
  std::int64_t step = 0;
  std::map<std::string, Tensor> buffers;
};

/// A set of parameters with options of its own (PyTorch's param_groups).
template <class Options>
struct ParamGroup {
  std::vector<Tensor> params;
  Options options;
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;

  virtual const char* name() const = 0;
  /// One update of every parameter that has a gradient; others are skipped.
  virtual void step() = 0;
  /// Clears the gradients: drops them (as PyTorch's default set_to_none), or
  /// fills them with zeros.
  void zero_grad(bool set_to_none = true);

  virtual std::size_t num_groups() const = 0;
  virtual const std::vector<Tensor>& group_params(std::size_t group) const = 0;
  std::vector<Tensor> params() const;  ///< every group's, in order
  virtual double lr(std::size_t group = 0) const = 0;
  virtual void set_lr(std::size_t group, double lr) = 0;
  void set_lr(double lr);  ///< every group
  /// Sets `option` ("sgd_lr", "momentum", ...) in every group, as PyTorch's
  /// `for g in opt.param_groups: g[option] = value`. The options are
  /// validated again; a refused value, or an option the optimizer lacks,
  /// throws Error and leaves the options as they were.
  void set_option(const std::string& option, double value);
  /// The options of `group` by name, as state_dict() holds them.
  std::map<std::string, double> option_values(std::size_t group = 0) const { return group_options(group); }
  /// Sets every group's initial lr (PyTorch's param_groups' "initial_lr"):
  /// AdaBayes's sigma^2 and weight decay, and AdaBound's final lr, follow
  /// lr / initial lr. An lr range test sets both to the step's lr, so that
  /// each step is taken as by a run started with that lr.
  void set_initial_lr(double lr);

  /// "state.<i>.step" (int64), "state.<i>.<buffer>" for parameter i (counted
  /// across groups in order), "param_groups.<group>.<option>" (float64), and
  /// "param_groups.<group>.initial_lr": the lr the group was made with, which
  /// AdaBound's bounds and AdaBayes's sigma^2 are scaled against.
  StateDict state_dict() const;
  /// Restores what state_dict() saved, for the same parameters. Throws naming
  /// `source` and listing every missing and unexpected key, or the key whose
  /// shape does not fit.
  void load_state_dict(const StateDict& state, const std::string& source = "state_dict");

  /// Read-only view of parameter i's state (empty before its first step).
  const ParamState& state(std::size_t param_index) const;
  /// The lr `group` had when the optimizer was made (restored by load_state_dict).
  double initial_lr(std::size_t group) const { return initial_lrs_.at(group); }
  /// The group that parameter i (counted across groups in order) belongs to.
  std::size_t group_of(std::size_t param_index) const;

 protected:
  virtual std::map<std::string, double> group_options(std::size_t group) const = 0;
  /// The buffers a parameter in `group` has after its first step (load_state_dict checks them).
  virtual std::vector<std::string> state_buffers(std::size_t group) const = 0;
  /// Options newer than checkpoints still in use: where a state dict lacks
  /// one (it was saved before Fluxion had it), load_state_dict keeps the
  /// value the optimizer was made with instead of calling the key missing.
  virtual std::vector<std::string> options_added_later() const { return {}; }
  virtual void set_group_option(std::size_t group, const std::string& option, double value) = 0;
  virtual void validate_options() const = 0;

  std::vector<ParamState> state_;   ///< one per parameter
  std::vector<double> initial_lrs_;  ///< one per group

 private:
  // load_state_dict's steps, in order (optim/optimizer.cpp).
  std::set<std::string> read_group_keys(const StateDict& dict, const std::string& source,
                                        std::vector<std::string>& missing) const;
  std::vector<std::optional<ParamState>> read_param_states(const StateDict& dict, const std::string& source,
                                                           const std::set<std::string>& group_keys,
                                                           std::vector<std::string>& unexpected) const;
  void find_incomplete_states(const std::vector<std::optional<ParamState>>& states,
                              std::vector<std::string>& missing) const;
  void apply_group_options(const StateDict& dict, const std::string& source);
};

/// The part every optimizer shares, given its options struct: one
/// FLUXION_OPTIONS list (core/options.h), which gives visit(f) calling
/// f(name, field) for each option, and validate(optimizer_name).
template <class OptionsStruct>
class OptimizerWith : public Optimizer {
 public:
  using Options = OptionsStruct;
  using Group = ParamGroup<Options>;

  explicit OptimizerWith(std::vector<Group> groups) : groups_(std::move(groups)) {
    std::size_t count = 0;
    std::set<const TensorImpl*> seen;
    for (const Group& group : groups_) {
      for (const Tensor& p : group.params) {
        FLUXION_CHECK(p.defined() && p.requires_grad() && p.is_leaf(),
                      "optimizer: every parameter must be a leaf tensor that requires grad");
        FLUXION_CHECK(is_floating(p.dtype()), "optimizer: parameters must be floating-point, got ", p.dtype());
        // The fused updates walk memory in order; a view would need a copy every step.
        FLUXION_CHECK(p.is_contiguous(), "optimizer: parameters must be contiguous (shape ", to_string(p.shape()),
                      ", strides ", to_string(p.strides()), "); pass a contiguous leaf");
        // As in PyTorch: a tensor listed twice would be updated twice per step.
        FLUXION_CHECK(seen.insert(p.impl()).second, "optimizer: a parameter (shape ", to_string(p.shape()),
                      ") appears more than once in the parameter groups");
      }
      count += group.params.size();
      initial_lrs_.push_back(group.options.lr());
    }
    state_.resize(count);
  }

  std::size_t num_groups() const override { return groups_.size(); }
  const std::vector<Tensor>& group_params(std::size_t group) const override { return groups_.at(group).params; }
  double lr(std::size_t group = 0) const override { return groups_.at(group).options.lr(); }
  /// The whole options struct is re-validated, so an lr this optimizer cannot
  /// use (AdaBayes needs lr > 0) is refused here, not met as NaN in step().
  void set_lr(std::size_t group, double lr) override {
    Options changed = groups_.at(group).options;
    changed.lr(lr);
    changed.validate(name());
    groups_.at(group).options = changed;
  }
  using Optimizer::set_lr;
  const Options& options(std::size_t group = 0) const { return groups_.at(group).options; }

 protected:
  /// Calls fn(param, grad, state, options, group index) for each parameter
  /// with a gradient, with grad mode off.
  template <class Fn>
  void for_each_param(Fn&& fn) {
    NoGradGuard no_grad;
    std::size_t index = 0;
    for (std::size_t group = 0; group < groups_.size(); ++group)
      for (Tensor& p : groups_[group].params) {
        ParamState& s = state_[index++];
        Tensor grad = p.grad();
        if (!grad.defined()) continue;
        if (!grad.is_contiguous()) grad = grad.contiguous();  // e.g. set_grad() with a transposed view
        fn(p, grad, s, groups_[group].options, group);
      }
  }

  std::map<std::string, double> group_options(std::size_t group) const override {
    std::map<std::string, double> values;
    Options copy = groups_.at(group).options;
    copy.visit([&](const char* key, auto& field) { values[key] = static_cast<double>(field); });
    return values;
  }
  void set_group_option(std::size_t group, const std::string& option, double value) override {
    bool found = false;
    groups_.at(group).options.visit([&](const char* key, auto& field) {
      if (option == key) {
        field = option_from_double<std::remove_reference_t<decltype(field)>>(name(), option, value);
        found = true;
      }
    });
    FLUXION_CHECK(found, name(), ": unknown option '", option, "'");
  }
  void validate_options() const override {
    for (const Group& group : groups_) group.options.validate(name());
  }

  std::vector<Group> groups_;
};

/// A buffer named `key` in `state`, created as zeros like `param` on first use.
Tensor& buffer(ParamState& state, const std::string& key, const Tensor& param, double initial = 0.0);

}  // namespace fluxion::optim
