#include "layers/pooling.h"

#include "autograd/ops.h"
#include "layers/forward_trace.h"

namespace fluxion::nn {
namespace {

Pool2dParams params(Size2 kernel, Size2 stride, Size2 padding, bool ceil_mode) {
  Pool2dParams p;
  p.kernel_h = kernel.h, p.kernel_w = kernel.w;
  p.stride_h = stride.h == 0 ? kernel.h : stride.h;
  p.stride_w = stride.w == 0 ? kernel.w : stride.w;
  p.pad_h = padding.h, p.pad_w = padding.w;
  p.ceil_mode = ceil_mode;
  return p;
}

std::string repr(Size2 kernel, Size2 stride, Size2 padding, bool ceil_mode) {
  const Size2 s = stride == Size2(0) ? kernel : stride;
  return "kernel_size=" + kernel.str() + ", stride=" + s.str() + ", padding=" + padding.str() +
         ", ceil_mode=" + (ceil_mode ? "True" : "False");
}

}  // namespace

Tensor MaxPool2d::forward(const Tensor& x) {
  ForwardScope scope(*this, x);
  const Pool2dParams p = params(options.kernel_size(), options.stride(), options.padding(), options.ceil_mode());
  return scope.output(max_pool2d(x, p));
}

std::string MaxPool2d::extra_repr() const {
  return repr(options.kernel_size(), options.stride(), options.padding(), options.ceil_mode());
}

Tensor AvgPool2d::forward(const Tensor& x) {
  ForwardScope scope(*this, x);
  Pool2dParams p = params(options.kernel_size(), options.stride(), options.padding(), options.ceil_mode());
  p.count_include_pad = options.count_include_pad();
  return scope.output(avg_pool2d(x, p));
}

std::string AvgPool2d::extra_repr() const {
  return repr(options.kernel_size(), options.stride(), options.padding(), options.ceil_mode()) +
         ", count_include_pad=" + (options.count_include_pad() ? "True" : "False");
}

Tensor AdaptiveAvgPool2d::forward(const Tensor& x) {
  ForwardScope scope(*this, x);
  return scope.output(adaptive_avg_pool2d(x, output_size.h, output_size.w));
}

}  // namespace fluxion::nn
