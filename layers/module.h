//! @file
//! Module: the base of every layer and model, in libtorch's manner. A module
//! owns named parameters (trained), named buffers (state that is saved but not
//! trained, like batchnorm's running statistics) and named child modules. The
//! names join with dots into PyTorch's state_dict keys ("layer1.0.conv1.weight",
//! "bn1.num_batches_tracked"), so checkpoints are interchangeable with PyTorch.
//!
//!   struct Net : nn::Module {
//!     std::shared_ptr<nn::Linear> fc = register_module("fc", std::make_shared<nn::Linear>(4, 2));
//!     Tensor forward(const Tensor& x) override { return fc->forward(x); }
//!   };
#pragma once

#include <memory>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "core/safetensors.h"
#include "core/tensor.h"

namespace fluxion::nn {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

class Module;
using ModulePtr = std::shared_ptr<Module>;
using NamedModules = std::vector<std::pair<std::string, ModulePtr>>;

class Module {
 public:
  Module() = default;
  Module(const Module&) = delete;  ///< parameters are shared handles: a copy would alias them
  Module& operator=(const Module&) = delete;
  virtual ~Module() = default;

  /// The module's computation. Containers without one (ModuleList) throw.
  virtual Tensor forward(const Tensor& input);
  Tensor operator()(const Tensor& input) { return forward(input); }

  /// Multiply-adds this module's own computation did for one forward call
  /// that mapped `input` to `output` (children not included), for model
  /// summaries. Only layers dominated by products report them: Conv2d and
  /// Linear; 0 for the rest.
  virtual std::int64_t multiply_adds(const Tensor& input, const Tensor& output) const {
    (void)input;
    (void)output;
    return 0;
  }

  /// PyTorch's class name ("Conv2d") and the arguments it prints beside it.
  virtual std::string type_name() const = 0;
  virtual std::string extra_repr() const { return ""; }

  /// Parameters of this module and, with recurse, of all descendants, in
  /// registration order (PyTorch's order).
  std::vector<Tensor> parameters(bool recurse = true) const;
  NamedTensors named_parameters(bool recurse = true) const;
  NamedTensors named_buffers(bool recurse = true) const;
  const NamedModules& named_children() const { return children_; }
  /// Every descendant with its dotted path (not this module itself).
  NamedModules named_modules() const;
  /// Total number of parameter elements.
  std::int64_t num_parameters() const;

  /// Parameters and buffers under their dotted names, in registration order
  /// per module as PyTorch lists them. The tensors are the module's own (no
  /// copies): save them, or clone() to keep a snapshot.
  NamedTensors named_state() const;
  TensorMap state_dict() const;
  /// Copies `state` into the parameters and buffers (shapes and dtypes must
  /// match). strict: every key must be present and no other may be; all
  /// missing and unexpected keys are listed in the error. Nothing changes
  /// unless everything checks out. `source` names the origin for messages.
  void load_state_dict(const TensorMap& state, bool strict = true, const std::string& source = "state_dict");
  /// The state_dict as a safetensors file (atomic write), and back.
  void save(const std::string& path, const Metadata& metadata = {}) const;
  void load(const std::string& path, bool strict = true);

  /// Training mode (the default) or evaluation mode, for this module and all
  /// descendants: batchnorm and dropout behave differently.
  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }

  /// Drops every parameter's gradient (PyTorch's zero_grad(set_to_none=True)).
  void zero_grad();
  /// Converts every parameter and floating buffer to `dtype`, in place: the
  /// module's tensors (and handles to them held elsewhere) change dtype.
  void to(DType dtype);
  /// Moves every parameter (with its gradient) and buffer to `device`, in
  /// place, as libtorch's module->to(device). Build the optimizer after this
  /// or before: it holds the same handles, and makes its state on the
  /// parameters' device when it first steps.
  void to(Device device);

 protected:
  /// Registers a parameter (requires_grad is set) and returns it.
  Tensor register_parameter(const std::string& name, Tensor tensor, bool requires_grad = true);
  /// An undefined tensor registers nothing (for example a layer built without bias).
  Tensor register_buffer(const std::string& name, Tensor tensor);
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> module) {
    add_child(name, module);
    return module;
  }

 private:
  void add_child(const std::string& name, ModulePtr module);
  void check_new_name(const std::string& name) const;
  void collect(const std::string& prefix, bool params, bool buffers, bool recurse, NamedTensors& out) const;

  NamedTensors parameters_;
  NamedTensors buffers_;
  NamedModules children_;
  bool training_ = true;
};

/// Prints the module tree as PyTorch's print(model) does.
std::ostream& operator<<(std::ostream& os, const Module& module);

}  // namespace fluxion::nn
