//! @file
//! Linear: y = x W^T + b, as torch.nn.Linear. Weight [out_features,
//! in_features]; PyTorch's default initialisation (layers/init.h).
#pragma once

#include "core/options.h"
#include "layers/module.h"

namespace fluxion::nn {

struct LinearOptions {
  LinearOptions(std::int64_t in_features, std::int64_t out_features)
      : in_features_(in_features), out_features_(out_features) {}
  FLUXION_REQUIRED_ARG(std::int64_t, in_features);
  FLUXION_REQUIRED_ARG(std::int64_t, out_features);
  FLUXION_ARG(bool, bias, true);
};

class Linear : public Module {
 public:
  explicit Linear(LinearOptions options);
  Linear(std::int64_t in_features, std::int64_t out_features) : Linear(LinearOptions(in_features, out_features)) {}
  /// x [..., in_features] -> [..., out_features]
  Tensor forward(const Tensor& x) override;
  /// in_features per output element.
  std::int64_t multiply_adds(const Tensor& input, const Tensor& output) const override;
  std::string type_name() const override { return "Linear"; }
  std::string extra_repr() const override;

  LinearOptions options;
  Tensor weight;  ///< [out_features, in_features]
  Tensor bias;    ///< [out_features], undefined without bias
};

}  // namespace fluxion::nn
