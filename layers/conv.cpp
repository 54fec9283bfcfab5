#include "layers/conv.h"

#include "autograd/ops.h"
#include "layers/init.h"
#include "layers/forward_trace.h"

namespace fluxion::nn {

Conv2d::Conv2d(Conv2dOptions opts) : options(opts) {
  const auto& o = options;
  FLUXION_CHECK(o.in_channels() >= 1 && o.out_channels() >= 1 && o.groups() >= 1,
                "Conv2d: in_channels, out_channels and groups must be >= 1, got ", o.in_channels(), ", ",
                o.out_channels(), ", ", o.groups());
  FLUXION_CHECK(o.in_channels() % o.groups() == 0 && o.out_channels() % o.groups() == 0, "Conv2d: in_channels (",
                o.in_channels(), ") and out_channels (", o.out_channels(), ") must be divisible by groups (",
                o.groups(), ")");
  FLUXION_CHECK(o.kernel_size().h >= 1 && o.kernel_size().w >= 1 && o.stride().h >= 1 && o.stride().w >= 1 &&
                    o.dilation().h >= 1 && o.dilation().w >= 1 && o.padding().h >= 0 && o.padding().w >= 0,
                "Conv2d: kernel_size, stride and dilation must be >= 1 and padding >= 0, got kernel_size ",
                o.kernel_size().str(), ", stride ", o.stride().str(), ", dilation ", o.dilation().str(), ", padding ",
                o.padding().str());
  weight = register_parameter(
      "weight", empty({o.out_channels(), o.in_channels() / o.groups(), o.kernel_size().h, o.kernel_size().w}));
  if (o.bias()) bias = register_parameter("bias", empty({o.out_channels()}));
  init::default_linear_init(weight, bias);
}

Tensor Conv2d::forward(const Tensor& x) {
  ForwardScope scope(*this, x);
  Conv2dParams p;
  p.stride_h = options.stride().h, p.stride_w = options.stride().w;
  p.pad_h = options.padding().h, p.pad_w = options.padding().w;
  p.dilation_h = options.dilation().h, p.dilation_w = options.dilation().w;
  p.groups = options.groups();
  return scope.output(conv2d(x, weight, bias, p));
}

std::string Conv2d::extra_repr() const {
  const auto& o = options;
  std::string s = std::to_string(o.in_channels()) + ", " + std::to_string(o.out_channels()) +
                  ", kernel_size=" + o.kernel_size().str() + ", stride=" + o.stride().str();
  if (o.padding() != Size2(0)) s += ", padding=" + o.padding().str();
  if (o.dilation() != Size2(1)) s += ", dilation=" + o.dilation().str();
  if (o.groups() != 1) s += ", groups=" + std::to_string(o.groups());
  if (!o.bias()) s += ", bias=False";
  return s;
}

std::int64_t Conv2d::multiply_adds(const Tensor& input, const Tensor& output) const {
  (void)input;
  return output.numel() * weight.size(1) * weight.size(2) * weight.size(3);
}

}  // namespace fluxion::nn
