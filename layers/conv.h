//! @file
//! Conv2d over NCHW input, as torch.nn.Conv2d (a cross-correlation with
//! stride, zero padding, dilation and groups). The work is the conv2d op
//! (autograd/ops/conv.cpp; im2col + GEMM on the CPU).
#pragma once

#include "core/options.h"
#include "layers/module.h"
#include "layers/size2.h"

namespace fluxion::nn {

struct Conv2dOptions {
  Conv2dOptions(std::int64_t in_channels, std::int64_t out_channels, Size2 kernel_size)
      : in_channels_(in_channels), out_channels_(out_channels), kernel_size_(kernel_size) {}
  FLUXION_REQUIRED_ARG(std::int64_t, in_channels);
  FLUXION_REQUIRED_ARG(std::int64_t, out_channels);
  FLUXION_REQUIRED_ARG(Size2, kernel_size);
  FLUXION_ARG(Size2, stride, 1);
  FLUXION_ARG(Size2, padding, 0);
  FLUXION_ARG(Size2, dilation, 1);
  FLUXION_ARG(std::int64_t, groups, 1);
  FLUXION_ARG(bool, bias, true);
};

class Conv2d : public Module {
 public:
  explicit Conv2d(Conv2dOptions options);
  /// x [N, in_channels, H, W] -> [N, out_channels, Ho, Wo]
  Tensor forward(const Tensor& x) override;
  /// Every output element is a dot product over C/groups x kH x kW inputs.
  std::int64_t multiply_adds(const Tensor& input, const Tensor& output) const override;
  std::string type_name() const override { return "Conv2d"; }
  std::string extra_repr() const override;

  Conv2dOptions options;
  Tensor weight;  ///< [out_channels, in_channels / groups, kH, kW]
  Tensor bias;    ///< [out_channels], undefined without bias
};

}  // namespace fluxion::nn
