#include "layers/models/small_cnn.h"

#include "autograd/ops.h"
#include "layers/forward_trace.h"

namespace fluxion::nn {
namespace {
Tensor pool2(const Tensor& x) {
  Pool2dParams p;
  p.kernel_h = p.kernel_w = p.stride_h = p.stride_w = 2;
  return max_pool2d(x, p);
}
}  // namespace

SmallCNN::SmallCNN(std::int64_t num_classes, std::int64_t in_channels, std::int64_t image_size) {
  FLUXION_CHECK(num_classes >= 1 && in_channels >= 1 && image_size >= 4,
                "SmallCNN: num_classes and in_channels must be >= 1 and image_size >= 4, got ", num_classes, ", ",
                in_channels, ", ", image_size);
  const std::int64_t pooled = image_size / 2 / 2;
  conv1 = register_module("conv1", std::make_shared<Conv2d>(Conv2dOptions(in_channels, 32, 3).padding(1).bias(false)));
  bn1 = register_module("bn1", std::make_shared<BatchNorm2d>(32));
  conv2 = register_module("conv2", std::make_shared<Conv2d>(Conv2dOptions(32, 64, 3).padding(1).bias(false)));
  bn2 = register_module("bn2", std::make_shared<BatchNorm2d>(64));
  fc1 = register_module("fc1", std::make_shared<Linear>(64 * pooled * pooled, 128));
  fc2 = register_module("fc2", std::make_shared<Linear>(128, num_classes));
}

Tensor SmallCNN::forward(const Tensor& x) {
  ForwardScope scope(*this, x);
  Tensor out = pool2(bn1->forward_relu(conv1->forward(x)));   // [N, 32, 14, 14]
  out = pool2(bn2->forward_relu(conv2->forward(out)));        // [N, 64, 7, 7]
  out = relu(fc1->forward(out.flatten(1)));                   // [N, 128]
  return scope.output(fc2->forward(out));
}

}  // namespace fluxion::nn
