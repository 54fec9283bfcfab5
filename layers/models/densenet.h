//! @file
//! DenseNet for CIFAR as in kuangliu/pytorch-cifar (models/densenet.py), the
//! definition the paper's DenseNet-121 runs use: a 3x3 stem with 2k channels
//! (k the growth rate), four dense stages of bottleneck layers joined by
//! transitions that halve the channels (reduction 0.5) and the image (2x2
//! average pooling), then batchnorm, ReLU, 4x4 average pooling and a linear
//! classifier. DenseNet-121: stages of 6, 12, 24, 16 layers, k = 32.
#pragma once

#include <array>

#include "layers/batch_norm.h"
#include "layers/container.h"
#include "layers/conv.h"
#include "layers/linear.h"

namespace fluxion::nn {

/// cat(conv2(relu(bn2(conv1(relu(bn1(x)))))), x): adds growth_rate channels.
class DenseBottleneck : public Module {
 public:
  DenseBottleneck(std::int64_t in_planes, std::int64_t growth_rate);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Bottleneck"; }

  std::shared_ptr<BatchNorm2d> bn1, bn2;
  std::shared_ptr<Conv2d> conv1, conv2;
};

/// avg_pool2d(conv(relu(bn(x))), 2)
class DenseTransition : public Module {
 public:
  DenseTransition(std::int64_t in_planes, std::int64_t out_planes);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Transition"; }

  std::shared_ptr<BatchNorm2d> bn;
  std::shared_ptr<Conv2d> conv;
};

class DenseNet : public Module {
 public:
  DenseNet(std::array<std::int64_t, 4> layers, std::int64_t growth_rate, std::int64_t num_classes,
           std::int64_t in_channels = 3, double reduction = 0.5);
  /// x [N, in_channels, 32, 32] -> logits [N, num_classes]
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "DenseNet"; }

  std::shared_ptr<Conv2d> conv1;
  std::shared_ptr<Sequential> dense1, dense2, dense3, dense4;
  std::shared_ptr<DenseTransition> trans1, trans2, trans3;
  std::shared_ptr<BatchNorm2d> bn;
  std::shared_ptr<Linear> linear;
};

std::shared_ptr<DenseNet> densenet121(std::int64_t num_classes = 10, std::int64_t in_channels = 3);

}  // namespace fluxion::nn
