//! @file
//! Containers: Sequential runs its children in order (their names are "0",
//! "1", ... as in PyTorch, so state_dict keys match); ModuleList only holds
//! them, for a parent whose forward walks them itself.
#pragma once

#include <initializer_list>

#include "layers/module.h"

namespace fluxion::nn {

class Sequential : public Module {
 public:
  Sequential() = default;
  Sequential(std::initializer_list<ModulePtr> modules);
  /// Appends a child named by its position.
  void push_back(ModulePtr module);
  std::size_t size() const { return named_children().size(); }
  const ModulePtr& operator[](std::size_t i) const;
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Sequential"; }
};

class ModuleList : public Module {
 public:
  ModuleList() = default;
  ModuleList(std::initializer_list<ModulePtr> modules);
  void push_back(ModulePtr module);
  std::size_t size() const { return named_children().size(); }
  const ModulePtr& operator[](std::size_t i) const;
  std::string type_name() const override { return "ModuleList"; }
};

}  // namespace fluxion::nn
