// Max and average pooling. Own kernels rather than cuDNN's pooling: the
// max-pool backward needs the index of each window's maximum with the CPU's
// tie and NaN rules (cuDNN recomputes the argmax instead), and the windows
// follow PyTorch's ceil_mode and count_include_pad rules exactly, through
// the same pool_window (core/window.h) as the CPU kernels.
// Forward: one thread per output element. Backward: one thread per input
// plane (sample, channel), which writes only its own plane in a fixed
// order: no atomics, and the same sums as the CPU.
#include "core/cuda/common.h"
#include "core/cuda/kernels.h"

namespace fluxion::cuda {
namespace {

template <class T>
__global__ void max_pool_kernel(PoolPlanes pl, Pool2dParams p, const T* x, T* out, std::int64_t* indices) {
  const std::int64_t n = pl.count * pl.ho * pl.wo;
  for (std::int64_t o = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; o < n;
       o += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const std::int64_t ow = o % pl.wo, oh = (o / pl.wo) % pl.ho, b = o / (pl.wo * pl.ho);
    const PoolWindow win = pool_window(pl.h, pl.w, p, oh, ow);
    const T* plane = x + b * pl.h * pl.w;
    std::int64_t best_index = win.h0 * pl.w + win.w0;
    T best = plane[best_index];
    for (std::int64_t ih = win.h0; ih < win.h1; ++ih)
      for (std::int64_t iw = win.w0; iw < win.w1; ++iw) {
        const T v = plane[ih * pl.w + iw];
        if (v > best || v != v) {  // the first of equal maxima; the last NaN
          best = v;
          best_index = ih * pl.w + iw;
        }
      }
    out[o] = best;
    indices[o] = best_index;
  }
}

template <class T>
__global__ void max_pool_backward_kernel(PoolPlanes pl, const T* grad_out, const std::int64_t* indices, T* grad_x) {
  for (std::int64_t b = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; b < pl.count;
       b += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    T* plane = grad_x + b * pl.h * pl.w;
    for (std::int64_t i = 0; i < pl.h * pl.w; ++i) plane[i] = T(0);
    const std::int64_t o0 = b * pl.ho * pl.wo;
    for (std::int64_t o = 0; o < pl.ho * pl.wo; ++o) plane[indices[o0 + o]] += grad_out[o0 + o];
  }
}

template <class T>
__global__ void avg_pool_kernel(PoolPlanes pl, Pool2dParams p, const T* x, T* out) {
  const std::int64_t n = pl.count * pl.ho * pl.wo;
  for (std::int64_t o = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; o < n;
       o += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const std::int64_t ow = o % pl.wo, oh = (o / pl.wo) % pl.ho, b = o / (pl.wo * pl.ho);
    const PoolWindow win = pool_window(pl.h, pl.w, p, oh, ow);
    const T* plane = x + b * pl.h * pl.w;
    T total = 0;
    for (std::int64_t ih = win.h0; ih < win.h1; ++ih)
      for (std::int64_t iw = win.w0; iw < win.w1; ++iw) total += plane[ih * pl.w + iw];
    out[o] = win.divisor > 0 ? total / static_cast<T>(win.divisor) : T(0);
  }
}

template <class T>
__global__ void avg_pool_backward_kernel(PoolPlanes pl, Pool2dParams p, const T* grad_out, T* grad_x) {
  for (std::int64_t b = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; b < pl.count;
       b += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    T* plane = grad_x + b * pl.h * pl.w;
    for (std::int64_t i = 0; i < pl.h * pl.w; ++i) plane[i] = T(0);
    for (std::int64_t oh = 0; oh < pl.ho; ++oh)
      for (std::int64_t ow = 0; ow < pl.wo; ++ow) {
        const PoolWindow win = pool_window(pl.h, pl.w, p, oh, ow);
        if (win.divisor == 0) continue;
        const T share = grad_out[(b * pl.ho + oh) * pl.wo + ow] / static_cast<T>(win.divisor);
        for (std::int64_t ih = win.h0; ih < win.h1; ++ih)
          for (std::int64_t iw = win.w0; iw < win.w1; ++iw) plane[ih * pl.w + iw] += share;
      }
  }
}

PoolPlanes planes_of(const Tensor& x, const Tensor& out) {
  return {x.size(0) * x.size(1), x.size(2), x.size(3), out.size(2), out.size(3)};
}

template <class Launch>
void on_device(const Tensor& t, const char* op, Launch launch) {
  FLUXION_CHECK(t.device().is_cuda(), op, ": expected a CUDA tensor, got one on ", t.device());
  DeviceGuard guard(t.device().index);
  visit_floating(t.dtype(), op, [&]<class T>() {
    launch.template operator()<T>(stream(t.device().index));
    FLUXION_CUDA_CHECK_LAUNCH();
  });
}

}  // namespace

void max_pool2d(const Tensor& x, const Tensor& out, const Tensor& indices, Pool2dParams p) {
  FLUXION_CHECK(out.device() == x.device() && indices.device() == x.device(),
                "max_pool2d: expected the output and indices on ", x.device());
  const PoolPlanes pl = planes_of(x, out);
  if (out.numel() == 0) return;
  on_device(x, "max_pool2d", [&]<class T>(cudaStream_t s) {
    max_pool_kernel<T><<<blocks_for(out.numel()), kThreads, 0, s>>>(pl, p, x.data<T>(), out.data<T>(),
                                                                     indices.data<std::int64_t>());
  });
}

void max_pool2d_backward(const Tensor& grad_out, const Tensor& indices, const Tensor& grad_x) {
  FLUXION_CHECK(grad_out.device() == grad_x.device() && indices.device() == grad_x.device(),
                "max_pool2d_backward: expected the gradients and indices on ", grad_x.device());
  const PoolPlanes pl = planes_of(grad_x, grad_out);
  if (grad_x.numel() == 0) return;
  on_device(grad_x, "max_pool2d_backward", [&]<class T>(cudaStream_t s) {
    max_pool_backward_kernel<T><<<blocks_for(pl.count), kThreads, 0, s>>>(pl, grad_out.data<T>(),
                                                                           indices.data<std::int64_t>(),
                                                                           grad_x.data<T>());
  });
}

void avg_pool2d(const Tensor& x, const Tensor& out, Pool2dParams p) {
  const PoolPlanes pl = planes_of(x, out);
  if (out.numel() == 0) return;
  on_device(x, "avg_pool2d", [&]<class T>(cudaStream_t s) {
    avg_pool_kernel<T><<<blocks_for(out.numel()), kThreads, 0, s>>>(pl, p, x.data<T>(), out.data<T>());
  });
}

void avg_pool2d_backward(const Tensor& grad_out, const Tensor& grad_x, Pool2dParams p) {
  const PoolPlanes pl = planes_of(grad_x, grad_out);
  if (grad_x.numel() == 0) return;
  on_device(grad_x, "avg_pool2d_backward", [&]<class T>(cudaStream_t s) {
    avg_pool_backward_kernel<T><<<blocks_for(pl.count), kThreads, 0, s>>>(pl, p, grad_out.data<T>(),
                                                                           grad_x.data<T>());
  });
}

}  // namespace fluxion::cuda
