// Reductions: sum over any set of dims, and max (with its index) along one.
//
// sum: one block per output element (grid.x), its threads striding over the
// reduced elements, then a tree in shared memory. When there are few outputs
// and many inputs each (a full sum, a bias gradient), the reduced range is
// also split over grid.y blocks whose partial sums a second pass adds in a
// fixed order: the result does not depend on scheduling. Floating sums
// accumulate in double, as on the CPU.

#include <type_traits>

#include "core/cuda/common.h"
#include "core/cuda/indexer.h"
#include "core/cuda/kernels.h"

namespace fluxion::cuda {
namespace {

template <class T>
using Acc = std::conditional_t<std::is_floating_point_v<T>, double, std::int64_t>;

// Block-wide sum of one value per thread; thread 0 gets the total.
template <class A>
__device__ A block_sum(A value) {
  __shared__ A shared[kThreads];
  shared[threadIdx.x] = value;
  __syncthreads();
  for (int half = kThreads / 2; half > 0; half /= 2) {
    if (threadIdx.x < half) shared[threadIdx.x] += shared[threadIdx.x + half];
    __syncthreads();
  }
  const A total = shared[0];
  __syncthreads();  // shared is reused by the next output's round
  return total;
}

// partial[o * splits + s] (or out directly when splits == 1).
template <class T>
__global__ void sum_kernel(std::int64_t outputs, std::int64_t reduced, std::int64_t chunk, Indexer<2> kept,
                           Indexer<1> inner, const T* a, T* out, Acc<T>* partial) {
  const std::int64_t split = blockIdx.y;
  const std::int64_t begin = split * chunk;
  const std::int64_t end = begin + chunk < reduced ? begin + chunk : reduced;
  for (std::int64_t o = blockIdx.x; o < outputs; o += gridDim.x) {
    std::int64_t off[2];
    kept.offsets(o, off);
    Acc<T> acc = 0;
    for (std::int64_t r = begin + threadIdx.x; r < end; r += blockDim.x) {
      std::int64_t roff[1];
      inner.offsets(r, roff);
      acc += static_cast<Acc<T>>(a[off[1] + roff[0]]);
    }
    acc = block_sum(acc);
    if (threadIdx.x == 0) {
      if (partial == nullptr) out[off[0]] = static_cast<T>(acc);
      else partial[o * gridDim.y + split] = acc;
    }
  }
}

template <class T>
__global__ void sum_partials_kernel(std::int64_t outputs, std::int64_t splits, Indexer<1> kept_out,
                                    const Acc<T>* partial, T* out) {
  for (std::int64_t o = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; o < outputs;
       o += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    Acc<T> acc = 0;
    for (std::int64_t s = 0; s < splits; ++s) acc += partial[o * splits + s];
    std::int64_t off[1];
    kept_out.offsets(o, off);
    out[off[0]] = static_cast<T>(acc);
  }
}

template <class T>
__global__ void max_kernel(std::int64_t outputs, std::int64_t length, std::int64_t step, Indexer<3> indexer, const T* a,
                           T* values, std::int64_t* indices) {
  for (std::int64_t o = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; o < outputs;
       o += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    std::int64_t off[3];
    indexer.offsets(o, off);
    const T* x = a + off[0];
    T best = x[0];
    std::int64_t best_index = 0;
    for (std::int64_t j = 1; j < length && best == best; ++j) {
      const T v = x[j * step];
      if (v > best || v != v) {  // NaN wins and stops the search (as on the CPU)
        best = v;
        best_index = j;
      }
    }
    values[off[1]] = best;
    indices[off[2]] = best_index;
  }
}

}  // namespace

void sum(const Tensor& a, const Tensor& out) {
  FLUXION_CHECK(a.device().is_cuda() && out.device() == a.device(), "sum: expected both tensors on one CUDA device");
  const SumGeometry geometry = sum_geometry(a, out);
  const Shape& kept_shape = geometry.kept_shape;
  const Shape& reduced_shape = geometry.reduced_shape;
  const Strides &kept_a = geometry.kept_a, &kept_out = geometry.kept_out, &reduced_a = geometry.reduced_a;
  const std::int64_t outputs = numel(kept_shape);
  const std::int64_t reduced = numel(reduced_shape);
  if (outputs == 0) return;
  const int device = a.device().index;
  DeviceGuard guard(device);
  if (reduced == 0) return fill(out, 0.0);
  const Indexer<2> kept = make_indexer<2>(kept_shape, {kept_out, kept_a}, "sum");
  const Indexer<1> inner = make_indexer<1>(reduced_shape, {reduced_a}, "sum");
  // Split each output's range when outputs alone cannot fill the GPU.
  constexpr std::int64_t kMinChunk = 16 * kThreads;
  std::int64_t splits = 1;
  if (outputs < 512 && reduced > 2 * kMinChunk)
    splits = std::min<std::int64_t>((reduced + kMinChunk - 1) / kMinChunk, std::max<std::int64_t>(1, 1024 / outputs));
  const std::int64_t chunk = (reduced + splits - 1) / splits;
  const dim3 grid(static_cast<unsigned>(std::min<std::int64_t>(outputs, 65535)), static_cast<unsigned>(splits));
  visit_dtype(a.dtype(), [&]<class T>() {
    if (splits == 1) {
      sum_kernel<T><<<grid, kThreads, 0, stream(device)>>>(outputs, reduced, chunk, kept, inner, a.data<T>(),
                                                            out.data<T>(), nullptr);
      FLUXION_CUDA_CHECK_LAUNCH();
      return;
    }
    Scratch partial(static_cast<std::size_t>(outputs * splits) * sizeof(Acc<T>), device);
    auto* p = static_cast<Acc<T>*>(partial.get());
    sum_kernel<T><<<grid, kThreads, 0, stream(device)>>>(outputs, reduced, chunk, kept, inner, a.data<T>(),
                                                          out.data<T>(), p);
    FLUXION_CUDA_CHECK_LAUNCH();
    const Indexer<1> kept_out_only = make_indexer<1>(kept_shape, {kept_out}, "sum");
    sum_partials_kernel<T><<<blocks_for(outputs), kThreads, 0, stream(device)>>>(outputs, splits, kept_out_only, p,
                                                                                  out.data<T>());
    FLUXION_CUDA_CHECK_LAUNCH();
  });
}

void max(const Tensor& a, std::int64_t dim, const Tensor& values, const Tensor& indices) {
  FLUXION_CHECK(a.device().is_cuda(), "max: expected a CUDA tensor, got one on ", a.device());
  const std::int64_t length = a.shape()[dim];
  Shape outer = a.shape();
  outer[dim] = 1;
  const std::int64_t outputs = numel(outer);
  if (outputs == 0 || length == 0) return;
  const int device = a.device().index;
  DeviceGuard guard(device);
  const Indexer<3> indexer = make_indexer<3>(outer, {a.strides(), values.strides(), indices.strides()}, "max");
  visit_dtype(a.dtype(), [&]<class T>() {
    max_kernel<T><<<blocks_for(outputs), kThreads, 0, stream(device)>>>(
        outputs, length, a.strides()[dim], indexer, a.data<T>(), values.data<T>(), indices.data<std::int64_t>());
    FLUXION_CUDA_CHECK_LAUNCH();
  });
}

}  // namespace fluxion::cuda
