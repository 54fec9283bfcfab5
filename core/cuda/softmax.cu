// Softmax and log-softmax along one dim: one thread per row (the classifier
// outputs Fluxion trains on have at most a few hundred classes, so a row fits
// one thread's loop), subtracting the row's maximum before exp, as the CPU.
#include <cmath>

#include "core/cuda/common.h"
#include "core/cuda/indexer.h"
#include "core/cuda/kernels.h"

namespace fluxion::cuda {
namespace {

template <class T>
__global__ void softmax_kernel(std::int64_t rows, std::int64_t length, std::int64_t in_step, std::int64_t out_step,
                               Indexer<2> indexer, bool log_output, const T* a, T* out) {
  for (std::int64_t r = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; r < rows;
       r += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    std::int64_t off[2];
    indexer.offsets(r, off);
    const T* x = a + off[0];
    T* y = out + off[1];
    T top = x[0];
    for (std::int64_t j = 1; j < length; ++j) top = x[j * in_step] > top ? x[j * in_step] : top;
    double total = 0;
    for (std::int64_t j = 0; j < length; ++j) total += exp(static_cast<double>(x[j * in_step] - top));
    if (log_output) {
      const T log_total = static_cast<T>(log(total));
      for (std::int64_t j = 0; j < length; ++j) y[j * out_step] = (x[j * in_step] - top) - log_total;
    } else {
      const double scale = 1.0 / total;
      for (std::int64_t j = 0; j < length; ++j)
        y[j * out_step] = static_cast<T>(exp(static_cast<double>(x[j * in_step] - top)) * scale);
    }
  }
}

}  // namespace

void softmax(const Tensor& a, std::int64_t dim, bool log, const Tensor& out) {
  FLUXION_CHECK(a.device().is_cuda(), "softmax: expected a CUDA tensor, got one on ", a.device());
  const std::int64_t length = a.shape()[dim];
  Shape rows_shape = a.shape();
  rows_shape[dim] = 1;
  const std::int64_t rows = numel(rows_shape);
  if (rows == 0 || length == 0) return;
  const int device = a.device().index;
  DeviceGuard guard(device);
  const Indexer<2> indexer = make_indexer<2>(rows_shape, {a.strides(), out.strides()}, "softmax");
  visit_floating(a.dtype(), "softmax", [&]<class T>() {
    softmax_kernel<T><<<blocks_for(rows), kThreads, 0, stream(device)>>>(
        rows, length, a.strides()[dim], out.strides()[dim], indexer, log, a.data<T>(), out.data<T>());
    FLUXION_CUDA_CHECK_LAUNCH();
  });
}

}  // namespace fluxion::cuda
