//! @file
//! A small CNN for 28x28 (Fashion-)MNIST images: two blocks of 3x3 conv
//! (32 then 64 channels, no bias: batchnorm follows), batchnorm, ReLU and 2x2
//! max pooling (28 -> 14 -> 7), then a 128-unit hidden linear layer with ReLU
//! and the classifier.
#pragma once

#include "layers/activation.h"
#include "layers/batch_norm.h"
#include "layers/conv.h"
#include "layers/linear.h"
#include "layers/pooling.h"

namespace fluxion::nn {

class SmallCNN : public Module {
 public:
  /// image_size: the input's height and width (28 for MNIST).
  SmallCNN(std::int64_t num_classes = 10, std::int64_t in_channels = 1, std::int64_t image_size = 28);
  /// x [N, in_channels, image_size, image_size] -> logits [N, num_classes]
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "SmallCNN"; }

  std::shared_ptr<Conv2d> conv1, conv2;
  std::shared_ptr<BatchNorm2d> bn1, bn2;
  std::shared_ptr<Linear> fc1, fc2;
};

}  // namespace fluxion::nn
