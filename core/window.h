//! @file
//! Sliding-window geometry shared by the convolution and pooling ops and the
//! backends that run them.
#pragma once

#include <cstdint>

#include "core/host_device.h"

namespace fluxion {

/// Geometry of a 2-D convolution over NCHW input (PyTorch's Conv2d arguments).
struct Conv2dParams {
  std::int64_t stride_h = 1, stride_w = 1;
  std::int64_t pad_h = 0, pad_w = 0;
  std::int64_t dilation_h = 1, dilation_w = 1;
  std::int64_t groups = 1;
};

/// Geometry of a 2-D pooling window over NCHW input. Windows start at
/// -pad + i * stride; ceil_mode keeps a last partial window that starts inside
/// the input or its left padding (PyTorch's rule). Average pooling divides by
/// the window's size including padding when count_include_pad (PyTorch's
/// default), else by the number of input elements it covers.
struct Pool2dParams {
  std::int64_t kernel_h = 1, kernel_w = 1;
  std::int64_t stride_h = 1, stride_w = 1;
  std::int64_t pad_h = 0, pad_w = 0;
  bool ceil_mode = false;
  bool count_include_pad = true;
};

/// Output length of a sliding window along one dimension (PyTorch's formula).
/// ceil_mode rounds up, but a last window must start inside the input or its
/// left padding.
inline std::int64_t window_output_size(std::int64_t in, std::int64_t kernel, std::int64_t stride, std::int64_t pad,
                                       std::int64_t dilation, bool ceil_mode) {
  const std::int64_t span = in + 2 * pad - dilation * (kernel - 1) - 1;
  if (span < 0) return 0;
  std::int64_t out = (ceil_mode ? (span + stride - 1) / stride : span / stride) + 1;
  if (ceil_mode && (out - 1) * stride >= in + pad) --out;
  return out;
}

/// A pooling problem as the kernels see it: count = N * C independent
/// planes, each h x w in and ho x wo out.
struct PoolPlanes {
  std::int64_t count;
  std::int64_t h, w;
  std::int64_t ho, wo;
};

/// The window of pooling output (oh, ow) over an h x w input, clipped to the
/// input: rows [h0, h1), columns [w0, w1), and the divisor average pooling
/// uses for it. The window may not run past the bottom/right padding. Shared
/// by the CPU and CUDA kernels.
struct PoolWindow {
  std::int64_t h0, h1, w0, w1;
  std::int64_t divisor;
};

FLUXION_HOST_DEVICE inline PoolWindow pool_window(std::int64_t h, std::int64_t w, const Pool2dParams& p,
                                                  std::int64_t oh, std::int64_t ow) {
  const std::int64_t hs = oh * p.stride_h - p.pad_h, ws = ow * p.stride_w - p.pad_w;
  const std::int64_t he = hs + p.kernel_h < h + p.pad_h ? hs + p.kernel_h : h + p.pad_h;
  const std::int64_t we = ws + p.kernel_w < w + p.pad_w ? ws + p.kernel_w : w + p.pad_w;
  PoolWindow win{hs > 0 ? hs : 0, he < h ? he : h, ws > 0 ? ws : 0, we < w ? we : w, 0};
  win.divisor = p.count_include_pad ? (he - hs) * (we - ws) : (win.h1 - win.h0) * (win.w1 - win.w0);
  return win;
}

}  // namespace fluxion
