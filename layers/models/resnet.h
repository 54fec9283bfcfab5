//! @file
//! The CIFAR ResNets of kuangliu/pytorch-cifar (models/resnet.py), which the
//! paper's experiments use: a 3x3 stem with 64 channels, four stages of basic
//! blocks (64, 128, 256, 512 channels; stride 2 from the second), 4x4 average
//! pooling and a linear classifier. The names of every module match that code,
//! so state_dict keys ("layer1.0.conv1.weight", "layer2.0.shortcut.0.weight")
//! are those of a PyTorch checkpoint.
#pragma once

#include <array>

#include "layers/batch_norm.h"
#include "layers/container.h"
#include "layers/conv.h"
#include "layers/linear.h"

namespace fluxion::nn {

/// relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)); the shortcut is the
/// identity, or a strided 1x1 conv + batchnorm where the shape changes.
class BasicBlock : public Module {
 public:
  BasicBlock(std::int64_t in_planes, std::int64_t planes, std::int64_t stride);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "BasicBlock"; }

  std::shared_ptr<Conv2d> conv1, conv2;
  std::shared_ptr<BatchNorm2d> bn1, bn2;
  std::shared_ptr<Sequential> shortcut;  ///< empty: identity
};

class ResNet : public Module {
 public:
  /// blocks: basic blocks per stage ({2, 2, 2, 2} is ResNet-18).
  ResNet(std::array<std::int64_t, 4> blocks, std::int64_t num_classes, std::int64_t in_channels = 3);
  /// x [N, in_channels, 32, 32] -> logits [N, num_classes]. The last stage
  /// is pooled with a 4x4 window, as in kuangliu's code, so inputs of 25 to
  /// 32 pixels (28x28 MNIST: 4x4 after the stride-2 stages) give one value.
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "ResNet"; }

  std::shared_ptr<Conv2d> conv1;
  std::shared_ptr<BatchNorm2d> bn1;
  std::shared_ptr<Sequential> layer1, layer2, layer3, layer4;
  std::shared_ptr<Linear> linear;
};

std::shared_ptr<ResNet> resnet18(std::int64_t num_classes = 10, std::int64_t in_channels = 3);
std::shared_ptr<ResNet> resnet34(std::int64_t num_classes = 10, std::int64_t in_channels = 3);

}  // namespace fluxion::nn
