#include "core/cuda.h"
#include "core/cuda/kernels.h"

namespace fluxion::cuda {

const Backend& backend() {
  static const Backend cuda_backend{
      .name = "cuda",
      .allocate = allocate,
      .deallocate = deallocate,
      .empty_cache = empty_cache,
      .memory_stats = memory_stats,
      .reset_peak_memory_stats = reset_peak_memory_stats,
      .copy_from_cpu = copy_from_cpu,
      .copy_to_cpu = copy_to_cpu,
      .fill = fill,
      .copy = copy,
      .binary = binary,
      .unary = unary,
      .where = where,
      .sum = sum,
      .max = max,
      .matmul = matmul,
      .softmax = softmax,
      .gather = gather,
      .scatter_add = scatter_add,
      .conv2d = conv2d,
      .conv2d_backward_input = conv2d_backward_input,
      .conv2d_backward_weight = conv2d_backward_weight,
      .batch_norm = batch_norm,
      .batch_norm_backward = batch_norm_backward,
      .max_pool2d = max_pool2d,
      .max_pool2d_backward = max_pool2d_backward,
      .avg_pool2d = avg_pool2d,
      .avg_pool2d_backward = avg_pool2d_backward,
  };
  return cuda_backend;
}

}  // namespace fluxion::cuda
