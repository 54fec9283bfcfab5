//! @file
//! The CIFAR ResNets of He et al. (2016, Section 4.2): depth 6n + 2, a 3x3
//! stem with 16 channels, three stages of n basic blocks with 16, 32 and 64
//! channels (stride 2 from the second), global average pooling and a linear
//! classifier. ResNet-20 is n = 3. Names follow the widely used PyTorch port
//! (akamaster/pytorch_resnet_cifar10): conv1, bn1, layer1.0.conv1, ..., linear.
//!
//! Where a stage widens the channels, the shortcut is
//!   option A (He et al.'s choice for CIFAR, the default): the identity on
//!     every second pixel, zero-padded with planes / 4 channels on each side;
//!     no parameters (ResNet-20: 269,722 parameters for 10 classes);
//!   option B: a strided 1x1 conv + batchnorm projection (ResNet-20: 272,474).
#pragma once

#include "layers/batch_norm.h"
#include "layers/container.h"
#include "layers/conv.h"
#include "layers/linear.h"

namespace fluxion::nn {

enum class Shortcut { A, B };

class CifarBasicBlock : public Module {
 public:
  CifarBasicBlock(std::int64_t in_planes, std::int64_t planes, std::int64_t stride, Shortcut shortcut);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "BasicBlock"; }

  std::shared_ptr<Conv2d> conv1, conv2;
  std::shared_ptr<BatchNorm2d> bn1, bn2;
  std::shared_ptr<Sequential> shortcut;  ///< option B's projection; empty otherwise
  bool pad_shortcut = false;             ///< option A where the shape changes
  std::int64_t pad_channels = 0;
};

class CifarResNet : public Module {
 public:
  /// depth = 6n + 2 (20, 32, 44, 56, 110).
  CifarResNet(std::int64_t depth, std::int64_t num_classes, std::int64_t in_channels = 3,
              Shortcut shortcut = Shortcut::A);
  /// x [N, in_channels, H, W] -> logits [N, num_classes]
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "ResNet"; }

  std::shared_ptr<Conv2d> conv1;
  std::shared_ptr<BatchNorm2d> bn1;
  std::shared_ptr<Sequential> layer1, layer2, layer3;
  std::shared_ptr<Linear> linear;
};

}  // namespace fluxion::nn
