#include "layers/models/cifar_resnet.h"

#include "autograd/ops.h"
#include "layers/forward_trace.h"

namespace fluxion::nn {

CifarBasicBlock::CifarBasicBlock(std::int64_t in_planes, std::int64_t planes, std::int64_t stride,
                                 Shortcut option) {
  conv1 = register_module("conv1", std::make_shared<Conv2d>(
                                       Conv2dOptions(in_planes, planes, 3).stride(stride).padding(1).bias(false)));
  bn1 = register_module("bn1", std::make_shared<BatchNorm2d>(planes));
  conv2 = register_module("conv2",
                          std::make_shared<Conv2d>(Conv2dOptions(planes, planes, 3).padding(1).bias(false)));
  bn2 = register_module("bn2", std::make_shared<BatchNorm2d>(planes));
  shortcut = register_module("shortcut", std::make_shared<Sequential>());
  if (stride == 1 && in_planes == planes) return;
  if (option == Shortcut::B) {
    shortcut->push_back(std::make_shared<Conv2d>(Conv2dOptions(in_planes, planes, 1).stride(stride).bias(false)));
    shortcut->push_back(std::make_shared<BatchNorm2d>(planes));
  } else {
    FLUXION_CHECK(stride == 2 && planes == 2 * in_planes && planes % 4 == 0,
                  "CifarBasicBlock: option A shortcuts double the channels at stride 2, got ", in_planes, " -> ",
                  planes, " at stride ", stride);
    pad_shortcut = true;
    pad_channels = planes / 4;
  }
}

Tensor CifarBasicBlock::forward(const Tensor& x) {
  ForwardScope scope(*this, x);
  Tensor out = bn1->forward_relu(conv1->forward(x));
  out = bn2->forward(conv2->forward(out));
  if (!pad_shortcut) return scope.output(add_relu(out, shortcut->forward(x)));
  // Option A: every second pixel, with zero channels on both sides.
  Tensor sub = x.slice(2, 0, x.size(2), 2).slice(3, 0, x.size(3), 2);  // [N, C, H/2, W/2]
  Tensor pad = zeros({sub.size(0), pad_channels, sub.size(2), sub.size(3)}, sub.options().requires_grad(false));
  return scope.output(add_relu(out, cat({pad, sub, pad}, 1)));
}

CifarResNet::CifarResNet(std::int64_t depth, std::int64_t num_classes, std::int64_t in_channels, Shortcut option) {
  FLUXION_CHECK(depth >= 8 && (depth - 2) % 6 == 0, "CifarResNet: depth must be 6n + 2 (20, 32, 44, 56, 110), got ",
                depth);
  FLUXION_CHECK(num_classes >= 1 && in_channels >= 1, "CifarResNet: num_classes and in_channels must be >= 1, got ",
                num_classes, " and ", in_channels);
  const std::int64_t n = (depth - 2) / 6;
  conv1 = register_module("conv1",
                          std::make_shared<Conv2d>(Conv2dOptions(in_channels, 16, 3).padding(1).bias(false)));
  bn1 = register_module("bn1", std::make_shared<BatchNorm2d>(16));
  std::int64_t in_planes = 16;
  auto stage = [&](std::int64_t planes, std::int64_t stride) {
    auto layer = std::make_shared<Sequential>();
    for (std::int64_t i = 0; i < n; ++i) {
      layer->push_back(std::make_shared<CifarBasicBlock>(in_planes, planes, i == 0 ? stride : 1, option));
      in_planes = planes;
    }
    return layer;
  };
  layer1 = register_module("layer1", stage(16, 1));
  layer2 = register_module("layer2", stage(32, 2));
  layer3 = register_module("layer3", stage(64, 2));
  linear = register_module("linear", std::make_shared<Linear>(64, num_classes));
}

Tensor CifarResNet::forward(const Tensor& x) {
  ForwardScope scope(*this, x);
  Tensor out = bn1->forward_relu(conv1->forward(x));                         // [N, 16, H, W]
  out = layer3->forward(layer2->forward(layer1->forward(out)));              // [N, 64, H/4, W/4]
  out = adaptive_avg_pool2d(out, 1, 1);                                      // [N, 64, 1, 1]
  return scope.output(linear->forward(out.flatten(1)));
}

}  // namespace fluxion::nn
