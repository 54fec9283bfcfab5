// gather and scatter_add along one dim (index_select, cross_entropy's pick of
// the target class, and their backward passes). One thread per index
// element; scatter_add adds with atomics, since two indices may name one
// destination, and so in no fixed order: with cuda::deterministic() it
// takes one thread per line along `dim` instead, which adds the line's
// elements in index order (the CPU's order). An index out of range cannot throw inside a kernel: it sets a
// flag that the host reads after the kernel, and then throws as the CPU does.
#include "core/cuda.h"
#include "core/cuda/common.h"
#include "core/cuda/indexer.h"
#include "core/cuda/kernels.h"

namespace fluxion::cuda {
namespace {

struct BadIndex {
  int flag;
  long long value;
};

Strides without_dim(const Tensor& t, std::int64_t dim) {
  Strides s = t.strides();
  s[dim] = 0;
  return s;
}

template <class T>
__device__ void add_atomically(T* address, T value) {
  if constexpr (std::is_same_v<T, std::int64_t>) {
    atomicAdd(reinterpret_cast<unsigned long long*>(address), static_cast<unsigned long long>(value));
  } else {
    atomicAdd(address, value);
  }
}

// Index offsets: 0 = out (gather) or src (scatter), 1 = index, 2 = the other
// tensor's row with `dim` zeroed.
template <class T, bool Scatter>
__global__ void index_kernel(std::int64_t n, Indexer<3> indexer, std::int64_t size, std::int64_t step, T* dense,
                             const std::int64_t* index, T* indexed, BadIndex* bad) {
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    std::int64_t off[3];
    indexer.offsets(i, off);
    const std::int64_t j = index[off[1]];
    if (j < 0 || j >= size) {
      if (atomicExch(&bad->flag, 1) == 0) bad->value = j;
      continue;
    }
    if constexpr (Scatter) add_atomically(indexed + off[2] + j * step, dense[off[0]]);
    else dense[off[0]] = indexed[off[2] + j * step];
  }
}

// The deterministic scatter_add: lines are the positions of `index` that
// share every coordinate but `dim`; only one line's elements can meet in a
// destination element, so a line added serially, k = 0, 1, ..., gives every
// sum one order.
template <class T>
__global__ void scatter_lines_kernel(std::int64_t lines, Indexer<3> indexer, std::int64_t length, std::int64_t size,
                                     std::int64_t step, const T* src, std::int64_t src_step,
                                     const std::int64_t* index, std::int64_t index_step, T* dst, BadIndex* bad) {
  for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < lines;
       i += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    std::int64_t off[3];
    indexer.offsets(i, off);
    for (std::int64_t k = 0; k < length; ++k) {
      const std::int64_t j = index[off[1] + k * index_step];
      if (j < 0 || j >= size) {
        if (atomicExch(&bad->flag, 1) == 0) bad->value = j;
        continue;
      }
      dst[off[2] + j * step] += src[off[0] + k * src_step];
    }
  }
}

template <bool Scatter>
void run(const char* op, const Tensor& dense, std::int64_t dim, const Tensor& index, const Tensor& indexed) {
  FLUXION_CHECK(dense.device().is_cuda() && index.device() == dense.device() && indexed.device() == dense.device(),
                op, ": expected every tensor on one CUDA device");
  const std::int64_t n = index.numel();
  if (n == 0) return;
  const int device = dense.device().index;
  DeviceGuard guard(device);
  const std::int64_t size = indexed.shape()[dim];
  const Indexer<3> indexer =
      make_indexer<3>(index.shape(), {dense.strides(), index.strides(), without_dim(indexed, dim)}, op);
  Scratch flag(sizeof(BadIndex), device);
  auto* bad = static_cast<BadIndex*>(flag.get());
  FLUXION_CUDA_CHECK(cudaMemsetAsync(bad, 0, sizeof(BadIndex), stream(device)));
  if (Scatter && deterministic()) {
    Shape line_shape = index.shape();
    line_shape[dim] = 1;
    const std::int64_t lines = numel(line_shape);
    const Indexer<3> line_indexer =
        make_indexer<3>(line_shape, {dense.strides(), index.strides(), without_dim(indexed, dim)}, op);
    visit_dtype(dense.dtype(), [&]<class T>() {
      scatter_lines_kernel<T><<<blocks_for(lines), kThreads, 0, stream(device)>>>(
          lines, line_indexer, index.shape()[dim], size, indexed.strides()[dim], dense.data<T>(),
          dense.strides()[dim], index.data<std::int64_t>(), index.strides()[dim], indexed.data<T>(), bad);
      FLUXION_CUDA_CHECK_LAUNCH();
    });
  } else {
    visit_dtype(dense.dtype(), [&]<class T>() {
      index_kernel<T, Scatter><<<blocks_for(n), kThreads, 0, stream(device)>>>(
          n, indexer, size, indexed.strides()[dim], dense.data<T>(), index.data<std::int64_t>(), indexed.data<T>(),
          bad);
      FLUXION_CUDA_CHECK_LAUNCH();
    });
  }
  BadIndex host{};
  FLUXION_CUDA_CHECK(cudaMemcpyAsync(&host, bad, sizeof(BadIndex), cudaMemcpyDeviceToHost, stream(device)));
  FLUXION_CUDA_CHECK(cudaStreamSynchronize(stream(device)));
  if (host.flag != 0)
    throw Error(detail::concat(op, ": index ", host.value, " is out of bounds for dimension ", dim, " with size ",
                               size));
}

}  // namespace

void gather(const Tensor& src, std::int64_t dim, const Tensor& index, const Tensor& out) {
  run<false>("gather", out, dim, index, src);
}

void scatter_add(const Tensor& dst, std::int64_t dim, const Tensor& index, const Tensor& src) {
  run<true>("scatter_add", src, dim, index, dst);
}

}  // namespace fluxion::cuda
