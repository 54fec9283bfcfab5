// Max and average pooling on the CPU. Every (sample, channel) plane is
// independent, so threads split the planes.
#include <algorithm>
#include <cmath>

#include "core/cpu/kernels.h"
#include "core/parallel.h"

namespace fluxion::cpu {
namespace {

PoolPlanes planes_of(const Tensor& x, const Tensor& out) {
  return {x.size(0) * x.size(1), x.size(2), x.size(3), out.size(2), out.size(3)};
}

inline PoolWindow window(const PoolPlanes& pl, const Pool2dParams& p, std::int64_t oh, std::int64_t ow) {
  return pool_window(pl.h, pl.w, p, oh, ow);
}

}  // namespace

void max_pool2d(const Tensor& x, const Tensor& out, const Tensor& indices, Pool2dParams p) {
  const PoolPlanes pl = planes_of(x, out);
  // Without padding or ceil_mode every window lies inside the input, so the
  // clipping (and the per-window bounds) can go: the common 2x2 stride-2 case.
  const bool inside = p.pad_h == 0 && p.pad_w == 0 && !p.ceil_mode;
  visit_floating(x.dtype(), "max_pool2d", [&]<class T>() {
    const T* px = x.data<T>();
    T* py = out.data<T>();
    std::int64_t* pi = indices.data<std::int64_t>();
    parallel_for(0, pl.count, 1, [&](std::int64_t b0, std::int64_t b1) {
      for (std::int64_t b = b0; b < b1; ++b) {
        const T* plane = px + b * pl.h * pl.w;
        for (std::int64_t oh = 0; oh < pl.ho; ++oh) {
          for (std::int64_t ow = 0; ow < pl.wo; ++ow) {
            const PoolWindow win = inside ? PoolWindow{oh * p.stride_h, oh * p.stride_h + p.kernel_h, ow * p.stride_w,
                                                       ow * p.stride_w + p.kernel_w, 0}
                                      : window(pl, p, oh, ow);
            // Branch-free: with random data "v > best" is a coin toss the
            // branch predictor loses half the time. A NaN wins (the last one,
            // as in PyTorch's CPU kernel).
            std::int64_t best_index = win.h0 * pl.w + win.w0;
            T best = plane[best_index];
            for (std::int64_t ih = win.h0; ih < win.h1; ++ih) {
              for (std::int64_t iw = win.w0; iw < win.w1; ++iw) {
                const T v = plane[ih * pl.w + iw];
                const bool take = (v > best) | (v != v);
                best = take ? v : best;
                best_index = take ? ih * pl.w + iw : best_index;
              }
            }
            const std::int64_t o = (b * pl.ho + oh) * pl.wo + ow;
            py[o] = best;
            pi[o] = best_index;
          }
        }
      }
    });
  });
}

void max_pool2d_backward(const Tensor& grad_out, const Tensor& indices, const Tensor& grad_x) {
  const PoolPlanes pl = planes_of(grad_x, grad_out);
  visit_floating(grad_x.dtype(), "max_pool2d_backward", [&]<class T>() {
    const T* pg = grad_out.data<T>();
    const std::int64_t* pi = indices.data<std::int64_t>();
    T* pdx = grad_x.data<T>();
    parallel_for(0, pl.count, 1, [&](std::int64_t b0, std::int64_t b1) {
      for (std::int64_t b = b0; b < b1; ++b) {
        T* plane = pdx + b * pl.h * pl.w;
        std::fill(plane, plane + pl.h * pl.w, T(0));
        const std::int64_t o0 = b * pl.ho * pl.wo;
        for (std::int64_t o = 0; o < pl.ho * pl.wo; ++o) plane[pi[o0 + o]] += pg[o0 + o];
      }
    });
  });
}

void avg_pool2d(const Tensor& x, const Tensor& out, Pool2dParams p) {
  const PoolPlanes pl = planes_of(x, out);
  visit_floating(x.dtype(), "avg_pool2d", [&]<class T>() {
    const T* px = x.data<T>();
    T* py = out.data<T>();
    parallel_for(0, pl.count, 1, [&](std::int64_t b0, std::int64_t b1) {
      for (std::int64_t b = b0; b < b1; ++b) {
        const T* plane = px + b * pl.h * pl.w;
        for (std::int64_t oh = 0; oh < pl.ho; ++oh) {
          for (std::int64_t ow = 0; ow < pl.wo; ++ow) {
            const PoolWindow win = window(pl, p, oh, ow);
            T total = 0;
            for (std::int64_t ih = win.h0; ih < win.h1; ++ih)
              for (std::int64_t iw = win.w0; iw < win.w1; ++iw) total += plane[ih * pl.w + iw];
            py[(b * pl.ho + oh) * pl.wo + ow] = win.divisor > 0 ? total / static_cast<T>(win.divisor) : T(0);
          }
        }
      }
    });
  });
}

void avg_pool2d_backward(const Tensor& grad_out, const Tensor& grad_x, Pool2dParams p) {
  const PoolPlanes pl = planes_of(grad_x, grad_out);
  visit_floating(grad_x.dtype(), "avg_pool2d_backward", [&]<class T>() {
    const T* pg = grad_out.data<T>();
    T* pdx = grad_x.data<T>();
    parallel_for(0, pl.count, 1, [&](std::int64_t b0, std::int64_t b1) {
      for (std::int64_t b = b0; b < b1; ++b) {
        T* plane = pdx + b * pl.h * pl.w;
        std::fill(plane, plane + pl.h * pl.w, T(0));
        for (std::int64_t oh = 0; oh < pl.ho; ++oh) {
          for (std::int64_t ow = 0; ow < pl.wo; ++ow) {
            const PoolWindow win = window(pl, p, oh, ow);
            if (win.divisor == 0) continue;
            const T share = pg[(b * pl.ho + oh) * pl.wo + ow] / static_cast<T>(win.divisor);
            for (std::int64_t ih = win.h0; ih < win.h1; ++ih)
              for (std::int64_t iw = win.w0; iw < win.w1; ++iw) plane[ih * pl.w + iw] += share;
          }
        }
      }
    });
  });
}

}  // namespace fluxion::cpu
