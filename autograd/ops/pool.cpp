// Pooling over NCHW input: max and average pooling are backend kernels
// (core/cpu/pool.cpp); adaptive average pooling maps onto one of them.
#include "autograd/ops/common.h"

namespace fluxion {
using namespace ops_detail;

namespace {

// The window's geometry, for tools that read the recording (fluxion export).
OpAttributes pool_attributes(const Pool2dParams& p) {
  return OpAttributes()
      .ints("kernel", {p.kernel_h, p.kernel_w})
      .ints("stride", {p.stride_h, p.stride_w})
      .ints("padding", {p.pad_h, p.pad_w})
      .ints("ceil_mode", {p.ceil_mode ? 1 : 0})
      .ints("count_include_pad", {p.count_include_pad ? 1 : 0});
}

Shape pooled_shape(const Tensor& x, const Pool2dParams& p, const char* op) {
  check_floating(x, op);
  FLUXION_CHECK(x.dim() == 4, op, ": input must be 4-D [N, C, H, W], got shape ", to_string(x.shape()));
  FLUXION_CHECK(p.kernel_h >= 1 && p.kernel_w >= 1 && p.stride_h >= 1 && p.stride_w >= 1, op,
                ": kernel_size and stride must be >= 1, got kernel (", p.kernel_h, ", ", p.kernel_w, "), stride (",
                p.stride_h, ", ", p.stride_w, ")");
  // PyTorch's rule; it also guarantees every window overlaps the input.
  FLUXION_CHECK(p.pad_h >= 0 && p.pad_w >= 0 && 2 * p.pad_h <= p.kernel_h && 2 * p.pad_w <= p.kernel_w, op,
                ": padding must be between 0 and half the kernel size, got padding (", p.pad_h, ", ", p.pad_w,
                ") for kernel (", p.kernel_h, ", ", p.kernel_w, ")");
  const std::int64_t ho = window_output_size(x.size(2), p.kernel_h, p.stride_h, p.pad_h, 1, p.ceil_mode);
  const std::int64_t wo = window_output_size(x.size(3), p.kernel_w, p.stride_w, p.pad_w, 1, p.ceil_mode);
  FLUXION_CHECK(ho > 0 && wo > 0, op, ": input ", to_string(x.shape()), " is smaller than the kernel (", p.kernel_h,
                ", ", p.kernel_w, ")");
  return {x.size(0), x.size(1), ho, wo};
}

}  // namespace

Tensor max_pool2d(const Tensor& x, Pool2dParams p) {
  Tensor out = empty(pooled_shape(x, p, "max_pool2d"), x.options());
  Tensor indices = empty(out.shape(), TensorOptions(kInt64).device(x.device()));
  const Tensor xc = x.detach().contiguous();
  {
    profiler::Scope scope("max_pool2d forward");
    backend(x.device()).max_pool2d(xc, out, indices, p);
  }
  record(out, "max_pool2d", {x}, [indices, in_shape = x.shape()](const Tensor& g) -> TensorList {
    Tensor gx = empty(in_shape, g.options());
    backend(g.device()).max_pool2d_backward(g.contiguous(), indices, gx);
    return {gx};
  }, pool_attributes(p));
  return out;
}

Tensor avg_pool2d(const Tensor& x, Pool2dParams p) {
  Tensor out = empty(pooled_shape(x, p, "avg_pool2d"), x.options());
  {
    profiler::Scope scope("avg_pool2d forward");
    backend(x.device()).avg_pool2d(x.detach().contiguous(), out, p);
  }
  record(out, "avg_pool2d", {x}, [p, in_shape = x.shape()](const Tensor& g) -> TensorList {
    Tensor gx = empty(in_shape, g.options());
    backend(g.device()).avg_pool2d_backward(g.contiguous(), gx, p);
    return {gx};
  }, pool_attributes(p));
  return out;
}

Tensor adaptive_avg_pool2d(const Tensor& x, std::int64_t out_h, std::int64_t out_w) {
  FLUXION_CHECK(x.dim() == 4, "adaptive_avg_pool2d: input must be 4-D [N, C, H, W], got shape ",
                to_string(x.shape()));
  FLUXION_CHECK(out_h >= 1 && out_w >= 1, "adaptive_avg_pool2d: output size must be >= 1, got (", out_h, ", ",
                out_w, ")");
  const std::int64_t h = x.size(2), w = x.size(3);
  if (out_h == 1 && out_w == 1) return mean(x, {2, 3}, true);
  // PyTorch's windows are [floor(i H / out), ceil((i + 1) H / out)); when out
  // divides the input they are plain non-overlapping windows.
  FLUXION_CHECK(h % out_h == 0 && w % out_w == 0, "adaptive_avg_pool2d: output size (", out_h, ", ", out_w,
                ") must divide the input's spatial size (", h, ", ", w,
                "); other sizes (overlapping windows) are not supported");
  Pool2dParams p;
  p.kernel_h = p.stride_h = h / out_h;
  p.kernel_w = p.stride_w = w / out_w;
  return avg_pool2d(x, p);
}

}  // namespace fluxion
