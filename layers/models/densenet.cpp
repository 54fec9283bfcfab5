#include "layers/models/densenet.h"

#include <cmath>

#include "autograd/ops.h"
#include "layers/forward_trace.h"

namespace fluxion::nn {
namespace {
Pool2dParams square_pool(std::int64_t size) {
  Pool2dParams p;
  p.kernel_h = p.kernel_w = p.stride_h = p.stride_w = size;
  return p;
}
}  // namespace

DenseBottleneck::DenseBottleneck(std::int64_t in_planes, std::int64_t growth_rate) {
  bn1 = register_module("bn1", std::make_shared<BatchNorm2d>(in_planes));
  conv1 = register_module("conv1",
                          std::make_shared<Conv2d>(Conv2dOptions(in_planes, 4 * growth_rate, 1).bias(false)));
  bn2 = register_module("bn2", std::make_shared<BatchNorm2d>(4 * growth_rate));
  conv2 = register_module(
      "conv2", std::make_shared<Conv2d>(Conv2dOptions(4 * growth_rate, growth_rate, 3).padding(1).bias(false)));
}

Tensor DenseBottleneck::forward(const Tensor& x) {
  ForwardScope scope(*this, x);
  Tensor out = conv1->forward(bn1->forward_relu(x));   // [N, 4k, H, W]
  out = conv2->forward(bn2->forward_relu(out));        // [N, k, H, W]
  return scope.output(cat({out, x}, 1));               // new features first, as kuangliu's code
}

DenseTransition::DenseTransition(std::int64_t in_planes, std::int64_t out_planes) {
  bn = register_module("bn", std::make_shared<BatchNorm2d>(in_planes));
  conv = register_module("conv", std::make_shared<Conv2d>(Conv2dOptions(in_planes, out_planes, 1).bias(false)));
}

Tensor DenseTransition::forward(const Tensor& x) {
  ForwardScope scope(*this, x);
  return scope.output(avg_pool2d(conv->forward(bn->forward_relu(x)), square_pool(2)));
}

DenseNet::DenseNet(std::array<std::int64_t, 4> layers, std::int64_t growth_rate, std::int64_t num_classes,
                   std::int64_t in_channels, double reduction) {
  FLUXION_CHECK(num_classes >= 1 && in_channels >= 1 && growth_rate >= 1 && reduction > 0.0 && reduction <= 1.0,
                "DenseNet: num_classes, in_channels and growth_rate must be >= 1 and reduction in (0, 1], got ",
                num_classes, ", ", in_channels, ", ", growth_rate, ", ", reduction);
  std::int64_t planes = 2 * growth_rate;
  conv1 = register_module("conv1",
                          std::make_shared<Conv2d>(Conv2dOptions(in_channels, planes, 3).padding(1).bias(false)));
  auto dense = [&](std::int64_t count) {
    auto stage = std::make_shared<Sequential>();
    for (std::int64_t i = 0; i < count; ++i) {
      stage->push_back(std::make_shared<DenseBottleneck>(planes, growth_rate));
      planes += growth_rate;
    }
    return stage;
  };
  auto transition = [&]() {
    const auto out_planes = static_cast<std::int64_t>(std::floor(static_cast<double>(planes) * reduction));
    auto t = std::make_shared<DenseTransition>(planes, out_planes);
    planes = out_planes;
    return t;
  };
  // Registration order is kuangliu's attribute order, which sets state_dict order.
  dense1 = register_module("dense1", dense(layers[0]));
  trans1 = register_module("trans1", transition());
  dense2 = register_module("dense2", dense(layers[1]));
  trans2 = register_module("trans2", transition());
  dense3 = register_module("dense3", dense(layers[2]));
  trans3 = register_module("trans3", transition());
  dense4 = register_module("dense4", dense(layers[3]));
  bn = register_module("bn", std::make_shared<BatchNorm2d>(planes));
  linear = register_module("linear", std::make_shared<Linear>(planes, num_classes));
}

Tensor DenseNet::forward(const Tensor& x) {
  ForwardScope scope(*this, x);
  Tensor out = conv1->forward(x);                              // [N, 2k, 32, 32]
  out = trans1->forward(dense1->forward(out));                 // 16x16
  out = trans2->forward(dense2->forward(out));                 // 8x8
  out = trans3->forward(dense3->forward(out));                 // 4x4
  out = dense4->forward(out);
  out = avg_pool2d(bn->forward_relu(out), square_pool(4));     // [N, C, 1, 1]
  return scope.output(linear->forward(out.flatten(1)));
}

std::shared_ptr<DenseNet> densenet121(std::int64_t num_classes, std::int64_t in_channels) {
  return std::make_shared<DenseNet>(std::array<std::int64_t, 4>{6, 12, 24, 16}, 32, num_classes, in_channels);
}

}  // namespace fluxion::nn
