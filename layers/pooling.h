//! @file
//! Pooling layers over NCHW input, as torch.nn.MaxPool2d, AvgPool2d and
//! AdaptiveAvgPool2d. The work is in autograd/ops/pool.cpp.
#pragma once

#include "core/options.h"
#include "layers/module.h"
#include "layers/size2.h"

namespace fluxion::nn {

struct MaxPool2dOptions {
  MaxPool2dOptions(Size2 kernel_size) : kernel_size_(kernel_size) {}  // NOLINT: implicit on purpose
  FLUXION_REQUIRED_ARG(Size2, kernel_size);
  FLUXION_ARG(Size2, stride, 0);  ///< 0: the kernel size (PyTorch's default)
  FLUXION_ARG(Size2, padding, 0);
  FLUXION_ARG(bool, ceil_mode, false);
};

struct AvgPool2dOptions {
  AvgPool2dOptions(Size2 kernel_size) : kernel_size_(kernel_size) {}  // NOLINT: implicit on purpose
  FLUXION_REQUIRED_ARG(Size2, kernel_size);
  FLUXION_ARG(Size2, stride, 0);  ///< 0: the kernel size (PyTorch's default)
  FLUXION_ARG(Size2, padding, 0);
  FLUXION_ARG(bool, ceil_mode, false);
  FLUXION_ARG(bool, count_include_pad, true);
};

class MaxPool2d : public Module {
 public:
  explicit MaxPool2d(MaxPool2dOptions options) : options(options) {}
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "MaxPool2d"; }
  std::string extra_repr() const override;
  MaxPool2dOptions options;
};

class AvgPool2d : public Module {
 public:
  explicit AvgPool2d(AvgPool2dOptions options) : options(options) {}
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "AvgPool2d"; }
  std::string extra_repr() const override;
  AvgPool2dOptions options;
};

/// Averages to an output_size output; (1, 1) is global average pooling.
class AdaptiveAvgPool2d : public Module {
 public:
  explicit AdaptiveAvgPool2d(Size2 output_size) : output_size(output_size) {}
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "AdaptiveAvgPool2d"; }
  std::string extra_repr() const override { return "output_size=" + output_size.str(); }
  Size2 output_size;
};

}  // namespace fluxion::nn
