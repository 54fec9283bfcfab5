#include "layers/models/resnet.h"

#include "autograd/ops.h"
#include "layers/forward_trace.h"

namespace fluxion::nn {
namespace {
std::shared_ptr<Conv2d> conv3x3(std::int64_t in, std::int64_t out, std::int64_t stride) {
  return std::make_shared<Conv2d>(Conv2dOptions(in, out, 3).stride(stride).padding(1).bias(false));
}
}  // namespace

BasicBlock::BasicBlock(std::int64_t in_planes, std::int64_t planes, std::int64_t stride) {
  conv1 = register_module("conv1", conv3x3(in_planes, planes, stride));
  bn1 = register_module("bn1", std::make_shared<BatchNorm2d>(planes));
  conv2 = register_module("conv2", conv3x3(planes, planes, 1));
  bn2 = register_module("bn2", std::make_shared<BatchNorm2d>(planes));
  shortcut = register_module("shortcut", std::make_shared<Sequential>());
  if (stride != 1 || in_planes != planes) {
    shortcut->push_back(std::make_shared<Conv2d>(Conv2dOptions(in_planes, planes, 1).stride(stride).bias(false)));
    shortcut->push_back(std::make_shared<BatchNorm2d>(planes));
  }
}

Tensor BasicBlock::forward(const Tensor& x) {
  ForwardScope scope(*this, x);
  Tensor out = bn1->forward_relu(conv1->forward(x));
  out = bn2->forward(conv2->forward(out));
  return scope.output(add_relu(out, shortcut->forward(x)));  // an empty Sequential is the identity
}

ResNet::ResNet(std::array<std::int64_t, 4> blocks, std::int64_t num_classes, std::int64_t in_channels) {
  FLUXION_CHECK(num_classes >= 1 && in_channels >= 1, "ResNet: num_classes and in_channels must be >= 1, got ",
                num_classes, " and ", in_channels);
  conv1 = register_module("conv1", conv3x3(in_channels, 64, 1));
  bn1 = register_module("bn1", std::make_shared<BatchNorm2d>(64));
  std::int64_t in_planes = 64;
  auto stage = [&](std::int64_t planes, std::int64_t count, std::int64_t stride) {
    auto layer = std::make_shared<Sequential>();
    for (std::int64_t i = 0; i < count; ++i) {
      layer->push_back(std::make_shared<BasicBlock>(in_planes, planes, i == 0 ? stride : 1));
      in_planes = planes;
    }
    return layer;
  };
  layer1 = register_module("layer1", stage(64, blocks[0], 1));
  layer2 = register_module("layer2", stage(128, blocks[1], 2));
  layer3 = register_module("layer3", stage(256, blocks[2], 2));
  layer4 = register_module("layer4", stage(512, blocks[3], 2));
  linear = register_module("linear", std::make_shared<Linear>(512, num_classes));
}

Tensor ResNet::forward(const Tensor& x) {
  ForwardScope scope(*this, x);
  Tensor out = bn1->forward_relu(conv1->forward(x));                                      // [N, 64, 32, 32]
  out = layer4->forward(layer3->forward(layer2->forward(layer1->forward(out))));          // [N, 512, 4, 4]
  Pool2dParams pool;
  pool.kernel_h = pool.kernel_w = pool.stride_h = pool.stride_w = 4;
  out = avg_pool2d(out, pool);                                                            // [N, 512, 1, 1]
  return scope.output(linear->forward(out.flatten(1)));                                                 // [N, classes]
}

std::shared_ptr<ResNet> resnet18(std::int64_t num_classes, std::int64_t in_channels) {
  return std::make_shared<ResNet>(std::array<std::int64_t, 4>{2, 2, 2, 2}, num_classes, in_channels);
}

std::shared_ptr<ResNet> resnet34(std::int64_t num_classes, std::int64_t in_channels) {
  return std::make_shared<ResNet>(std::array<std::int64_t, 4>{3, 4, 6, 3}, num_classes, in_channels);
}

}  // namespace fluxion::nn
