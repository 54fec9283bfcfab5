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

// Copies the bytes of src to dst on `device`'s stream and waits for them.
void copy_and_wait(const Tensor& src, const Tensor& dst, cudaMemcpyKind kind, int device) {
  const std::size_t bytes = static_cast<std::size_t>(dst.numel()) * element_size(dst.dtype());
  if (bytes == 0) return;
  DeviceGuard guard(device);
  FLUXION_CUDA_CHECK(cudaMemcpyAsync(dst.raw_data(), src.raw_data(), bytes, kind, stream(device)));
  FLUXION_CUDA_CHECK(cudaStreamSynchronize(stream(device)));
}

}  // namespace

void copy_from_cpu(const Tensor& src, const Tensor& dst) {
  copy_and_wait(src, dst, cudaMemcpyHostToDevice, dst.device().index);
}

void copy_to_cpu(const Tensor& src, const Tensor& dst) {
  copy_and_wait(src, dst, cudaMemcpyDeviceToHost, src.device().index);
}

}  // namespace fluxion::cuda
