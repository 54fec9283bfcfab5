//! @file
//! Small layers without parameters: ReLU, Dropout, Flatten, Identity.
#pragma once

#include "core/random.h"
#include "layers/forward_trace.h"
#include "layers/module.h"

namespace fluxion::nn {

class ReLU : public Module {
 public:
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "ReLU"; }
};

/// Zeroes elements with probability p in training (scaling the rest by
/// 1 / (1 - p)); the identity in evaluation. Draws from `generator` when set,
/// else from the default generator (manual_seed).
class Dropout : public Module {
 public:
  explicit Dropout(double p = 0.5, Generator* generator = nullptr);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Dropout"; }
  std::string extra_repr() const override;
  double p;
  Generator* generator;
};

/// Flattens dims start_dim..end_dim into one; PyTorch's defaults keep the batch dim.
class Flatten : public Module {
 public:
  explicit Flatten(std::int64_t start_dim = 1, std::int64_t end_dim = -1) : start_dim(start_dim), end_dim(end_dim) {}
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Flatten"; }
  std::string extra_repr() const override;
  std::int64_t start_dim, end_dim;
};

class Identity : public Module {
 public:
  Tensor forward(const Tensor& x) override {
    ForwardScope scope(*this, x);
    return scope.output(x);
  }
  std::string type_name() const override { return "Identity"; }
};

}  // namespace fluxion::nn
