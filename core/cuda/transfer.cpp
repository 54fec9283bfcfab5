// Copies between host and GPU memory. Both sides are contiguous with the same
// dtype and element count (copy_between_devices in core/backend.cpp makes
// them so). Both wait for the stream: the host may then free or reuse its
// buffer at once (CUDA does not promise that an asynchronous copy from
// pageable memory has read it on return), and sees every earlier kernel's
// result. As PyTorch's non_blocking=False copies.
#include "core/cuda/common.h"
#include "core/cuda/kernels.h"

namespace fluxion::cuda {
namespace {
std::size_t bytes_of(const Tensor& t) { return static_cast<std::size_t>(t.numel()) * element_size(t.dtype()); }
}  // namespace

void copy_from_cpu(const Tensor& src, const Tensor& dst) {
  const int device = dst.device().index;
  DeviceGuard guard(device);
  if (bytes_of(dst) == 0) return;
  FLUXION_CUDA_CHECK(cudaMemcpyAsync(dst.raw_data(), src.raw_data(), bytes_of(dst), cudaMemcpyHostToDevice,
                                     stream(device)));
  FLUXION_CUDA_CHECK(cudaStreamSynchronize(stream(device)));
}

void copy_to_cpu(const Tensor& src, const Tensor& dst) {
  const int device = src.device().index;
  DeviceGuard guard(device);
  if (bytes_of(src) == 0) return;
  FLUXION_CUDA_CHECK(cudaMemcpyAsync(dst.raw_data(), src.raw_data(), bytes_of(src), cudaMemcpyDeviceToHost,
                                     stream(device)));
  FLUXION_CUDA_CHECK(cudaStreamSynchronize(stream(device)));
}

}  // namespace fluxion::cuda
