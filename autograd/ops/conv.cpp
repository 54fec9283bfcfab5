// 2-D convolution. The forward and both halves of the backward (input and
// weight gradients) are backend kernels: on the CPU, Winograd F(2x2, 3x3)
// where it applies and im2col + GEMM elsewhere (core/cpu/conv.cpp,
// core/cpu/winograd.cpp); on a GPU, cuDNN (core/cuda/conv.cpp). This file
// checks shapes and records the backward. The bias gradient is the output
// gradient summed over batch and space.
#include "autograd/ops/common.h"

namespace fluxion {
using namespace ops_detail;

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, Conv2dParams p) {
  check_compatible(x, weight, "conv2d");
  check_floating(x, "conv2d");
  FLUXION_CHECK(x.dim() == 4, "conv2d: input must be 4-D [N, C, H, W], got shape ", to_string(x.shape()));
  FLUXION_CHECK(weight.dim() == 4, "conv2d: weight must be 4-D [out_channels, in_channels / groups, kH, kW], got ",
                to_string(weight.shape()));
  FLUXION_CHECK(p.groups >= 1 && p.stride_h >= 1 && p.stride_w >= 1 && p.dilation_h >= 1 && p.dilation_w >= 1 &&
                    p.pad_h >= 0 && p.pad_w >= 0,
                "conv2d: groups, stride and dilation must be >= 1 and padding >= 0, got groups ", p.groups,
                ", stride (", p.stride_h, ", ", p.stride_w, "), padding (", p.pad_h, ", ", p.pad_w, "), dilation (",
                p.dilation_h, ", ", p.dilation_w, ")");
  FLUXION_CHECK(weight.size(0) >= 1 && weight.size(1) >= 1 && weight.size(2) >= 1 && weight.size(3) >= 1,
                "conv2d: every dimension of the weight must be >= 1, got ", to_string(weight.shape()));
  const std::int64_t channels = x.size(1), out_channels = weight.size(0);
  FLUXION_CHECK(out_channels % p.groups == 0 && channels % p.groups == 0, "conv2d: in_channels ", channels,
                " and out_channels ", out_channels, " must both be divisible by groups = ", p.groups);
  FLUXION_CHECK(weight.size(1) * p.groups == channels, "conv2d: input shape ", to_string(x.shape()), " has ",
                channels, " channels but weight shape ", to_string(weight.shape()), " with groups = ", p.groups,
                " expects ", weight.size(1) * p.groups);
  if (bias.defined()) {
    check_compatible(x, bias, "conv2d");
    FLUXION_CHECK(bias.dim() == 1 && bias.size(0) == out_channels, "conv2d: bias shape ", to_string(bias.shape()),
                  " does not match out_channels = ", out_channels);
  }
  const std::int64_t ho = window_output_size(x.size(2), weight.size(2), p.stride_h, p.pad_h, p.dilation_h, false);
  const std::int64_t wo = window_output_size(x.size(3), weight.size(3), p.stride_w, p.pad_w, p.dilation_w, false);
  FLUXION_CHECK(ho > 0 && wo > 0, "conv2d: input ", to_string(x.shape()), " (padded by (", p.pad_h, ", ", p.pad_w,
                ")) is smaller than the dilated kernel ", to_string(weight.shape()));

  const Tensor xc = x.detach().contiguous(), wc = weight.detach().contiguous();
  const Tensor bc = bias.defined() ? bias.detach().contiguous() : Tensor();
  Tensor out = empty({x.size(0), out_channels, ho, wo}, x.options());
  {
    profiler::Scope scope("conv2d forward");
    backend(x.device()).conv2d(xc, wc, bc, out, p);
  }

  record(out, "conv2d", {x, weight, bias},
         [sx = save(xc), sw = save(wc), p, need_x = x.requires_grad(), need_w = weight.requires_grad(),
          need_b = bias.defined() && bias.requires_grad()](const Tensor& g) -> TensorList {
           const Tensor &x = sx.get(), &w = sw.get();
           const Tensor gc = g.contiguous();
           Tensor gx, gw;
           if (need_x) {
             gx = empty(x.shape(), x.options());
             profiler::Scope scope("conv2d backward-input");
             backend(x.device()).conv2d_backward_input(gc, w, gx, p);
           }
           if (need_w) {
             gw = empty(w.shape(), w.options());
             profiler::Scope scope("conv2d backward-weight");
             backend(x.device()).conv2d_backward_weight(gc, x, gw, p);
           }
           return {gx, gw, need_b ? sum(gc, {0, 2, 3}) : Tensor()};
         },
         OpAttributes()
             .ints("stride", {p.stride_h, p.stride_w})
             .ints("padding", {p.pad_h, p.pad_w})
             .ints("dilation", {p.dilation_h, p.dilation_w})
             .ints("groups", {p.groups}));
  return out;
}

}  // namespace fluxion
